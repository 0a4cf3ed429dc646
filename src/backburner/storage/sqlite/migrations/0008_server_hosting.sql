-- What each server reports with its heartbeats besides its queues and workers: the
-- workers running a job, and what else it hosts (services, periodic functions, task
-- queues, consumers) as JSON. A snapshot, rewritten by every heartbeat.
--
-- The table is made again rather than altered: SQLite has no ADD COLUMN IF NOT EXISTS,
-- and a file whose version was set back runs this again over what is there. Servers
-- rewrite busy and hosting with their next heartbeat, so none is lost that matters.
CREATE TABLE bb_servers_new (
    id           TEXT PRIMARY KEY,
    hostname     TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    queues       TEXT NOT NULL,
    workers      INTEGER NOT NULL,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    busy         INTEGER NOT NULL DEFAULT 0,
    hosting      TEXT NOT NULL DEFAULT '{}'
);

INSERT INTO bb_servers_new (id, hostname, pid, queues, workers, started_at, heartbeat_at)
SELECT id, hostname, pid, queues, workers, started_at, heartbeat_at FROM bb_servers;

DROP TABLE bb_servers;

ALTER TABLE bb_servers_new RENAME TO bb_servers;
