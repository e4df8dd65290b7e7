"""Check that a CI job's virtual environment holds the dependency set it claims.

    python .ci/check_deps.py newest|oldest CONSTRAINTS

The direct dependencies are the packages CONSTRAINTS pins (the oldest supported
release of each, the same floors as pyproject.toml).  ``oldest``: each is
installed at exactly its pinned version.  ``newest``: none is older than the
newest release pip can install on this Python (``pip list --outdated``, which
leaves out releases whose Requires-Python excludes it).  Prints what it found;
exits 1 on a mismatch.  Standard library only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path


def pins(constraints: Path) -> dict[str, str]:
    """{normalised name: version} of the ``name==version`` lines."""
    found = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#]+)\s*(#.*)?", line)
        if m:
            found[normalise(m.group(1))] = m.group(2)
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("newest", "oldest"):
        print(__doc__, file=sys.stderr)
        return 2
    deps, wanted = argv[0], pins(Path(argv[1]))
    problems = []
    have = {name: installed(name) for name in wanted}
    for name, version in have.items():
        if version is None:
            problems.append(f"{name} is not installed")
    if deps == "oldest":
        for name, pin in wanted.items():
            if have[name] is not None and have[name] != pin:
                problems.append(f"{name} {have[name]} installed, the constraints pin {pin}")
    else:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "list", "--outdated", "--format=json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for row in json.loads(out or "[]"):
            if normalise(row["name"]) in wanted:
                problems.append(
                    f"{row['name']} {row['version']} installed, {row['latest_version']} is out"
                )
    print(f"{deps} releases: " + ", ".join(f"{n} {v}" for n, v in have.items()))
    for p in problems:
        print(f"FAILED: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
