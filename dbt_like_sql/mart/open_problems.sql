-- description: >
--   The findings of each round's own submissions still open at its end, per zone the round expects
--   (zones with none are left out): the open rows of mart.findings, counted by the zone they were
--   sent to. What is open is decided there, once (its is_open rule: a rejected value until a later
--   batch of the round supplies its cell, never for a year the round does not collect; a warning
--   while its value is in force; a refused file or file-level warning until the zone's next loaded
--   file of the round). The monitoring report lists the zones with the most.
-- columns:
--   round: Round of the exercise
--   zone_code: Zone expected in the round
--   zone_name: Registered zone name
--   zone_type: county, district, prefecture or township
--   open_rejected: Open rejected values of the round
--   open_warnings: Values with an open warning of the round (indicator and year counted once)
--   file_warnings: Open file-level warnings of the round
--   open_files: Open files of the round refused whole
--   open_total: open_rejected + open_warnings + file_warnings + open_files
-- tests:
--   - unique: [round, zone_code]
--   - not_null: [round, zone_code, open_rejected, open_warnings, file_warnings, open_files, open_total]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - name: only_zones_with_problems
--     sql: select * from mart.open_problems where open_total <= 0
with open_findings as (
    select
        round,
        feedback_zone as zone_code,
        count(*) filter (where kind = 'rejected') as open_rejected,
        count(distinct (indicator_id, year)) filter (where kind = 'warning' and indicator_id is not null)
            as open_warnings,
        count(*) filter (where kind = 'warning' and indicator_id is null) as file_warnings,
        count(*) filter (where kind = 'refused_file') as open_files
    from mart.findings
    where is_open and feedback_zone is not null
    group by round, feedback_zone
),

counted as (
    select
        e.round,
        e.zone_code,
        e.zone_name,
        e.zone_type,
        o.open_rejected,
        o.open_warnings,
        o.file_warnings,
        o.open_files
    from staging.expected_zones as e
    inner join open_findings as o using (round, zone_code)
)

select
    *,
    open_rejected + open_warnings + file_warnings + open_files as open_total
from counted
order by round, open_total desc, zone_code
