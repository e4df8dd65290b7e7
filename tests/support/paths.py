"""Paths the tests read, in one place (no test computes them from its own location)."""

from __future__ import annotations

from pathlib import Path

#: This folder: the helpers and their data files (node_tls_server.js, hybrid_kat_openssl35.json).
SUPPORT = Path(__file__).resolve().parent
#: The test suite's root folder (tests/).
TESTS = SUPPORT.parent
#: The repository's root.
ROOT = TESTS.parent
