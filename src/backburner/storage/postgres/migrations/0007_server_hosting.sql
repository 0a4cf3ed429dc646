-- What each server reports with its heartbeats besides its queues and workers: the
-- workers running a job, and what else it hosts (services, periodic functions, task
-- queues, consumers) as JSON. A snapshot, rewritten by every heartbeat.
ALTER TABLE bb_servers ADD COLUMN busy integer NOT NULL DEFAULT 0,
                       ADD COLUMN hosting jsonb NOT NULL DEFAULT '{}';
