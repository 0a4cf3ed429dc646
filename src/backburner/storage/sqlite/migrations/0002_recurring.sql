-- Recurring jobs: one row per id; next_run moves on with a compare-and-set per due instant.
CREATE TABLE bb_recurring (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    cron        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    queue       TEXT NOT NULL,
    args        TEXT NOT NULL,
    kwargs      TEXT NOT NULL,
    misfire     TEXT NOT NULL,
    paused      INTEGER NOT NULL DEFAULT 0,
    next_run    REAL,
    last_run    REAL,
    last_job_id TEXT,
    created_at  REAL NOT NULL
);

CREATE INDEX bb_recurring_next_run ON bb_recurring (next_run) WHERE paused = 0;
