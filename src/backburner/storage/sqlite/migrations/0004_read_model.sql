-- The read model: jobs by state and queue, newest first, from the index that already
-- served listing by state. Reshaped rather than joined by another index, which every
-- state change would have to update too.
DROP INDEX bb_jobs_state;
CREATE INDEX bb_jobs_state ON bb_jobs (state, queue, id);
