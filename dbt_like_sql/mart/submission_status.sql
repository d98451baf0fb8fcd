-- description: >
--   The steward's chase list - for each round, batch and zone expected in that round, what the
--   zone sent in that batch and what became of it. status is not_submitted (nothing from the zone
--   in the batch), rejected (files or values arrived but none was accepted), with_problems (values
--   accepted, but some rejected or flagged) or clean.
-- columns:
--   round: Round of the exercise
--   batch: Batch within the round
--   zone_code: Zone expected to report in the round
--   zone_name: Registered zone name
--   zone_type: county, district, prefecture or township
--   status: not_submitted, rejected, with_problems or clean
--   files: Files of the batch attributed to the zone (a multi-zone CSV counts for each zone it holds)
--   values_accepted: Value cells of the batch accepted for the zone (core.observation_history)
--   values_rejected: Value cells of the batch rejected for the zone (core.rejected_values)
--   values_flagged: Accepted value versions of the batch carrying at least one warning
--   file_warnings: File-level warnings of the batch (zone_name_mismatch, zone_not_expected)
-- tests:
--   - unique: [round, batch, zone_code]
--   - not_null: [round, batch, zone_code, status, files, values_accepted, values_rejected, values_flagged]
--   - accepted_values: {column: status, values: [not_submitted, rejected, with_problems, clean]}
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
with batches as (
    select distinct round, batch
    from core.submission_files
),

expected_zones as (
    select b.round, b.batch, e.zone_code, e.zone_name, e.zone_type
    from batches as b
    inner join staging.expected_zones as e using (round)
),

zone_files as (
    select round, batch, zone_code, file_id from core.submission_files where zone_code is not null
    union
    select round, batch, zone_code, file_id from core.observation_history
    union
    select round, batch, zone_code, file_id from core.rejected_values where zone_code is not null
),

files as (
    select round, batch, zone_code, count(distinct file_id) as files
    from zone_files
    group by all
),

accepted as (
    select round, batch, zone_code, count(*) as values_accepted
    from core.observation_history
    group by all
),

rejected as (
    select round, batch, zone_code, count(*) as values_rejected
    from core.rejected_values
    group by all
),

flagged as (
    select
        round,
        batch,
        zone_code,
        count(distinct (file_id, indicator_id, year)) filter (where indicator_id is not null) as values_flagged,
        count(*) filter (where indicator_id is null) as file_warnings
    from core.value_flags
    group by all
),

counted as (
    select
        e.round,
        e.batch,
        e.zone_code,
        e.zone_name,
        e.zone_type,
        coalesce(f.files, 0) as files,
        coalesce(a.values_accepted, 0) as values_accepted,
        coalesce(r.values_rejected, 0) as values_rejected,
        coalesce(g.values_flagged, 0) as values_flagged,
        coalesce(g.file_warnings, 0) as file_warnings
    from expected_zones as e
    left join files as f using (round, batch, zone_code)
    left join accepted as a using (round, batch, zone_code)
    left join rejected as r using (round, batch, zone_code)
    left join flagged as g using (round, batch, zone_code)
)

select
    round,
    batch,
    zone_code,
    zone_name,
    zone_type,
    case
        when files = 0 then 'not_submitted'
        when values_accepted = 0 then 'rejected'
        when values_rejected > 0 or values_flagged > 0 or file_warnings > 0 then 'with_problems'
        else 'clean'
    end as status,
    files,
    values_accepted,
    values_rejected,
    values_flagged,
    file_warnings
from counted
order by round, batch, zone_code
