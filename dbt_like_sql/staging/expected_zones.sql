-- description: >
--   The zones each round expects with their registry attributes: the rounds present
--   under raw/ (core.rounds) and, for each, the zones of core.expected_zones - written by the load
--   stage from the registry's one rule (designated before the round and not removed by it). The
--   marts that describe the current programme (indicator summary, evaluation) use the latest
--   round's expected zones.
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
select
    e.round,
    z.zone_code,
    z.zone_name,
    z.zone_type,
    z.region,
    z.type_evaluation,
    r.is_latest as is_latest_round
from core.expected_zones as e
inner join core.rounds as r using (round)
inner join core.zones as z using (zone_code)
order by e.round, z.zone_code
