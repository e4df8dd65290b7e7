"""schannel_py.ssl.SSLContext under asyncio against openssl s_server and gnutls-serv.

asyncio reaches the context through ``wrap_bio`` (the MemoryBIO path): these tests
read a page over TLS 1.3 and 1.2, upgrade with ``start_tls``, check the certificate
failures (code and message as CPython reports them), ALPN, a server that closes
without close_notify, and compare ``getpeercert()`` with Python's own ssl.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest

from schannel_py import ssl as sch_ssl
from schannel_py.testing.pki import make_leaf
from tests.support import peers

pytestmark = pytest.mark.interop

TIMEOUT = 10.0


def context(ca: Path | None) -> sch_ssl.SSLContext:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None:
        ctx.load_verify_locations(cafile=ca)
    return ctx


async def fetch(
    port: int, ctx: ssl.SSLContext, hostname: str = "localhost"
) -> tuple[bytes, dict[str, Any]]:
    """GET / over TLS; (the whole answer, the extras asyncio reports)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname=hostname
    )
    extra = {
        k: writer.get_extra_info(k) for k in ("ssl_object", "peercert", "cipher", "sslcontext")
    }
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data, extra


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_open_connection_reads_page(pki: peers.ServerPki, tls13: bool) -> None:
    ctx = context(pki.root_ca)
    assert isinstance(ctx, ssl.SSLContext)
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13, www=True
    ) as srv:
        data, extra = run(fetch(srv.port, ctx))
    assert data.startswith(b"HTTP/1.0 200 ok")
    obj = extra["ssl_object"]
    assert isinstance(obj, ssl.SSLObject)
    assert obj.context is ctx
    assert extra["sslcontext"] is ctx
    assert obj.server_hostname == "localhost"
    assert obj.server_side is False
    version = "TLSv1.3" if tls13 else "TLSv1.2"
    assert obj.version() == version
    name, cver, bits = extra["cipher"]
    assert cver == version and bits in (128, 256)
    # s_server -www names the suite it negotiated, in OpenSSL's spelling.
    assert f"Cipher    : {name}".encode() in data or name.encode() in data
    if not tls13:
        assert name.startswith("ECDHE-ECDSA-")
    assert extra["peercert"] == ssl._ssl._test_decode_cert(str(pki.ecdsa.cert))  # type: ignore[attr-defined]


def test_gnutls_page(pki: peers.ServerPki) -> None:
    ctx = context(pki.root_ca)

    async def go(port: int) -> bytes:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
        )
        writer.write(b"hello gnutls\n")
        await writer.drain()
        data = await reader.readexactly(len(b"hello gnutls\n"))
        assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
        writer.close()
        await writer.wait_closed()
        return data

    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), echo=True) as srv:
        assert run(go(srv.port)) == b"hello gnutls\n"


