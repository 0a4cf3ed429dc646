-- IF NOT EXISTS: a file whose version was set back runs it again over what is there.
-- A job page lists the job's continuations in any state; bb_jobs_awaiting holds only
-- those still awaiting. Partial: most jobs have no parent and add nothing to it.
CREATE INDEX IF NOT EXISTS bb_jobs_parent ON bb_jobs (parent_id, id) WHERE parent_id IS NOT NULL;
