-- description: >
--   How complete the submissions are: for each round, batch, zone type, indicator and year of the
--   round (core.rounds: first_year .. round-1), how many of the zones expected in that round have a value in force
--   after that batch (earlier rounds and batches included, so batch 2 shows the cumulative state).
--   A zone is expected in round R when designated before R and not removed by R.
-- columns:
--   round: Round of the exercise
--   batch: Batch within the round; coverage is cumulative up to and including it
--   zone_type: county, district, prefecture or township
--   indicator_id: Indicator 1-16
--   year: Year (first_year .. round-1 of core.rounds)
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
    select distinct f.round, f.batch, r.first_year, r.last_year
    from core.submission_files as f
    inner join core.rounds as r using (round)
),

batch_order as (
    -- every batch numbered in (round, batch) order: "up to and including batch b" becomes one
    -- integer comparison, much cheaper over millions of cells than comparing (round, batch) pairs
    select round, batch, row_number() over (order by round, batch) as batch_number
    from (
        select round, batch from batches
        union
        select round, batch from core.observation_history
    )
),

first_reported as (
    -- a cell counts as reported from the first batch that supplied a value for it onwards
    select h.zone_code, h.indicator_id, h.year, min(o.batch_number) as first_batch_number
    from core.observation_history as h
    inner join batch_order as o using (round, batch)
    group by h.zone_code, h.indicator_id, h.year
),

reported as (
    select b.round, b.batch, e.zone_type, f.indicator_id, f.year, count(*) as zones_reported
    from batches as b
    inner join batch_order as o using (round, batch)
    inner join first_reported as f
        on f.first_batch_number <= o.batch_number
        and f.year between b.first_year and b.last_year
    inner join staging.expected_zones as e
        on e.round = b.round and e.zone_code = f.zone_code
    group by b.round, b.batch, e.zone_type, f.indicator_id, f.year
),

expected as (
    select b.round, b.batch, b.first_year, b.last_year, e.zone_type, count(*) as zones_expected
    from batches as b
    inner join staging.expected_zones as e using (round)
    group by all
),

expected_cells as (
    select e.round, e.batch, e.zone_type, i.indicator_id, unnest(range(e.first_year, e.last_year + 1)) as year, e.zones_expected
    from expected as e
    cross join core.indicators as i
)

select
    e.round,
    e.batch,
    e.zone_type,
    e.indicator_id,
    e.year,
    e.zones_expected,
    coalesce(r.zones_reported, 0) as zones_reported,
    100.0 * coalesce(r.zones_reported, 0) / e.zones_expected as coverage_pct
from expected_cells as e
left join reported as r
    on r.round = e.round and r.batch = e.batch and r.zone_type = e.zone_type
    and r.indicator_id = e.indicator_id and r.year = e.year
order by e.round, e.batch, e.zone_type, e.indicator_id, e.year
