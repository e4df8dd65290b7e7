"""Per-thread "last error", as crypt32 functions report failure details in C.

A crypt32 function that returns FALSE or NULL leaves its reason here (an
HRESULT such as ``CRYPT_E_NOT_FOUND``), readable with :func:`GetLastError`.
"""

from __future__ import annotations

import threading

_state = threading.local()


def GetLastError() -> int:
    """The code the last failing crypt32 call on this thread left (0 if none)."""
    value: int = getattr(_state, "code", 0)
    return value


def SetLastError(dwErrCode: int) -> None:
    """Set this thread's last-error code, as the Win32 function does."""
    _state.code = dwErrCode
