-- Queries of the SQLite backend.
--
-- A history entry is [state, epoch seconds, reason]. An entry is stamped no earlier than
-- the one before it: a writer's clock may be read before another writer's change to the
-- same job commits.

-- name: last_id
-- The greater of the two: a process still on the code before 0003_job_ids.sql may have
-- inserted jobs without moving the counter.
SELECT max(coalesce((SELECT value FROM bb_counters WHERE name = 'job_id'), 0),
           (SELECT coalesce(max(id), 0) FROM bb_jobs));

-- name: set_last_id
UPDATE bb_counters SET value = ? WHERE name = 'job_id';

-- name: insert_job
INSERT INTO bb_jobs (id, name, queue, state, args, kwargs, created_at, run_at, history,
                     parent_id, continue_on, recurring_id, due_at, unique_key, finished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, json_array(json_array(?, ?, ?)), ?, ?, ?, ?, ?, ?);

-- name: job_by_unique_key
SELECT id FROM bb_jobs WHERE unique_key = ?;

-- name: job_state
SELECT state FROM bb_jobs WHERE id = ?;

-- name: get_job
SELECT * FROM bb_jobs WHERE id = ?;

-- name: list_jobs
SELECT * FROM bb_jobs
WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR queue = ?2)
ORDER BY id DESC LIMIT ?3 OFFSET ?4;

-- name: claim
UPDATE bb_jobs
SET state = 'processing', server_id = ?1, attempt = attempt + 1, started_at = ?2,
    history = json_insert(history, '$[#]',
                          json_array('processing', max(?2, json_extract(history, '$[#-1][1]')), ?5))
WHERE id IN (
    SELECT id FROM bb_jobs
    WHERE state = 'enqueued' AND queue = ?3 AND run_at <= ?2
      AND NOT EXISTS (SELECT 1 FROM bb_queue_pauses WHERE queue = ?3)
    ORDER BY run_at, id LIMIT ?4
)
RETURNING id, name, queue, args, kwargs, attempt, due_at, recurring_id, run_at;

-- name: finish_succeeded
UPDATE bb_jobs
SET state = 'succeeded', result = ?1, error = NULL, finished_at = ?2,
    history = json_insert(history, '$[#]',
                          json_array('succeeded', max(?2, json_extract(history, '$[#-1][1]')), ?3))
WHERE id = ?4 AND state = 'processing' AND server_id = ?5 AND attempt = ?6
  AND (?7 IS NULL OR started_at = ?7);

-- name: finish_failed
UPDATE bb_jobs
SET state = 'failed', error = ?1, finished_at = ?2,
    history = json_insert(history, '$[#]',
                          json_array('failed', max(?2, json_extract(history, '$[#-1][1]')), ?3))
WHERE id = ?4 AND state = 'processing' AND server_id = ?5 AND attempt = ?6
  AND (?7 IS NULL OR started_at = ?7);

-- name: finish_retry
UPDATE bb_jobs
SET state = 'scheduled', error = ?1, run_at = ?8, server_id = NULL,
    history = json_insert(history, '$[#]',
                          json_array('scheduled', max(?2, json_extract(history, '$[#-1][1]')), ?3))
WHERE id = ?4 AND state = 'processing' AND server_id = ?5 AND attempt = ?6
  AND (?7 IS NULL OR started_at = ?7);

-- name: finish_interrupted
-- An interrupted run does not count as an attempt.
UPDATE bb_jobs
SET state = 'enqueued', attempt = attempt - 1, server_id = NULL,
    history = json_insert(history, '$[#]',
                          json_array('enqueued', max(?2, json_extract(history, '$[#-1][1]')), ?3))
WHERE id = ?4 AND state = 'processing' AND server_id = ?5 AND attempt = ?6
  AND (?7 IS NULL OR started_at = ?7);

-- name: awaiting_children
SELECT id, continue_on FROM bb_jobs
WHERE state = 'awaiting' AND parent_id IN (SELECT value FROM json_each(?));

-- name: any_awaiting
SELECT 1 FROM bb_jobs WHERE state = 'awaiting' LIMIT 1;

