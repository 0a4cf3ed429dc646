-- IF NOT EXISTS: a file whose version was set back runs it again over what is there.
-- Jobs ended per hour (succeeded, failed for good), as each server adds them with its
-- heartbeats: one row per hour, server and state, so no two servers write the same row.
CREATE TABLE IF NOT EXISTS bb_throughput (
    hour      REAL NOT NULL,
    server_id TEXT NOT NULL,
    state     TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (hour, server_id, state)
) WITHOUT ROWID;
