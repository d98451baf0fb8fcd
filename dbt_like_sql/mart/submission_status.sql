-- description: >
--   The steward's chase list - for each round, batch and zone expected in that round, what the
--   zone sent in that batch and what became of it. status is not_submitted (nothing from the zone
--   in the batch), rejected (files or values arrived but none was accepted), with_problems (values
--   accepted, and the zone's feedback workbook of the batch lists findings: rows of mart.findings
--   sent to it) or clean. A zone is with_problems exactly when it has a feedback workbook of the
--   batch with values accepted; revised, which asks nothing of the zone, never makes it so.
-- columns:
--   round: Round of the exercise
--   batch: Batch within the round
--   zone_code: Zone expected to report in the round
--   zone_name: Registered zone name
--   zone_type: county, district, prefecture or township
--   status: not_submitted, rejected, with_problems or clean
--   files: Files of the batch attributed to the zone (staging.file_zones, duplicates aside; a multi-zone CSV counts for each zone it holds)
--   values_accepted: Value cells of the batch accepted for the zone (core.observation_history)
--   values_rejected: Rejected value cells of the batch sent to the zone (mart.findings)
--   values_flagged: Accepted value versions of the batch with a warning sent to the zone (mart.findings)
--   file_warnings: File-level warnings of the batch sent to the zone (zone_name_mismatch, zone_not_expected, extension_mismatch)
--   findings: Findings of the batch sent to the zone - the rows of its feedback workbook (mart.findings)
-- tests:
--   - unique: [round, batch, zone_code]
--   - not_null: [round, batch, zone_code, status, files, values_accepted, values_rejected, values_flagged, findings]
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
    select round, batch, zone_code, file_id
    from staging.file_zones
    where zone_code is not null and status <> 'duplicate'
    union
    select round, batch, zone_code, file_id from core.observation_history
    union
    select round, batch, feedback_zone, file_id from mart.findings where feedback_zone is not null
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

sent as (
    select
        round,
        batch,
        feedback_zone as zone_code,
        count(*) filter (where kind = 'rejected') as values_rejected,
        count(distinct (file_id, indicator_id, year)) filter (where kind = 'warning' and indicator_id is not null)
            as values_flagged,
        count(*) filter (where kind = 'warning' and indicator_id is null) as file_warnings,
        count(*) as findings
    from mart.findings
    where feedback_zone is not null
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
        coalesce(s.values_rejected, 0) as values_rejected,
        coalesce(s.values_flagged, 0) as values_flagged,
        coalesce(s.file_warnings, 0) as file_warnings,
        coalesce(s.findings, 0) as findings
    from expected_zones as e
    left join files as f using (round, batch, zone_code)
    left join accepted as a using (round, batch, zone_code)
    left join sent as s using (round, batch, zone_code)
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
        when findings > 0 then 'with_problems'
        else 'clean'
    end as status,
    files,
    values_accepted,
    values_rejected,
    values_flagged,
    file_warnings,
    findings
from counted
order by round, batch, zone_code
