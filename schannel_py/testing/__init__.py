"""schannel_py's testing toolkit: test code that drives SSPI without Windows.

* :class:`TlsServer`: a scriptable in-memory TLS 1.3 / 1.2 server, normal by
  default (version, suite, group, HelloRetryRequest, ALPN, client certificates,
  tickets, KeyUpdate, HelloRequest, alerts, close with or without close_notify,
  resumption of its own sessions through a shared :class:`SessionStore`),
  or one that misbehaves on purpose, by name (:data:`MISBEHAVIOURS`).
* :class:`Transport` and :class:`Chunking`: ``send`` / ``recv`` for your loop,
  with the server's bytes cut, coalesced, truncated or corrupted, seeded;
  :class:`SocketPeer` puts a real server (a socket) behind the same transport.
* :func:`trusted_root`, :func:`certificate_in_my`, :func:`client_certificate_context`,
  :func:`acquire_credential`: trust and credentials for the duration of a test.
* :func:`deterministic`: one switch for reproducible runs (seeded random and a
  fixed clock for new contexts and servers, :func:`active_determinism`;
  :class:`ManualClock`: a clock the test moves by hand);
  :func:`save_transcript` / :func:`assert_same_transcript` record a run's bytes
  and compare a later run with them.
* :mod:`~schannel_py.testing.pki`: a throwaway PKI (:func:`make_pki`,
  :func:`make_ca`, :func:`make_leaf`, :func:`make_self_signed`).
* :mod:`~schannel_py.testing.plugin`: pytest fixtures (``-p schannel_py.testing.plugin``
  or ``schannel_py_testing = true`` in the ini file).
* :mod:`~schannel_py.testing.attacks`: the attack catalogue, about 160 named
  hostile-server cases with the status and alert each must get
  (``attacks.names()``, ``attacks.get(name)``, ``attacks.run(name)``), played
  against your own loop in a thread with ``attacks.run_loop(name, client)``.
* :mod:`~schannel_py.testing.builders`: the raw message and record builders the
  project's attack suite misbehaves with; :mod:`~schannel_py.testing.memserver`:
  Python's ``ssl`` server over memory BIOs.

Walk-through: docs/testing.md.
"""

from __future__ import annotations

from . import attacks
from .attacks import Attack
from .client import reference_client
from .pki import Issued, Pki, make_ca, make_leaf, make_pki, make_self_signed
from .server import (
    MISBEHAVIOURS,
    ClientAuth,
    Misbehaviour,
    ServerSession,
    SessionStore,
    TlsServer,
    TlsServerError,
    Version,
)
from .stores import (
    Determinism,
    ManualClock,
    acquire_credential,
    active_determinism,
    certificate_in_my,
    client_certificate_context,
    deterministic,
    trusted_root,
)
from .transport import (
    CHUNKINGS,
    Chunking,
    SocketPeer,
    Stalled,
    TranscriptMismatch,
    Transport,
    assert_same_transcript,
    save_transcript,
)

__all__ = [
    "Attack",
    "CHUNKINGS",
    "MISBEHAVIOURS",
    "ClientAuth",
    "Chunking",
    "Determinism",
    "Issued",
    "ManualClock",
    "Misbehaviour",
    "Pki",
    "ServerSession",
    "SessionStore",
    "SocketPeer",
    "Stalled",
    "TlsServer",
    "TlsServerError",
    "TranscriptMismatch",
    "Transport",
    "Version",
    "acquire_credential",
    "active_determinism",
    "assert_same_transcript",
    "attacks",
    "certificate_in_my",
    "client_certificate_context",
    "deterministic",
    "make_ca",
    "make_leaf",
    "make_pki",
    "make_self_signed",
    "reference_client",
    "save_transcript",
    "trusted_root",
]
