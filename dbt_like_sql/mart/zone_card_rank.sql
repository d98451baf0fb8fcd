-- description: >
--   The rank panel of each zone's report card - per round and zone the round expects: its rank within
--   its zone type by the index in the round's last year, with the 90 % interval of that rank under the
--   sensitivity analysis (mart.index_rank_round), or why it has none - a special zone left out of the
--   by-type evaluation (staging.expected_zones.type_evaluation false), or a type-evaluated zone without
--   an index score that year (too few indicators reported).
-- columns:
--   round: Round whose evaluation is shown
--   zone_code: Zone expected in the round
--   zone_type: county, district, prefecture or township
--   type_evaluation: false for the special zones left out of the by-type evaluation
--   year: The year ranked (the round's last year); empty when the zone has no rank
--   rank: Rank within the zone type by the index (1 = best; ties share the best)
--   zones_ranked: Zones of the type ranked that year
--   median_rank: Median rank over the sensitivity runs
--   rank_p05: Best end of the 90 % rank interval (5th percentile over the runs)
--   rank_p95: Worst end of the 90 % rank interval (95th percentile over the runs)
--   runs: Sensitivity runs in which the zone had an index score that year
--   not_ranked_reason: not_type_evaluated or no_index_score when the zone has no rank; empty otherwise
-- tests:
--   - unique: [round, zone_code]
--   - not_null: [round, zone_code, zone_type, type_evaluation]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - accepted_values: {column: not_ranked_reason, values: [not_type_evaluated, no_index_score]}
--   - name: rank_or_reason
--     sql: select * from mart.zone_card_rank where (rank is null) = (not_ranked_reason is null)
--   - name: rank_within_interval_and_type
--     sql: >
--       select * from mart.zone_card_rank
--       where not (1 <= rank_p05 and rank_p05 <= median_rank and median_rank <= rank_p95 and rank <= zones_ranked)
with ranked as (
    select r.round, r.zone_code, e.zone_type, r.year, r.rank, r.median_rank, r.rank_p05, r.rank_p95, r.runs
    from mart.index_rank_round as r
    inner join staging.expected_zones as e using (round, zone_code)
    where r.rank is not null
),

ranked_per_type as (
    select round, zone_type, year, count(*) as zones_ranked
    from ranked
    group by round, zone_type, year
),

latest_rank as (
    select *
    from ranked
    qualify row_number() over (partition by round, zone_code order by year desc) = 1
)

select
    e.round,
    e.zone_code,
    e.zone_type,
    e.type_evaluation,
    l.year,
    l.rank,
    t.zones_ranked,
    l.median_rank,
    l.rank_p05,
    l.rank_p95,
    l.runs,
    case
        when not e.type_evaluation then 'not_type_evaluated'
        when l.rank is null then 'no_index_score'
    end as not_ranked_reason
from staging.expected_zones as e
left join latest_rank as l using (round, zone_code)
left join ranked_per_type as t
    on t.round = l.round and t.zone_type = l.zone_type and t.year = l.year
order by e.round, e.zone_code
