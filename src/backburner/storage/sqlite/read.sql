-- Queries of the read model (job search, counts, names, bulk actions): see storage/_read.py.
--
-- They never walk all jobs of a state: every scan is an index range cut short by a LIMIT.
-- A "cell" is one (state, queue) pair that holds jobs; the (state, queue, id) index finds
-- the cells with a loose index scan (one probe per cell) and lists each newest first.
-- SQLite has no LATERAL joins, so the storage merges the cells' lists itself.

-- name: cells
-- ?1: JSON array of states; ?2: queue names start with it.
WITH RECURSIVE found_cell (state, queue) AS (
    SELECT w.value, (SELECT j.queue FROM bb_jobs j WHERE j.state = w.value AND j.queue >= ?2
                     ORDER BY j.queue LIMIT 1)
    FROM json_each(?1) AS w
  UNION ALL
    SELECT c.state, (SELECT j.queue FROM bb_jobs j
                     WHERE j.state = c.state AND j.queue > c.queue ORDER BY j.queue LIMIT 1)
    FROM found_cell c WHERE c.queue IS NOT NULL AND substr(c.queue, 1, length(?2)) = ?2
)
SELECT state, queue FROM found_cell
WHERE queue IS NOT NULL AND substr(queue, 1, length(?2)) = ?2;

-- name: cell_ids
SELECT id FROM bb_jobs WHERE state = ?1 AND queue = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4;

-- name: all_ids
SELECT id FROM bb_jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2;

-- name: given_ids
SELECT id FROM bb_jobs
WHERE id IN (SELECT value FROM json_each(?1)) AND id < ?2
  AND state IN (SELECT value FROM json_each(?3))
  AND (json_array_length(?4) = 0 OR queue IN (SELECT value FROM json_each(?4)))
ORDER BY id DESC LIMIT ?5;

-- name: summaries
SELECT id, name, queue, state, attempt, created_at, run_at, started_at, finished_at, args,
       kwargs, error, parent_id, recurring_id, server_id
FROM bb_jobs WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id DESC;

-- name: continuations
-- From bb_jobs_parent: a parent's children in any state, oldest first.
SELECT id, name, queue, state, attempt, created_at, run_at, started_at, finished_at, args,
       kwargs, error, parent_id, recurring_id, server_id
FROM bb_jobs WHERE parent_id = ?1 ORDER BY id LIMIT ?2;

-- name: cell_count
SELECT count(*) FROM (SELECT 1 FROM bb_jobs WHERE state = ?1 AND queue = ?2 LIMIT ?3);

-- name: cell_count_between
SELECT count(*) FROM bb_jobs WHERE state = ?1 AND queue = ?2 AND id >= ?3 AND id < ?4;

-- name: id_span
-- Two subqueries: each reads one end of the table. min() and max() together scan it all.
SELECT (SELECT min(id) FROM bb_jobs), (SELECT max(id) FROM bb_jobs);

-- name: recent_names
SELECT DISTINCT name FROM (
    SELECT name FROM bb_jobs WHERE state = ?1 AND queue = ?2 ORDER BY id DESC LIMIT ?3
);

-- name: queue_oldest_enqueued
-- A loose index scan of bb_jobs_ready: one probe per queue.
WITH RECURSIVE queue (name) AS (
    SELECT (SELECT min(j.queue) FROM bb_jobs j WHERE j.state = 'enqueued')
  UNION ALL
    SELECT (SELECT min(j.queue) FROM bb_jobs j WHERE j.state = 'enqueued' AND j.queue > q.name)
    FROM queue q WHERE q.name IS NOT NULL
)
SELECT q.name, (SELECT j.run_at FROM bb_jobs j
                WHERE j.state = 'enqueued' AND j.queue = q.name ORDER BY j.run_at LIMIT 1)
FROM queue q WHERE q.name IS NOT NULL;

-- name: requeue_ids
UPDATE bb_jobs
SET state = 'enqueued', run_at = ?1, finished_at = NULL, server_id = NULL,
    history = json_insert(history, '$[#]',
                          json_array('enqueued', max(?1, json_extract(history, '$[#-1][1]')), ?2))
-- "+state": by id, not through the state index (which would walk every finished job).
WHERE id IN (SELECT value FROM json_each(?3))
  AND +state IN ('succeeded', 'failed', 'deleted', 'scheduled');

-- name: delete_ids
UPDATE bb_jobs
SET state = 'deleted', finished_at = ?1,
    history = json_insert(history, '$[#]',
                          json_array('deleted', max(?1, json_extract(history, '$[#-1][1]')), ?2))
WHERE id IN (SELECT value FROM json_each(?3)) AND state != 'deleted'
RETURNING id;
