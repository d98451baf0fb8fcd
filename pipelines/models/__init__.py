"""Stage `models`: the dbt-like SQL models of dbt_like_sql/ and their data tests."""
