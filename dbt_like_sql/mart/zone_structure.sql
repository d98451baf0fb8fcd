-- description: >
--   Composition of the programme as the programme office's 2014 work report presents it - the
--   registry's zones not removed, counted by region (east, central, west) and by administrative
--   type. share_pct is not rounded (48.4 / 35.0 / 16.6 % by region and 49 / 32 / 15 / 4 % by type
--   for the 2014 registry).
-- columns:
--   dimension: region or zone_type
--   category: "the region (east, central, west) or the zone type (county, district, prefecture, township)"
--   zones: number of zones not removed
--   share_pct: share of all zones not removed, in percent (unrounded)
-- tests:
--   - unique: [dimension, category]
--   - not_null: [dimension, category, zones, share_pct]
--   - accepted_values: {column: dimension, values: [region, zone_type]}
--   - name: shares_add_up_to_100
--     sql: select dimension from mart.zone_structure group by dimension having abs(sum(share_pct) - 100) > 1e-9
with active_zones as (
    select zone_code, region, zone_type
    from core.zones
    where removed_year is null
),

by_dimension as (
    select 'region' as dimension, region as category, count(*) as zones
    from active_zones
    group by region
    union all
    select 'zone_type' as dimension, zone_type as category, count(*) as zones
    from active_zones
    group by zone_type
)

select
    dimension,
    category,
    zones,
    100.0 * zones / sum(zones) over (partition by dimension) as share_pct
from by_dimension
order by dimension, zones desc, category
