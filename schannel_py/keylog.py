"""NSS key log output (``SSLKEYLOGFILE``), so Wireshark can decrypt a capture.

The format is the one NSS, OpenSSL, curl and browsers write: one line per
secret, ``<LABEL> <client_random hex> <secret hex>``
(https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/).

* TLS 1.3: ``CLIENT_HANDSHAKE_TRAFFIC_SECRET``, ``SERVER_HANDSHAKE_TRAFFIC_SECRET``,
  ``CLIENT_TRAFFIC_SECRET_0``, ``SERVER_TRAFFIC_SECRET_0``, ``EXPORTER_SECRET``.
* TLS 1.2: ``CLIENT_RANDOM`` (the master secret).

The key log is an observer of the SSPI layer (:mod:`schannel_py.sspi.observe`),
registered when :mod:`schannel_py` is imported: it sees each
InitializeSecurityContext call while a key log file is set, so any caller of
the SSPI functions gets a key log by setting ``SSLKEYLOGFILE`` (read at each
handshake call, like NSS reads it per process); :func:`set_keylog_file` (the
CLI's ``--keylog FILE``) overrides it.  The record calls never consult it.
Each secret is written once per connection, as soon as a call derives it, so a
capture of a failed handshake can still be decrypted up to the failure.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Protocol

from ._env import getenv
from .sspi import observe

ENV_VAR = "SSLKEYLOGFILE"

# (client.secrets key, NSS label), in the order the secrets are derived.
TLS13_LABELS: tuple[tuple[str, str], ...] = (
    ("client_handshake_traffic_secret", "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
    ("server_handshake_traffic_secret", "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
    ("client_application_traffic_secret_0", "CLIENT_TRAFFIC_SECRET_0"),
    ("server_application_traffic_secret_0", "SERVER_TRAFFIC_SECRET_0"),
    ("exporter_master_secret", "EXPORTER_SECRET"),
)
TLS12_LABEL = "CLIENT_RANDOM"

_override: str | None = None
_lock = threading.Lock()
# client_random -> lines already written; bounded so long-running processes stay small.
_written: OrderedDict[bytes, set[str]] = OrderedDict()
_MAX_REMEMBERED = 4096


class _ClientState(Protocol):
    version: int
    client_random: bytes
    secrets: dict[str, bytes]


class _HasClient(Protocol):
    @property
    def client(self) -> _ClientState: ...


def set_keylog_file(path: str | os.PathLike[str] | None) -> None:
    """Write key log lines to ``path`` (overrides ``SSLKEYLOGFILE``); None: back to the env."""
    global _override
    _override = os.fspath(path) if path is not None else None


def keylog_path() -> str | None:
    """The file key log lines go to now, or None when key logging is off."""
    return _override or getenv(ENV_VAR) or None


def lines_for(client: _ClientState) -> list[tuple[str, str]]:
    """``(label, line)`` for every loggable secret the client holds now (no newline)."""
    cr = client.client_random
    if len(cr) != 32:
        return []
    secrets = client.secrets
    out: list[tuple[str, str]] = []
    if "client_handshake_traffic_secret" in secrets or client.version == 0x0304:
        for key, label in TLS13_LABELS:
            value = secrets.get(key)
            if value:
                out.append((label, f"{label} {cr.hex()} {value.hex()}"))
    else:
        master = secrets.get("master_secret")
        if master and len(master) == 48:
            out.append((TLS12_LABEL, f"{TLS12_LABEL} {cr.hex()} {master.hex()}"))
    return out


def log_client(client: _ClientState, path: str | None = None) -> int:
    """Append the client's not-yet-written secrets to the key log; returns lines written."""
    target = path if path is not None else keylog_path()
    if not target:
        return 0
    candidates = lines_for(client)
    if not candidates:
        return 0
    with _lock:
        seen = _written.setdefault(client.client_random, set())
        _written.move_to_end(client.client_random)
        while len(_written) > _MAX_REMEMBERED:
            _written.popitem(last=False)
        # Same client_random, different secrets: a new handshake on the same
        # random never happens, but a TLS 1.2 renegotiation has a new random.
        new = [(label, line) for label, line in candidates if line not in seen]
        if not new:
            return 0
        try:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="ascii") as fh:
                fh.write("".join(line + "\n" for _, line in new))
        except OSError:
            return 0  # like NSS: a key log that cannot be written is silently skipped
        seen.update(line for _, line in new)
    return len(new)


def log_context(ctx: _HasClient) -> None:
    """Write what a context's client holds now, if key logging is on (the observer
    does this by itself; kept for callers of the old hook)."""
    if keylog_path() is None:
        return
    log_client(ctx.client)


class _Derived:
    """The secrets one SSPI call derived, in the shape :func:`lines_for` reads."""

    def __init__(self, call: observe.SspiCall) -> None:
        self.version = call.version
        self.client_random = call.client_random
        self.secrets = {s.label: s.value for s in call.secrets}


def _active() -> bool:
    return _override is not None or getenv(ENV_VAR) is not None


def _observe(call: observe.SspiCall) -> None:
    """The observer: append the secrets this call derived."""
    if call.secrets:
        log_client(_Derived(call))


#: Registered for good: :func:`_active` switches it on and off per call.
_registration = observe.add_handshake_observer(_observe, _active)


def reset() -> None:
    """Forget which lines were written (tests)."""
    with _lock:
        _written.clear()
