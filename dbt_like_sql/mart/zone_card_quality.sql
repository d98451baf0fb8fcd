-- description: >
--   The data-quality panel of each zone's report card - per round, batch and zone the round expects:
--   how many of the zone's cells (16 indicators x the years the round collects) had a value after the
--   batch (earlier rounds and batches included, as mart.coverage counts them per type - the test
--   consistent_with_coverage holds the two together), the values the batch revised (mart.revisions),
--   what the zone sent and what became of it (mart.submission_status), and at the end of the round the
--   findings still open (mart.open_problems, whose counts come from mart.findings' is_open).
-- columns:
--   round: Round of the exercise
--   batch: Batch within the round
--   zone_code: Zone expected in the round
--   zone_type: county, district, prefecture or township
--   status: not_submitted, rejected, with_problems or clean (mart.submission_status)
--   values_accepted: Value cells of the batch accepted for the zone
--   values_rejected: Rejected value cells of the batch sent to the zone
--   findings: Findings of the batch sent to the zone (the rows of its feedback workbook)
--   cells_expected: The zone's cells in the round - indicators x years collected
--   cells_reported: Of those, cells with a value after the batch
--   coverage_pct: cells_reported / cells_expected in percent
--   values_revised: Values of the zone the batch replaced by a different one (mart.revisions)
--   open_total: Findings of the round still open at its end (mart.open_problems; 0 when none), on every batch's row
--   open_rejected: Of those, rejected values
--   open_warnings: Of those, values with a warning
--   open_file_findings: Of those, file-level warnings and files refused whole
-- tests:
--   - unique: [round, batch, zone_code]
--   - not_null: [round, batch, zone_code, zone_type, status, cells_expected, cells_reported, values_revised, open_total]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - name: reported_within_expected
--     sql: select * from mart.zone_card_quality where cells_reported > cells_expected or coverage_pct > 100
--   - name: consistent_with_coverage
--     sql: >
--       with by_zone as (
--           select round, batch, zone_type, sum(cells_reported) as reported
--           from mart.zone_card_quality group by all
--       ),
--       by_type as (
--           select round, batch, zone_type, sum(zones_reported) as reported
--           from mart.coverage group by all
--       )
--       select * from by_zone full join by_type using (round, batch, zone_type)
--       where by_zone.reported is distinct from by_type.reported
with reported as (
    -- a cell counts from the first batch that supplied an accepted value for it onwards
    select s.round, s.batch, s.zone_code, count(distinct (h.indicator_id, h.year)) as cells_reported
    from mart.submission_status as s
    inner join core.rounds as r using (round)
    inner join core.observation_history as h
        on h.zone_code = s.zone_code
        and (h.round < s.round or (h.round = s.round and h.batch <= s.batch))
        and h.year between r.first_year and r.last_year
    group by s.round, s.batch, s.zone_code
),

revised as (
    select new_round as round, new_batch as batch, zone_code, count(*) as values_revised
    from mart.revisions
    group by all
),

indicators as (
    select count(*) as indicators
    from core.indicators
)

select
    s.round,
    s.batch,
    s.zone_code,
    s.zone_type,
    s.status,
    s.values_accepted,
    s.values_rejected,
    s.findings,
    i.indicators * (r.last_year - r.first_year + 1) as cells_expected,
    coalesce(c.cells_reported, 0) as cells_reported,
    100.0 * coalesce(c.cells_reported, 0) / (i.indicators * (r.last_year - r.first_year + 1)) as coverage_pct,
    coalesce(v.values_revised, 0) as values_revised,
    coalesce(p.open_total, 0) as open_total,
    coalesce(p.open_rejected, 0) as open_rejected,
    coalesce(p.open_warnings, 0) as open_warnings,
    coalesce(p.file_warnings + p.open_files, 0) as open_file_findings
from mart.submission_status as s
inner join core.rounds as r using (round)
cross join indicators as i
left join reported as c using (round, batch, zone_code)
left join revised as v using (round, batch, zone_code)
left join mart.open_problems as p using (round, zone_code)
order by s.round, s.batch, s.zone_code
