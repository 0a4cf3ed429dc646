-- The last job id handed out. max(id) + 1 would hand out again the ids of the newest jobs
-- once they are pruned, and an id a client kept would then name another job.
CREATE TABLE bb_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO bb_counters (name, value) SELECT 'job_id', coalesce(max(id), 0) FROM bb_jobs;
