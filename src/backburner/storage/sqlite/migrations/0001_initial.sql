-- Jobs, servers and leases. Times are seconds since the epoch (UTC) as REAL.
CREATE TABLE bb_jobs (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    queue        TEXT NOT NULL,
    state        TEXT NOT NULL,
    args         TEXT NOT NULL,
    kwargs       TEXT NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    run_at       REAL NOT NULL,
    started_at   REAL,
    finished_at  REAL,
    server_id    TEXT,
    result       TEXT,
    error        TEXT,
    history      TEXT NOT NULL,
    parent_id    INTEGER,
    continue_on  TEXT,
    recurring_id TEXT,
    due_at       REAL,
    unique_key   TEXT
);

-- The hot predicate: what a server claims next, in queue order, FIFO.
CREATE INDEX bb_jobs_ready ON bb_jobs (queue, run_at, id) WHERE state = 'enqueued';
CREATE INDEX bb_jobs_scheduled ON bb_jobs (run_at) WHERE state = 'scheduled';
CREATE INDEX bb_jobs_awaiting ON bb_jobs (parent_id) WHERE state = 'awaiting';
-- Listing, counting and pruning by state.
CREATE INDEX bb_jobs_state ON bb_jobs (state, id);
CREATE UNIQUE INDEX bb_jobs_unique_key ON bb_jobs (unique_key) WHERE unique_key IS NOT NULL;

CREATE TABLE bb_servers (
    id           TEXT PRIMARY KEY,
    hostname     TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    queues       TEXT NOT NULL,
    workers      INTEGER NOT NULL,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);

CREATE TABLE bb_leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  REAL NOT NULL
);
