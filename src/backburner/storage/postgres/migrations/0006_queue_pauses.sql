-- Queues paused by hand: servers claim none of the jobs of a queue named here. A row per
-- paused queue, so the claim's NOT EXISTS probes a table of a few rows (none, mostly).
CREATE TABLE bb_queue_pauses (
    queue     text PRIMARY KEY,
    paused_at timestamptz NOT NULL,
    reason    text NOT NULL
);
