"""inject_into_ssl / extract_from_ssl: unmodified code that builds its context with
``ssl.create_default_context()`` runs on schannel_py, and only while injected."""

from __future__ import annotations

import http.client
import ssl
import urllib.request

import pytest

from schannel_py import ssl as sch_ssl
from schannel_py.sspi import observe
from tests.support import peers

pytestmark = pytest.mark.interop

ORIGINAL = ssl.SSLContext


def test_create_default_context_is_ours_while_injected(injected: None) -> None:
    assert ssl.SSLContext is sch_ssl.SSLContext
    ctx = ssl.create_default_context()
    assert type(ctx) is sch_ssl.SSLContext
    assert isinstance(ctx, ORIGINAL)
    # The stdlib's own property setters go through the module global ssl.SSLContext:
    # they must not recurse now that it is this class.
    ctx.options |= ssl.OP_NO_COMPRESSION
    assert ctx.options & ssl.OP_NO_COMPRESSION
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    assert ctx.verify_flags & ssl.VERIFY_X509_STRICT
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    assert ctx.verify_mode == ssl.CERT_NONE
    unverified = ssl._create_unverified_context()
    assert type(unverified) is sch_ssl.SSLContext and unverified.verify_mode == ssl.CERT_NONE
    # Servers in the process keep the stdlib's (OpenSSL) context, and its setters do
    # not recurse through the injected name either (Python 3.13's
    # create_default_context sets verify_flags on it).
    for server in (
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER),
    ):
        assert isinstance(server, ORIGINAL) and not isinstance(server, sch_ssl.SSLContext)
        server.options |= ssl.OP_NO_COMPRESSION
        assert server.options & ssl.OP_NO_COMPRESSION
        server.verify_flags |= ssl.VERIFY_X509_STRICT
        assert server.verify_flags & ssl.VERIFY_X509_STRICT
        server.minimum_version = ssl.TLSVersion.TLSv1_2
        server.maximum_version = ssl.TLSVersion.TLSv1_3
        assert server.minimum_version == ssl.TLSVersion.TLSv1_2
        server.verify_mode = ssl.CERT_OPTIONAL
        assert server.verify_mode == ssl.CERT_OPTIONAL
        server._msg_callback = None  # type: ignore[attr-defined]
        assert server._msg_callback is None  # type: ignore[attr-defined]
    sch_ssl.inject_into_ssl()  # again: nothing changes
    assert ssl.SSLContext is sch_ssl.SSLContext


def test_extract_restores_exactly() -> None:
    sch_ssl.inject_into_ssl()
    sch_ssl.extract_from_ssl()
    assert ssl.SSLContext is ORIGINAL
    assert type(ssl.create_default_context()) is ORIGINAL
    sch_ssl.extract_from_ssl()  # without inject: no effect
    assert ssl.SSLContext is ORIGINAL
    # Explicit server contexts of the package stay refused when not injected.
    with pytest.raises(ValueError):
        sch_ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)


def test_inject_refuses_another_injection(monkeypatch: pytest.MonkeyPatch) -> None:
    class Other(ORIGINAL):
        pass

    monkeypatch.setattr(ssl, "SSLContext", Other)
    with pytest.raises(RuntimeError, match="already replaced"):
        sch_ssl.inject_into_ssl()
    assert ssl.SSLContext is Other


def fetch_with_default_context(port: int, cafile: str) -> tuple[bytes, list[str]]:
    """urllib with the context ``ssl.create_default_context()`` builds; the SSPI calls seen."""
    calls: list[str] = []
    with observe.add_observer(lambda call: calls.append(call.function)):
        ctx = ssl.create_default_context(cafile=cafile)
        with urllib.request.urlopen(f"https://localhost:{port}/", context=ctx, timeout=10) as r:
            body: bytes = r.read()
    return body, calls


def test_urlopen_runs_on_schannel_only_while_injected(pki: peers.ServerPki) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), naccept=2, www=True) as srv:
        sch_ssl.inject_into_ssl()
        try:
            body, calls = fetch_with_default_context(srv.port, str(pki.root_ca))
        finally:
            sch_ssl.extract_from_ssl()
        assert b"Protocol  : TLSv1.3" in body
        assert "InitializeSecurityContext" in calls
        assert "DecryptMessage" in calls and "EncryptMessage" in calls
        body, calls = fetch_with_default_context(srv.port, str(pki.root_ca))
        assert b"Protocol  : TLSv1.3" in body
        assert calls == []


def test_http_client_default_context_while_injected(
    pki: peers.ServerPki, injected: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http.client without a context: ssl._create_default_https_context() builds ours,
    which trusts the ROOT store (here the test root through SCHANNEL_PY_ROOT_CERTS)."""
    monkeypatch.setenv("SCHANNEL_PY_ROOT_CERTS", str(pki.root_ca))  # re-read at every open
    with peers.OpenSSLServer(**pki.rsa.server_kwargs(), www=True) as srv:
        conn = http.client.HTTPSConnection("localhost", srv.port, timeout=10)
        conn.request("GET", "/")
        assert type(conn.sock) is ssl.SSLSocket
        assert type(conn.sock.context) is sch_ssl.SSLContext
        response = conn.getresponse()
        assert response.status == 200
        response.read()
        conn.close()
