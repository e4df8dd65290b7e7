"""Print the README's quick-start commands, one a line: the main job, then the tests.

``.ci/run`` runs exactly what this prints, so the quick start is proven as the
README writes it.  Exits with status 1, saying why, unless the section
``## Quick start`` holds exactly two commands (indented code lines), the first
running ``schannel-py demo`` and the second ``pytest``.  Standard library only:
it runs before anything is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
HEADING = "## Quick start"


def quickstart_commands(text: str) -> list[str]:
    """The indented code lines of the README's quick-start section, in order."""
    lines = text.splitlines()
    try:
        start = lines.index(HEADING) + 1
    except ValueError:
        return []
    commands = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        if line.startswith("    ") and line.strip():
            commands.append(line.strip())
    return commands


def check(commands: list[str]) -> str | None:
    """Why ``commands`` is not a quick start of two commands, or None."""
    if len(commands) != 2:
        return f"{HEADING!r} in README.md has {len(commands)} commands, not 2: {commands}"
    main, tests = commands
    if not main.endswith("schannel-py demo"):
        return f"the first quick-start command does not run `schannel-py demo`: {main!r}"
    if not tests.endswith("pytest"):
        return f"the second quick-start command does not run `pytest`: {tests!r}"
    return None


def main() -> int:
    commands = quickstart_commands(README.read_text(encoding="utf-8"))
    problem = check(commands)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    print("\n".join(commands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
