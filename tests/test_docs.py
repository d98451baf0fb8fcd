"""The README's reference tables are generated from the data definitions and must not drift."""

from __future__ import annotations

from pipelines.publish.readme_tables import main, render
from pipelines.runtime.settings import PROJECT_ROOT
from schemas.catalogue import load_reason_codes


def test_readme_reference_sections_are_up_to_date():
    assert main(["--check"]) == 0, \
        "run `python -m pipelines.publish.readme_tables` to regenerate README.md's reference tables"


def test_every_reason_code_is_in_the_readme_with_both_languages():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for reason in load_reason_codes().values():
        assert f"| `{reason.code}` |" in readme
        assert reason.zh in readme and reason.en in readme


def test_a_stale_section_is_rewritten():
    stale = "<!-- generated:reason-codes -->\nold table\n<!-- end:reason-codes -->"
    rendered = render(stale)
    assert "old table" not in rendered and "`unknown_zone`" in rendered
