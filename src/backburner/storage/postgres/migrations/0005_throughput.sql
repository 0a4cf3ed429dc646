-- Jobs ended per hour (succeeded, failed for good), as each server adds them with its
-- heartbeats: one row per hour, server and state, so no two servers write the same row.
CREATE TABLE bb_throughput (
    hour      timestamptz NOT NULL,
    server_id text NOT NULL,
    state     text NOT NULL,
    count     bigint NOT NULL,
    PRIMARY KEY (hour, server_id, state)
);
