-- Recurring jobs: one row per id; next_run moves on with a compare-and-set per due instant.
CREATE TABLE bb_recurring (
    id          text PRIMARY KEY,
    next_run    timestamptz,
    last_run    timestamptz,
    created_at  timestamptz NOT NULL,
    paused      boolean NOT NULL DEFAULT false,
    name        text NOT NULL,
    cron        text NOT NULL,
    timezone    text NOT NULL,
    queue       text NOT NULL,
    args        text NOT NULL,
    kwargs      text NOT NULL,
    misfire     text NOT NULL,
    last_job_id text
);

CREATE INDEX bb_recurring_next_run ON bb_recurring (next_run) WHERE NOT paused;
