-- description: >
--   Innovation-capacity index and its five aspects per round, zone type and year - the mean score
--   of the type's type-evaluated zones with a score in the round (mart.index_zone_round: zones the
--   round expects, on the values in force at its end), with year-on-year growth (the evaluation
--   report of each round).
-- columns:
--   round: Round whose scores are aggregated
--   zone_type: county, district, prefecture or township
--   year: Year
--   node: index, or an aspect - st_input, st_output, economy, society, environment
--   score: Mean score over the type's zones with a score
--   zones: Zones of the type with a score
--   growth_pct: 100 * (score / previous year's score - 1); empty when the previous year has no score
-- tests:
--   - unique: [round, zone_type, year, node]
--   - not_null: [round, zone_type, year, node, score, zones]
with zone_scores as (
    select s.round, e.zone_type, s.year, s.node, s.score
    from mart.index_zone_round as s
    inner join staging.expected_zones as e using (round, zone_code)
    where e.type_evaluation and s.score is not null
),

by_type as (
    select round, zone_type, year, node, avg(score order by score) as score, count(*) as zones
    from zone_scores
    group by round, zone_type, year, node
)

select
    current_year.round,
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
    on previous_year.round = current_year.round
    and previous_year.zone_type = current_year.zone_type
    and previous_year.node = current_year.node
    and previous_year.year = current_year.year - 1
order by current_year.round, current_year.zone_type, current_year.node, current_year.year
