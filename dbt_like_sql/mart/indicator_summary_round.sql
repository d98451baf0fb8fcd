-- description: >
--   Distribution of each indicator per year at the end of each round - over the values in force
--   then (mart.observations_as_of) of the zones the round expects, for all of them and for each
--   zone type and region (the monitoring report's tables of that round). Values are in the
--   catalogue unit.
-- columns:
--   round: Round at whose end the values stand
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
--   - unique: [round, indicator_id, year, group_kind, group_name]
--   - not_null: [round, indicator_id, year, group_kind, group_name, n]
--   - accepted_values: {column: group_kind, values: [all, zone_type, region]}
--   - name: quantiles_ordered
--     sql: >
--       select * from mart.indicator_summary_round
--       where not (min <= q1 and q1 <= median and median <= q3 and q3 <= max)
with values_as_of as (
    select a.round, a.indicator_id, a.year, a.value, e.zone_type, e.region
    from mart.observations_as_of as a
    inner join staging.expected_zones as e using (round, zone_code)
),

summarised as (
    -- grouping sets: one pass over the values for the three groupings, not three stacked copies of
    -- them; one quantile_cont with a list of fractions orders each group once, not three times
    select
        round,
        indicator_id,
        year,
        zone_type,
        region,
        count(*) as n,
        avg(value order by value) as mean,  -- ordered: the same digits whatever the thread order
        quantile_cont(value, [0.5, 0.25, 0.75]) as quartiles,
        min(value) as min,
        max(value) as max
    from values_as_of
    group by grouping sets (
        (round, indicator_id, year), (round, indicator_id, year, zone_type), (round, indicator_id, year, region)
    )
)

select
    round,
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
order by round, indicator_id, year, group_kind, group_name
