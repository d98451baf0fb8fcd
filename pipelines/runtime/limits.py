"""The guards applied to a file before it is parsed, with their defaults (SDZ_MAX_FILE_BYTES, SDZ_MAX_INFLATED_BYTES).

One place for both: the inventory refuses files above the first unread, the workbook reader refuses a
workbook whose content would inflate beyond the second before it opens it, and `sdz run` and
`sdz validate` read the same environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# A submission is one zone's workbook (tens of kB) or a long CSV (a national bulk file of 1.4 M values is
# about 40 MB).
DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024
# The template inflates to about 50 kB.
DEFAULT_MAX_INFLATED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """The two size guards of a run."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES

    @classmethod
    def from_env(cls) -> FileLimits:
        """The limits set by SDZ_MAX_FILE_BYTES / SDZ_MAX_INFLATED_BYTES, else the defaults."""
        return cls(int(os.environ.get("SDZ_MAX_FILE_BYTES") or DEFAULT_MAX_FILE_BYTES),
                   int(os.environ.get("SDZ_MAX_INFLATED_BYTES") or DEFAULT_MAX_INFLATED_BYTES))
