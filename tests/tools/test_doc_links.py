"""The README, the docs, the code and the tests refer only to files that exist in the
repository, and docs/windows-behaviour.md cites only tests that exist."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.support.paths import ROOT

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


# --- mentions of repository files in prose, comments and docstrings -----------------------------

#: Where mentions are checked, and which files there are read.
SCANNED = ["README.md", "schannel_py", "tests", "benchmarks", "bogo", "examples", "docs"]
SCANNED_SUFFIXES = {".py", ".md", ".js"}
#: A file name (with or without a folder) ending in one of these extensions.
FILE_MENTION = re.compile(
    r"(?<![\w/.:@~-])((?:/|(?:\.{1,2}/)*)(?:[\w-][\w.-]*/)*[\w-][\w.-]*\.(?:md|py|json|js|toml))"
    r"(?![\w/-])"
)
#: A URL: what it names is not a repository file.
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
#: A mention of another project's repository ("curl's", "BoringSSL's ..."): a file
#: named in the same line after it is that project's, not ours.
EXTERNAL_OWNER = re.compile(
    r"\b(?:curl|BoringSSL|OpenSSL|Wine|schannel-rs|cryptography|pywin32)'s\b"
)
#: Names that are legitimately not files of this repository and that the rules above
#: (URLs, another project's files, /path/to/ placeholders) do not already cover.  Empty
#: today; C headers and sources (sspi.h, curl's lib/vtls/schannel.c) are not scanned.
ALLOWED: frozenset[str] = frozenset()
#: Where a command line example stands for "wherever you cloned it".
PLACEHOLDER = "/path/to/"
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".mypy_cache", ".ruff_cache"}


def repository_files(root: Path = ROOT) -> list[str]:
    """Every file of the working tree, as a path relative to ``root`` with '/'."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        rel = Path(folder).relative_to(root)
        found += [(rel / f).as_posix() for f in files]
    return found


def file_mentions(text: str) -> list[str]:
    """The repository-file names a text mentions, minus URLs and other projects' files."""
    mentions = []
    for line in text.splitlines():
        line = URL.sub(" ", line)
        owner = EXTERNAL_OWNER.search(line)
        if owner is not None:
            line = line[: owner.start()]
        mentions += [m.group(1) for m in FILE_MENTION.finditer(line)]
    # A bare name ending in .js is a product more often than a file (Node.js): only
    # JavaScript files named with their folder are checked.
    return [m for m in mentions if m not in ALLOWED and ("/" in m or not m.endswith(".js"))]


def unresolved(mentions: Iterable[str], citing: str, files: list[str]) -> list[str]:
    """The mentions in the file ``citing`` (relative path) that name no file of ``files``:
    a mention resolves relative to the repository root, to the citing file's folder, or
    as the tail of some file's path (``sspi/errors.py``, a bare ``README.md``)."""
    known = set(files)
    folder = Path(citing).parent
    missing = []
    for name in mentions:
        if name.startswith(PLACEHOLDER):
            # /path/to/<clone>/bogo/shim.py: some tail of it must be a repository file.
            parts = name[len(PLACEHOLDER) :].split("/")
            if any("/".join(parts[i:]) in known for i in range(len(parts))):
                continue
            missing.append(name)
            continue
        candidates = {
            Path(os.path.normpath(name)).as_posix(),
            Path(os.path.normpath(folder / name)).as_posix(),
        }
        if candidates & known:
            continue
        tail = name.lstrip("./")
        if not name.startswith(("/", "../")) and any(
            f == tail or f.endswith("/" + tail) for f in files
        ):
            continue
        missing.append(name)
    return missing


def scanned_files() -> list[Path]:
    """The files whose mentions are checked (not this one: its self-checks name missing
    files on purpose)."""
    paths = []
    for entry in SCANNED:
        path = ROOT / entry
        if path.is_file():
            paths.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            paths += [Path(folder) / f for f in sorted(files) if Path(f).suffix in SCANNED_SUFFIXES]
    return sorted(p for p in paths if p != Path(__file__).resolve())


