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
with values_in_force as (
    select zone_code, year, indicator_id, value
    from core.observations
)

select
    v.zone_code,
    z.zone_name,
    z.zone_type,
    z.region,
    v.year,
    max(v.value) filter (where v.indicator_id = 1) as i01_st_expenditure,
    max(v.value) filter (where v.indicator_id = 2) as i02_st_expenditure_share,
    max(v.value) filter (where v.indicator_id = 3) as i03_patents_per_10k,
    max(v.value) filter (where v.indicator_id = 4) as i04_hightech_firms,
    max(v.value) filter (where v.indicator_id = 5) as i05_hightech_output_share,
    max(v.value) filter (where v.indicator_id = 6) as i06_invention_patents,
    max(v.value) filter (where v.indicator_id = 7) as i07_gdp_per_capita,
    max(v.value) filter (where v.indicator_id = 8) as i08_new_firms,
    max(v.value) filter (where v.indicator_id = 9) as i09_neonatal_mortality,
    max(v.value) filter (where v.indicator_id = 10) as i10_unemployment_rate,
    max(v.value) filter (where v.indicator_id = 11) as i11_work_safety_deaths,
    max(v.value) filter (where v.indicator_id = 12) as i12_urban_income,
    max(v.value) filter (where v.indicator_id = 13) as i13_rural_income,
    max(v.value) filter (where v.indicator_id = 14) as i14_urban_population_share,
    max(v.value) filter (where v.indicator_id = 15) as i15_energy_intensity,
    max(v.value) filter (where v.indicator_id = 16) as i16_good_air_days_share
from values_in_force as v
inner join core.zones as z using (zone_code)
group by v.zone_code, z.zone_name, z.zone_type, z.region, v.year
order by v.zone_code, v.year
