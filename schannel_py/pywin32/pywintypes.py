"""``pywintypes``, as far as pywin32's SSPI bindings use it: ``error`` and time objects.

``error(winerror, funcname, strerror)`` is the exception every binding raises for a
failed call; ``winerror`` is the **signed** 32-bit status (``0x80090318`` arrives as
``-2146893032``), as pywin32 builds it with ``"(iNN)"``
(``win32/src/PyWinTypesmodule.cpp:289``, the class at ``:825``).

Time values are ``datetime`` objects (a subclass with ``Format()``) in UTC; a
``TimeStamp`` past year 9999 (SSPI's "never expires") is plain
``datetime.datetime.max`` (``win32/src/PyTime.cpp:333-351``).
"""

from __future__ import annotations

import datetime as _dt
import operator
from typing import Any, SupportsIndex

from ..constants import SecStatus

__all__ = ["TimeStamp", "TimeType", "Time", "com_error", "datetime", "error"]

#: FILETIME ticks (100 ns) from 1601-01-01 to 1970-01-01.
_EPOCH_DELTA_TICKS = 116444736000000000
_FILETIME_EPOCH = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)


class error(Exception):  # noqa: N801 - pywin32's name
    """A failed Windows call: ``args == (winerror, funcname, strerror)``.

    Missing arguments leave their attribute ``None``, as pywin32's class does.
    """

    winerror: Any
    funcname: Any
    strerror: Any

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.winerror = args[0] if len(args) > 0 else None
        self.funcname = args[1] if len(args) > 1 else None
        self.strerror = args[2] if len(args) > 2 else None
        Exception.__init__(self, *args, **kw)


class com_error(Exception):  # noqa: N801 - pywin32's name
    """A COM failure: ``(hresult, strerror, excepinfo, argerror)`` (never raised here)."""

    hresult: Any
    strerror: Any
    excepinfo: Any
    argerror: Any

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.hresult = args[0] if len(args) > 0 else None
        self.strerror = args[1] if len(args) > 1 else None
        self.excepinfo = args[2] if len(args) > 2 else None
        self.argerror = args[3] if len(args) > 3 else None
        Exception.__init__(self, *args, **kw)


class datetime(_dt.datetime):  # noqa: N801 - pywin32's name (pywintypes.datetime)
    """pywin32's time type: a ``datetime.datetime`` with ``Format()``."""

    def Format(self, fmt: str = "%c") -> str:
        """``strftime`` with ``%c`` as the default format."""
        return self.strftime(fmt)


TimeType = datetime

# pywin32 defines these classes in a module named "pywintypes" (PyWinTypesmodule.cpp:825).
error.__module__ = com_error.__module__ = datetime.__module__ = "pywintypes"


def signed32(value: SupportsIndex) -> int:
    """The signed 32-bit reading of a status (what pywin32's ``"i"`` format builds)."""
    v = operator.index(value) & 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def api_error(funcname: str, status: SupportsIndex) -> error:
    """The ``error`` pywin32's ``PyWin_SetAPIError`` raises for ``status``."""
    text = SecStatus(signed32(status)).message.rstrip("\r\n") or "No error message is available"
    return error(signed32(status), funcname, text)


def from_filetime(ticks: int) -> _dt.datetime:
    """A TimeStamp as pywin32 returns it: UTC ``datetime``; year > 9999 -> ``datetime.max``."""
    ticks = operator.index(ticks)
    if ticks < 0:  # FileTimeToSystemTime fails for values >= 0x8000000000000000
        raise api_error("FileTimeToSystemTime", 87)  # ERROR_INVALID_PARAMETER
    try:
        value = _FILETIME_EPOCH + _dt.timedelta(microseconds=ticks // 10)
    except OverflowError:  # SYSTEMTIME year > 9999 (SSPI's "never expires" is 30828)
        return _dt.datetime.max
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000 * 1000,  # SYSTEMTIME keeps milliseconds
        tzinfo=_dt.timezone.utc,
    )


def TimeStamp(timestamp: SupportsIndex) -> _dt.datetime:
    """A time object from a FILETIME-style integer (100 ns since 1601)."""
    return from_filetime(operator.index(timestamp))


def Time(timeobj: object) -> datetime:
    """A time object from a ``datetime``, or from seconds since the epoch."""
    if isinstance(timeobj, _dt.datetime):
        return datetime(
            timeobj.year,
            timeobj.month,
            timeobj.day,
            timeobj.hour,
            timeobj.minute,
            timeobj.second,
            timeobj.microsecond,
            tzinfo=timeobj.tzinfo,
        )
    if isinstance(timeobj, (int, float)):
        return datetime.fromtimestamp(timeobj)
    raise TypeError(f"Objects of type '{type(timeobj).__name__}' can not be used as a time object")
