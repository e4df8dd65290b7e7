"""C's two-call size protocol for crypt32 out-buffers, in one place.

A function that returns variable-sized data takes ``pv`` (the buffer, None to
ask for the size) and ``pcb`` (a ``DWORD*``: in, the buffer's size; out, the
size needed or written).  ``pv`` None puts the size in ``pcb.value`` and
succeeds; a ``pcb.value`` below the size fails with ``ERROR_MORE_DATA`` and
the size needed in ``pcb.value``; otherwise the data is written and
``pcb.value`` receives the count written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._lasterror import SetLastError
from .constants import ERROR_MORE_DATA


def is_size_param(pcb: Any) -> bool:
    """True when ``pcb`` is a usable ``DWORD*`` (an object whose ``value`` is an int)."""
    return isinstance(getattr(pcb, "value", None), int)


def set_size(pcb: Any, size: int) -> bool:
    """``pcb.value = size``; False (no last error) when ``pcb`` refuses it."""
    try:
        pcb.value = size
    except (AttributeError, TypeError):
        return False
    return True


def copy_bytes(buffer: Any, data: bytes) -> bool:
    """Copy ``data`` to the start of a writable buffer (bytearray, ctypes array);
    False when ``buffer`` is not one or is too short."""
    try:
        view = memoryview(buffer).cast("B")
        if len(data) > len(view):
            return False
        view[: len(data)] = data
    except (TypeError, ValueError):
        return False
    return True


def size_out(
    pv: Any,
    pcb: Any,
    size: int,
    write: Callable[[], int | None],
    write_error: int,
) -> bool:
    """The protocol for data of ``size`` units; ``pcb`` already checked usable.

    ``write()`` fills ``pv`` and returns the count to report in ``pcb.value``,
    or None when ``pv`` cannot take the data: FALSE with ``write_error`` and
    ``pcb`` left as it was.
    """
    if pv is None:
        return set_size(pcb, size)
    if pcb.value < size:
        set_size(pcb, size)
        SetLastError(ERROR_MORE_DATA)
        return False
    written = write()
    if written is None:
        SetLastError(write_error)
        return False
    return set_size(pcb, written)
