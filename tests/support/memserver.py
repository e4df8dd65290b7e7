"""The in-memory TLS server, now :mod:`schannel_py.testing.memserver` (re-exported here)."""

from schannel_py.testing.memserver import MemoryServer

__all__ = ["MemoryServer"]
