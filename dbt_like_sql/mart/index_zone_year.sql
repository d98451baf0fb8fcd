-- description: >
--   Innovation-capacity index and its five aspects per type-evaluated zone and year (0-100) - the
--   latest round's scores of mart.index_zone_round (the method file of mart.index_method; default:
--   min-max over the pooled panel, equal weights, half-of-the-weight rule for gaps).
-- columns:
--   zone_code: Zone code (type-evaluated zones the latest round expects)
--   year: Year
--   node: index, or an aspect - st_input, st_output, economy, society, environment
--   score: Score on 0-100; absent when too few indicators were reported
-- tests:
--   - unique: [zone_code, year, node]
--   - not_null: [zone_code, year, node]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
select
    s.zone_code,
    s.year,
    s.node,
    s.score
from mart.index_zone_round as s
inner join core.rounds as r using (round)
where r.is_latest
order by s.zone_code, s.year, s.node
