-- description: >
--   What each later batch or round changed - every accepted value that replaced a different value
--   in force, with the old and new value, where each came from and the relative change. A value
--   resubmitted unchanged is not a revision.
-- columns:
--   zone_code: Zone code
--   indicator_id: Indicator 1-16
--   year: Year the value describes
--   old_value: Value in force before the revision (catalogue unit)
--   old_round: Round that supplied the old value
--   old_batch: Batch that supplied the old value
--   new_value: Revised value (catalogue unit)
--   new_round: Round that supplied the new value
--   new_batch: Batch that supplied the new value
--   new_file_id: Source file of the new value (core.submission_files)
--   new_source_cell: Source cell of the new value
--   relative_change_pct: 100 * (new_value / old_value - 1); empty when old_value is 0
-- tests:
--   - unique: [zone_code, indicator_id, year, new_round, new_batch]
--   - not_null: [zone_code, indicator_id, year, old_value, new_value, new_round, new_batch]
--   - name: revisions_change_the_value
--     sql: select * from mart.revisions where old_value = new_value
with revised_cells as (
    -- only a cell supplied by more than one batch can have been revised; finding those first keeps
    -- the window functions below off the millions of cells reported once
    select zone_code, indicator_id, year
    from core.observation_history
    group by zone_code, indicator_id, year
    having min(round) <> max(round) or min(batch) <> max(batch)
),

versions as (
    -- one version per key and batch: equal duplicates within a batch count once (first read wins)
    select zone_code, indicator_id, year, value, round, batch, file_id, source_cell
    from core.observation_history
    semi join revised_cells using (zone_code, indicator_id, year)
    qualify row_number() over (
        partition by zone_code, indicator_id, year, round, batch order by file_id, source_cell
    ) = 1
),

with_previous as (
    select
        *,
        lag(value) over key_order as old_value,
        lag(round) over key_order as old_round,
        lag(batch) over key_order as old_batch
    from versions
    window key_order as (partition by zone_code, indicator_id, year order by round, batch)
)

select
    zone_code,
    indicator_id,
    year,
    old_value,
    old_round,
    old_batch,
    value as new_value,
    round as new_round,
    batch as new_batch,
    file_id as new_file_id,
    source_cell as new_source_cell,
    case when old_value <> 0 then 100 * (value / old_value - 1) end as relative_change_pct
from with_previous
where old_value is not null and old_value <> value
order by zone_code, indicator_id, year, new_round, new_batch
