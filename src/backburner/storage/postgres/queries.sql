-- Queries of the PostgreSQL backend.
--
-- {schema} and {channel} are replaced by the quoted schema and notification channel when a
-- storage is created: names are qualified rather than found through search_path, which a
-- pooler in transaction mode (PgBouncer) would not keep per client.
--
-- A history entry is jsonb_build_array(state, extract(epoch FROM at), reason), the shape
-- _rows.decode_history reads. An entry is stamped no earlier than the one before it: a
-- writer's clock may be read before another writer's change to the same job commits.
--
-- Statements that may make jobs ENQUEUED end with a "notified" step: one pg_notify per
-- queue, skipped when %(channel)s is NULL (notifications are off). Its count is selected
-- so that the step always runs.
--
-- Arrays are bound in binary (%(x)b): for big batches that is several times cheaper to
-- encode than the text form, which must quote and escape every element.

-- name: lock_migrations
-- Serialises migrate() across processes; released when the transaction ends.
SELECT pg_advisory_xact_lock(hashtext('backburner'), hashtext(%(schema)s::text));

-- name: schema_exists
SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s::text;

-- name: create_schema
CREATE SCHEMA {schema};

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS {schema}.bb_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: applied_migrations
SELECT version, name FROM {schema}.bb_migrations ORDER BY version;

-- name: use_schema
-- For the rest of the migration transaction only.
SELECT set_config('search_path', %(search_path)s::text, true);

-- name: record_migration
INSERT INTO {schema}.bb_migrations (version, name) VALUES (%(version)s, %(name)s::text);

-- name: configure_session
-- Times read back in UTC, like every time the protocol hands over. JIT compiling costs
-- more than any of these statements gains from it (a quarter second for a large insert).
SET TIME ZONE 'UTC';
SET jit = off;

-- name: listen
LISTEN {channel};

-- name: insert_job
-- One job with no parent and no unique key: the common enqueue() and schedule(). A plain
-- INSERT plans in a fraction of the time insert_jobs takes.
WITH inserted AS (
    INSERT INTO {schema}.bb_jobs (name, queue, state, args, kwargs, created_at, run_at,
                                  history, recurring_id, due_at)
    VALUES (%(name)s::text, %(queue)s::text, %(state)s::text, %(args)s::text,
            %(kwargs)s::text, %(now)s, %(run_at)s,
            jsonb_build_array(jsonb_build_array(%(state)s::text,
                                                extract(epoch FROM %(now)s::timestamptz),
                                                %(reason)s::text)),
            %(recurring_id)s::text, %(due_at)s::timestamptz)
    RETURNING id, queue, state
)
SELECT id, (SELECT count(pg_notify(%(channel)s::text, queue)) FROM inserted
            WHERE state = 'enqueued' AND %(channel)s::text IS NOT NULL)
FROM inserted;

