-- description: >
--   Composition of the zones each round expects (staging.expected_zones), counted by region and
--   by administrative type, with the provinces that have such zones (the monitoring report's
--   first section). share_pct is not rounded. mart.zone_structure counts the registry's zones not
--   removed instead.
-- columns:
--   round: Round of the exercise
--   dimension: region or zone_type
--   category: "the region (east, central, west) or the zone type (county, district, prefecture, township)"
--   zones: Zones of the category expected in the round
--   provinces: Provinces with at least one such zone
--   share_pct: share of the round's expected zones, in percent (unrounded)
-- tests:
--   - unique: [round, dimension, category]
--   - not_null: [round, dimension, category, zones, provinces, share_pct]
--   - accepted_values: {column: dimension, values: [region, zone_type]}
--   - name: shares_add_up_to_100
--     sql: >
--       select round, dimension from mart.zone_structure_round
--       group by round, dimension having abs(sum(share_pct) - 100) > 1e-9
with expected as (
    select e.round, e.region, e.zone_type, z.province_code
    from staging.expected_zones as e
    inner join core.zones as z using (zone_code)
),

by_dimension as (
    select round, 'region' as dimension, region as category, count(*) as zones,
           count(distinct province_code) as provinces
    from expected
    group by round, region
    union all
    select round, 'zone_type' as dimension, zone_type as category, count(*) as zones,
           count(distinct province_code) as provinces
    from expected
    group by round, zone_type
)

select
    round,
    dimension,
    category,
    zones,
    provinces,
    100.0 * zones / sum(zones) over (partition by round, dimension) as share_pct
from by_dimension
order by round, dimension, zones desc, category
