-- description: >
--   Growth of the index and each aspect per zone type over each round's window first_year ..
--   round-1 (core.rounds), on that round's scores (mart.index_by_type_round) - the evaluation
--   report's growth rates: compound annual growth between the first and last year with a score,
--   and the mean of the year-on-year growth rates.
-- columns:
--   round: Round whose window and scores are measured
--   zone_type: county, district, prefecture or township
--   node: index, or an aspect - st_input, st_output, economy, society, environment
--   first_year: First year of the window with a score
--   last_year: Last year of the window with a score
--   first_score: Score in first_year
--   last_score: Score in last_year
--   cagr_pct: "100 * ((last_score / first_score) ^ (1 / (last_year - first_year)) - 1)"
--   mean_yoy_growth_pct: Mean of the year-on-year growth rates within the window
-- tests:
--   - unique: [round, zone_type, node]
--   - not_null: [round, zone_type, node, first_year, last_year]
with windowed as (
    select t.round, r.first_year as window_start, t.zone_type, t.node, t.year, t.score, t.growth_pct
    from mart.index_by_type_round as t
    inner join core.rounds as r
        on r.round = t.round
        and t.year between r.first_year and r.last_year
)

select
    round,
    zone_type,
    node,
    min(year) as first_year,
    max(year) as last_year,
    arg_min(score, year) as first_score,
    arg_max(score, year) as last_score,
    case
        when max(year) > min(year) and arg_min(score, year) > 0
            then 100 * (pow(arg_max(score, year) / arg_min(score, year), 1.0 / (max(year) - min(year))) - 1)
    end as cagr_pct,
    -- in year order: the same digits whatever the thread order
    avg(growth_pct order by year) filter (where year > window_start) as mean_yoy_growth_pct
from windowed
group by round, zone_type, node
order by round, zone_type, node
