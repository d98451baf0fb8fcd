"""The workbook formats a zone may send (README, "The raw folder"): .xlsx/.xlsm, .xlsb, .xls and .ods are
read alike, told apart by their content (all zip workbooks start with PK: the parts inside decide), and a
password-protected workbook is refused with a reason of its own.

The .ods files and the encrypted .xls are made by a real LibreOffice (skipped when it is not installed);
LibreOffice 7 cannot save an encrypted .xlsx, so that one is a minimal OLE compound file with the streams
an encrypted .xlsx holds (`EncryptionInfo`, `EncryptedPackage`).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from pipelines.ingest.inventory import is_encrypted_package, list_submissions, zip_workbook_kind
from pipelines.ingest.submission import FileRejected, ZoneLookup
from pipelines.ingest.workbook_reader import read_workbook, workbook_kind
from schemas.messages import message
from tests import builders
from tests.test_raw_folder import parsed_files

SOFFICE = shutil.which("soffice")
SYSTEM_PYTHON = Path("/usr/bin/python3")
needs_office = pytest.mark.skipif(not SOFFICE, reason="LibreOffice (soffice) is not installed (CI installs it: "
                                  "apt-get install libreoffice-calc-nogui)")

FREE, END_OF_CHAIN, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SECTOR = 512


def _directory_entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, NO_STREAM, right, child)
            + bytes(16 + 4 + 16) + struct.pack("<IQ", start, size))


def encrypted_ooxml(streams: tuple[str, str] = ("EncryptionInfo", "EncryptedPackage")) -> bytes:
    """An OLE compound file (version 3, 512-byte sectors) with two 4 KB streams, as a password-protected
    .xlsx is laid out: sector 0 the FAT, 1 the directory, 2-9 and 10-17 the streams."""
    fat = [FAT_SECTOR, END_OF_CHAIN, *range(3, 10), END_OF_CHAIN, *range(11, 18), END_OF_CHAIN]
    fat_sector = struct.pack(f"<{SECTOR // 4}I", *fat, *[FREE] * (SECTOR // 4 - len(fat)))
    directory = (_directory_entry("Root Entry", 5, child=1, right=NO_STREAM, start=END_OF_CHAIN, size=0)
                 + _directory_entry(streams[0], 2, child=NO_STREAM, right=2, start=2, size=4096)
                 + _directory_entry(streams[1], 2, child=NO_STREAM, right=NO_STREAM, start=10, size=4096)
                 + _directory_entry("", 0, child=NO_STREAM, right=NO_STREAM, start=0, size=0))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END_OF_CHAIN, 0, END_OF_CHAIN, 0)
              + struct.pack("<109I", 0, *[FREE] * 108))
    return header + fat_sector + directory + bytes(range(256)) * 16 + b"\x5a" * 4096


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


# --- which workbook a file is -----------------------------------------------------------------------------

def test_zip_workbooks_are_told_apart_by_the_parts_inside(tmp_path: Path) -> None:
    ods = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}
    cases = {"a.xlsx": ({"xl/workbook.xml": b"<x/>"}, ".xlsx"), "b.xlsb": ({"xl/workbook.bin": b"\0"}, ".xlsb"),
             "c.ods": (ods, ".ods"), "d.docx": ({"word/document.xml": b"<x/>"}, None),
             "e.odt": ({"mimetype": b"application/vnd.oasis.opendocument.text"}, None)}
    for name, (parts, kind) in cases.items():
        assert zip_workbook_kind(_zip(tmp_path / name, parts)) == kind, name
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    assert zip_workbook_kind(tmp_path / "broken.xlsx") is None


def test_a_zip_workbook_named_as_another_is_read_by_its_content_with_a_warning(tmp_path: Path) -> None:
    binary = _zip(tmp_path / "book.xlsx", {"xl/workbook.bin": b"\0"})
    assert workbook_kind(binary)[0] == ".xlsb"
    assert workbook_kind(binary)[1] == [("extension_mismatch", message("extension_mismatch", suffix=".xlsx",
                                                                       content=".xlsb"))]
    named_right = _zip(tmp_path / "book.xlsb", {"xl/workbook.bin": b"\0"})
    assert workbook_kind(named_right) == (".xlsb", [])
    assert workbook_kind(_zip(tmp_path / "book.xlsm", {"xl/workbook.xml": b"<x/>"})) == (".xlsx", [])


def test_every_workbook_extension_is_listed_as_a_workbook(raw_dir: Path) -> None:
    folder = builders.batch_dir(raw_dir)
    builders.write_workbook(folder / "a.xlsx", zone_code=builders.KUNSHAN)
    for suffix in (".xlsm", ".xlsb", ".ods"):
        shutil.copy(folder / "a.xlsx", folder / f"a{suffix}")
    listed = list_submissions(raw_dir).set_index("path")["file_format"].to_dict()
    assert listed == {f"2014/batch-1/a{suffix}": "workbook" for suffix in (".xlsx", ".xlsm", ".xlsb", ".ods")}


# --- password-protected workbooks -------------------------------------------------------------------------

def test_only_an_encrypted_package_stream_marks_an_ole_file_encrypted(tmp_path: Path) -> None:
    encrypted, plain = tmp_path / "e.xlsx", tmp_path / "p.xls"
    encrypted.write_bytes(encrypted_ooxml())
    plain.write_bytes(encrypted_ooxml(("Workbook", "SummaryInformation")))
    assert is_encrypted_package(encrypted) and not is_encrypted_package(plain)
    # the name inside a stream's data (not at a directory entry's place) does not count
    inside = tmp_path / "inside.xls"
    inside.write_bytes(plain.read_bytes() + b"\0" * 5 + "EncryptedPackage\0".encode("utf-16-le"))
    assert not is_encrypted_package(inside)


@pytest.mark.parametrize("name", ["加密.xlsx", "加密.xls", "加密.xlsb"])
def test_a_password_protected_xlsx_is_refused_with_its_own_reason(raw_dir: Path, zone_lookup: ZoneLookup,
                                                                  name: str) -> None:
    path = builders.batch_dir(raw_dir) / name
    path.write_bytes(encrypted_ooxml())
    with pytest.raises(FileRejected) as refused:
        read_workbook(path, zone_lookup)
    assert (refused.value.reason, refused.value.detail) == ("password_protected", message("password_protected"))
    assert parsed_files(raw_dir)[f"2014/batch-1/{name}"] == ("rejected", "password_protected",
                                                             message("password_protected"))


ENCRYPT_WITH_LIBREOFFICE = """
import os, subprocess, sys, time, uno
from com.sun.star.beans import PropertyValue

