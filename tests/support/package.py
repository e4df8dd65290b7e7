"""Where the package's own code lives (the ``package_warnings`` fixture of tests/conftest.py
and the source scans read it)."""

from __future__ import annotations

from pathlib import Path

import schannel_py

#: Where the package's own code lives: a warning attributed to a line in here is ours.
PACKAGE_DIR = Path(schannel_py.__file__).resolve().parent


def is_package_file(filename: str) -> bool:
    """Whether ``filename`` is one of the package's own source files."""
    return Path(filename).resolve().is_relative_to(PACKAGE_DIR)
