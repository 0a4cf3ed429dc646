-- The read model: jobs by state and queue, newest first, from the index that already
-- served listing by state. Reshaped rather than joined by another index, which every
-- state change would have to update too. Counting a (state, queue) pair reads it alone;
-- listing all queues of a state merges its queues' ranges.
DROP INDEX bb_jobs_state;
CREATE INDEX bb_jobs_state ON bb_jobs (state, queue, id);
-- How the pairs share the table, kept by ANALYZE: estimates for counts too big to count.
CREATE STATISTICS bb_jobs_state_queue (mcv) ON state, queue FROM bb_jobs;
