"""schannel_py.ssl.SSLContext under the real HTTP stacks, against real loopback servers.

urllib3 (``PoolManager(ssl_context=ctx)``), requests (an ``HTTPAdapter`` given the
context, and unmodified ``requests.get`` after ``inject_into_ssl()``), httpx
(``Client(verify=ctx)``, ``AsyncClient(verify=ctx)``) and anyio
(``connect_tcp(..., tls=True, ssl_context=ctx)``) fetch ``openssl s_server -www``'s
and ``gnutls-serv --http``'s status pages over TLS 1.3 and 1.2; every connection is
checked to run on the SSPI functions (the observer hook); a wrong name, an
untrusted chain and an expired certificate fail at once with the
``ssl.SSLCertVerificationError`` (and ``verify_code``) Python's own ``ssl`` raises
for the same server.  The libraries are the test extra's: a missing one fails
the import, never skips.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import requests
import requests.adapters
import urllib3

from schannel_py import ssl as sch_ssl
from schannel_py.sspi import observe
from tests.support import peers

pytestmark = pytest.mark.interop

TIMEOUT = 10.0
#: A certificate failure must surface well before any timeout.
FAST = 5.0


def context(ca: Path) -> sch_ssl.SSLContext:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=ca)
    return ctx


@contextmanager
def sspi_calls() -> Iterator[list[str]]:
    """The SSPI functions called meanwhile (in any thread)."""
    calls: list[str] = []
    with observe.add_observer(lambda call: calls.append(call.function)):
        yield calls


def assert_on_schannel(calls: list[str]) -> None:
    assert "InitializeSecurityContext" in calls
    assert "EncryptMessage" in calls and "DecryptMessage" in calls


def versions(tls13: bool) -> dict[str, bool]:
    return {"tls13": tls13, "tls12": not tls13}


def protocol(tls13: bool) -> bytes:
    return b"Protocol  : TLSv1.3" if tls13 else b"Protocol  : TLSv1.2"


TLS = pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])


class Adapter(requests.adapters.HTTPAdapter):
    """requests' documented way to choose the SSLContext: the pool manager's ssl_context."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._ctx = ctx
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)


def session_with(ctx: ssl.SSLContext) -> requests.Session:
    s = requests.Session()
    s.mount("https://", Adapter(ctx))
    return s


# --- fetching a page with each library ---------------------------------------------------


def get_urllib3(url: str, ctx: ssl.SSLContext) -> bytes:
    with urllib3.PoolManager(ssl_context=ctx, retries=False, timeout=TIMEOUT) as pool:
        r = pool.request("GET", url)
        assert r.status == 200
        return r.data


def get_requests(url: str, ctx: ssl.SSLContext) -> bytes:
    with session_with(ctx) as s:
        r = s.get(url, timeout=TIMEOUT)
        assert r.status_code == 200
        return r.content


def get_httpx(url: str, ctx: ssl.SSLContext) -> bytes:
    with httpx.Client(verify=ctx, timeout=TIMEOUT) as client:
        r = client.get(url)
        assert r.status_code == 200
        return r.content


def get_httpx_async(url: str, ctx: ssl.SSLContext) -> bytes:
    async def go() -> bytes:
        async with httpx.AsyncClient(verify=ctx, timeout=TIMEOUT) as client:
            r = await client.get(url)
            assert r.status_code == 200
            return r.content

    return asyncio.run(asyncio.wait_for(go(), 30))


def get_anyio(url: str, ctx: ssl.SSLContext) -> bytes:
    host, port = url.split("/")[2].rsplit(":", 1)

    async def go() -> bytes:
        with anyio.fail_after(30):
            stream = await anyio.connect_tcp(
                "127.0.0.1", int(port), tls=True, ssl_context=ctx, tls_hostname=host,
                tls_standard_compatible=False,
            )  # fmt: skip
            async with stream:
                ssl_object = stream.extra(anyio.streams.tls.TLSAttribute.ssl_object)
                assert isinstance(ssl_object, ssl.SSLObject) and ssl_object.context is ctx
                await stream.send(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                try:
                    while True:
                        data += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    pass
                return data

    return anyio.run(go)


FETCHERS: dict[str, Callable[[str, ssl.SSLContext], bytes]] = {
    "urllib3": get_urllib3,
    "requests": get_requests,
    "httpx": get_httpx,
    "httpx-async": get_httpx_async,
    "anyio": get_anyio,
}
LIBRARIES = pytest.mark.parametrize("library", list(FETCHERS))


@LIBRARIES
@TLS
def test_page_from_openssl(pki: peers.ServerPki, library: str, tls13: bool) -> None:
    ctx = context(pki.root_ca)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), **versions(tls13), www=True) as srv:
        with sspi_calls() as calls:
            body = FETCHERS[library](f"https://127.0.0.1:{srv.port}/", ctx)
    assert protocol(tls13) in body
    assert_on_schannel(calls)


