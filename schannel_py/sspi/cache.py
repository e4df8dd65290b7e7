"""The process-wide SChannel client session cache, keyed as Windows keys it.

Windows reuses a cached session only when the target name, the process, the
logon session and the credential handle all match and the entry has not
expired (docs/windows-behaviour.md section 5.3).  The key here is exactly that
tuple; the process id is read at every lookup, so a forked child never sees
its parent's entries.  Entries live for the credential's ``dwSessionLifespan``
(0 meaning 10 hours), at most ``MAX_ENTRIES`` of them, the oldest evicted
first.  TLS 1.3 tickets are used once unless the caller asks for reuse;
a TLS 1.2 session stays until it expires or is flushed.

Lookups are O(1) in the number of entries: one dict from key to that key's
entries, and one insertion-ordered dict for eviction.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..tls.session import Session12, Ticket13
from .phases import Phase

if TYPE_CHECKING:
    from .context import Context

MAX_ENTRIES = 20_000
CacheKey = tuple[str, int, object, int]


def logon_key(pvLogonId: object) -> object:
    """A hashable logon-session identity: the LUID given to ACH, else this user."""
    if pvLogonId is None:
        uid = os.getuid() if hasattr(os, "getuid") else 0
        return ("user", uid)
    low = getattr(pvLogonId, "LowPart", None)
    high = getattr(pvLogonId, "HighPart", None)
    if isinstance(low, int) and isinstance(high, int):
        return ("luid", high, low)
    try:
        hash(pvLogonId)
        return ("value", pvLogonId)
    except TypeError:
        return ("object", id(pvLogonId))


def make_key(target: str | None, logon: object, cred_id: int) -> CacheKey:
    """The cache key for a context created now (in this process)."""
    return (target or "", os.getpid(), logon, cred_id)


@dataclass
class Entry:
    key: CacheKey
    session: Ticket13 | Session12
    expires_at: float


class SessionCache:
    """Thread-safe cache of resumable sessions."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._order: OrderedDict[int, Entry] = OrderedDict()
        self._by_key: dict[CacheKey, dict[int, None]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._order)

    # --- adding ---------------------------------------------------------------

    def add(
        self, key: CacheKey, session: Ticket13 | Session12, now: float, lifespan_ms: int
    ) -> None:
        """Cache a ticket or a TLS 1.2 session (a TLS 1.2 session replaces the key's previous one)."""
        expires = now + lifespan_ms / 1000.0
        with self._lock:
            if isinstance(session, Session12):
                for eid in list(self._by_key.get(key, {})):
                    if isinstance(self._order[eid].session, Session12):
                        self._remove(eid)
            eid = next(self._seq)
            self._order[eid] = Entry(key, session, expires)
            self._by_key.setdefault(key, {})[eid] = None
            while len(self._order) > self.max_entries:
                self._remove(next(iter(self._order)))

    def _remove(self, eid: int) -> None:
        entry = self._order.pop(eid, None)
        if entry is None:
            return
        ids = self._by_key.get(entry.key)
        if ids is not None:
            ids.pop(eid, None)
            if not ids:
                del self._by_key[entry.key]

    # --- finding ----------------------------------------------------------------

    def lookup(
        self, key: CacheKey, now: float, *, reuse_tickets: bool = False
    ) -> tuple[Ticket13 | None, Session12 | None]:
        """The newest usable TLS 1.3 ticket (taken unless reused) and TLS 1.2 session for ``key``."""
        ticket: Ticket13 | None = None
        session: Session12 | None = None
        with self._lock:
            for eid in reversed(list(self._by_key.get(key, {}))):
                entry = self._order[eid]
                s = entry.session
                expired = now >= entry.expires_at
                if isinstance(s, Ticket13) and not s.usable_at(now):
                    expired = True
                if expired:
                    self._remove(eid)
                    continue
                if isinstance(s, Ticket13) and ticket is None:
                    ticket = s
                    if not reuse_tickets:
                        self._remove(eid)
                elif isinstance(s, Session12) and session is None:
                    session = s
        return ticket, session

    # --- flushing -----------------------------------------------------------------

    def remove_sessions(self, sessions: list[Ticket13 | Session12]) -> None:
        """Forget specific sessions (SSL_SESSION_DISABLE_RECONNECTS on their context)."""
        wanted = {id(s) for s in sessions}
        with self._lock:
            for eid in [e for e, entry in self._order.items() if id(entry.session) in wanted]:
                self._remove(eid)

    def flush(self, target: str | None = None, cred_id: int | None = None) -> int:
        """Remove every entry, or those of one target name or one credential handle."""
        with self._lock:
            doomed = [
                eid
                for eid, e in self._order.items()
                if (target is None or e.key[0] == target)
                and (cred_id is None or e.key[3] == cred_id)
            ]
            for eid in doomed:
                self._remove(eid)
            return len(doomed)


CACHE = SessionCache()


def SslEmptyCache(pszTargetName: str | None, dwFlags: int = 0) -> bool:
    """Flush the client session cache for one target name, or all of it (None)."""
    CACHE.flush(pszTargetName if pszTargetName else None)
    return True


SslEmptyCacheA = SslEmptyCacheW = SslEmptyCache


# --- what a context puts in the cache ------------------------------------------------


def remember_sessions(ctx: Context, now: float) -> None:
    """Put the context's new tickets / TLS 1.2 session into the session cache."""
    if not ctx.reconnects:
        return
    client = ctx.client
    if not client.tickets and client.session12 is None:
        return  # nothing to cache (a TLS 1.3 handshake until its tickets arrive)
    known = {id(c) for c in ctx.cached}
    fresh: list[Ticket13 | Session12] = [t for t in client.tickets if id(t) not in known]
    if client.session12 is not None and id(client.session12) not in known:
        fresh.append(client.session12)
    for s in fresh:
        CACHE.add(ctx.cache_key, s, now, ctx.cred.session_lifespan_ms)
        ctx.cached.append(s)
    # A ticket flood must not grow the cache: keep this connection's newest tickets only.
    tickets = [c for c in ctx.cached if isinstance(c, Ticket13)]
    excess = tickets[: max(0, len(tickets) - client.config.max_tickets)]
    if excess:
        CACHE.remove_sessions(list(excess))
        ctx.cached = [c for c in ctx.cached if all(c is not e for e in excess)]


def set_reconnects(ctx: Context, enabled: bool, now: float) -> None:
    """SCHANNEL_SESSION token: stop (and undo) or resume caching this context's sessions."""
    ctx.reconnects = enabled
    if enabled:
        if ctx.phase is Phase.ESTABLISHED:
            remember_sessions(ctx, now)
    else:
        CACHE.remove_sessions(ctx.cached)
        ctx.cached.clear()