-- name: insert_jobs
-- Ids are drawn before inserting so that each input row knows its own. A row whose
-- unique_key is taken is skipped and answered with the id of the job holding the key:
-- inserted by this very statement (the key repeats in the batch) or older. A key committed
-- by another transaction after this statement began comes back NULL; the caller looks it
-- up again.
--
-- args has one element per job. Every other column comes as an array, or, when all jobs
-- share its value, as an empty array plus that value in "<column>_all": unnest pads
-- short arrays with NULLs, which coalesce replaces.
WITH input AS (
    SELECT nextval('{schema}.bb_jobs_id_seq') AS id, t.position, t.args,
           coalesce(t.name, %(name_all)s::text) AS name,
           coalesce(t.queue, %(queue_all)s::text) AS queue,
           coalesce(t.state, %(state_all)s::text) AS state,
           coalesce(t.kwargs, %(kwargs_all)s::text) AS kwargs,
           coalesce(t.run_at, %(run_at_all)s::timestamptz) AS run_at,
           coalesce(t.reason, %(reason_all)s::text) AS reason,
           coalesce(t.parent_id, %(parent_id_all)s::bigint) AS parent_id,
           coalesce(t.continue_on, %(continue_on_all)s::text) AS continue_on,
           coalesce(t.recurring_id, %(recurring_id_all)s::text) AS recurring_id,
           coalesce(t.due_at, %(due_at_all)s::timestamptz) AS due_at,
           coalesce(t.unique_key, %(unique_key_all)s::text) AS unique_key
    FROM unnest(
        %(args)b::text[], %(name)b::text[], %(queue)b::text[], %(state)b::text[],
        %(kwargs)b::text[], %(run_at)b::timestamptz[], %(reason)b::text[],
        %(parent_id)b::bigint[], %(continue_on)b::text[], %(recurring_id)b::text[],
        %(due_at)b::timestamptz[], %(unique_key)b::text[]
    ) WITH ORDINALITY AS t(args, name, queue, state, kwargs, run_at, reason, parent_id,
                           continue_on, recurring_id, due_at, unique_key, position)
),
inserted AS (
    INSERT INTO {schema}.bb_jobs (id, name, queue, state, args, kwargs, created_at, run_at,
                                  finished_at, history, parent_id, continue_on, recurring_id,
                                  due_at, unique_key)
    SELECT id, name, queue, state, args, kwargs, %(now)s, run_at,
           CASE WHEN state = 'deleted' THEN %(now)s::timestamptz END,
           jsonb_build_array(jsonb_build_array(state, extract(epoch FROM %(now)s::timestamptz),
                                               reason)),
           parent_id, continue_on, recurring_id, due_at, unique_key
    FROM input
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
    RETURNING id, unique_key
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue) FROM unnest(%(notify)b::text[]) AS queue
    WHERE %(channel)s::text IS NOT NULL
)
SELECT array_agg(
           CASE WHEN i.unique_key IS NULL THEN i.id
                ELSE coalesce(holder.id, (SELECT older.id FROM {schema}.bb_jobs older
                                          WHERE older.unique_key = i.unique_key))
           END
           ORDER BY i.position),
       (SELECT count(*) FROM notified)
FROM input i
LEFT JOIN inserted holder ON holder.unique_key = i.unique_key;

-- name: ids_by_unique_key
SELECT unique_key, id FROM {schema}.bb_jobs WHERE unique_key = ANY(%(unique_key)b::text[]);

-- name: lock_parents
-- FOR SHARE makes a parent's concurrent finish wait for this insert to commit, so the
-- finish's release step sees the new AWAITING child; a parent that finished first is read
-- in its new state.
SELECT id, state FROM {schema}.bb_jobs WHERE id = ANY(%(ids)b::bigint[]) ORDER BY id FOR SHARE;

-- name: get_job
SELECT id, name, queue, state, args, kwargs, created_at, attempt, run_at, started_at,
       finished_at, result, error, history, parent_id, continue_on, server_id, recurring_id
FROM {schema}.bb_jobs WHERE id = %(id)s;

-- name: list_jobs
SELECT id, name, queue, state, args, kwargs, created_at, attempt, run_at, started_at,
       finished_at, result, error, history, parent_id, continue_on, server_id, recurring_id
FROM {schema}.bb_jobs
WHERE (%(queue)s::text IS NULL OR queue = %(queue)s::text)
ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: list_jobs_in_state
-- Separate from list_jobs so that even a generic plan walks the (state, id) index.
SELECT id, name, queue, state, args, kwargs, created_at, attempt, run_at, started_at,
       finished_at, result, error, history, parent_id, continue_on, server_id, recurring_id
FROM {schema}.bb_jobs
WHERE state = %(state)s::text AND (%(queue)s::text IS NULL OR queue = %(queue)s::text)
ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: requeue
WITH requeued AS (
    UPDATE {schema}.bb_jobs
    SET state = 'enqueued', run_at = %(now)s, finished_at = NULL, server_id = NULL,
        history = history || jsonb_build_array(jsonb_build_array(
            'enqueued',
            greatest(extract(epoch FROM %(now)s::timestamptz), (history->-1->>1)::numeric),
            %(reason)s::text))
    WHERE id = %(id)s AND state IN ('succeeded', 'failed', 'deleted', 'scheduled')
    RETURNING queue
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue) FROM requeued
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT count(*) FROM requeued), (SELECT count(*) FROM notified);

