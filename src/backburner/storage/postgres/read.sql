-- Queries of the read model (job search, counts, names, bulk actions): see storage/_read.py.
--
-- They never walk all jobs of a state: every scan is an index range cut short by a LIMIT.
-- A "cell" is one (state, queue) pair that holds jobs; the (state, queue, id) index finds
-- the cells with a loose index scan (one probe per cell) and lists each newest first.
-- Arguments are stored as text: they are compared as jsonb, with NUL escapes (which
-- jsonb rejects) read as U+FFFD so that no stored row can make a search fail.

-- name: search_jobs
WITH RECURSIVE wanted AS (
    SELECT unnest(%(states)b::text[]) AS state
),
found_cell (state, queue) AS (
    SELECT w.state, (SELECT j.queue FROM {schema}.bb_jobs j WHERE j.state = w.state
                     ORDER BY j.queue LIMIT 1)
    FROM wanted w
  UNION ALL
    SELECT c.state, (SELECT j.queue FROM {schema}.bb_jobs j
                     WHERE j.state = c.state AND j.queue > c.queue ORDER BY j.queue LIMIT 1)
    FROM found_cell c WHERE c.queue IS NOT NULL
),
cell AS (
    SELECT state, queue FROM found_cell
    WHERE queue IS NOT NULL AND cardinality(%(queues)b::text[]) = 0
  UNION ALL
    SELECT w.state, q.queue FROM wanted w CROSS JOIN unnest(%(queues)b::text[]) AS q(queue)
),
candidate AS (
    -- No state or queue filter: newest first straight from the primary key.
    (SELECT j.id FROM {schema}.bb_jobs j
     WHERE %(path)s::text = 'all' AND j.id < %(before)s
     ORDER BY j.id DESC LIMIT %(scan)s)
  UNION ALL
    -- Given ids.
    (SELECT j.id FROM {schema}.bb_jobs j
     WHERE %(path)s::text = 'ids' AND j.id = ANY(%(ids)b::bigint[]) AND j.id < %(before)s
       AND j.state = ANY(%(states)b::text[])
       AND (cardinality(%(queues)b::text[]) = 0 OR j.queue = ANY(%(queues)b::text[]))
     ORDER BY j.id DESC LIMIT %(scan)s)
  UNION ALL
    -- Otherwise the newest of each cell, merged.
    (SELECT found.id FROM cell c CROSS JOIN LATERAL (
         SELECT j.id FROM {schema}.bb_jobs j
         WHERE j.state = c.state AND j.queue = c.queue AND j.id < %(before)s
         ORDER BY j.id DESC LIMIT %(scan)s
     ) AS found
     WHERE %(path)s::text = 'cells'
     ORDER BY found.id DESC LIMIT %(scan)s)
),
examined AS (
    SELECT count(*) AS candidates, min(id) AS oldest, array_agg(id) AS ids FROM candidate
)
-- The rows are read by id (= ANY of the candidates): joined, the planner may rather walk
-- the whole primary key, filtering every row.
SELECT e.candidates, e.oldest, m.*
FROM examined e
LEFT JOIN LATERAL (
    SELECT j.id, j.name, j.queue, j.state, j.attempt, j.created_at, j.run_at, j.started_at,
           j.finished_at, j.args, j.kwargs, j.error, j.parent_id, j.recurring_id, j.server_id
    FROM {schema}.bb_jobs j
    WHERE j.id = ANY(e.ids)
      AND (cardinality(%(allowed)b::text[]) = 0 OR j.state = ANY(%(allowed)b::text[]))
      AND (NOT %(by_name)s
           OR j.name = ANY(%(names)b::text[])
           OR EXISTS (SELECT 1 FROM unnest(%(prefixes)b::text[]) AS p(prefix)
                      WHERE starts_with(j.name, p.prefix)))
      AND (%(args)s::text IS NULL
           OR replace(j.args, '\u0000', '\ufffd')::jsonb
              @> replace(%(args)s::text, '\u0000', '\ufffd')::jsonb)
      AND (%(kwargs)s::text IS NULL
           OR replace(j.kwargs, '\u0000', '\ufffd')::jsonb
              @> replace(%(kwargs)s::text, '\u0000', '\ufffd')::jsonb)
    ORDER BY j.id DESC
    LIMIT %(limit)s
) AS m ON true
ORDER BY m.id DESC;

