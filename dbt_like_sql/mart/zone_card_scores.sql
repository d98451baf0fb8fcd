-- description: >
--   The index panel of each zone's report card - per round, type-evaluated zone, year and node (index
--   and the five aspects): the zone's score (mart.index_zone_round) beside the mean of its zone type
--   (mart.index_by_type_round), as the round's evaluation computed them.
-- columns:
--   round: Round whose scores are shown
--   zone_code: Type-evaluated zone the round expects
--   zone_type: county, district, prefecture or township
--   year: Year
--   node: index, or an aspect - st_input, st_output, economy, society, environment
--   score: The zone's score (0-100); empty when too few indicators were reported
--   type_mean: Mean score of the type's zones with a score
--   type_zones: Zones of the type with a score
-- tests:
--   - unique: [round, zone_code, year, node]
--   - not_null: [round, zone_code, zone_type, year, node]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - name: a_score_has_its_type_mean
--     sql: select * from mart.zone_card_scores where score is not null and type_mean is null
select
    s.round,
    s.zone_code,
    e.zone_type,
    s.year,
    s.node,
    s.score,
    t.score as type_mean,
    t.zones as type_zones
from mart.index_zone_round as s
inner join staging.expected_zones as e using (round, zone_code)
left join mart.index_by_type_round as t
    on t.round = s.round and t.zone_type = e.zone_type and t.year = s.year and t.node = s.node
order by s.round, s.zone_code, s.year, s.node
