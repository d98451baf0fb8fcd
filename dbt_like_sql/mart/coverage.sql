-- description: >
--   How complete the submissions are: for each round, batch, zone type, indicator and year of the
--   round (2009 .. round-1), how many of the zones expected in that round have a value in force
--   after that batch (earlier rounds and batches included, so batch 2 shows the cumulative state).
--   A zone is expected in round R when designated before R and not removed by R (contract 3).
-- columns:
--   round: Round of the exercise
--   batch: Batch within the round; coverage is cumulative up to and including it
--   zone_type: county, district, prefecture or township
--   indicator_id: Indicator 1-16
--   year: Year (2009 .. round-1)
--   zones_expected: Zones of the type expected to report in the round
--   zones_reported: Expected zones of the type with a value in force after the batch
--   coverage_pct: zones_reported / zones_expected in percent
-- tests:
--   - unique: [round, batch, zone_type, indicator_id, year]
--   - not_null: [round, batch, zone_type, indicator_id, year, zones_expected, zones_reported]
--   - relationships: {column: indicator_id, to: core.indicators, field: indicator_id}
--   - name: reported_within_expected
--     sql: select * from mart.coverage where zones_reported > zones_expected or coverage_pct > 100
with batches as (
    select distinct round, batch
    from core.submission_files
),

expected_zones as (
    select b.round, b.batch, e.zone_code, e.zone_type
    from batches as b
    inner join staging.expected_zones as e using (round)
),

expected_cells as (
    select e.round, e.batch, e.zone_code, e.zone_type, i.indicator_id, unnest(range(2009, e.round)) as year
    from expected_zones as e
    cross join core.indicators as i
),

reported_cells as (
    select distinct b.round, b.batch, h.zone_code, h.indicator_id, h.year
    from batches as b
    inner join core.observation_history as h
        on (h.round < b.round or (h.round = b.round and h.batch <= b.batch))
        and h.year between 2009 and b.round - 1
)

select
    e.round,
    e.batch,
    e.zone_type,
    e.indicator_id,
    e.year,
    count(*) as zones_expected,
    count(r.zone_code) as zones_reported,
    100.0 * count(r.zone_code) / count(*) as coverage_pct
from expected_cells as e
left join reported_cells as r
    on r.round = e.round and r.batch = e.batch and r.zone_code = e.zone_code
    and r.indicator_id = e.indicator_id and r.year = e.year
group by e.round, e.batch, e.zone_type, e.indicator_id, e.year
order by e.round, e.batch, e.zone_type, e.indicator_id, e.year