-- name: release_child
UPDATE bb_jobs
SET state = ?1, run_at = ?2,
    finished_at = CASE WHEN ?1 = 'deleted' THEN ?2 END,
    history = json_insert(history, '$[#]',
                          json_array(?1, max(?2, json_extract(history, '$[#-1][1]')), ?3))
WHERE id = ?4 AND state = 'awaiting';

-- name: requeue
UPDATE bb_jobs
SET state = 'enqueued', run_at = ?1, finished_at = NULL, server_id = NULL,
    history = json_insert(history, '$[#]',
                          json_array('enqueued', max(?1, json_extract(history, '$[#-1][1]')), ?2))
WHERE id = ?3 AND state IN ('succeeded', 'failed', 'deleted', 'scheduled');

-- name: delete
UPDATE bb_jobs
SET state = 'deleted', finished_at = ?1,
    history = json_insert(history, '$[#]',
                          json_array('deleted', max(?1, json_extract(history, '$[#-1][1]')), ?2))
WHERE id = ?3 AND state != 'deleted';

-- name: counts
SELECT state, count(*) FROM bb_jobs GROUP BY state;

-- name: queue_counts
SELECT queue, count(*) FROM bb_jobs WHERE state = 'enqueued' GROUP BY queue;

-- name: stage_due
UPDATE bb_jobs
SET state = 'enqueued',
    history = json_insert(history, '$[#]',
                          json_array('enqueued', max(?1, json_extract(history, '$[#-1][1]')),
                                     'due'))
WHERE id IN (
    SELECT id FROM bb_jobs WHERE state = 'scheduled' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2
);

-- name: next_due
SELECT min(run_at) FROM bb_jobs WHERE state = 'scheduled';

-- name: held_among
-- Of the given ids, the jobs processing on this server, with the claim they are under.
SELECT id, attempt, started_at FROM bb_jobs
WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'processing' AND server_id = ?2;

-- name: prunable
-- In the order of the bb_jobs_state index (state, queue, id): it stops after ?3 jobs
-- instead of sorting every job in the state.
SELECT id FROM bb_jobs WHERE state = ?1 AND finished_at < ?2 ORDER BY queue, id LIMIT ?3;

-- name: release_pruned
-- Continuations still awaiting a parent about to be pruned (on="succeeded" ones of a
-- failed parent) could never run nor be pruned: they are deleted, so that a person can
-- still requeue them and retention prunes them later. Their own awaiting continuations
-- follow as those of any deleted job do (_states.continuation_release), in cascade.
WITH RECURSIVE
pruned (id, state) AS (
    SELECT id, state FROM bb_jobs WHERE id IN (SELECT value FROM json_each(?1))
),
released (id, state, reason) AS (
    SELECT child.id, 'deleted', replace(replace(?3, '{parent}', p.id), '{state}', p.state)
    FROM pruned p
    CROSS JOIN bb_jobs child  -- CROSS: from the few pruned jobs to their children, by index
    WHERE child.parent_id = p.id AND child.state = 'awaiting'
  UNION ALL
    SELECT child.id,
           CASE WHEN child.continue_on = 'finished' THEN 'enqueued' ELSE 'deleted' END,
           replace(replace(?4, '{parent}', r.id), '{state}', 'deleted')
    FROM released r
    JOIN bb_jobs child ON child.parent_id = r.id AND child.state = 'awaiting'
    WHERE r.state = 'deleted'
)
UPDATE bb_jobs
SET state = r.state,
    run_at = CASE WHEN r.state = 'enqueued' THEN ?2 ELSE bb_jobs.run_at END,
    finished_at = CASE WHEN r.state = 'deleted' THEN ?2 END,
    history = json_insert(history, '$[#]',
                          json_array(r.state, max(?2, json_extract(history, '$[#-1][1]')),
                                     r.reason))
FROM released r
WHERE bb_jobs.id = r.id AND bb_jobs.state = 'awaiting';

-- name: held
SELECT id, attempt, started_at FROM bb_jobs WHERE state = 'processing' AND server_id = ?;

-- name: prune
DELETE FROM bb_jobs WHERE id IN (SELECT value FROM json_each(?));