-- name: delete
-- A processing job keeps its server_id: that server learns of the delete from job_lost.
UPDATE {schema}.bb_jobs
SET state = 'deleted', finished_at = %(now)s,
    history = history || jsonb_build_array(jsonb_build_array(
        'deleted',
        greatest(extract(epoch FROM %(now)s::timestamptz), (history->-1->>1)::numeric),
        %(reason)s::text))
WHERE id = %(id)s AND state <> 'deleted'
RETURNING id;

-- name: release_children
-- Moves the AWAITING children of finished parents as _states.continuation_release says
-- (keep the two in step; test_postgres_specific checks them against each other), and the
-- children of children that this deletes, in cascade. Parents given here that are not in a
-- final state are ignored, so callers may pass every job they tried to finish.
WITH RECURSIVE parent AS (
    SELECT p.id, p.state, given.at
    FROM unnest(%(id)b::bigint[], %(at)b::timestamptz[]) AS given(id, at)
    JOIN {schema}.bb_jobs p ON p.id = given.id
    WHERE p.state IN ('succeeded', 'failed', 'deleted')
),
released (id, state, reason, at) AS (
    SELECT child.id,
           CASE WHEN p.state = 'succeeded' OR child.continue_on = 'finished' THEN 'enqueued'
                ELSE 'deleted' END,
           replace(replace(%(parent_outcome)s, '{parent}', p.id::text), '{state}', p.state),
           p.at
    FROM parent p
    JOIN {schema}.bb_jobs child ON child.parent_id = p.id AND child.state = 'awaiting'
    -- A failed parent may still be requeued and succeed: success continuations wait.
    WHERE p.state <> 'failed' OR child.continue_on = 'finished'
  UNION ALL
    SELECT child.id,
           CASE WHEN child.continue_on = 'finished' THEN 'enqueued' ELSE 'deleted' END,
           replace(replace(%(parent_outcome)s, '{parent}', r.id::text), '{state}', 'deleted'),
           r.at
    FROM released r
    JOIN {schema}.bb_jobs child ON child.parent_id = r.id AND child.state = 'awaiting'
    WHERE r.state = 'deleted'
),
moved AS (
    UPDATE {schema}.bb_jobs j
    SET state = r.state,
        run_at = CASE WHEN r.state = 'enqueued' THEN r.at ELSE j.run_at END,
        finished_at = CASE WHEN r.state = 'deleted' THEN r.at END,
        history = j.history || jsonb_build_array(jsonb_build_array(
            r.state,
            greatest(extract(epoch FROM r.at), (j.history->-1->>1)::numeric), r.reason))
    FROM released r
    WHERE j.id = r.id AND j.state = 'awaiting'
    RETURNING j.queue, j.state
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM moved WHERE state = 'enqueued') AS q
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM notified);

-- name: counts
SELECT state, count(*) FROM {schema}.bb_jobs GROUP BY state;

-- name: queue_counts
SELECT queue, count(*) FROM {schema}.bb_jobs WHERE state = 'enqueued' GROUP BY queue;

