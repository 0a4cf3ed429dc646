-- IF NOT EXISTS: a file whose version was set back runs it again over what is there.
-- Queues paused by hand: servers claim none of the jobs of a queue named here. A row per
-- paused queue, so the claim's NOT EXISTS probes a table of a few rows (none, mostly).
CREATE TABLE IF NOT EXISTS bb_queue_pauses (
    queue     TEXT PRIMARY KEY,
    paused_at REAL NOT NULL,
    reason    TEXT NOT NULL
) WITHOUT ROWID;
