"""Fixtures shared by the interop tests."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from schannel_py import ssl as sch_ssl


@pytest.fixture
def injected() -> Iterator[None]:
    """``schannel_py.ssl`` injected into the ``ssl`` module for the test, and taken out
    again afterwards (``ssl.SSLContext`` is Python's own once more)."""
    original = ssl.SSLContext
    sch_ssl.inject_into_ssl()
    try:
        yield
    finally:
        sch_ssl.extract_from_ssl()
    assert ssl.SSLContext is original
