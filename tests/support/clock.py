"""A clock set by hand, for the session cache (the ``clock`` fixture of tests/conftest.py)."""

from __future__ import annotations


class FakeClock:
    """The session cache's clock, set by hand (``clock`` fixture)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now
