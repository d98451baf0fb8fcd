-- description: >
--   The problems of each round's own submissions still open at its end, per zone the round
--   expects (zones with none are left out). A rejected value is open unless a later batch of the
--   same round supplied an accepted value for its zone, indicator and year; a warning is open when
--   it is on a value version still in force at the end of the round (mart.observations_as_of);
--   file-level warnings of the round stay open. Codes not sent to zones (core.reason_codes:
--   sent_to_zone false, i.e. revised) are left out. The monitoring report lists the zones with
--   the most.
-- columns:
--   round: Round of the exercise
--   zone_code: Zone expected in the round
--   zone_name: Registered zone name
--   zone_type: county, district, prefecture or township
--   open_rejected: Rejected values of the round not replaced by an accepted value of a later batch
--   open_warnings: Values in force with a warning of the round (indicator and year counted once)
--   file_warnings: File-level warnings of the round
--   open_total: open_rejected + open_warnings + file_warnings
-- tests:
--   - unique: [round, zone_code]
--   - not_null: [round, zone_code, open_rejected, open_warnings, file_warnings, open_total]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - name: only_zones_with_problems
--     sql: select * from mart.open_problems where open_total <= 0
with sent_codes as (
    select code
    from core.reason_codes
    where sent_to_zone
),

open_rejections as (
    select r.round, r.zone_code, count(*) as open_rejected
    from core.rejected_values as r
    where r.reason in (select code from sent_codes)
        and not exists (
            select 1
            from core.observation_history as h
            where h.zone_code = r.zone_code and h.indicator_id = r.indicator_id and h.year = r.year
                and h.round = r.round and h.batch > r.batch
        )
    group by r.round, r.zone_code
),

open_warnings as (
    select f.round, f.zone_code, count(distinct (f.indicator_id, f.year)) as open_warnings
    from core.value_flags as f
    inner join mart.observations_as_of as a
        on a.round = f.round and a.zone_code = f.zone_code and a.indicator_id = f.indicator_id
        and a.year = f.year and a.source_round = f.round and a.source_batch = f.batch
    where f.flag in (select code from sent_codes)
    group by f.round, f.zone_code
),

file_warnings as (
    select round, zone_code, count(*) as file_warnings
    from core.value_flags
    where indicator_id is null and flag in (select code from sent_codes)
    group by round, zone_code
),

counted as (
    select
        e.round,
        e.zone_code,
        e.zone_name,
        e.zone_type,
        coalesce(r.open_rejected, 0) as open_rejected,
        coalesce(w.open_warnings, 0) as open_warnings,
        coalesce(f.file_warnings, 0) as file_warnings
    from staging.expected_zones as e
    left join open_rejections as r using (round, zone_code)
    left join open_warnings as w using (round, zone_code)
    left join file_warnings as f using (round, zone_code)
)

select
    *,
    open_rejected + open_warnings + file_warnings as open_total
from counted
where open_rejected + open_warnings + file_warnings > 0
order by round, open_total desc, zone_code
