-- description: >
--   The indicator panel of each zone's report card - per round, zone the round expects and indicator:
--   the zone's latest value in force at the end of the round (mart.observations_as_of) with its unit,
--   and where it stands in its zone type's distribution that year (mart.indicator_summary_round: median
--   and interquartile range of the type's expected zones). The card's sparklines read the values of
--   every year from mart.observations_as_of itself.
-- columns:
--   round: Round at whose end the values stand
--   zone_code: Zone expected in the round
--   zone_type: county, district, prefecture or township
--   indicator_id: Indicator 1-16
--   unit: Catalogue unit of the indicator (core.indicators)
--   direction: higher or lower - which way is better (core.indicators)
--   years_expected: Years the round collects (first_year .. round-1)
--   years_reported: Of those, years with a value in force for the zone
--   latest_year: Latest year with a value in force; empty when the zone has none
--   latest_value: The value of latest_year (catalogue unit)
--   type_zones: Zones of the type with a value in latest_year
--   type_median: Median of the type in latest_year
--   type_q1: First quartile of the type in latest_year
--   type_q3: Third quartile of the type in latest_year
--   position: below_q1, within_iqr or above_q3 - the latest value against the type's interquartile range
-- tests:
--   - unique: [round, zone_code, indicator_id]
--   - not_null: [round, zone_code, zone_type, indicator_id, unit, direction, years_expected, years_reported]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
--   - accepted_values: {column: position, values: [below_q1, within_iqr, above_q3]}
--   - name: a_value_has_its_type_distribution
--     sql: >
--       select * from mart.zone_card_indicators
--       where (latest_value is null) <> (latest_year is null)
--          or (latest_value is not null and (type_median is null or position is null or type_zones < 1))
--   - name: reported_within_expected
--     sql: select * from mart.zone_card_indicators where years_reported > years_expected
with zone_indicators as (
    select e.round, e.zone_code, e.zone_type, i.indicator_id, i.unit, i.direction,
        r.last_year - r.first_year + 1 as years_expected
    from staging.expected_zones as e
    inner join core.rounds as r using (round)
    cross join core.indicators as i
),

zone_values as (
    -- the latest year first: its row carries the latest value, the count covers every year
    select round, zone_code, indicator_id, year, value,
        count(*) over (partition by round, zone_code, indicator_id) as years_reported
    from mart.observations_as_of
    qualify row_number() over (partition by round, zone_code, indicator_id order by year desc) = 1
)

select
    z.round,
    z.zone_code,
    z.zone_type,
    z.indicator_id,
    z.unit,
    z.direction,
    z.years_expected,
    coalesce(v.years_reported, 0) as years_reported,
    v.year as latest_year,
    v.value as latest_value,
    s.n as type_zones,
    s.median as type_median,
    s.q1 as type_q1,
    s.q3 as type_q3,
    case
        when v.value < s.q1 then 'below_q1'
        when v.value > s.q3 then 'above_q3'
        when v.value is not null then 'within_iqr'
    end as position
from zone_indicators as z
left join zone_values as v using (round, zone_code, indicator_id)
left join mart.indicator_summary_round as s
    on s.round = z.round and s.indicator_id = z.indicator_id and s.year = v.year
    and s.group_kind = 'zone_type' and s.group_name = z.zone_type
order by z.round, z.zone_code, z.indicator_id
