-- description: >
--   The zone each submission file came from, as far as it can be told - the zone whose feedback
--   lists the file's findings. In order: the zone the file itself gives, when registered (the
--   workbook's 实验区代码 / 实验区名称, or the one zone code of a CSV); else the one registered
--   zone its value lines name (a CSV whose other lines carry a mistyped code); else, for a file
--   whose lines name no registered zone (files refused whole, or a CSV of mistyped codes only),
--   its file name: a zone code standing alone between non-alphanumeric characters (138395_2014.csv),
--   else the longest registered zone name it contains (河北省石家庄市演示六县_2014年第一批.xlsx).
--   When two zones tie, or a CSV's lines name several registered zones, zone_code is empty: the
--   findings of such a file go to the zone on each line, and those with no registered zone to the
--   steward's list (mart.findings).
-- columns:
--   file_id: The file (core.submission_files)
--   round: Round of the file
--   batch: Batch of the file
--   path: Path relative to the raw folder
--   status: loaded, rejected or duplicate (core.submission_files)
--   zone_code: The zone the file came from; empty when it cannot be told
--   told_by: "How zone_code was told: file (the file's own zone), values (its lines' one registered zone), file_name; empty with zone_code"
-- tests:
--   - unique: [file_id]
--   - not_null: [file_id, round, batch, path, status]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - accepted_values: {column: told_by, values: [file, values, file_name]}
--   - name: zone_and_how_together
--     sql: select * from staging.file_zones where (zone_code is null) <> (told_by is null)
with files as (
    select file_id, round, batch, path, status, zone_code, regexp_extract(path, '[^/]*$') as file_name
    from core.submission_files
),

declared as (
    select f.file_id, f.zone_code
    from files as f
    inner join core.zones as z using (zone_code)
),

undeclared as (
    select file_id from files
    where file_id not in (select file_id from declared)
),

line_zones as (
    -- only read for the files that name no registered zone themselves (a multi-zone CSV, a zone
    -- code the registry lacks): every other file is told by its own zone, and the history is long
    select h.file_id, h.zone_code
    from core.observation_history as h
    semi join undeclared using (file_id)
    union
    select r.file_id, r.zone_code
    from core.rejected_values as r
    semi join undeclared using (file_id)
    inner join core.zones as z using (zone_code)
),

single_line_zone as (
    select file_id, min(zone_code) as zone_code
    from line_zones
    group by file_id
    having count(distinct zone_code) = 1
),

unnamed as (
    -- only a file whose lines name no registered zone is told by its name
    select f.file_id, f.file_name
    from files as f
    semi join undeclared using (file_id)
    where f.file_id not in (select file_id from line_zones)
),

name_tokens as (
    select file_id, unnest(regexp_extract_all(upper(file_name), '[0-9A-Z]+')) as token
    from unnamed
),

candidates as (
    -- a code in the name outranks a name; among names the longest wins
    select t.file_id, z.zone_code, 0 as precedence, 0 as name_length
    from name_tokens as t
    inner join core.zones as z on z.zone_code = t.token
    union
    select u.file_id, z.zone_code, 1 as precedence, length(z.zone_name) as name_length
    from unnamed as u
    inner join core.zones as z on z.zone_name <> '' and contains(u.file_name, z.zone_name)
),

best_candidates as (
    select file_id, zone_code
    from candidates
    qualify rank() over (partition by file_id order by precedence, name_length desc) = 1
),

named as (
    select file_id, min(zone_code) as zone_code
    from best_candidates
    group by file_id
    having count(distinct zone_code) = 1
)

select
    f.file_id,
    f.round,
    f.batch,
    f.path,
    f.status,
    coalesce(d.zone_code, s.zone_code, n.zone_code) as zone_code,
    case
        when d.zone_code is not null then 'file'
        when s.zone_code is not null then 'values'
        when n.zone_code is not null then 'file_name'
    end as told_by
from files as f
left join declared as d using (file_id)
left join single_line_zone as s using (file_id)
left join named as n using (file_id)
order by f.file_id
