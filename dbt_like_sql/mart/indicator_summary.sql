-- description: >
--   Distribution of each indicator per year over the values in force of the zones the latest round
--   expects, for all of them and for each zone type and region (the monitoring report's tables).
--   Values are in the catalogue unit.
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
with values_in_force as (
    select o.indicator_id, o.year, o.value, e.zone_type, e.region
    from core.observations as o
    inner join staging.expected_zones as e using (zone_code)
    where e.is_latest_round
),

summarised as (
    -- grouping sets: one pass over the values for the three groupings, not three stacked copies of
    -- them; one quantile_cont with a list of fractions orders each group once, not three times
    select
        indicator_id,
        year,
        zone_type,
        region,
        count(*) as n,
        avg(value order by value) as mean,  -- ordered: the same digits whatever the thread order
        quantile_cont(value, [0.5, 0.25, 0.75]) as quartiles,
        min(value) as min,
        max(value) as max
    from values_in_force
    group by grouping sets ((indicator_id, year), (indicator_id, year, zone_type), (indicator_id, year, region))
)

select
    indicator_id,
    year,
    case
        when zone_type is not null then 'zone_type'
        when region is not null then 'region'
        else 'all'
    end as group_kind,
    coalesce(zone_type, region, 'all') as group_name,
    n,
    mean,
    quartiles[1] as median,
    quartiles[2] as q1,
    quartiles[3] as q3,
    min,
    max
from summarised
order by indicator_id, year, group_kind, group_name
