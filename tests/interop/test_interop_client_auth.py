"""Client certificates against real peers, through the curl-style SSPI loop."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from schannel_py.testing import acquire_credential
from schannel_py.testing.pki import make_ca, make_leaf
from tests.support import peers
from tests.support.clientauth import client_certificate

pytestmark = pytest.mark.interop
KEY_TYPES = ["p256", "p384", "rsa2048", "ed25519"]


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_openssl_requires_and_verifies_client_certificate(
    pki: peers.ServerPki, root_certs_env: Path, key_type: str, tls13: bool
) -> None:
    issued, cert = client_certificate(pki, key_type)
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=tls13,
        tls12=not tls13,
        verify_client=True,
        client_ca_file=pki.root_ca,
    ) as srv:
        s = stream.connect(
            "127.0.0.1",
            srv.port,
            target="localhost",
            cred=acquire_credential(certificate=cert, schannel_cred=not tls13),
        )
        try:
            s.send(b"authenticated hello\n")
            srv.wait_for_output("authenticated hello")
            out = srv.output()
            assert f"CN = client-{key_type}" in out or f"CN=client-{key_type}" in out
            s.shutdown()
        finally:
            s.close()


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_gnutls_requires_client_certificate(
    pki: peers.ServerPki, root_certs_env: Path, tls13: bool
) -> None:
    _, cert = client_certificate(pki, "p256")
    prio = peers.gnutls_only(tls13)
    with peers.GnuTLSServer(
        **pki.ecdsa.server_kwargs(), priority=prio, verify_client=True, client_ca_file=pki.root_ca
    ) as srv:
        s = stream.connect(
            "127.0.0.1",
            srv.port,
            target="localhost",
            cred=acquire_credential(certificate=cert, schannel_cred=not tls13),
        )
        try:
            s.send(b"echo me\n")
            got = b""
            while b"\n" not in got:
                got += s.recv()
            assert got == b"echo me\n"
        finally:
            s.close()


def test_server_rejecting_the_certificate_maps_the_alert(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """A client certificate from a CA the server does not trust: unknown_ca -> SEC_E_UNTRUSTED_ROOT."""
    other_ca = make_ca("Other client CA")
    stranger = make_leaf(other_ca, dns_names=(), common_name="stranger", eku=("clientAuth",))
    from schannel_py import crypt32

    store = crypt32.PFXImportCertStore(stranger.to_pkcs12(b"x"), "x", 0)
    assert store is not None
    cert = next(c for c in store if c.private_key is not None)
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=False, verify_client=True, client_ca_file=pki.root_ca
    ) as srv:
        with pytest.raises(stream.SChannelError) as err:
            s = stream.connect(
                "127.0.0.1",
                srv.port,
                target="localhost",
                cred=acquire_credential(certificate=cert, schannel_cred=True),
            )
            s.recv()
        assert err.value.status == sc.SEC_E_UNTRUSTED_ROOT


def test_openssl_post_handshake_auth(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """s_server's `c` command sends a TLS 1.3 post-handshake CertificateRequest."""
    issued, cert = client_certificate(pki, "p256")
    args = ["-verify", "4", "-CAfile", str(pki.root_ca)]
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False, extra_args=args) as srv:
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=acquire_credential(certificate=cert)
        )
        try:
            s.send(b"before\n")
            srv.wait_for_output("before")
            srv._command("c", 5.0)
            srv.send_line("after")
            got = b""
            while b"after\n" not in got:
                got += s.recv()
            s.send(b"client-after\n")
            srv.wait_for_output("client-after")
            assert "client-p256" in srv.output()
        finally:
            s.close()


def test_python_post_handshake_auth_over_sockets(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    issued, cert = client_certificate(pki, "rsa2048")
    seen: list[bytes | None] = []

    def handler(conn: ssl.SSLSocket, record: peers.ConnectionRecord) -> None:
        conn.recv(100)
        conn.verify_client_post_handshake()
        conn.sendall(b"please authenticate\n")
        conn.recv(100)
        seen.append(conn.getpeercert(binary_form=True))
        conn.sendall(b"thanks\n")

    with peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), verify_client=True, client_ca_file=pki.root_ca, handler=handler
    ) as srv:
        srv_ctx = getattr(srv, "context", None)
        if srv_ctx is not None:
            srv_ctx.post_handshake_auth = True
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=acquire_credential(certificate=cert)
        )
        try:
            s.send(b"hello\n")
            assert s.recv().startswith(b"please")
            s.send(b"ok\n")
            assert s.recv() == b"thanks\n"
        finally:
            s.close()
    assert seen == [issued.der]


def test_issuer_list_and_my_store_selection_with_openssl(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """openssl names the acceptable CAs; only a "MY" certificate under them is picked automatically."""
    from schannel_py import crypt32

    other_ca = make_ca("Unlisted CA")
    stranger = make_leaf(other_ca, dns_names=(), common_name="stranger", eku=("clientAuth",))
    store = crypt32.PFXImportCertStore(stranger.to_pkcs12(b"x"), "x", 0)
    assert store is not None
    my = crypt32.CertOpenSystemStore(None, "MY")
    for c in store:
        if c.private_key is not None:
            assert crypt32.CertAddCertificateContextToStore(
                my, c, crypt32.CERT_STORE_ADD_REPLACE_EXISTING, None
            )
    req = stream.CURL_REQ_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS
    seen: list[object] = []
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=False, verify_client=True, client_ca_file=pki.root_ca
    ) as srv:
        # Nothing suitable in "MY": SEC_I_INCOMPLETE_CREDENTIALS; the driver (like curl) adds
        # USE_SUPPLIED_CREDS and re-feeds the same bytes; the server then refuses an empty Certificate.
        with pytest.raises(stream.SChannelError) as err:
            s = stream.connect(
                "127.0.0.1",
                srv.port,
                target="localhost",
                cred=acquire_credential(schannel_cred=True),
                req_flags=req,
                tracer=lambda e, d: seen.append(d.get("status")),
            )
            s.recv()
    assert sc.SEC_I_INCOMPLETE_CREDENTIALS in seen
    assert err.value.status == sc.SEC_E_ILLEGAL_MESSAGE  # handshake_failure from the server
    # With a certificate under the listed root in "MY", the same call succeeds unaided.
    _, cert = client_certificate(pki, "p384")
    ca = crypt32.CertOpenSystemStore(None, "CA")
    inter = pki.intermediate.der
    crypt32.CertAddEncodedCertificateToStore(
        ca, crypt32.X509_ASN_ENCODING, inter, len(inter), crypt32.CERT_STORE_ADD_USE_EXISTING, None
    )
    assert crypt32.CertAddCertificateContextToStore(
        my, cert, crypt32.CERT_STORE_ADD_REPLACE_EXISTING, None
    )
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=False, verify_client=True, client_ca_file=pki.root_ca
    ) as srv:
        s = stream.connect(
            "127.0.0.1",
            srv.port,
            target="localhost",
            cred=acquire_credential(schannel_cred=True),
            req_flags=req,
        )
        try:
            issuers = sc.SecPkgContext_IssuerListInfoEx()
            assert (
                sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_ISSUER_LIST_EX, issuers)
                == sc.SEC_E_OK
            )
            assert pki.root.cert.subject.public_bytes() in issuers.aIssuers
            s.send(b"picked\n")
            srv.wait_for_output("picked")
            assert "client-p384" in srv.output()
        finally:
            s.close()
