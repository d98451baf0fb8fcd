"""The caches are keyed by the code their stage reads (pipelines/runtime/code_version.py)."""

from __future__ import annotations

import sys
from importlib import invalidate_caches
from pathlib import Path

import pytest

from pipelines.publish.reports.cache import REPORT_PACKAGES
from pipelines.runtime.code_version import code_digest
from pipelines.validate.value_cache import READING_PACKAGES


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package `stagepkg` with two stages, `reading` and `reports` (which holds a template)."""
    root = tmp_path / "stagepkg"
    for folder in (root, root / "reading", root / "reports", root / "reports" / "templates"):
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (root / "reading" / "reader.py").write_text("def read(): ...\n")
    (root / "reports" / "render.py").write_text("def render(): ...\n")
    (root / "reports" / "templates" / "report.html.j2").write_text("<html>{{ body }}</html>\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    invalidate_caches()
    yield root
    for name in [name for name in sys.modules if name.startswith("stagepkg")]:
        del sys.modules[name]


def test_editing_a_report_template_keeps_the_reading_key(package: Path) -> None:
    reading, reports = code_digest(["stagepkg.reading"], []), code_digest(["stagepkg.reports"], [])
    (package / "reports" / "templates" / "report.html.j2").write_text("<html><b>{{ body }}</b></html>\n")
    assert code_digest(["stagepkg.reading"], []) == reading
    assert code_digest(["stagepkg.reports"], []) != reports


def test_a_new_module_changes_its_package_key_without_a_list_to_update(package: Path) -> None:
    reports = code_digest(["stagepkg.reports"], [])
    (package / "reports" / "new_table.py").write_text("TABLE = 1\n")
    assert code_digest(["stagepkg.reports"], []) != reports


def test_a_library_version_is_part_of_the_key(package: Path) -> None:
    assert code_digest(["stagepkg.reading"], ["pandas"]) != code_digest(["stagepkg.reading"], ["duckdb"])


def test_the_value_cache_does_not_read_the_report_code() -> None:
    # Editing a report module or template must keep every parsed file of the value cache.
    assert not [package for package in READING_PACKAGES if "pipelines.publish.reports".startswith(package)]
    assert any("pipelines.publish.reports".startswith(package) for package in REPORT_PACKAGES)
