-- description: >
--   What each batch brought - per round and batch: files received, loaded, rejected and
--   duplicate; value cells accepted, rejected and flagged; the coverage after the batch
--   (mart.coverage over all zone types, indicators and years); and the expected zones by
--   submission status (mart.submission_status). The run summary, the batch partitions of the
--   Dagster UI and the monitoring report read it.
-- columns:
--   round: Round of the exercise
--   batch: Batch within the round
--   files_received: Files of the batch found under raw/
--   files_loaded: Files loaded
--   files_rejected: Files refused whole
--   files_duplicate: Files byte-identical to one already loaded
--   values_accepted: Value cells accepted (core.observation_history)
--   values_rejected: Value cells rejected (core.rejected_values)
--   values_flagged: Accepted value versions carrying at least one warning
--   coverage_pct: Values in force after the batch over what the expected zones owe, in percent (unrounded)
--   zones_expected: Zones expected in the round
--   zones_not_submitted: Expected zones that sent nothing in the batch
--   zones_rejected: Expected zones whose files or values of the batch were all refused
--   zones_with_problems: Expected zones with values accepted, but some rejected or flagged
--   zones_clean: Expected zones whose batch had no problem
-- tests:
--   - unique: [round, batch]
--   - not_null: [round, batch, files_received, values_accepted, values_rejected, values_flagged, zones_expected]
--   - name: files_add_up
--     sql: select * from mart.batch_summary where files_loaded + files_rejected + files_duplicate <> files_received
--   - name: zones_add_up
--     sql: >
--       select * from mart.batch_summary
--       where zones_not_submitted + zones_rejected + zones_with_problems + zones_clean <> zones_expected
with batches as (
    select distinct round, batch
    from core.submission_files
),

files as (
    select
        round,
        batch,
        count(*) as files_received,
        count(*) filter (where status = 'loaded') as files_loaded,
        count(*) filter (where status = 'rejected') as files_rejected,
        count(*) filter (where status = 'duplicate') as files_duplicate
    from core.submission_files
    group by all
),

accepted as (
    select round, batch, count(*) as values_accepted
    from core.observation_history
    group by all
),

rejected as (
    select round, batch, count(*) as values_rejected
    from core.rejected_values
    group by all
),

flagged as (
    select round, batch, count(distinct (file_id, zone_code, indicator_id, year)) as values_flagged
    from core.value_flags
    where indicator_id is not null
    group by all
),

coverage as (
    select round, batch, 100.0 * sum(zones_reported) / nullif(sum(zones_expected), 0) as coverage_pct
    from mart.coverage
    group by all
),

zone_status as (
    select
        round,
        batch,
        count(*) as zones_expected,
        count(*) filter (where status = 'not_submitted') as zones_not_submitted,
        count(*) filter (where status = 'rejected') as zones_rejected,
        count(*) filter (where status = 'with_problems') as zones_with_problems,
        count(*) filter (where status = 'clean') as zones_clean
    from mart.submission_status
    group by all
)

select
    b.round,
    b.batch,
    coalesce(f.files_received, 0) as files_received,
    coalesce(f.files_loaded, 0) as files_loaded,
    coalesce(f.files_rejected, 0) as files_rejected,
    coalesce(f.files_duplicate, 0) as files_duplicate,
    coalesce(a.values_accepted, 0) as values_accepted,
    coalesce(r.values_rejected, 0) as values_rejected,
    coalesce(g.values_flagged, 0) as values_flagged,
    c.coverage_pct,
    coalesce(s.zones_expected, 0) as zones_expected,
    coalesce(s.zones_not_submitted, 0) as zones_not_submitted,
    coalesce(s.zones_rejected, 0) as zones_rejected,
    coalesce(s.zones_with_problems, 0) as zones_with_problems,
    coalesce(s.zones_clean, 0) as zones_clean
from batches as b
left join files as f using (round, batch)
left join accepted as a using (round, batch)
left join rejected as r using (round, batch)
left join flagged as g using (round, batch)
left join coverage as c using (round, batch)
left join zone_status as s using (round, batch)
order by b.round, b.batch