-- name: claim
-- One statement for any number of queues: per queue (in the order given) the oldest ready
-- jobs nobody else is claiming, then the first "limit" of those overall. With several
-- queues, rows of later queues may be locked and not taken; other claimers skip them only
-- until this statement commits.
--
-- It commits without waiting for its WAL to reach the disk (synchronous_commit off for
-- this transaction only), which takes a third off its time. A claim lost that way, in a
-- crash of the database within a fraction of a second, leaves its jobs enqueued: they run
-- again, as at-least-once allows. The lost run's outcome is fenced off by its claim's
-- started_at, even when the same server claims the job again with the same attempt. The
-- outcome of a run and every enqueue still wait for the disk; their flush also covers any
-- claim before them. The setting holds for the whole transaction: never send a claim in
-- one transaction with other writes.
WITH queue AS (
    -- A paused queue is left out here, before any of its rows is looked at or locked.
    SELECT name, position
    FROM unnest(%(queues)b::text[]) WITH ORDINALITY AS q(name, position)
    WHERE NOT EXISTS (SELECT FROM {schema}.bb_queue_pauses p WHERE p.queue = q.name)
),
picked AS (
    SELECT ready.id, q.position
    FROM queue q
    CROSS JOIN LATERAL (
        SELECT id, run_at FROM {schema}.bb_jobs
        WHERE state = 'enqueued' AND queue = q.name AND run_at <= %(now)s
        ORDER BY run_at, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ) AS ready
    ORDER BY q.position, ready.run_at, ready.id
    LIMIT %(limit)s
),
claimed AS (
    UPDATE {schema}.bb_jobs j
    SET state = 'processing', server_id = %(server_id)s::text, attempt = j.attempt + 1,
        started_at = %(now)s,
        history = j.history || jsonb_build_array(jsonb_build_array(
            'processing',
            greatest(extract(epoch FROM %(now)s::timestamptz), (j.history->-1->>1)::numeric),
            %(reason)s::text))
    FROM picked p
    WHERE j.id = p.id
    RETURNING j.id, j.name, j.queue, j.args, j.kwargs, j.attempt, j.due_at, j.recurring_id,
              j.run_at, p.position
)
SELECT id, name, queue, args, kwargs, attempt, due_at, recurring_id, run_at
FROM claimed, (SELECT set_config('synchronous_commit', 'off', true)) AS commit_mode
ORDER BY position, run_at, id;

-- name: finish
-- Outcomes in parallel arrays, fenced on (id, processing, server, attempt) and, when the
-- outcome gives it, the started_at of its claim. A final job keeps its server_id to show
-- where it ran.
WITH outcome AS (
    SELECT *
    FROM unnest(
        %(id)b::bigint[], %(server_id)b::text[], %(attempt)b::integer[], %(state)b::text[],
        %(at)b::timestamptz[], %(reason)b::text[], %(result)b::text[], %(error)b::text[],
        %(run_at)b::timestamptz[], %(started_at)b::timestamptz[]
    ) AS o(id, server_id, attempt, state, at, reason, result, error, run_at, started_at)
),
finished AS (
    UPDATE {schema}.bb_jobs j
    SET state = o.state,
        result = CASE WHEN o.state = 'succeeded' THEN o.result ELSE j.result END,
        error = CASE WHEN o.state = 'succeeded' THEN NULL ELSE coalesce(o.error, j.error) END,
        finished_at = CASE WHEN o.state IN ('succeeded', 'failed') THEN o.at END,
        run_at = CASE WHEN o.state = 'scheduled' THEN coalesce(o.run_at, o.at) ELSE j.run_at END,
        -- An interrupted run does not count as an attempt.
        attempt = CASE WHEN o.state = 'enqueued' THEN j.attempt - 1 ELSE j.attempt END,
        server_id = CASE WHEN o.state IN ('succeeded', 'failed') THEN j.server_id END,
        history = j.history || jsonb_build_array(jsonb_build_array(
            o.state,
            greatest(extract(epoch FROM o.at), (j.history->-1->>1)::numeric), o.reason))
    FROM outcome o
    WHERE j.id = o.id AND j.state = 'processing' AND j.server_id = o.server_id
      AND j.attempt = o.attempt AND (o.started_at IS NULL OR j.started_at = o.started_at)
    RETURNING j.id, j.queue, j.state
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM finished WHERE state = 'enqueued') AS q
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM finished), (SELECT count(*) FROM notified);

