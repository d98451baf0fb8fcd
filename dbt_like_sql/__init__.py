"""The dbt-like SQL models: one `.sql` file per warehouse table, `<schema>/<name>.sql` → `<schema>.<name>`.

This file only makes the folder package data, so that the models ship with a plain `pip install .`."""
