"""Environment reads on per-handshake paths.

``os.environ.get`` of an unset variable costs a KeyError raised and caught
inside ``os._Environ`` (~0.6 us); the package reads SSLKEYLOGFILE and
SCHANNEL_PY_ROOT_CERTS on every handshake, and they are usually unset.
:func:`getenv` answers from the mapping's encoded dictionary when
``os.environ`` is still CPython's ``os._Environ`` it was imported with, and
asks ``os.environ`` itself otherwise (a test may replace it), so it always
sees what ``os.environ`` holds now (``putenv`` alone never did).
"""

from __future__ import annotations

import os

_environ = os.environ  # the mapping _data belongs to
_data: dict[object, object] | None = getattr(_environ, "_data", None)
if not isinstance(_data, dict):  # pragma: no cover - not CPython's os._Environ
    _data = None
_keys: dict[str, object] = {}  # name -> its key in _data


def getenv(name: str) -> str | None:
    """``os.environ.get(name)``, cheap when the variable is unset."""
    env = os.environ
    if env is _environ and _data is not None:
        key = _keys.get(name)
        if key is None:
            key = _keys[name] = _environ.encodekey(name)
        if key not in _data:
            return None
    return env.get(name)
