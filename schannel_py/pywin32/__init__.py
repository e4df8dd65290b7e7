"""pywin32's SSPI modules over this package: code written for pywin32 runs unchanged.

::

    import schannel_py.pywin32
    schannel_py.pywin32.install()

    import win32security, sspicon, sspi, pywintypes   # this package's modules

:func:`install` puts four modules in ``sys.modules`` under pywin32's names:
``win32security`` (its SSPI functions and types), ``sspicon`` (the constants,
signed as pywin32 has them), ``sspi`` (``ClientAuth`` / ``ServerAuth``) and
``pywintypes`` (``error``, the time type).  It refuses on Windows and wherever a
real pywin32 (or any other module of those names) can be imported, so it never
shadows the real thing.  :func:`uninstall` takes them out again.

Everything behaves as pywin32's binding does, quirks included (docs/pywin32.md);
SChannel-only calls are in :mod:`schannel_py.pywin32.extras`.  The modules can
also be imported without installing: ``from schannel_py.pywin32 import win32security``.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from . import extras, pywintypes, sspi, sspicon, win32security

__all__ = [
    "MODULE_NAMES",
    "InstallError",
    "extras",
    "install",
    "installed",
    "pywintypes",
    "sspi",
    "sspicon",
    "uninstall",
    "win32security",
]

#: The names :func:`install` registers, with the module each one gets.
_MODULES: dict[str, ModuleType] = {
    "pywintypes": pywintypes,
    "sspicon": sspicon,
    "win32security": win32security,
    "sspi": sspi,
}
MODULE_NAMES: tuple[str, ...] = tuple(_MODULES)


class InstallError(RuntimeError):
    """:func:`install` will not register the modules (Windows, or pywin32 present)."""


def installed() -> bool:
    """True when every name in ``sys.modules`` is this package's module."""
    return all(sys.modules.get(name) is module for name, module in _MODULES.items())


def _conflict(name: str) -> str | None:
    """What already answers to ``name``, or None."""
    present = sys.modules.get(name)
    if present is not None:
        if present is _MODULES[name]:
            return None
        return f"sys.modules[{name!r}] is already {present!r}"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a broken finder or module: still a conflict
        return f"{name!r} cannot be looked up safely"
    if spec is not None:
        return f"{name!r} is importable from {spec.origin or spec.name}"
    return None


def install() -> None:
    """Register ``win32security``, ``sspicon``, ``sspi`` and ``pywintypes``.

    Does nothing when already installed.  Raises :class:`InstallError` on
    Windows, or when any of the names is importable (a real pywin32).
    """
    if installed():
        return
    if sys.platform == "win32":
        raise InstallError(
            "schannel_py.pywin32.install() refuses to run on Windows: use the real pywin32"
        )
    conflicts = [c for c in map(_conflict, _MODULES) if c]
    if conflicts:
        raise InstallError(
            "schannel_py.pywin32.install() will not shadow existing modules: "
            + "; ".join(conflicts)
        )
    sys.modules.update(_MODULES)


def uninstall() -> None:
    """Take this package's modules out of ``sys.modules`` (others are left alone)."""
    for name, module in _MODULES.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
