-- description: >
--   Innovation-capacity index and its five aspects per zone type and year - the mean score of the
--   type's type-evaluated zones with a score (mart.index_zone_year: zones the latest round expects;
--   the two special zones are not type-evaluated), with year-on-year growth.
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
with zone_scores as (
    select z.zone_type, s.year, s.node, s.score
    from mart.index_zone_year as s
    inner join core.zones as z using (zone_code)
    where z.type_evaluation and s.score is not null
),

by_type as (
    select zone_type, year, node, avg(score order by score) as score, count(*) as zones
    from zone_scores
    group by zone_type, year, node
)

select
    current_year.zone_type,
    current_year.year,
    current_year.node,
    current_year.score,
    current_year.zones,
    case
        when previous_year.score > 0 then 100 * (current_year.score / previous_year.score - 1)
    end as growth_pct
from by_type as current_year
left join by_type as previous_year
    on previous_year.zone_type = current_year.zone_type
    and previous_year.node = current_year.node
    and previous_year.year = current_year.year - 1
order by current_year.zone_type, current_year.node, current_year.year
