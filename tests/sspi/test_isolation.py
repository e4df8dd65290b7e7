"""Isolation: secrets stay out of reprs, logs and exceptions; Encrypt and Decrypt may run on two threads."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import schannel_py as sc
from schannel_py import trace
from schannel_py.sspi import cache
from schannel_py.sspi import context as X
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sspi_driver import CurlLoop


def _secret_forms(values: list[bytes]) -> list[str]:
    forms = []
    for v in values:
        if len(v) >= 16:
            forms += [v.hex(), v.hex().upper(), repr(v)[2:-1]]
    return forms


def test_secrets_never_appear_in_reprs_logs_or_exceptions(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    root = logging.getLogger("schannel_py")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with trace.tracing(log):
            srv = MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key))
            loop = CurlLoop(srv, acquire_credential())
            assert loop.handshake() == sc.SEC_E_OK
            loop.server.feed(loop.encrypt(b"x"))
            loop.encdata += loop.server.write(b"y")
            loop.decrypt_all()
    finally:
        root.removeHandler(handler)
    ctx = X.CONTEXTS.get(loop.ctx)
    assert ctx is not None
    client = ctx.client
    secrets = list(client.secrets.values()) + [t.psk for t in client.tickets]
    assert len(secrets) >= 6
    shown = " ".join(
        [
            repr(ctx),
            str(ctx),
            repr(client),
            repr(client.handshake),
            repr(client.tickets),
            log.getvalue(),
        ]
        + [repr(e) for e in cache.CACHE._order.values()]
    )
    for form in _secret_forms(secrets):
        assert form not in shown
    # A failure's exception and status carry no key material either.
    bad = bytearray(loop.encrypt(b"tampered"))
    bad[-1] ^= 1
    loop.encdata = bytearray(bad)
    desc = sc.SecBufferDesc(
        [sc.SecBuffer(len(bad), sc.SECBUFFER_DATA, bytearray(bad))]
        + [sc.SecBuffer() for _ in range(3)]
    )
    status = sc.DecryptMessage(loop.ctx, desc, 0, None)
    assert status == sc.SEC_E_MESSAGE_ALTERED
    for form in _secret_forms(secrets):
        assert form not in repr(status) and form not in repr(ctx)


def test_encrypt_and_decrypt_on_two_threads(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """Windows allows one thread encrypting while another decrypts the same context."""
    srv = MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key), num_tickets=0)
    loop = CurlLoop(srv, acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    inbound = [srv.write(b"server %04d " % i + b"s" * (i % 700)) for i in range(300)]
    outbound: list[bytes] = []
    received: list[bytes] = []
    errors: list[BaseException] = []
    sizes = loop.stream_sizes()

    def encryptor() -> None:
        try:
            for i in range(300):
                data = b"client %04d " % i + b"c" * (i % 900)
                buf = bytearray(sizes.cbHeader + len(data) + sizes.cbTrailer)
                mv = memoryview(buf)
                h = sizes.cbHeader
                buf[h : h + len(data)] = data
                desc = sc.SecBufferDesc(
                    [
                        sc.SecBuffer(h, sc.SECBUFFER_STREAM_HEADER, mv[:h]),
                        sc.SecBuffer(len(data), sc.SECBUFFER_DATA, mv[h : h + len(data)]),
                        sc.SecBuffer(
                            sizes.cbTrailer, sc.SECBUFFER_STREAM_TRAILER, mv[h + len(data) :]
                        ),
                        sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
                    ]
                )
                assert sc.EncryptMessage(loop.ctx, 0, desc, 0) == sc.SEC_E_OK
                outbound.append(bytes(buf[: sum(b.cbBuffer for b in desc.pBuffers[:3])]))
        except BaseException as e:  # reported below
            errors.append(e)

    def decryptor() -> None:
        try:
            for record in inbound:
                data = bytearray(record)
                desc = sc.SecBufferDesc(
                    [sc.SecBuffer(len(data), sc.SECBUFFER_DATA, data)]
                    + [sc.SecBuffer() for _ in range(3)]
                )
                assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_OK
                b1 = desc.pBuffers[1]
                assert b1.pvBuffer is not None
                received.append(bytes(b1.pvBuffer[: b1.cbBuffer]))
                desc.release()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=encryptor), threading.Thread(target=decryptor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert received == [b"server %04d " % i + b"s" * (i % 700) for i in range(300)]
    srv.feed(b"".join(outbound))
    got = b""
    while chunk := srv.read():
        got += chunk
    assert got == b"".join(b"client %04d " % i + b"c" * (i % 900) for i in range(300))
