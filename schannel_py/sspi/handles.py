"""Handle tables: the package side of CredHandle and CtxtHandle.

A handle is (dwLower, dwUpper) = (an id, a per-table tag), so a context
handle passed where a credential is expected is simply not found.  Tables are
thread-safe; objects stay alive until explicitly freed, as in Windows.
"""

from __future__ import annotations

import itertools
import threading
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class _Handle(Protocol):
    dwLower: int
    dwUpper: int


class HandleTable(Generic[T]):
    """Maps (dwLower, dwUpper) to package objects."""

    def __init__(self, tag: int) -> None:
        self._tag = tag
        self._ids = itertools.count(0x1000)
        self._items: dict[int, T] = {}
        self._lock = threading.Lock()

    def add(self, obj: T, handle: _Handle) -> None:
        with self._lock:
            hid = next(self._ids)
            self._items[hid] = obj
        handle.dwLower = hid
        handle.dwUpper = self._tag

    def get(self, handle: object) -> T | None:
        """The object behind ``handle``, or None for NULL/unknown/foreign handles."""
        try:  # on every Encrypt/DecryptMessage: plain attribute reads, no getattr()
            lower = handle.dwLower  # type: ignore[attr-defined]
            upper = handle.dwUpper  # type: ignore[attr-defined]
        except AttributeError:  # None (NULL) or not a handle
            return None
        if upper != self._tag or (type(lower) is not int and not isinstance(lower, int)):
            return None
        # A single dict lookup is atomic; the lock only orders add/remove.
        return self._items.get(lower)

    def remove(self, handle: object) -> T | None:
        obj = self.get(handle)
        lower = getattr(handle, "dwLower", None)
        if obj is not None and isinstance(lower, int):
            with self._lock:
                self._items.pop(lower, None)
        return obj

    def values(self) -> list[T]:
        with self._lock:
            return list(self._items.values())
