-- description: >
--   The values in force as a spreadsheet - one row per zone and year, one column per indicator
--   (catalogue units; empty where nothing valid was reported).
-- columns:
--   zone_code: Zone code
--   zone_name: Registered zone name
--   zone_type: county, district, prefecture or township
--   region: east, central or west
--   year: Year
--   i01_st_expenditure: 1 本级科学技术支出 local-government S&T expenditure (万元)
--   i02_st_expenditure_share: 2 本级科学技术支出所占比例 S&T share of local-government expenditure (%)
--   i03_patents_per_10k: 3 万人专利授权数 patents granted per 10,000 people (件/万人)
--   i04_hightech_firms: 4 累计认定并有效的高新技术企业 certified high-tech enterprises (家)
--   i05_hightech_output_share: 5 高新技术产业产值占工业总产值比 high-tech output share (%)
--   i06_invention_patents: 6 授权发明专利数 invention patents granted (件)
--   i07_gdp_per_capita: 7 人均GDP GDP per capita (元/人)
--   i08_new_firms: 8 新登记注册企业数 newly registered enterprises (家)
--   i09_neonatal_mortality: 9 新生儿死亡率 neonatal mortality rate (‰)
--   i10_unemployment_rate: 10 城镇登记失业率 registered urban unemployment rate (%)
--   i11_work_safety_deaths: 11 亿元GDP生产安全事故死亡率 work-safety deaths per 100 million yuan of GDP
--   i12_urban_income: 12 城镇居民人均可支配收入 urban disposable income per capita (元/人)
--   i13_rural_income: 13 农民人均纯收入 rural net income per capita (元/人)
--   i14_urban_population_share: 14 城镇居民人口比重 urban population share (%)
--   i15_energy_intensity: 15 单位GDP能耗 energy use per unit of GDP (吨标煤/万元)
--   i16_good_air_days_share: 16 空气质量达到二级以上天数占全年比重 share of good-air days (%)
-- tests:
--   - unique: [zone_code, year]
--   - not_null: [zone_code, year]
--   - relationships: {column: zone_code, to: core.zones, field: zone_code}
with by_zone_year as (
    -- pivot by zone code and year alone, then add the zone's attributes: the millions of values
    -- are hashed on one string key instead of four
    select
        zone_code,
        year,
        max(value) filter (where indicator_id = 1) as i01_st_expenditure,
        max(value) filter (where indicator_id = 2) as i02_st_expenditure_share,
        max(value) filter (where indicator_id = 3) as i03_patents_per_10k,
        max(value) filter (where indicator_id = 4) as i04_hightech_firms,
        max(value) filter (where indicator_id = 5) as i05_hightech_output_share,
        max(value) filter (where indicator_id = 6) as i06_invention_patents,
        max(value) filter (where indicator_id = 7) as i07_gdp_per_capita,
        max(value) filter (where indicator_id = 8) as i08_new_firms,
        max(value) filter (where indicator_id = 9) as i09_neonatal_mortality,
        max(value) filter (where indicator_id = 10) as i10_unemployment_rate,
        max(value) filter (where indicator_id = 11) as i11_work_safety_deaths,
        max(value) filter (where indicator_id = 12) as i12_urban_income,
        max(value) filter (where indicator_id = 13) as i13_rural_income,
        max(value) filter (where indicator_id = 14) as i14_urban_population_share,
        max(value) filter (where indicator_id = 15) as i15_energy_intensity,
        max(value) filter (where indicator_id = 16) as i16_good_air_days_share
    from core.observations
    group by zone_code, year
)

select
    w.zone_code,
    z.zone_name,
    z.zone_type,
    z.region,
    w.year,
    w.i01_st_expenditure,
    w.i02_st_expenditure_share,
    w.i03_patents_per_10k,
    w.i04_hightech_firms,
    w.i05_hightech_output_share,
    w.i06_invention_patents,
    w.i07_gdp_per_capita,
    w.i08_new_firms,
    w.i09_neonatal_mortality,
    w.i10_unemployment_rate,
    w.i11_work_safety_deaths,
    w.i12_urban_income,
    w.i13_rural_income,
    w.i14_urban_population_share,
    w.i15_energy_intensity,
    w.i16_good_air_days_share
from by_zone_year as w
inner join core.zones as z using (zone_code)
order by w.zone_code, w.year