-- name: stage_due
WITH due AS (
    SELECT id FROM {schema}.bb_jobs
    WHERE state = 'scheduled' AND run_at <= %(now)s
    ORDER BY run_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
staged AS (
    UPDATE {schema}.bb_jobs j
    SET state = 'enqueued',
        history = j.history || jsonb_build_array(jsonb_build_array(
            'enqueued',
            greatest(extract(epoch FROM %(now)s::timestamptz), (j.history->-1->>1)::numeric),
            'due'))
    FROM due
    WHERE j.id = due.id
    RETURNING j.queue
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM staged) AS q
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT count(*) FROM staged), (SELECT count(*) FROM notified);

-- name: next_due
SELECT min(run_at) FROM {schema}.bb_jobs WHERE state = 'scheduled';

-- name: lost
-- Claims in parallel arrays; lost unless the job is processing here under that claim.
-- Positions (from 1) rather than ids: two claims of one job may be asked about at once.
SELECT given.position
FROM unnest(%(ids)b::bigint[], %(attempts)b::integer[], %(started_at)b::timestamptz[])
    WITH ORDINALITY AS given(id, attempt, started_at, position)
WHERE NOT EXISTS (
    SELECT 1 FROM {schema}.bb_jobs j
    WHERE j.id = given.id AND j.state = 'processing' AND j.server_id = %(server_id)s::text
      AND j.attempt = given.attempt
      AND (given.started_at IS NULL OR j.started_at = given.started_at)
)
ORDER BY given.position;

-- name: held
SELECT id, attempt, started_at FROM {schema}.bb_jobs
WHERE state = 'processing' AND server_id = %(server_id)s::text;

-- name: prune
-- Continuations still awaiting a pruned parent (on="succeeded" ones of a failed parent)
-- could never run nor be pruned: they are deleted, so that a person can still requeue them
-- and retention prunes them later. Their own awaiting continuations follow as those of any
-- deleted job do (_states.continuation_release), in cascade.
WITH RECURSIVE cutoff AS (
    SELECT * FROM unnest(%(state)b::text[], %(before)b::timestamptz[]) AS c(state, before)
),
doomed AS (
    SELECT old.id, old.state
    FROM cutoff c
    CROSS JOIN LATERAL (
        -- In the order of the bb_jobs_state index (state, queue, id): it stops after
        -- "limit" jobs instead of sorting every job in the state.
        SELECT id, state FROM {schema}.bb_jobs
        WHERE state = c.state AND finished_at < c.before
        ORDER BY queue, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ) AS old
),
released (id, state, reason) AS (
    SELECT child.id, 'deleted',
           replace(replace(%(parent_pruned)s, '{parent}', d.id::text), '{state}', d.state)
    FROM doomed d
    JOIN {schema}.bb_jobs child ON child.parent_id = d.id AND child.state = 'awaiting'
  UNION ALL
    SELECT child.id,
           CASE WHEN child.continue_on = 'finished' THEN 'enqueued' ELSE 'deleted' END,
           replace(replace(%(parent_outcome)s, '{parent}', r.id::text), '{state}', 'deleted')
    FROM released r
    JOIN {schema}.bb_jobs child ON child.parent_id = r.id AND child.state = 'awaiting'
    WHERE r.state = 'deleted'
),
moved AS (
    UPDATE {schema}.bb_jobs j
    SET state = r.state,
        run_at = CASE WHEN r.state = 'enqueued' THEN %(now)s ELSE j.run_at END,
        finished_at = CASE WHEN r.state = 'deleted' THEN %(now)s END,
        history = j.history || jsonb_build_array(jsonb_build_array(
            r.state,
            greatest(extract(epoch FROM %(now)s::timestamptz), (j.history->-1->>1)::numeric),
            r.reason))
    FROM released r
    WHERE j.id = r.id AND j.state = 'awaiting'
    RETURNING j.queue, j.state
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM moved WHERE state = 'enqueued') AS q
    WHERE %(channel)s::text IS NOT NULL
),
pruned AS (
    DELETE FROM {schema}.bb_jobs j USING doomed WHERE j.id = doomed.id RETURNING j.id
)
SELECT (SELECT count(*) FROM pruned), (SELECT count(*) FROM notified);

