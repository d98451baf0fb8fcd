-- description: >
--   Innovation-capacity index and its five aspects per zone type and year - the mean score of the
--   type's type-evaluated zones with a score (mart.index_zone_year: zones the latest round expects;
--   the two special zones are not type-evaluated), with year-on-year growth: the latest round's
--   rows of mart.index_by_type_round.
-- columns:
--   zone_type: county, district, prefecture or township
--   year: Year
--   node: index, or an aspect - st_input, st_output, economy, society, environment
--   score: Mean score (0-100) over the type's zones with a score
--   zones: Zones of the type with a score
--   growth_pct: 100 * (score / previous year's score - 1); empty when the previous year has no score
-- tests:
--   - unique: [zone_type, year, node]
--   - not_null: [zone_type, year, node, score, zones]
--   - accepted_values: {column: node, values: [index, st_input, st_output, economy, society, environment]}
--   - name: scores_within_0_100
--     sql: select * from mart.index_by_type where score < 0 or score > 100
select
    t.zone_type,
    t.year,
    t.node,
    t.score,
    t.zones,
    t.growth_pct
from mart.index_by_type_round as t
inner join core.rounds as r using (round)
where r.is_latest
order by t.zone_type, t.node, t.year
