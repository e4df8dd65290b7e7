"""The session cache: keyed by (target, process, logon session, credential handle), as Windows keys it."""

from __future__ import annotations

import os
import ssl
import struct
import threading
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py.sspi import cache as K
from schannel_py.sspi import context as X
from schannel_py.testing import ManualClock, acquire_credential
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.session import Session12, Ticket13
from tests.support import peers
from tests.support.sessions import connect, reconnected, schannel_cred, server_context
from tests.support.sspi_driver import CurlLoop


def test_tls13_ticket_resumes_once(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx, cred = server_context(pki), acquire_credential()
    first = connect(ctx, cred)
    assert not reconnected(first)
    assert len(K.CACHE) == 2  # OpenSSL sends two tickets, each reaching the cache through ISC
    second = connect(ctx, cred)
    assert reconnected(second)
    # One ticket was used up; the resumed connection brought its own (OpenSSL sends one).
    new = len(X.CONTEXTS.get(second.ctx).client.tickets)  # type: ignore[union-attr]
    assert new >= 1
    assert len(K.CACHE) == 1 + new
    cert = sc.PVOID()
    assert (
        sc.QueryContextAttributes(second.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, cert)
        == sc.SEC_E_OK
    )
    assert cert.value is not None  # the server certificate is remembered with the session


def test_reuse_session_tickets_flag_keeps_the_ticket(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx, cred = server_context(pki), acquire_credential()
    connect(ctx, cred)
    assert len(K.CACHE) == 2
    again = connect(ctx, cred, flags64=sc.ISC_REQ_REUSE_SESSION_TICKETS)
    assert reconnected(again)
    new = len(X.CONTEXTS.get(again.ctx).client.tickets)  # type: ignore[union-attr]
    assert new >= 1
    assert len(K.CACHE) == 2 + new  # nothing taken, the new ones added


@pytest.mark.parametrize("change", ["credential", "target", "logon"])
def test_other_key_does_not_resume(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock, change: str
) -> None:
    ctx = server_context(pki)
    cred = schannel_cred(logon=None) if change == "logon" else acquire_credential()
    connect(ctx, cred, target="localhost")
    if change == "credential":
        other = connect(ctx, acquire_credential(), target="localhost")
    elif change == "target":
        other = connect(ctx, cred, target="127.0.0.1")
    else:
        other = connect(ctx, schannel_cred(logon=(0, 0x3E7)), target="localhost")
    assert not reconnected(other)


def test_expiry_by_injected_clock(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx = server_context(pki, ssl.TLSVersion.TLSv1_2)
    cred = schannel_cred(lifespan_ms=60_000)
    connect(ctx, cred)
    clock.advance(59)
    assert reconnected(connect(ctx, cred))
    clock.advance(61)
    assert not reconnected(connect(ctx, cred))


def test_default_lifespan_is_ten_hours(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx = server_context(pki, ssl.TLSVersion.TLSv1_2)
    cred = schannel_cred()
    connect(ctx, cred)
    key = next(iter(K.CACHE._by_key))
    assert K.CACHE.lookup(key, clock.now + 36_000 - 1)[1] is not None
    assert K.CACHE.lookup(key, clock.now + 36_000)[1] is None


def test_tls12_abbreviated_handshake_through_isc(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx, cred = server_context(pki, ssl.TLSVersion.TLSv1_2), schannel_cred()
    connect(ctx, cred)
    loop = CurlLoop(MemoryServer.for_context(ctx), cred)
    reply = loop.server.feed(loop.first_call())
    loop.encdata += reply
    status, sent = loop.step()
    # Abbreviated: the server flight ends with its Finished, so ISC is done at once
    # and hands back the client's CCS + Finished to send.
    assert status == sc.SEC_E_OK
    assert sent[:1] == b"\x14" and b"\x16\x03\x03" in sent
    loop.server.feed(sent)
    assert loop.server.handshake_done and loop.server.tls.session_reused
    assert reconnected(loop)


def test_disable_reconnects_token(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx, cred = server_context(pki, ssl.TLSVersion.TLSv1_2), schannel_cred()
    first = connect(ctx, cred)
    assert len(K.CACHE) == 1
    token = struct.pack("<II", sc.SCHANNEL_SESSION, sc.SSL_SESSION_DISABLE_RECONNECTS)
    desc = sc.SecBufferDesc([sc.SecBuffer(8, sc.SECBUFFER_TOKEN, token)])
    assert sc.ApplyControlToken(first.ctx, desc) == sc.SEC_E_OK
    assert len(K.CACHE) == 0
    assert not reconnected(connect(ctx, cred))  # (this one is cached again)
    token = struct.pack("<II", sc.SCHANNEL_SESSION, sc.SSL_SESSION_ENABLE_RECONNECTS)
    assert (
        sc.ApplyControlToken(
            first.ctx, sc.SecBufferDesc([sc.SecBuffer(8, sc.SECBUFFER_TOKEN, token)])
        )
        == sc.SEC_E_OK
    )


def test_free_credentials_and_empty_cache(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx = server_context(pki)
    cred_a, cred_b = acquire_credential(), acquire_credential()
    connect(ctx, cred_a, target="localhost")
    connect(ctx, cred_b, target="localhost")
    connect(ctx, cred_b, target="127.0.0.1")
    assert len(K.CACHE) == 6
    assert sc.FreeCredentialsHandle(cred_a) == sc.SEC_E_OK
    assert len(K.CACHE) == 4
    assert sc.SslEmptyCache("127.0.0.1", 0) is True
    assert len(K.CACHE) == 2
    assert sc.SslEmptyCache(None, 0) is True
    assert len(K.CACHE) == 0


def test_rejected_psk_falls_back_to_full_handshake(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    cred = acquire_credential()
    connect(server_context(pki), cred)
    # A new server context has other ticket keys: it ignores the PSK.
    other = connect(server_context(pki), cred)
    assert not reconnected(other)


def test_ticket_lifetime_is_honoured(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx, cred = server_context(pki), acquire_credential()
    connect(ctx, cred)
    key = next(iter(K.CACHE._by_key))
    ticket, _ = K.CACHE.lookup(key, clock.now, reuse_tickets=True)
    assert ticket is not None
    assert K.CACHE.lookup(key, clock.now + ticket.lifetime, reuse_tickets=True)[0] is None


def _ticket(n: int) -> Ticket13:
    return Ticket13(bytes([n % 256]) * 8, 3600, 0, b"", b"p" * 32, 0x1301, 0.0, None, None)


def test_eviction_at_the_limit_and_constant_lookup() -> None:
    cache = K.SessionCache(max_entries=3)
    keys = [("t", 1, "u", i) for i in range(5)]
    for i, key in enumerate(keys):
        cache.add(key, _ticket(i), 0.0, 10_000)
    assert len(cache) == 3
    assert cache.lookup(keys[0], 1.0)[0] is None and cache.lookup(keys[1], 1.0)[0] is None
    assert cache.lookup(keys[4], 1.0)[0] is not None
    big = K.SessionCache()
    for i in range(K.MAX_ENTRIES + 10):
        big.add(("t", 1, "u", i), _ticket(i), 0.0, 10_000)
    assert len(big) == K.MAX_ENTRIES


def test_tls12_session_replaces_the_previous_one() -> None:
    cache = K.SessionCache()
    key = ("t", 1, "u", 1)
    s1 = Session12(b"a" * 32, b"m" * 48, 0xC02B, b"", 0, 0.0)
    s2 = Session12(b"b" * 32, b"m" * 48, 0xC02B, b"", 0, 0.0)
    cache.add(key, s1, 0.0, 10_000)
    cache.add(key, s2, 0.0, 10_000)
    assert len(cache) == 1 and cache.lookup(key, 1.0)[1] is s2


def test_many_threads_share_the_cache() -> None:
    cache = K.SessionCache(max_entries=500)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                key = ("t", 1, "u", (n * 7 + i) % 40)
                cache.add(key, _ticket(i), 0.0, 10_000)
                cache.lookup(key, 1.0, reuse_tickets=bool(i % 2))
                if i % 50 == 0:
                    cache.flush(cred_id=n)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(cache) <= 500
    assert sum(len(v) for v in cache._by_key.values()) == len(cache)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_never_uses_parent_entries(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    ctx, cred = server_context(pki), acquire_credential()
    connect(ctx, cred)
    parent_key = next(iter(K.CACHE._by_key))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        key = K.make_key("localhost", parent_key[2], parent_key[3])
        found = K.CACHE.lookup(key, clock.now, reuse_tickets=True)[0] is not None
        os.write(write, b"1" if found else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"0"
    assert K.CACHE.lookup(parent_key, clock.now, reuse_tickets=True)[0] is not None
