-- description: >
--   The zones each round expects: for every round present under raw/, the registry's
--   zones designated before the round and not removed by it. The marts that describe the current
--   programme (indicator summary, evaluation) use the latest round's expected zones.
-- columns:
--   round: Round of the exercise
--   zone_code: Zone expected to report in the round
--   zone_name: Registered zone name
--   zone_type: county, district, prefecture or township
--   region: east, central or west
--   type_evaluation: false for the special zones left out of the by-type evaluation
--   is_latest_round: true for the most recent round present
-- tests:
--   - unique: [round, zone_code]
--   - not_null: [round, zone_code, zone_type, region, type_evaluation, is_latest_round]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
with rounds as (
    select distinct round
    from core.submission_files
)

select
    r.round,
    z.zone_code,
    z.zone_name,
    z.zone_type,
    z.region,
    z.type_evaluation,
    r.round = max(r.round) over () as is_latest_round
from rounds as r
inner join core.zones as z
    on coalesce(z.designated_year, 0) < r.round
    and (z.removed_year is null or z.removed_year > r.round)
order by r.round, z.zone_code
