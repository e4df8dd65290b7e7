"""Environment reads on per-handshake paths.

``os.environ.get`` of an unset variable costs a KeyError raised and caught
inside ``os._Environ`` (~0.6 us); the package reads SSLKEYLOGFILE and
SCHANNEL_PY_ROOT_CERTS on every handshake, and they are usually unset.
:func:`getenv` answers from the mapping's encoded dictionary when CPython's
``os.environ`` has one, and falls back to ``os.environ.get`` otherwise, so
it always sees what ``os.environ`` holds now (``putenv`` alone never did).
"""

from __future__ import annotations

import os

_data: dict[object, object] | None = getattr(os.environ, "_data", None)
if not isinstance(_data, dict):  # pragma: no cover - not CPython's os._Environ
    _data = None


_keys: dict[str, object] = {}  # name -> its key in _data


def getenv(name: str) -> str | None:
    """``os.environ.get(name)``, cheap when the variable is unset."""
    if _data is not None:
        key = _keys.get(name)
        if key is None:
            key = _keys[name] = os.environ.encodekey(name)
        if key not in _data:
            return None
    return os.environ.get(name)