class Collect(asyncio.Protocol):
    """Gathers what arrives; ``done`` resolves at end of stream."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        if not self.done.done():
            self.done.set_result(bytes(self.data))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(bytes(self.data))


def test_start_tls(pki: peers.ServerPki) -> None:
    """loop.start_tls insists on isinstance(ctx, ssl.SSLContext), then upgrades a plain socket."""
    ctx = context(pki.root_ca)

    async def go(port: int) -> bytes:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_connection(Collect, "127.0.0.1", port)
        tls = await loop.start_tls(transport, proto, ctx, server_hostname="localhost")
        assert tls is not None
        assert isinstance(tls.get_extra_info("ssl_object"), ssl.SSLObject)
        tls.write(b"GET / HTTP/1.0\r\n\r\n")
        data = await proto.done
        tls.close()
        return data

    with peers.OpenSSLServer(**pki.rsa.server_kwargs(), www=True) as srv:
        assert run(go(srv.port)).startswith(b"HTTP/1.0 200 ok")


@pytest.mark.parametrize(
    ("which", "hostname", "code", "message"),
    [
        (
            "ecdsa",
            "wrong.example",
            62,
            "Hostname mismatch, certificate is not valid for 'wrong.example'.",
        ),
        (
            "wrong_name",
            "localhost",
            62,
            "Hostname mismatch, certificate is not valid for 'localhost'.",
        ),
        ("untrusted", "localhost", 20, "unable to get local issuer certificate"),
        ("expired", "localhost", 10, "certificate has expired"),
    ],
)
def test_verification_failures(
    pki: peers.ServerPki, which: str, hostname: str, code: int, message: str
) -> None:
    cert: peers.ServerCert = getattr(pki, which)
    ctx = context(pki.root_ca)
    with peers.OpenSSLServer(**cert.server_kwargs(), www=True) as srv:
        with pytest.raises(ssl.SSLCertVerificationError) as info:
            run(fetch(srv.port, ctx, hostname))
    exc = info.value
    assert exc.verify_code == code
    assert exc.verify_message == message
    assert exc.reason == "CERTIFICATE_VERIFY_FAILED"
    assert exc.library == "SSL"
    assert isinstance(exc.strerror, str) and "certificate verify failed" in exc.strerror


@pytest.mark.parametrize(("with_root", "code"), [(False, 20), (True, 19)])
def test_untrusted_codes_like_openssl(pki: peers.ServerPki, with_root: bool, code: int) -> None:
    """The untrusted leaf alone (OpenSSL: 20), or with its self-signed root (19)."""
    ctx = context(pki.root_ca)
    kwargs = pki.untrusted.server_kwargs()
    if with_root:
        kwargs["chain_file"] = pki.untrusted_root_ca
    with peers.OpenSSLServer(**kwargs, naccept=2, www=True) as srv:
        with pytest.raises(ssl.SSLCertVerificationError) as mine:
            run(fetch(srv.port, ctx))
        std = ssl.create_default_context(cafile=str(pki.root_ca))
        with pytest.raises(ssl.SSLCertVerificationError) as theirs:
            run(fetch(srv.port, std))
    assert mine.value.verify_code == theirs.value.verify_code == code
    assert mine.value.verify_message == theirs.value.verify_message


def test_cert_none_skips_validation(pki: peers.ServerPki) -> None:
    ctx = context(None)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with peers.OpenSSLServer(**pki.untrusted.server_kwargs(), www=True) as srv:
        data, extra = run(fetch(srv.port, ctx, "wrong.example"))
    assert data.startswith(b"HTTP/1.0 200 ok")
    assert extra["peercert"] == {}
    assert extra["ssl_object"].getpeercert(True) == ssl.PEM_cert_to_DER_cert(
        pki.untrusted.cert.read_text()
    )


def test_check_hostname_false_still_checks_chain(pki: peers.ServerPki) -> None:
    ctx = context(pki.root_ca)
    ctx.check_hostname = False
    with peers.OpenSSLServer(**pki.wrong_name.server_kwargs(), naccept=2, www=True) as srv:
        data, _ = run(fetch(srv.port, ctx, "localhost"))
        assert data.startswith(b"HTTP/1.0 200 ok")
    with peers.OpenSSLServer(**pki.untrusted.server_kwargs(), www=True) as srv:
        with pytest.raises(ssl.SSLCertVerificationError):
            run(fetch(srv.port, ctx))


def test_alpn(pki: peers.ServerPki) -> None:
    ctx = context(pki.root_ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])

    async def go(port: int) -> str | None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
        )
        proto: str | None = writer.get_extra_info("ssl_object").selected_alpn_protocol()
        writer.close()
        return proto

    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), alpn="http/1.1", www=True) as srv:
        assert run(go(srv.port)) == "http/1.1"
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True) as srv:
        assert run(go(srv.port)) is None


def test_getpeercert_equals_cpython(pki: peers.ServerPki) -> None:
    async def peer(port: int, ctx: ssl.SSLContext) -> tuple[Any, Any]:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
        )
        obj = writer.get_extra_info("ssl_object")
        result = (obj.getpeercert(), obj.getpeercert(True))
        writer.close()
        return result

    for cert in (pki.rsa, pki.ecdsa_direct):
        with peers.OpenSSLServer(**cert.server_kwargs(), naccept=2) as srv:
            mine = run(peer(srv.port, context(pki.root_ca)))
            theirs = run(peer(srv.port, ssl.create_default_context(cafile=str(pki.root_ca))))
        assert mine == theirs
        assert mine[0]["subjectAltName"] == (
            ("DNS", "localhost"),
            ("IP Address", "127.0.0.1"),
            ("IP Address", "0:0:0:0:0:0:0:1"),
        )


def test_close_without_close_notify_matches_cpython(pki: peers.ServerPki) -> None:
    """s_server ends the connection without close_notify: asyncio gives the same as with
    Python's ssl (a clean EOF: 3.11's sslproto writes no EOF into the BIO)."""

    async def go(port: int, ctx: ssl.SSLContext, srv: peers.OpenSSLServer) -> bytes:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
        )
        writer.write(b"ping\n")
        await writer.drain()
        await asyncio.get_running_loop().run_in_executor(None, srv.wait_for_output, "ping")
        srv.end_connection()
        data = await reader.read()
        writer.close()
        return data

    results = []
    for ctx in (context(pki.root_ca), ssl.create_default_context(cafile=str(pki.root_ca))):
        with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
            results.append(run(go(srv.port, ctx, srv)))
    assert results[0] == results[1] == b""


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_client_certificate(pki: peers.ServerPki, tmp_path: Path, tls13: bool) -> None:
    """load_cert_chain: s_server (-Verify, -verify_return_error) accepts the connection
    with the certificate and refuses it without."""
    issued = make_leaf(
        pki.intermediate, dns_names=(), common_name="pyssl client", eku=("clientAuth",)
    )
    paths = issued.write(tmp_path, "client-")
    with_cert = context(pki.root_ca)
    with_cert.load_cert_chain(paths.fullchain, paths.key)
    without = context(pki.root_ca)
    server = peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=tls13,
        tls12=not tls13,
        verify_client=True,
        client_ca_file=pki.root_ca,
        naccept=2,
        www=True,
    )
    with server as srv:
        data, _ = run(fetch(srv.port, with_cert))
        assert data.startswith(b"HTTP/1.0 200 ok")
        with pytest.raises((ssl.SSLError, ConnectionError)):
            data, _ = run(fetch(srv.port, without))
            assert not data.startswith(b"HTTP/1.0 200 ok")
            raise ConnectionError("no page")


def test_load_cert_chain_errors_as_cpython(pki: peers.ServerPki) -> None:
    ctx = context(None)
    with pytest.raises(ssl.SSLError):
        ctx.load_cert_chain(pki.ecdsa.cert, pki.rsa.key)  # not its key: OpenSSL's own error
    with pytest.raises(FileNotFoundError):
        ctx.load_cert_chain(pki.ecdsa.cert.with_name("missing.pem"))


def test_keyupdates_tickets_and_bulk_data(pki: peers.ServerPki) -> None:
    """Mid-stream KeyUpdates (one asking for ours) and tickets, then 1 MiB each way."""
    big = bytes(range(256)) * 4096

    async def go(srv: peers.OpenSSLServer) -> None:
        loop = asyncio.get_running_loop()
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", srv.port, ssl=ctx, server_hostname="localhost"
        )
        for requested in (False, True):
            await loop.run_in_executor(None, srv.key_update, requested)
            await loop.run_in_executor(None, srv.send_line, f"after {requested}")
            assert await reader.readline() == f"after {requested}\n".encode()
        writer.write(b"client line\n")
        await writer.drain()
        await loop.run_in_executor(None, srv.wait_for_output, "client line")
        writer.write(big + b"\n")
        await writer.drain()
        await loop.run_in_executor(None, srv.send_bytes, big)
        assert await reader.readexactly(len(big)) == big
        writer.close()
        await writer.wait_closed()

    ctx = context(pki.root_ca)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), num_tickets=2) as srv:
        run(go(srv))
        assert srv.output_bytes().count(big[:4096]) >= 1


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_connections_of_a_context_resume(pki: peers.ServerPki, tls13: bool) -> None:
    """One credential per context: SChannel's session cache resumes the second connection."""
    ctx = context(pki.root_ca)

    async def go(port: int) -> tuple[bytes, bool]:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"
        )
        reused = bool(writer.get_extra_info("ssl_object").session_reused)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        data = await reader.read()
        writer.close()
        return data, reused

    kwargs = pki.ecdsa.server_kwargs()
    with peers.OpenSSLServer(**kwargs, tls13=tls13, tls12=not tls13, naccept=2, www=True) as srv:
        first, reused1 = run(go(srv.port))
        second, reused2 = run(go(srv.port))
    assert b"New, " in first and not reused1
    assert b"Reused, " in second and reused2
