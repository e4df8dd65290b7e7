"""OCSP stapling against real servers on loopback, through the curl-style SSPI loop.

The OCSP responses are real ones for the test PKI's ECDSA leaf, signed by its issuer
(the intermediate CA): "good" from cryptography's OCSP builder, "revoked" from
``openssl ocsp`` answering a request out of an index file.  ``openssl s_server
-status_file`` staples a response when the ClientHello asks (status_request), in a
CertificateStatus message under TLS 1.2 and in the leaf's CertificateEntry under TLS 1.3;
``gnutls-serv --ocsp-response`` likewise.  A credential with a
SCH_CRED_REVOCATION_CHECK_* flag asks; the stapled bytes are then the server
certificate's CERT_OCSP_RESPONSE_PROP_ID (70), byte for byte, on the first connection
and on a resumed one (the session keeps them).  Without a CHECK flag the server is not
asked (s_server's ``-status_verbose`` says when it is) and there is no property 70.

Manual validation keeps the chain check (and, once the revocation engine is in, the
revocation verdict) out of these tests: what they check is the transport of the staple.
"""

from __future__ import annotations

import datetime
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

import schannel_py as sc
from schannel_py import crypt32, stream
from schannel_py.driver import SspiError
from schannel_py.testing import acquire_credential
from tests.support import peers

pytestmark = pytest.mark.interop

IO_TIMEOUT = 5.0
GET = b"GET / HTTP/1.0\r\n\r\n"
#: s_server -status_verbose prints this when a ClientHello asks for a staple.
ASKED = "cert_status: callback called"
MANUAL = sc.SCH_CRED_MANUAL_CRED_VALIDATION
END_CERT = sc.SCH_CRED_REVOCATION_CHECK_END_CERT


@dataclass
class Responses:
    good: Path
    revoked: Path


@pytest.fixture(scope="module")
def responses(pki: peers.ServerPki, tmp_path_factory: pytest.TempPathFactory) -> Responses:
    """A good and a revoked OCSP response for ``pki.ecdsa``'s leaf, as DER files."""
    directory = tmp_path_factory.mktemp("ocsp")
    leaf, issuer = pki.ecdsa.issued, pki.intermediate
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    good = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf.cert,
            issuer=issuer.cert,
            algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now - datetime.timedelta(hours=1),
            next_update=now + datetime.timedelta(days=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert)
        .sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    good_file = directory / "good.der"
    good_file.write_bytes(good.public_bytes(serialization.Encoding.DER))

    openssl = peers.require_tool("openssl")
    (directory / "issuer.pem").write_bytes(issuer.pem)
    (directory / "issuer.key").write_bytes(issuer.key_pem)
    (directory / "leaf.pem").write_bytes(leaf.pem)
    expiry = leaf.cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    serial = format(leaf.cert.serial_number, "X")
    (directory / "index.txt").write_text(
        f"R\t{expiry}\t240101000000Z,keyCompromise\t{serial}\tunknown\t/CN=localhost\n"
    )

    def run(*args: str) -> None:
        subprocess.run([openssl, "ocsp", *args], cwd=directory, check=True, capture_output=True)

    run("-issuer", "issuer.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der")
    run(
        "-index", "index.txt", "-CA", "issuer.pem", "-rsigner", "issuer.pem",
        "-rkey", "issuer.key", "-reqin", "req.der", "-respout", "revoked.der", "-ndays", "1",
    )  # fmt: skip
    revoked = ocsp.load_der_ocsp_response((directory / "revoked.der").read_bytes())
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.serial_number == leaf.cert.serial_number
    return Responses(good_file, directory / "revoked.der")


def staple_property(s: stream.SChannelStream) -> bytes | None:
    """CERT_OCSP_RESPONSE_PROP_ID of the server's certificate (C's two calls), or None."""
    leaf = sc.ULONG()
    assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, leaf) == 0
    size = crypt32.DWORD()
    prop = crypt32.CERT_OCSP_RESPONSE_PROP_ID
    if not crypt32.CertGetCertificateContextProperty(leaf.value, prop, None, size):
        assert crypt32.GetLastError() == sc.CRYPT_E_NOT_FOUND
        return None
    buf = bytearray(size.value)
    assert crypt32.CertGetCertificateContextProperty(leaf.value, prop, buf, size)
    return bytes(buf)


@dataclass
class Visit:
    staple: bytes | None
    resumed: bool
    version: int


def visit(
    port: int, cred: sc.CredHandle, request: bytes = GET, marker: bytes = b"</HTML>"
) -> Visit:
    """Connect, GET the s_server -www page (or an echo), read it whole (TLS 1.3 tickets
    with it), then report the staple property and whether the session was resumed."""
    s = stream.connect("127.0.0.1", port, target="localhost", cred=cred, timeout=IO_TIMEOUT)
    try:
        s.send(request)
        data = b""
        while marker not in data:
            chunk = s.recv()
            assert chunk, data[-300:]
            data += chunk
        info = sc.SecPkgContext_SessionInfo()
        assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_SESSION_INFO, info) == 0
        conn = sc.SecPkgContext_ConnectionInfo()
        assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, conn) == 0
        return Visit(
            staple_property(s),
            bool(info.dwFlags & sc.SSL_SESSION_RECONNECT),
            conn.dwProtocol,
        )
    finally:
        s.close()
        s.sock.close()