def test_scanner_reports_a_missing_file() -> None:
    files = ["README.md", "docs/a.md", "schannel_py/sspi/errors.py", "tests/test_x.py"]
    text = (
        "See docs/a.md, `sspi/errors.py`, README.md and ../README.md; not docs/gone.md\n"
        "nor NOTES.md nor schannel_py/tls/missing.py (https://example.com/x/y.md is a URL)\n"
        "nor /elsewhere/SPEC.md; /path/to/clone/docs/a.md but not /path/to/b/gone.py.\n"
        "curl's lib/vtls/schannel.c and curl's docs/INSTALL.md are curl's files.\n"
    )
    mentions = file_mentions(text)
    assert "docs/gone.md" in mentions and "docs/a.md" in mentions
    assert "y.md" not in " ".join(mentions) and "docs/INSTALL.md" not in mentions
    assert unresolved(mentions, "docs/b.md", files) == [
        "docs/gone.md",
        "NOTES.md",
        "schannel_py/tls/missing.py",
        "/elsewhere/SPEC.md",
        "/path/to/b/gone.py",
    ]
    # Relative to the citing file's folder: ../README.md from docs/ is the README.
    assert unresolved(["../README.md", "a.md"], "docs/b.md", files) == []
    assert unresolved(["../README.md"], "README.md", files) == ["../README.md"]


def test_the_scanner_sees_the_repository() -> None:
    files = repository_files()
    assert "tests/tools/test_doc_links.py" in files and ".ci/quickstart.py" in files
    scanned = [p.relative_to(ROOT).as_posix() for p in scanned_files()]
    assert "README.md" in scanned and "schannel_py/sspi/errors.py" in scanned
    assert "docs/windows-behaviour.md" in scanned and "bogo/README.md" in scanned


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_mentioned_file_exists(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    missing = unresolved(file_mentions(path.read_text(encoding="utf-8")), rel, repository_files())
    assert missing == [], f"{rel} mentions files that are not in the repository: {missing}"


# --- the tests docs/windows-behaviour.md cites -----------------------------------------------------

BEHAVIOUR = ROOT / "docs" / "windows-behaviour.md"
TEST_CITATION = re.compile(r"\btests/((?:\w+/)*\w+\.py)::(\w+)")
RULE = re.compile(r"^- \*\*(\d+\.\d+\.\d+)\*\*", re.M)


def missing_tests(text: str, tests_dir: Path) -> list[str]:
    """Citations ``tests/<folder>/<file>.py::<name>`` in ``text`` whose file does not exist or
    does not define a function or class ``<name>``."""
    missing = []
    for file, name in TEST_CITATION.findall(text):
        source = tests_dir / file
        defines = re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b", re.M)
        if not source.is_file() or not defines.search(source.read_text(encoding="utf-8")):
            missing.append(f"tests/{file}::{name}")
    return missing


def test_test_citation_check_reports_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "test_a.py").write_text(
        "def test_here():\n    pass\n\nclass TestThere:\n    pass\n"
    )
    text = (
        "`tests/tls/test_a.py::test_here`, `tests/tls/test_a.py::TestThere`,"
        " `tests/tls/test_a.py::test_gone`, `tests/tls/test_b.py::test_here`,"
        " `tests/test_a.py::test_here`"
    )
    assert missing_tests(text, tmp_path) == [
        "tests/tls/test_a.py::test_gone",
        "tests/tls/test_b.py::test_here",
        "tests/test_a.py::test_here",
    ]


def test_windows_behaviour_cites_only_existing_tests() -> None:
    text = BEHAVIOUR.read_text(encoding="utf-8")
    assert len(TEST_CITATION.findall(text)) > 50
    missing = missing_tests(text, ROOT / "tests")
    assert missing == [], f"docs/windows-behaviour.md cites tests that do not exist: {missing}"


def rules(text: str) -> dict[str, str]:
    """{rule number: its text} for every '- **X.Y.Z**' item."""
    starts = list(RULE.finditer(text))
    out = {}
    for m, nxt in zip(starts, [*starts[1:], None], strict=True):
        end = nxt.start() if nxt is not None else len(text)
        body = text[m.start() : end]
        body = re.split(r"\n(?=#|\n)", body, maxsplit=1)[0]
        out[m.group(1)] = body
    return out


def test_every_rule_has_evidence_and_tests_or_says_not_tested() -> None:
    found = rules(BEHAVIOUR.read_text(encoding="utf-8"))
    assert len(found) > 50
    for number, body in found.items():
        assert re.search(r"\*(?:Documented|Observed|Inferred)\*", body, re.I), number
        assert ("Tests:" in body) != ("Not tested" in body), number
        if "Tests:" in body:
            assert TEST_CITATION.search(body), number


def test_rule_numbers_are_unique_and_match_their_section() -> None:
    text = BEHAVIOUR.read_text(encoding="utf-8")
    numbers = RULE.findall(text)
    assert len(numbers) == len(set(numbers))
    section = None
    for line in text.splitlines():
        heading = re.match(r"### (\d+\.\d+) ", line)
        if heading:
            section = heading.group(1)
        rule = RULE.match(line)
        if rule:
            assert rule.group(1).rsplit(".", 1)[0] == section, rule.group(1)
