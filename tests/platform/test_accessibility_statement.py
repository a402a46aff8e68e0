"""docs/accessibility.md says what the browser audit does: its rule set, its languages, the work screens
it adds to the menu's, its known exceptions and the axe-core version; a change to one without the
other fails here (the audit itself runs in tests/browser/test_accessibility.py)."""
from __future__ import annotations

import re

from tests.browser import test_accessibility as audit

STATEMENT = audit.STATEMENT.read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = STATEMENT.index(f"## {title}")
    end = STATEMENT.find("\n## ", start + 1)
    return STATEMENT[start:end if end != -1 else None]


def test_the_statement_names_the_rule_set_and_the_languages():
    tested = _section("How it is tested")
    tags = re.findall(r"`(wcag2\w+)`", tested)
    assert tuple(tags) == audit.WCAG_TAGS
    assert re.findall(r"`(fr|en|es)`", tested) == list(audit.LANGUAGES)


def test_the_statement_lists_the_audited_work_screens():
    tested = _section("How it is tested")
    listed = re.findall(r"^    - `([^`]+)` —", tested, flags=re.M)
    assert listed == list(audit.WORK_SCREENS)


def test_the_statement_lists_exactly_the_known_exceptions():
    known = _section("Known exceptions")
    listed = set(re.findall(r"^- `([^`]+)` — `([\w-]+)`", known, flags=re.M))
    assert listed == set(audit.KNOWN_EXCEPTIONS)


def test_the_statement_names_the_vendored_axe_version():
    header = audit.AXE.read_text(encoding="utf-8")[:200]
    version = re.search(r"axe v(\d+\.\d+\.\d+)", header).group(1)
    assert f"axe-core {version}" in STATEMENT.replace("**", "")
    assert (audit.AXE.parent / "LICENSE").read_text().startswith("Mozilla Public License")