-- name: continuations
-- From bb_jobs_parent: a parent's children in any state, oldest first.
SELECT id, name, queue, state, attempt, created_at, run_at, started_at, finished_at, args,
       kwargs, error, parent_id, recurring_id, server_id
FROM {schema}.bb_jobs WHERE parent_id = %(parent)s ORDER BY id LIMIT %(limit)s;

-- name: count_cells
-- Each cell is counted on the index up to threshold + 1 jobs. A fuller cell is estimated:
-- its share of the table in the (state, queue) statistics that ANALYZE keeps
-- (bb_jobs_state_queue), or the product of the two columns' shares, times the table's
-- size scaled as the planner scales it. NULL when there are no statistics yet.
WITH RECURSIVE wanted AS (
    SELECT unnest(%(states)b::text[]) AS state
),
found_cell (state, queue) AS (
    SELECT w.state, (SELECT j.queue FROM {schema}.bb_jobs j WHERE j.state = w.state
                     ORDER BY j.queue LIMIT 1)
    FROM wanted w
  UNION ALL
    SELECT c.state, (SELECT j.queue FROM {schema}.bb_jobs j
                     WHERE j.state = c.state AND j.queue > c.queue ORDER BY j.queue LIMIT 1)
    FROM found_cell c WHERE c.queue IS NOT NULL
),
counted AS MATERIALIZED (  -- each cell counted once, however often n is read
    SELECT c.state, c.queue,
           (SELECT count(*) FROM (SELECT 1 FROM {schema}.bb_jobs j
                                  WHERE j.state = c.state AND j.queue = c.queue
                                  LIMIT %(threshold)s + 1) AS capped) AS n
    FROM found_cell c
    WHERE c.queue IS NOT NULL
      AND (cardinality(%(queues)b::text[]) = 0 OR c.queue = ANY(%(queues)b::text[]))
),
size AS (
    SELECT CASE WHEN c.reltuples >= 0 AND c.relpages > 0
                THEN c.reltuples / c.relpages
                     * (pg_relation_size(c.oid) / current_setting('block_size')::integer)
           END AS rows
    FROM pg_class c WHERE c.oid = '{schema}.bb_jobs'::regclass
),
pair AS (
    -- Columns of extended statistics come in column order: state before queue.
    SELECT s.most_common_vals[i][1] AS state, s.most_common_vals[i][2] AS queue,
           s.most_common_freqs[i] AS share
    FROM pg_stats_ext s, generate_subscripts(s.most_common_vals, 1) AS i
    WHERE s.schemaname = %(schema)s::text AND s.tablename = 'bb_jobs'
      AND s.statistics_name = 'bb_jobs_state_queue'
),
single AS (
    SELECT s.attname, v.value, v.share
    FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs)
                     AS v(value, share)
    WHERE s.schemaname = %(schema)s::text AND s.tablename = 'bb_jobs'
      AND s.attname IN ('state', 'queue')
)
SELECT c.queue, c.state, c.n,
       CASE WHEN c.n > %(threshold)s THEN
           (SELECT size.rows FROM size)
           * coalesce((SELECT max(p.share) FROM pair p
                       WHERE p.state = c.state AND p.queue = c.queue),
                      (SELECT max(s.share) FROM single s
                       WHERE s.attname = 'state' AND s.value = c.state)
                      * (SELECT max(s.share) FROM single s
                         WHERE s.attname = 'queue' AND s.value = c.queue))
       END
FROM counted c
WHERE c.n > 0;

