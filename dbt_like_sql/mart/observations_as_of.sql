-- description: >
--   The values in force at the end of each round - for every round of core.rounds, every zone the
--   round expects (staging.expected_zones) and every indicator and year the round collects
--   (first_year .. round-1), the value of the latest round and batch up to the round's last batch
--   that supplied one. Later rounds never change a round's rows, so the
--   round's reports and scores (mart.index_zone_round) are computed on them; for the latest round
--   they are core.observations of the zones it expects. One row set per round, not per batch: the
--   reports need the end of each round, and per batch coverage is mart.coverage.
-- columns:
--   round: Round at whose end the value is in force
--   zone_code: Zone expected in the round
--   indicator_id: Indicator 1-16
--   year: Year the value describes (first_year .. round-1)
--   value: Value in force at the end of the round (catalogue unit)
--   source_round: Round that supplied the value
--   source_batch: Batch that supplied the value
-- tests:
--   - unique: [round, zone_code, indicator_id, year]
--   - not_null: [round, zone_code, indicator_id, year, value, source_round, source_batch]
--   - relationships: {column: indicator_id, to: core.indicators, field: indicator_id}
--   - name: supplied_up_to_the_round
--     sql: select * from mart.observations_as_of where source_round > round
--   - name: latest_round_is_what_is_in_force
--     sql: >
--       select a.* from mart.observations_as_of as a
--       inner join core.rounds as r using (round)
--       anti join core.observations as o
--           on o.zone_code = a.zone_code and o.indicator_id = a.indicator_id and o.year = a.year
--           and o.value = a.value and o.round = a.source_round and o.batch = a.source_batch
--       where r.is_latest
with versions as (
    -- every accepted version a round can see: supplied by the round or an earlier one, for a zone
    -- the round expects and a year it collects
    select r.round, h.zone_code, h.indicator_id, h.year, h.value, h.round as source_round, h.batch as source_batch
    from core.rounds as r
    inner join staging.expected_zones as e on e.round = r.round
    inner join core.observation_history as h
        on h.zone_code = e.zone_code
        and h.round <= r.round
        and h.year between r.first_year and r.last_year
),

latest as (
    -- the latest (round, batch) wins; versions of one batch hold one value (conflicting ones are rejected)
    select
        round,
        zone_code,
        indicator_id,
        year,
        arg_max(value, {'round': source_round, 'batch': source_batch}) as value,
        max({'round': source_round, 'batch': source_batch}) as source
    from versions
    group by round, zone_code, indicator_id, year
)

select
    round,
    zone_code,
    indicator_id,
    year,
    value,
    source.round as source_round,
    source.batch as source_batch
from latest
order by round, zone_code, indicator_id, year