-- name: heartbeat
INSERT INTO bb_servers
    (id, hostname, pid, queues, workers, started_at, heartbeat_at, busy, hosting)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
                               queues = excluded.queues, workers = excluded.workers,
                               busy = excluded.busy, hosting = excluded.hosting;

-- name: remove_server
DELETE FROM bb_servers WHERE id = ?;

-- name: list_servers
SELECT id, hostname, pid, queues, workers, started_at, heartbeat_at, busy, hosting
FROM bb_servers ORDER BY started_at;

-- name: dead_servers
-- ?2 is the caller's id: a server never rescues itself.
SELECT id FROM bb_servers WHERE heartbeat_at < ?1 AND id != ?2;

-- name: orphan_servers
-- Servers that own processing jobs but have no row: they died before or while removing it.
SELECT DISTINCT server_id FROM bb_jobs
WHERE state = 'processing' AND started_at < ?1 AND server_id != ?2
  AND server_id NOT IN (SELECT id FROM bb_servers);

-- name: requeue_processing
-- run_at stays: a rescued job has waited longest and goes to the front of its queue.
UPDATE bb_jobs
SET state = 'enqueued', server_id = NULL,
    history = json_insert(history, '$[#]',
                          json_array('enqueued', max(?1, json_extract(history, '$[#-1][1]')), ?2))
WHERE state = 'processing' AND server_id = ?3;

-- name: lease
INSERT INTO bb_leases (name, holder, until) VALUES (?1, ?2, ?3)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
WHERE bb_leases.holder = excluded.holder OR bb_leases.until <= ?4;

-- name: recurring_upsert
INSERT INTO bb_recurring (id, name, cron, timezone, queue, args, kwargs, misfire, next_run,
                          created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (id) DO UPDATE SET
    next_run = CASE WHEN bb_recurring.cron = excluded.cron
                     AND bb_recurring.timezone = excluded.timezone
                    THEN bb_recurring.next_run ELSE excluded.next_run END,
    name = excluded.name, cron = excluded.cron, timezone = excluded.timezone,
    queue = excluded.queue, args = excluded.args, kwargs = excluded.kwargs,
    misfire = excluded.misfire;

-- name: recurring_get
SELECT * FROM bb_recurring WHERE id = ?;

-- name: recurring_list
SELECT * FROM bb_recurring ORDER BY id;

-- name: recurring_remove
DELETE FROM bb_recurring WHERE id = ?;

-- name: recurring_pause
UPDATE bb_recurring SET paused = 1 WHERE id = ?;

-- name: recurring_resume
UPDATE bb_recurring SET paused = 0, next_run = ?2 WHERE id = ?1;

-- name: recurring_due
SELECT * FROM bb_recurring WHERE paused = 0 AND next_run <= ? ORDER BY next_run, id LIMIT ?;

-- name: recurring_next_run
SELECT min(next_run) FROM bb_recurring WHERE paused = 0;

-- name: recurring_advance
UPDATE bb_recurring SET next_run = ?3 WHERE id = ?1 AND next_run = ?2;

-- name: recurring_ran
UPDATE bb_recurring SET last_run = ?2, last_job_id = ?3 WHERE id = ?1;

-- name: throughput_add
INSERT INTO bb_throughput (hour, server_id, state, count) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (hour, server_id, state) DO UPDATE SET count = count + excluded.count;

-- name: throughput_read
SELECT hour, state, sum(count) FROM bb_throughput WHERE hour >= ?1
GROUP BY hour, state ORDER BY hour, state;

-- name: throughput_prune
DELETE FROM bb_throughput WHERE hour < ?1;

-- name: queue_pause
-- Pausing again keeps the first pause (its time and reason).
INSERT INTO bb_queue_pauses (queue, paused_at, reason) VALUES (?1, ?2, ?3)
ON CONFLICT (queue) DO NOTHING;

-- name: queue_resume
DELETE FROM bb_queue_pauses WHERE queue = ?1;

-- name: queue_pauses
SELECT queue, paused_at, reason FROM bb_queue_pauses ORDER BY queue;
