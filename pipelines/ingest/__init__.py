"""Stage `ingest`: the registry, the files under raw/, their batches, and the cells read from them."""
