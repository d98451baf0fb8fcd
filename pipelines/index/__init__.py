"""Stage `index`: method files, the composite-index engine, and the zone scores of the warehouse."""
