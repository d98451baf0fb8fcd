-- description: >
--   Every finding sent out, one row each, with the zone it goes to and whether it is still open at
--   the end of its round - the one definition the feedback workbooks, the steward's list, the chase
--   list (mart.submission_status) and the open problems (mart.open_problems) read. A finding is a
--   rejected value (core.rejected_values), a warning on a value or a file (core.value_flags) or a
--   file refused whole (core.submission_files with status rejected). Codes not sent to zones
--   (core.reason_codes: sent_to_zone false, i.e. revised) and duplicates (a copy of a loaded file:
--   nothing to do) are not findings. feedback_zone is the zone that sent the file
--   (staging.file_zones), else the registered zone written on the line; when neither is known the
--   finding goes to the steward's list. is_open - a rejected value of a year the round does not
--   collect (year_out_of_range) is never open: the warehouse lacks nothing the round collects and no
--   batch could close it, so the feedback tells the zone once. Another rejected value that names a
--   cell the round collects (a registered zone, indicator 1-16, a year of the round) is open unless
--   a later batch of the round supplied an accepted value for that zone, indicator and year. A
--   warning on a value is open while the version it is on is still in force at the end of the round
--   (mart.observations_as_of). Any other finding (a rejected value naming no such cell, a file
--   refused whole, a file-level warning) is open unless its zone sent a loaded file in a later batch
--   of the round; one with no zone stays open until the steward places it.
-- columns:
--   round: Round of the file
--   batch: Batch of the file
--   file_id: The file (core.submission_files)
--   path: Path of the file relative to the raw folder
--   kind: refused_file (the whole file), rejected (a value) or warning
--   code: Reason code (core.reason_codes)
--   zone_code: Zone code on the line or of the warning (empty for a file refused whole)
--   feedback_zone: Zone whose feedback workbook lists the finding; empty for the steward's list
--   indicator_id: Indicator number (empty for file findings or when not a whole number)
--   year: Year (empty for file findings or when not a year)
--   raw_value: The value as written (a warning shows the value loaded)
--   source_sheet: Sheet of the cell (empty for CSVs and file findings)
--   source_cell: Cell as an A1 reference or 'line N' (empty for file findings)
--   detail: What exactly is wrong
--   is_open: true while the finding is open at the end of the round (the rule above)
-- tests:
--   - not_null: [round, batch, file_id, path, kind, code, is_open]
--   - accepted_values: {column: kind, values: [refused_file, rejected, warning]}
--   - relationships: {column: feedback_zone, to: core.zones, field: zone_code}
--   - relationships: {column: code, to: core.reason_codes, field: code}
--   - name: every_finding_once
--     sql: >
--       with sent as (select code from core.reason_codes where sent_to_zone),
--       expected as (
--           select 'refused_file' as kind, count(*) as n from core.submission_files where status = 'rejected'
--           union all
--           select 'rejected', count(*) from core.rejected_values where reason in (select code from sent)
--           union all
--           select 'warning', count(*) from core.value_flags where flag in (select code from sent)
--       )
--       select e.kind, e.n, count(f.kind) as found
--       from expected as e left join mart.findings as f using (kind)
--       group by e.kind, e.n
--       having count(f.kind) <> e.n
with sent_codes as (
    select code
    from core.reason_codes
    where sent_to_zone
),

file_findings as (
    select s.round, s.batch, s.file_id, 'refused_file' as kind, s.reason as code, null as zone_code,
        null::integer as indicator_id, null::integer as year, null as raw_value, null as source_sheet,
        null as source_cell, s.detail
    from core.submission_files as s
    where s.status = 'rejected'
),

value_findings as (
    select r.round, r.batch, r.file_id, 'rejected' as kind, r.reason as code, r.zone_code, r.indicator_id,
        r.year, r.raw_value, r.source_sheet, r.source_cell, r.detail
    from core.rejected_values as r
    where r.reason in (select code from sent_codes)
),

warnings as (
    select f.round, f.batch, f.file_id, 'warning' as kind, f.flag as code, f.zone_code, f.indicator_id, f.year,
        cast(h.value as varchar) as raw_value, h.source_sheet, f.source_cell, f.detail
    from core.value_flags as f
    left join core.observation_history as h
        on h.file_id = f.file_id and h.source_cell = f.source_cell
        and h.zone_code = f.zone_code and h.indicator_id = f.indicator_id and h.year = f.year
    where f.flag in (select code from sent_codes)
),

routed as (
    select
        x.*,
        s.path,
        coalesce(s.zone_code, z.zone_code) as feedback_zone,
        -- the zone a value is about: the registered zone on its line, else the zone that sent it
        coalesce(z.zone_code, s.zone_code) as subject_zone
    from (
        select * from file_findings
        union all
        select * from value_findings
        union all
        select * from warnings
    ) as x
    inner join staging.file_zones as s using (file_id)
    left join core.zones as z on z.zone_code = x.zone_code
),

resubmitted as (
    -- a zone's loaded files per round and batch: a later one answers its findings on whole files
    select distinct round, batch, zone_code
    from staging.file_zones
    where status = 'loaded' and zone_code is not null
),

judged as (
    select
        f.*,
        case
            when f.code = 'year_out_of_range' then false
            when f.kind = 'rejected' and f.subject_zone is not null and i.indicator_id is not null
                and f.year between r.first_year and r.last_year
                then not exists (
                    select 1
                    from core.observation_history as h
                    where h.zone_code = f.subject_zone and h.indicator_id = f.indicator_id and h.year = f.year
                        and h.round = f.round and h.batch > f.batch
                )
            when f.kind = 'warning' and f.indicator_id is not null
                then exists (
                    select 1
                    from mart.observations_as_of as a
                    where a.round = f.round and a.zone_code = f.zone_code and a.indicator_id = f.indicator_id
                        and a.year = f.year and a.source_round = f.round and a.source_batch = f.batch
                )
            else not exists (
                select 1
                from resubmitted as later
                where later.round = f.round and later.zone_code = f.feedback_zone and later.batch > f.batch
            )
        end as is_open
    from routed as f
    inner join core.rounds as r using (round)
    left join core.indicators as i on i.indicator_id = f.indicator_id
)

select
    round,
    batch,
    file_id,
    path,
    kind,
    code,
    zone_code,
    feedback_zone,
    indicator_id,
    year,
    raw_value,
    source_sheet,
    source_cell,
    detail,
    is_open
from judged
order by round, batch, feedback_zone nulls last, path, indicator_id nulls first, year nulls first, source_cell,
    kind, code