-- name: heartbeat
INSERT INTO {schema}.bb_servers
    (id, hostname, pid, queues, workers, started_at, heartbeat_at, busy, hosting)
VALUES (%(id)s::text, %(hostname)s::text, %(pid)s, %(queues)b::text[], %(workers)s,
        %(started_at)s, %(heartbeat_at)s, %(busy)s, %(hosting)s::jsonb)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
                               queues = excluded.queues, workers = excluded.workers,
                               busy = excluded.busy, hosting = excluded.hosting;

-- name: remove_server
DELETE FROM {schema}.bb_servers WHERE id = %(server_id)s::text;

-- name: list_servers
SELECT id, hostname, pid, queues, workers, started_at, heartbeat_at, busy, hosting
FROM {schema}.bb_servers ORDER BY started_at, id;

-- name: requeue_processing
-- run_at stays: a rescued job has waited longest and goes to the front of its queue.
WITH requeued AS (
    UPDATE {schema}.bb_jobs
    SET state = 'enqueued', server_id = NULL,
        history = history || jsonb_build_array(jsonb_build_array(
            'enqueued',
            greatest(extract(epoch FROM %(now)s::timestamptz), (history->-1->>1)::numeric),
            %(reason)s::text))
    WHERE state = 'processing' AND server_id = %(server_id)s::text
    RETURNING queue
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM requeued) AS q
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT count(*) FROM requeued), (SELECT count(*) FROM notified);

-- name: rescue_dead
-- Servers silent since the cutoff, and servers that own old processing jobs but have no
-- row (they died before their first heartbeat or while removing it), lose their jobs.
-- The caller (%(server_id)s) is never rescued, however old its own row looks.
WITH dead AS (
    DELETE FROM {schema}.bb_servers
    WHERE heartbeat_at < %(cutoff)s AND id <> %(server_id)s::text
    RETURNING id
),
orphan AS (
    SELECT DISTINCT server_id AS id FROM {schema}.bb_jobs
    WHERE state = 'processing' AND started_at < %(cutoff)s
      AND server_id <> %(server_id)s::text
      AND server_id NOT IN (SELECT id FROM {schema}.bb_servers)
),
rescued AS (
    UPDATE {schema}.bb_jobs
    SET state = 'enqueued',
        history = history || jsonb_build_array(jsonb_build_array(
            'enqueued',
            greatest(extract(epoch FROM %(now)s::timestamptz), (history->-1->>1)::numeric),
            replace(%(rescued)s, '{server}', server_id))),
        server_id = NULL
    WHERE state = 'processing'
      AND server_id IN (SELECT id FROM dead UNION SELECT id FROM orphan)
    RETURNING queue
),
notified AS (
    SELECT pg_notify(%(channel)s::text, queue)
    FROM (SELECT DISTINCT queue FROM rescued) AS q
    WHERE %(channel)s::text IS NOT NULL
)
SELECT (SELECT count(*) FROM rescued), (SELECT count(*) FROM notified);

-- name: clock
-- The database's clock as it runs (not the transaction's start, as now() would be).
SELECT clock_timestamp();

-- name: lease
INSERT INTO {schema}.bb_leases AS lease (name, holder, until)
VALUES (%(name)s::text, %(holder)s::text, %(until)s)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
WHERE lease.holder = excluded.holder OR lease.until <= %(now)s;

-- name: recurring_upsert
-- A new cron or time zone takes the new next run; otherwise the stored one (and any pause)
-- stays.
INSERT INTO {schema}.bb_recurring AS r (id, name, cron, timezone, queue, args, kwargs, misfire,
                                        next_run, created_at)
