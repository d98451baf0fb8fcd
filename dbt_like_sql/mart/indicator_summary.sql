-- description: >
--   Distribution of each indicator per year over the values in force of the zones the latest round
--   expects, for all of them and for each zone type and region (the latest round's rows of
--   mart.indicator_summary_round). Values are in the catalogue unit.
-- columns:
--   indicator_id: Indicator 1-16
--   year: Year
--   group_kind: all, zone_type or region
--   group_name: "all, or the zone type / region"
--   n: Zones with a value
--   mean: Mean
--   median: Median
--   q1: First quartile (25th percentile, interpolated)
--   q3: Third quartile (75th percentile, interpolated)
--   min: Minimum
--   max: Maximum
-- tests:
--   - unique: [indicator_id, year, group_kind, group_name]
--   - not_null: [indicator_id, year, group_kind, group_name, n]
--   - accepted_values: {column: group_kind, values: [all, zone_type, region]}
--   - name: quantiles_ordered
--     sql: select * from mart.indicator_summary where not (min <= q1 and q1 <= median and median <= q3 and q3 <= max)
select
    s.indicator_id,
    s.year,
    s.group_kind,
    s.group_name,
    s.n,
    s.mean,
    s.median,
    s.q1,
    s.q3,
    s.min,
    s.max
from mart.indicator_summary_round as s
inner join core.rounds as r using (round)
where r.is_latest
order by s.indicator_id, s.year, s.group_kind, s.group_name
