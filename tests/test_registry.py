"""Reading the zone registry (README: "The zone registry"): the encodings submissions may use, values
written in any case, blank rows, problems named by their line in the file, and a missing registry.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pipelines.ingest.registry import RegistryError, read_registry
from tests.builders import DEFAULT_ZONES, FOTANG, KUNSHAN, write_registry

HEADER = list(DEFAULT_ZONES[0])


def registry_text(rows: list[list[str]]) -> str:
    """A registry's text with the default header and the given rows, lines ended by \\n."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *rows])
    return buffer.getvalue()


def zone_rows() -> list[list[str]]:
    return [list(zone.values()) for zone in DEFAULT_ZONES]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_registry_in_a_chinese_encoding_reads_as_in_utf_8(tmp_path: Path, encoding: str) -> None:
    expected = read_registry(write_registry(tmp_path / "utf8"))
    path = tmp_path / "zones.csv"
    path.write_bytes(registry_text(zone_rows()).encode(encoding))
    registry = read_registry(path)
    assert registry.equals(expected)
    assert "江苏省苏州市昆山市" in set(registry["zone_name"])


def test_undecodable_registry_is_refused_with_the_encodings_tried(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_bytes(registry_text(zone_rows()).encode("utf-8") + b"\xff\xfe\x00")
    with pytest.raises(RegistryError, match="zones.csv: cannot be read"):
        read_registry(path)


def test_zone_type_and_type_evaluation_in_any_case(tmp_path: Path) -> None:
    rows = zone_rows()
    rows[0][3], rows[0][4] = "County", "TRUE"  # KUNSHAN
    rows[3][3], rows[3][4] = " TOWNSHIP ", " False "  # FOTANG
    path = tmp_path / "zones.csv"
    path.write_text(registry_text(rows), encoding="utf-8")
    registry = read_registry(path).set_index("zone_code")
    assert registry.at[KUNSHAN, "zone_type"] == "county"
    assert registry.at[FOTANG, "zone_type"] == "township"
    assert bool(registry.at[KUNSHAN, "type_evaluation"]) is True
    assert bool(registry.at[FOTANG, "type_evaluation"]) is False


def test_a_zone_type_outside_the_list_is_still_refused(tmp_path: Path) -> None:
    rows = zone_rows()
    rows[0][3] = "City"
    path = tmp_path / "zones.csv"
    path.write_text(registry_text(rows), encoding="utf-8")
    with pytest.raises(RegistryError, match=r"line 2, column zone_type: 'City' must be one of"):
        read_registry(path)


def test_blank_rows_are_ignored(tmp_path: Path) -> None:
    expected = read_registry(write_registry(tmp_path / "plain"))
    rows = zone_rows()
    blank = [""] * len(HEADER)
    text = registry_text([rows[0], blank, rows[1], [" "] * len(HEADER), *rows[2:], blank, blank])
    path = tmp_path / "zones.csv"
    path.write_text(text + "\n,,,,,\n", encoding="utf-8")
    assert read_registry(path).equals(expected)


def test_problems_are_named_by_their_line_in_the_file(tmp_path: Path) -> None:
    rows = zone_rows()
    rows[1][0] = "41090"  # a code one character short
    rows[2][1] = "四川省\n成都市"  # a quoted name over two lines: every later record starts one line further
    rows[4][2] = "99"
    blank = [""] * len(HEADER)
    # line 1 header, 2 blank, 3 Kunshan, 4 ",,,,,,", 5 Hualong, 6-7 Chengdu, 8 Fotang, 9 Delta, 10 Chengguan
    text = registry_text([rows[0], blank, *rows[1:]]).replace("\n", "\n\n", 1)
    path = tmp_path / "zones.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as refused:
        read_registry(path)
    message = str(refused.value)
    assert "line 5, column zone_code: '41090' must be 6 characters" in message
    assert "line 9, column province_code: '99' must be a GB/T 2260 province code" in message
    assert "row " not in message


def test_a_missing_registry_names_where_each_command_looks(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as refused:
        read_registry(tmp_path / "reference" / "zones.csv")
    message = str(refused.value)
    assert str(tmp_path / "reference" / "zones.csv") in message
    assert "--registry" in message and "sdz validate" in message
    assert "sdz run" in message and "<raw>/reference/zones.csv" in message
