"""Plain CSVs read together give exactly what reading each one gives (property-based).

`read_long_csvs` reads the plain files of a batch in one pass and leaves every other file to
`read_long_csv`; whatever the files hold, the cells and zones must be the same either way.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.csv_reader import read_long_csv, read_long_csvs
from pipelines.ingest.submission import FileRejected
from schemas.observations import CELL_COLUMNS

HEADERS = [
    "zone_code,indicator,year,value,unit,note",
    "zone_code,indicator,year,value",
    "value,year,indicator,zone_code,unit",
    "Zone_Code, indicator ,YEAR,value,note",
    "zone_code,indicator,year,value,extra",  # refused: unknown column
    "zone_code,indicator,year",  # refused: no value column
    "zone_code,indicator,year,value,value",  # refused: repeated column
]
FIELDS = st.one_of(
    st.sampled_from(["320583", "410902", " 320583 ", "32O583", "", "1", "2013", "15802", "3.18", "1,200", "—",
                     "  ", "\x1f", "\u3000", "x", "１２３", "%"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n\r\x00"), max_size=6),
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from(HEADERS))
    width = len(header.split(","))
    rows = draw(st.lists(st.lists(FIELDS, min_size=width, max_size=width), max_size=8))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join([header, *(",".join(row) for row in rows)]) + draw(st.sampled_from(["", ending]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


def one_by_one(path: Path) -> tuple[str | None, pd.DataFrame] | str:
    try:
        parsed = read_long_csv(path)
    except FileRejected as rejection:
        return rejection.reason
    return parsed.zone_code, parsed.cells.astype(CELL_COLUMNS).reset_index(drop=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.lists(csv_bytes(), min_size=1, max_size=5))
def test_reading_together_gives_what_reading_one_by_one_gives(tmp_path: Path, contents: list[bytes]):
    paths = []
    for number, data in enumerate(contents):
        path = tmp_path / f"{number}.csv"
        path.write_bytes(data)
        paths.append(path)
    together = read_long_csvs(paths)
    for index, path in enumerate(paths):
        expected = one_by_one(path)
        if index in together.one_by_one:
            continue
        assert not isinstance(expected, str), f"{path.read_bytes()!r} read together but refused alone: {expected}"
        zone, cells = expected
        mine = together.cells[together.cells["file_index"] == index].drop(columns="file_index")
        assert together.zones[index] == zone
        pd.testing.assert_frame_equal(mine.astype(CELL_COLUMNS).reset_index(drop=True), cells)


def test_plain_files_are_read_together_and_the_others_alone(tmp_path: Path):
    plain = tmp_path / "plain.csv"
    plain.write_text("zone_code,indicator,year,value\n320583,1,2012,5\n", encoding="utf-8")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('zone_code,indicator,year,value,note\n320583,1,2012,5,"a, b"\n', encoding="utf-8")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("zone_code,indicator,year,value,note\n320583,1,2012,5,备注\n".encode("gb18030"))
    together = read_long_csvs([plain, quoted, gbk])
    assert together.one_by_one == [1, 2]
    assert together.zones == {0: "320583"}
    assert list(together.cells["source_cell"]) == ["line 2"]


@pytest.mark.parametrize("files", [0, 1])
def test_no_plain_files(tmp_path: Path, files: int):
    paths = [tmp_path / "broken.csv"] * files
    for path in paths:
        path.write_bytes(b"\xff\xfe binary")
    together = read_long_csvs(paths)
    assert len(together.cells) == 0 and together.one_by_one == list(range(files))