@LIBRARIES
@TLS
def test_page_from_gnutls(pki: peers.ServerPki, library: str, tls13: bool) -> None:
    ctx = context(pki.root_ca)
    with peers.GnuTLSServer(
        **pki.rsa.server_kwargs(), echo=False, priority=peers.gnutls_only(tls13)
    ) as srv:
        with sspi_calls() as calls:
            body = FETCHERS[library](f"https://127.0.0.1:{srv.port}/", ctx)
    assert b"GnuTLS" in body
    assert (b"TLS1.3" if tls13 else b"TLS1.2") in body
    assert_on_schannel(calls)


def cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The ssl.SSLCertVerificationError behind a library's exception (cause, context, args)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return e
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo += list(getattr(e, "exceptions", ()))  # an exception group
    return None


FAILURES = pytest.mark.parametrize(
    ("which", "code"),
    [("wrong_name", 64), ("untrusted", 20), ("expired", 10)],
    ids=["wrong-name", "untrusted", "expired"],
)


@LIBRARIES
@FAILURES
def test_verification_failures(pki: peers.ServerPki, library: str, which: str, code: int) -> None:
    cert: peers.ServerCert = getattr(pki, which)
    with peers.OpenSSLServer(**cert.server_kwargs(), www=True) as srv:
        url = f"https://127.0.0.1:{srv.port}/"
        start = time.monotonic()
        with pytest.raises(Exception) as caught:  # noqa: B017 (each library wraps it its way)
            FETCHERS[library](url, context(pki.root_ca))
        elapsed = time.monotonic() - start
        # Python's own ssl, same server and name: the same verify_code.
        theirs = ssl.create_default_context(cafile=str(pki.root_ca))
        with pytest.raises(ssl.SSLCertVerificationError) as expected:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as raw:
                theirs.wrap_socket(raw, server_hostname="127.0.0.1").close()
    mine = cert_error(caught.value)
    assert mine is not None, f"{library} raised {caught.value!r}"
    assert mine.verify_code == expected.value.verify_code == code
    assert mine.verify_message == expected.value.verify_message
    assert mine.reason == "CERTIFICATE_VERIFY_FAILED"
    assert elapsed < FAST


# --- requests after inject_into_ssl() ------------------------------------------------------


@TLS
def test_requests_after_injection(pki: peers.ServerPki, injected: None, tls13: bool) -> None:
    """Unmodified ``requests.get(url, verify=cafile)``: urllib3 builds its context through
    the injected name, and runs on the SSPI functions."""
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), **versions(tls13), www=True, naccept=2
    ) as srv:
        with sspi_calls() as calls:
            r = requests.get(f"https://127.0.0.1:{srv.port}/", verify=str(pki.root_ca), timeout=10)
        assert r.status_code == 200 and protocol(tls13) in r.content
        assert_on_schannel(calls)
        # verify=True: requests' preloaded context (certifi's roots) is ours too, and
        # runs on SChannel; it does not trust the test root.
        with sspi_calls() as calls, pytest.raises(requests.exceptions.SSLError) as caught:
            requests.get(f"https://127.0.0.1:{srv.port}/", timeout=10)
        assert "InitializeSecurityContext" in calls
    err = cert_error(caught.value)
    assert err is not None and err.verify_code in (19, 20)


@pytest.mark.parametrize("which", ["wrong_name", "expired"])
def test_requests_after_injection_fails_fast(
    pki: peers.ServerPki, injected: None, which: str
) -> None:
    cert: peers.ServerCert = getattr(pki, which)
    with peers.OpenSSLServer(**cert.server_kwargs(), www=True) as srv:
        start = time.monotonic()
        with pytest.raises(requests.exceptions.SSLError) as caught:
            requests.get(f"https://127.0.0.1:{srv.port}/", verify=str(pki.root_ca), timeout=10)
        assert time.monotonic() - start < FAST
    err = cert_error(caught.value)
    assert err is not None and err.verify_code == (64 if which == "wrong_name" else 10)
