"""Hand the memory a step freed back to the system before the next step starts.

Arrow's allocator (mimalloc) keeps the blocks of freed tables for reuse. After the steps that
handle every value of the series (parse, validate, load) it held about 450 MB it no longer used
at national scale (2,850 zones), and the next step's DuckDB work came on top of that.
"""

from __future__ import annotations

import pyarrow as pa


def release_unused_memory() -> None:
    """Return the Arrow pool's free blocks to the operating system (cheap: a few milliseconds)."""
    pa.default_memory_pool().release_unused()
