"""The README and the docs link only to files that exist in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: [text](target) with a relative target (no scheme, not a bare #anchor).
LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)\)")


def local_links(text: str) -> list[str]:
    return [m.group(1).split("#", 1)[0] for m in LINK.finditer(text)]


def test_link_pattern() -> None:
    text = "[a](docs/x.md#part) [b](https://example.com) [c](#anchor) [d](.ci/run)"
    assert local_links(text) == ["docs/x.md", ".ci/run"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_resolves(doc: Path) -> None:
    missing = [
        target
        for target in local_links(doc.read_text(encoding="utf-8"))
        if not (doc.parent / target).exists()
    ]
    assert missing == [], f"{doc.relative_to(ROOT)} links to missing files: {missing}"