def prop(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item

source, target, profile = sys.argv[1:4]
pipe = f"sdz{os.getpid()}"
office = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                           "--norestore", f"--accept=pipe,name={pipe};urp;"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
for _ in range(300):
    try:
        context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        break
    except Exception:
        time.sleep(0.2)
desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0, (prop("Hidden", True),))
document.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", "MS Excel 97"), prop("Password", "sdz")))
document.close(True)
try:
    desktop.terminate()
except Exception:
    pass
office.wait(timeout=60)
"""


def _has_uno() -> bool:
    return SYSTEM_PYTHON.exists() and subprocess.run([str(SYSTEM_PYTHON), "-c", "import uno"],
                                                     capture_output=True).returncode == 0


@needs_office
@pytest.mark.skipif(not _has_uno(), reason="LibreOffice's Python bridge is not installed (apt-get install python3-uno)")
def test_an_xls_saved_with_a_password_by_libreoffice_is_refused(raw_dir: Path, zone_lookup: ZoneLookup,
                                                                tmp_path: Path) -> None:
    folder = builders.batch_dir(raw_dir)
    builders.write_workbook(tmp_path / "plain.xlsx", zone_code=builders.KUNSHAN)
    subprocess.run([str(SYSTEM_PYTHON), "-c", ENCRYPT_WITH_LIBREOFFICE, str(tmp_path / "plain.xlsx"),
                    str(folder / "昆山市.xls"), str(tmp_path / "profile")], check=True, timeout=180)
    with pytest.raises(FileRejected) as refused:
        read_workbook(folder / "昆山市.xls", zone_lookup)
    assert refused.value.reason == "password_protected"


# --- OpenDocument, as LibreOffice and WPS save it -----------------------------------------------------------

def _convert(source: Path, extension: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([SOFFICE, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", extension, "--outdir", str(folder), str(source)],
                   check=True, capture_output=True, timeout=180)
    return folder / f"{source.stem}.{extension}"


@needs_office
def test_an_ods_saved_by_libreoffice_reads_like_the_xlsx_it_was_made_from(raw_dir: Path, zone_lookup: ZoneLookup,
                                                                          tmp_path: Path) -> None:
    folder = builders.batch_dir(raw_dir)
    values = builders.plausible_values(4)
    values[3][2011] = "约12"  # text stays text
    original = builders.write_workbook(tmp_path / "昆山市.xlsx", zone_code=builders.KUNSHAN, values=values)
    ods = _convert(original, "ods", tmp_path / "converted")
    assert zip_workbook_kind(ods) == ".ods"
    shutil.copy(ods, folder / "昆山市.ods")
    shutil.copy(ods, folder / "named.xlsx")
    expected = read_workbook(tmp_path / "昆山市.xlsx", zone_lookup)
    for name, warnings in (("昆山市.ods", []), ("named.xlsx", ["extension_mismatch"])):
        parsed = read_workbook(folder / name, zone_lookup)
        assert parsed.zone_code == expected.zone_code == builders.KUNSHAN
        assert parsed.cells.equals(expected.cells), name
        assert [flag for flag, _ in parsed.warnings] == warnings
    statuses = {path: status for path, (status, _, _) in parsed_files(raw_dir).items()}
    assert statuses == {"2014/batch-1/named.xlsx": "loaded", "2014/batch-1/昆山市.ods": "duplicate"}  # code-point order