VERSIONS = {"tls13": sc.SP_PROT_TLS1_3_CLIENT, "tls12": sc.SP_PROT_TLS1_2_CLIENT}


@pytest.mark.parametrize("which", ["good", "revoked"])
@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_openssl_staple_is_property_70(
    pki: peers.ServerPki, responses: Responses, version: str, which: str
) -> None:
    """END_CERT asks, s_server staples; the property holds the file's bytes, on the first
    connection and on the resumed one (from the session: a resumption has no Certificate)."""
    der_file = getattr(responses, which)
    expected = der_file.read_bytes()
    extra = ["-status_file", str(der_file), "-status_verbose"]
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        www=True,
        tls13=version == "tls13",
        tls12=version == "tls12",
        extra_args=extra,
    ) as srv:
        cred = acquire_credential(flags=MANUAL | END_CERT)
        try:
            first = visit(srv.port, cred)
            again = visit(srv.port, cred)
        finally:
            sc.FreeCredentialsHandle(cred)
        # The first ClientHello asked (s_server does not call its status callback when it
        # resumes a session: it sends no Certificate then).
        assert ASKED in srv.output()
    assert first.version == again.version == VERSIONS[version]
    assert first.staple == expected and not first.resumed
    assert again.resumed and again.staple == expected


@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_openssl_no_check_flag_no_request(
    pki: peers.ServerPki, responses: Responses, version: str
) -> None:
    """Without a CHECK flag (curl --ssl-no-revoke's IGNORE flags only) nothing is asked:
    s_server's status callback never runs and there is no property 70."""
    extra = ["-status_file", str(responses.good), "-status_verbose"]
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        www=True,
        tls13=version == "tls13",
        tls12=version == "tls12",
        extra_args=extra,
    ) as srv:
        ignore = sc.SCH_CRED_IGNORE_NO_REVOCATION_CHECK | sc.SCH_CRED_IGNORE_REVOCATION_OFFLINE
        cred = acquire_credential(flags=MANUAL | ignore)
        try:
            got = visit(srv.port, cred)
        finally:
            sc.FreeCredentialsHandle(cred)
        assert ASKED not in srv.output()
    assert got.staple is None and got.version == VERSIONS[version]


@pytest.mark.parametrize("which", ["good", "revoked"])
@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_openssl_staple_with_automatic_validation(
    pki: peers.ServerPki, root_certs_env: Path, responses: Responses, version: str, which: str
) -> None:
    """curl-style automatic validation with a CHECK flag (_END_CERT) and a staple; the leaf
    names no CRL or OCSP server, so the staple decides (issue 22's table).  Good: SEC_E_OK
    and the staple kept.  Revoked: ISC fails with CRYPT_E_REVOKED, and the server is told
    with a certificate_revoked alert where the record is readable (TLS 1.2)."""
    staple = responses.good if which == "good" else responses.revoked
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        www=True,
        tls13=version == "tls13",
        tls12=version == "tls12",
        extra_args=["-status_file", str(staple)],
    ) as srv:
        cred = acquire_credential(flags=END_CERT)
        try:
            if which == "good":
                assert visit(srv.port, cred).staple == staple.read_bytes()
            else:
                with pytest.raises(SspiError) as failed:
                    visit(srv.port, cred)
                assert failed.value.status == sc.CRYPT_E_REVOKED
        finally:
            sc.FreeCredentialsHandle(cred)
        if which == "revoked" and version == "tls12":
            srv.wait_for_output("certificate revoked", start=srv.ready_offset)


@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_gnutls_staple_is_property_70(
    pki: peers.ServerPki, responses: Responses, version: str
) -> None:
    """gnutls-serv --ocsp-response: the same bytes arrive (TLS 1.3: in the leaf's
    CertificateEntry; TLS 1.2: CertificateStatus)."""
    priority = (
        "NORMAL:-VERS-ALL:+VERS-TLS1.3" if version == "tls13" else "NORMAL:-VERS-ALL:+VERS-TLS1.2"
    )
    with peers.GnuTLSServer(
        **pki.ecdsa.server_kwargs(),
        priority=priority,
        echo=True,
        extra_args=[f"--ocsp-response={responses.good}"],
    ) as srv:
        cred = acquire_credential(flags=MANUAL | sc.SCH_CRED_REVOCATION_CHECK_CHAIN)
        try:
            got = visit(srv.port, cred, request=b"staple\n", marker=b"staple\n")
        finally:
            sc.FreeCredentialsHandle(cred)
    assert got.version == VERSIONS[version]
    assert got.staple == responses.good.read_bytes()