VALUES (%(id)s::text, %(name)s::text, %(cron)s::text, %(timezone)s::text, %(queue)s::text,
        %(args)s::text, %(kwargs)s::text, %(misfire)s::text, %(next_run)s, %(now)s)
ON CONFLICT (id) DO UPDATE SET
    next_run = CASE WHEN r.cron = excluded.cron AND r.timezone = excluded.timezone
                    THEN r.next_run ELSE excluded.next_run END,
    name = excluded.name, cron = excluded.cron, timezone = excluded.timezone,
    queue = excluded.queue, args = excluded.args, kwargs = excluded.kwargs,
    misfire = excluded.misfire;

-- name: recurring_get
SELECT id, name, cron, timezone, queue, args, kwargs, misfire, paused, next_run, last_run,
       last_job_id, created_at
FROM {schema}.bb_recurring WHERE id = %(id)s::text;

-- name: recurring_list
SELECT id, name, cron, timezone, queue, args, kwargs, misfire, paused, next_run, last_run,
       last_job_id, created_at
FROM {schema}.bb_recurring ORDER BY id;

-- name: recurring_remove
DELETE FROM {schema}.bb_recurring WHERE id = %(id)s::text;

-- name: recurring_set_paused
-- Resuming takes the given next run: runs missed while paused are skipped.
UPDATE {schema}.bb_recurring
SET paused = %(paused)s,
    next_run = CASE WHEN %(paused)s THEN next_run ELSE %(next_run)s::timestamptz END
WHERE id = %(id)s::text;

-- name: recurring_due
SELECT id, name, cron, timezone, queue, args, kwargs, misfire, paused, next_run, last_run,
       last_job_id, created_at
FROM {schema}.bb_recurring
WHERE NOT paused AND next_run <= %(now)s
ORDER BY next_run, id LIMIT %(limit)s;

-- name: recurring_next_run
SELECT min(next_run) FROM {schema}.bb_recurring WHERE NOT paused;

-- name: recurring_advance
-- Compare-and-set: of concurrent callers for one instant, the first wins; the others wait
-- for its row lock, then find next_run moved and change nothing.
UPDATE {schema}.bb_recurring SET next_run = %(next_run)s::timestamptz
WHERE id = %(id)s::text AND next_run = %(expected)s;

-- name: recurring_ran
UPDATE {schema}.bb_recurring SET last_run = %(at)s, last_job_id = %(job_id)s::text
WHERE id = %(id)s::text;

-- name: throughput_add
INSERT INTO {schema}.bb_throughput (hour, server_id, state, count)
SELECT t.hour, %(server_id)s::text, t.state, t.count
FROM unnest(%(hours)b::timestamptz[], %(states)b::text[], %(counts)b::bigint[])
     AS t(hour, state, count)
ON CONFLICT (hour, server_id, state)
DO UPDATE SET count = {schema}.bb_throughput.count + excluded.count;

-- name: throughput_read
SELECT hour, state, sum(count)::bigint FROM {schema}.bb_throughput WHERE hour >= %(since)s
GROUP BY hour, state ORDER BY hour, state;

-- name: throughput_prune
DELETE FROM {schema}.bb_throughput WHERE hour < %(before)s;

-- name: queue_pause
-- Pausing again keeps the first pause (its time and reason).
INSERT INTO {schema}.bb_queue_pauses (queue, paused_at, reason)
VALUES (%(queue)s::text, %(at)s, %(reason)s::text)
ON CONFLICT (queue) DO NOTHING;

-- name: queue_resume
-- Servers listening hear of the queue as of a new job in it, and claim at once.
WITH resumed AS (
    DELETE FROM {schema}.bb_queue_pauses WHERE queue = %(queue)s::text RETURNING queue
)
SELECT count(*), (SELECT count(pg_notify(%(channel)s::text, queue)) FROM resumed
                  WHERE %(channel)s::text IS NOT NULL)
FROM resumed;

-- name: queue_pauses
SELECT queue, paused_at, reason FROM {schema}.bb_queue_pauses ORDER BY queue COLLATE "C";
