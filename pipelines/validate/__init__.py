"""Stage `validate`: the value rules, the cache of what each file gave, and `sdz validate`."""