-- name: queue_names
-- Every cell, then the prefix: under a database's linguistic collation (en_US, ICU) the
-- queues starting with a prefix are not one range of the index ("b0" sorts between "B"
-- and "B1"). Sorted by code point, as the other backends sort.
WITH RECURSIVE wanted AS (
    SELECT unnest(%(states)b::text[]) AS state
),
found_cell (state, queue) AS (
    SELECT w.state, (SELECT j.queue FROM {schema}.bb_jobs j WHERE j.state = w.state
                     ORDER BY j.queue LIMIT 1)
    FROM wanted w
  UNION ALL
    SELECT c.state, (SELECT j.queue FROM {schema}.bb_jobs j
                     WHERE j.state = c.state AND j.queue > c.queue ORDER BY j.queue LIMIT 1)
    FROM found_cell c WHERE c.queue IS NOT NULL
)
SELECT DISTINCT queue COLLATE "C" AS queue FROM found_cell
WHERE queue IS NOT NULL AND starts_with(queue, %(prefix)s::text)
ORDER BY 1 LIMIT %(limit)s;

-- name: job_names
WITH RECURSIVE wanted AS (
    SELECT unnest(%(states)b::text[]) AS state
),
found_cell (state, queue) AS (
    SELECT w.state, (SELECT j.queue FROM {schema}.bb_jobs j WHERE j.state = w.state
                     ORDER BY j.queue LIMIT 1)
    FROM wanted w
  UNION ALL
    SELECT c.state, (SELECT j.queue FROM {schema}.bb_jobs j
                     WHERE j.state = c.state AND j.queue > c.queue ORDER BY j.queue LIMIT 1)
    FROM found_cell c WHERE c.queue IS NOT NULL
),
recent AS (
    -- Ids only: read from the index alone. Asked for names, the planner may rather walk
    -- the primary key and filter every row.
    SELECT found.id
    FROM found_cell c CROSS JOIN LATERAL (
        SELECT j.id FROM {schema}.bb_jobs j
        WHERE j.state = c.state AND j.queue = c.queue
        ORDER BY j.id DESC LIMIT %(sample)s
    ) AS found
    WHERE c.queue IS NOT NULL
)
-- By code point, as the other backends sort, whatever the database's collation.
SELECT DISTINCT j.name COLLATE "C" AS name FROM {schema}.bb_jobs j
WHERE j.id = ANY(ARRAY(SELECT id FROM recent)) AND starts_with(j.name, %(prefix)s::text)
ORDER BY 1 LIMIT %(limit)s;

-- name: queue_oldest_enqueued
-- A loose index scan of bb_jobs_ready: one probe per queue.
WITH RECURSIVE queue (name) AS (
    SELECT (SELECT min(j.queue) FROM {schema}.bb_jobs j WHERE j.state = 'enqueued')
  UNION ALL
    SELECT (SELECT min(j.queue) FROM {schema}.bb_jobs j
            WHERE j.state = 'enqueued' AND j.queue > q.name)
    FROM queue q WHERE q.name IS NOT NULL
)
SELECT q.name, (SELECT j.run_at FROM {schema}.bb_jobs j
                WHERE j.state = 'enqueued' AND j.queue = q.name
                ORDER BY j.run_at LIMIT 1)
FROM queue q WHERE q.name IS NOT NULL;

-- name: requeue_ids
WITH requeued AS (
    UPDATE {schema}.bb_jobs
    SET state = 'enqueued', run_at = %(now)s, finished_at = NULL, server_id = NULL,
        history = history || jsonb_build_array(jsonb_build_array(
            'enqueued',
            greatest(extract(epoch FROM %(now)s::timestamptz), (history->-1->>1)::numeric),
            %(reason)s::text))
    WHERE id = ANY(%(ids)b::bigint[])
      AND state IN ('succeeded', 'failed', 'deleted', 'scheduled')
    RETURNING queue
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM requeued) AS q
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT count(*) FROM requeued), (SELECT count(*) FROM notified);

-- name: delete_ids
-- As delete: a processing job keeps its server_id.
UPDATE {schema}.bb_jobs
SET state = 'deleted', finished_at = %(now)s,
    history = history || jsonb_build_array(jsonb_build_array(
        'deleted',
        greatest(extract(epoch FROM %(now)s::timestamptz), (history->-1->>1)::numeric),
        %(reason)s::text))
WHERE id = ANY(%(ids)b::bigint[]) AND state <> 'deleted'
RETURNING id;
