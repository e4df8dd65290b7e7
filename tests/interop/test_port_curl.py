"""curl's SChannel backend with ``--cacert`` and ``--ciphers``, ported call for call.

Sources (curl/curl @5c61e168, fetched mirror):

* lib/vtls/schannel.c: ``schannel_acquire_credential_handle`` and
  ``acquire_sspi_handle`` (the credential), ``set_ssl_ciphers`` and
  ``get_alg_id_by_name`` (``--ciphers``), ``schannel_connect_step1`` (the ISC
  request flags), ``schannel_connect_step3`` (manual validation after the
  handshake);
* lib/vtls/schannel_verify.c: ``Curl_verify_certificate`` (the exclusive chain
  engine over the CA file), ``add_certs_file_to_store`` /
  ``add_certs_data_to_store`` (the CA file through CryptQueryObject),
  ``Curl_verify_host``, ``get_alt_name_info`` and ``cert_get_name_string``
  (the host check over every SAN, IP addresses included);
* lib/vtls/hostcheck.c: ``Curl_cert_hostcheck`` / ``hostmatch``.

The CA-file loader and the host check are ported once, in tests/support/curl_port.py
(with :class:`CurlError`), and shared with the crypt32 tests.

The handshake loop itself (``schannel_connect_step2``) is the package's
reference caller, :class:`schannel_py.stream.SChannelStream` (schannel_py/driver.py
is curl's loop, with curl's check that the returned flags equal the request).
Everything curl does around it is written out here, against ``openssl s_server``
and ``gnutls-serv`` on 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import schannel_py as sc
from schannel_py import crypt32 as c
from schannel_py import stream
from schannel_py.testing.pki import Issued, make_leaf
from tests.support import peers
from tests.support.curl_port import (
    END_CERT,
    CurlError,
    add_certs_file_to_store,
    curl_verify_host,
    hostmatch,
    remote_cert_context,
)

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("isolated_stores")]

IO_TIMEOUT = 10.0

# --- the credential (lib/vtls/schannel.c) ---------------------------------------------------

#: set_ssl_ciphers' table: the CALG_* names curl accepts (those the package defines).
CURL_ALG_NAMES = (
    "CALG_MD5",
    "CALG_SHA",
    "CALG_SHA1",
    "CALG_RSA_SIGN",
    "CALG_RSA_KEYX",
    "CALG_DES",
    "CALG_3DES",
    "CALG_RC2",
    "CALG_RC4",
    "CALG_DH_EPHEM",
    "CALG_TLS1_MASTER",
    "CALG_AES_128",
    "CALG_AES_192",
    "CALG_AES_256",
    "CALG_AES",
    "CALG_SHA_256",
    "CALG_SHA_384",
    "CALG_SHA_512",
    "CALG_ECDH",
    "CALG_ECDSA",
    "CALG_ECDH_EPHEM",
)
NUM_CIPHERS = 47


def get_alg_id_by_name(name: str) -> int:
    """schannel.c ``get_alg_id_by_name``: the name up to ':' looked up, 0 if unknown."""
    name = name.split(":", 1)[0]
    if name in CURL_ALG_NAMES and hasattr(sc, name):
        return int(getattr(sc, name))
    return 0


def set_ssl_ciphers(cred: sc.SCHANNEL_CRED, ciphers: str) -> None:
    """schannel.c ``set_ssl_ciphers``: ':'-separated ALG_ID numbers or CALG_* names
    into ``palgSupportedAlgs``; ``USE_STRONG_CRYPTO`` / ``SCH_USE_STRONG_CRYPTO``
    set the flag; anything else is CURLE_SSL_CIPHER."""
    alg_ids: list[int] = []
    for token in ciphers.split(":"):
        if not token or len(alg_ids) >= NUM_CIPHERS:
            break
        alg = int(token) if token.isdigit() else 0  # curlx_str_number
        if not alg:
            alg = get_alg_id_by_name(token)
        if alg:
            alg_ids.append(alg)
        elif token.startswith(("USE_STRONG_CRYPTO", "SCH_USE_STRONG_CRYPTO")):
            cred.dwFlags |= sc.SCH_USE_STRONG_CRYPTO
        else:
            raise CurlError("CURLE_SSL_CIPHER", "Failed setting algorithm cipher list")
    cred.palgSupportedAlgs = alg_ids
    cred.cSupportedAlgs = len(alg_ids)


def curl_credential(
    *, cacert: bool, no_revoke: bool, ciphers: str | None = None, best_effort: bool = False
) -> sc.CredHandle:
    """schannel.c ``schannel_acquire_credential_handle`` + ``acquire_sspi_handle`` for
    ``curl [--cacert FILE] [--ssl-no-revoke] [--ciphers LIST]`` on Windows >= 20348:
    verifypeer on, verifyhost on, no automatic client certificate, TLS 1.2-1.3."""
    # use_manual_cred_validation is set by schannel_connect_step1 when a CA file is given.
    flags = sc.SCH_CRED_MANUAL_CRED_VALIDATION if cacert else sc.SCH_CRED_AUTO_CRED_VALIDATION
    if no_revoke:
        flags |= sc.SCH_CRED_IGNORE_NO_REVOCATION_CHECK | sc.SCH_CRED_IGNORE_REVOCATION_OFFLINE
    else:
        flags |= sc.SCH_CRED_REVOCATION_CHECK_CHAIN
        if best_effort:  # --ssl-revoke-best-effort
            flags |= sc.SCH_CRED_IGNORE_NO_REVOCATION_CHECK | sc.SCH_CRED_IGNORE_REVOCATION_OFFLINE
    flags &= ~sc.SCH_CRED_USE_DEFAULT_CREDS  # !auto_client_cert
    flags |= sc.SCH_CRED_NO_DEFAULT_CREDS
    enabled_protocols = sc.SP_PROT_TLS1_2_CLIENT | sc.SP_PROT_TLS1_3_CLIENT
    auth: sc.SCH_CREDENTIALS | sc.SCHANNEL_CRED
    if ciphers is None:
        # No cipher list: SCH_CREDENTIALS with one TLS_PARAMETERS whose
        # pDisabledCrypto points at one zeroed CRYPTO_SETTINGS, cDisabledCrypto 0.
        params = sc.TLS_PARAMETERS(
            grbitDisabledProtocols=~enabled_protocols & 0xFFFFFFFF,
            cDisabledCrypto=0,
            pDisabledCrypto=[sc.CRYPTO_SETTINGS()],
        )
        auth = sc.SCH_CREDENTIALS(
            dwVersion=sc.SCH_CREDENTIALS_VERSION,
            dwFlags=flags | sc.SCH_USE_STRONG_CRYPTO,
            cTlsParameters=1,
            pTlsParameters=[params],
        )
    else:
        # A cipher list: SCHANNEL_CRED (Schannel then negotiates TLS 1.2 at most).
        auth = sc.SCHANNEL_CRED(
            dwVersion=sc.SCHANNEL_CRED_VERSION,
            dwFlags=flags,
            grbitEnabledProtocols=enabled_protocols,
        )
        set_ssl_ciphers(auth, ciphers)
    handle = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, handle, None
    )
    if status != sc.SEC_E_OK:
        raise CurlError("CURLE_SSL_CONNECT_ERROR", f"AcquireCredentialsHandle failed: {status!r}")
    return handle


# --- Curl_verify_certificate (lib/vtls/schannel_verify.c) ------------------------------------

#: sizeof(struct cert_chain_engine_config_win8) / _win7 on x64 (curl's own structures).
ENGINE_CONFIG_WIN8_SIZE = 88
ENGINE_CONFIG_WIN7_SIZE = 80


def curl_verify_certificate(
    ctx: sc.CtxtHandle,
    ca_file: Path,
    conn_hostname: str,
    *,
    no_revoke: bool,
    no_partialchain: bool = False,
) -> None:
    """``Curl_verify_certificate`` with a CA file and manual validation: an exclusive chain
    engine over a memory store of the file, CertGetCertificateChain with the server's
    store as hAdditionalStore, the simple chain's dwErrorStatus (less NOT_TIME_NESTED),
    then ``Curl_verify_host``."""
    server = remote_cert_context(ctx)
    trust_store = c.CertOpenStore(
        c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None
    )
    assert trust_store is not None
    add_certs_file_to_store(trust_store, ca_file)
    engine_config = c.CERT_CHAIN_ENGINE_CONFIG(cbSize=0, hExclusiveRoot=trust_store)
    if not no_partialchain:  # Windows 8+: partial chains to a CA of the file are trusted
        engine_config.cbSize = ENGINE_CONFIG_WIN8_SIZE
        engine_config.dwExclusiveFlags = c.CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG
    else:
        engine_config.cbSize = ENGINE_CONFIG_WIN7_SIZE
    engine = c.HCERTCHAINENGINE()
    if not c.CertCreateCertificateChainEngine(engine_config, engine):
        raise CurlError("CURLE_SSL_CACERT_BADFILE", "failed to create certificate chain engine")
    chain = c.PCCERT_CHAIN_CONTEXT()
    try:
        chain_para = c.CERT_CHAIN_PARA()
        chain_para.RequestedUsage.dwType = c.USAGE_MATCH_TYPE_AND
        chain_para.RequestedUsage.Usage.cUsageIdentifier = 1
        chain_para.RequestedUsage.Usage.rgpszUsageIdentifier = [c.szOID_PKIX_KP_SERVER_AUTH]
        if not c.CertGetCertificateChain(
            engine,
            server,
            None,
            server.hCertStore,
            chain_para,
            0 if no_revoke else c.CERT_CHAIN_REVOCATION_CHECK_CHAIN,
            None,
            chain,
        ):
            raise CurlError("CURLE_PEER_FAILED_VERIFICATION", "failed to get the chain")
        assert chain.value is not None
        simple = chain.value.rgpChain[0]
        mask = ~c.CERT_TRUST_IS_NOT_TIME_NESTED & simple.TrustStatus.dwErrorStatus
        if mask:
            raise CurlError("CURLE_PEER_FAILED_VERIFICATION", trust_error_text(mask))
    finally:
        c.CertFreeCertificateChainEngine(engine)
        c.CertCloseStore(trust_store, 0)
        if chain.value is not None:
            c.CertFreeCertificateChain(chain.value)
        c.CertFreeCertificateContext(server)
    curl_verify_host(ctx, conn_hostname)  # conn_config->verifyhost


def trust_error_text(mask: int) -> str:
    """The failf() text Curl_verify_certificate picks, in its order."""
    if mask & c.CERT_TRUST_IS_REVOKED:
        return "trust for this certificate or one of the certificates in the chain has been revoked"
    if mask & c.CERT_TRUST_IS_PARTIAL_CHAIN:
        return "the certificate chain is incomplete"
    if mask & c.CERT_TRUST_IS_UNTRUSTED_ROOT:
        return "the certificate or certificate chain is based on an untrusted root"
    if mask & c.CERT_TRUST_IS_NOT_TIME_VALID:
        return "this certificate or one of the certificates in the chain is not time valid"
    if mask & c.CERT_TRUST_REVOCATION_STATUS_UNKNOWN:
        return "the revocation status is unknown"
    return f"error 0x{mask:08x}"


# --- one curl transfer ----------------------------------------------------------------------


@dataclass
class Transfer:
    """What a completed ``curl`` run saw."""

    cipher_suite: int
    protocol: int
    alpn: bytes | None


def curl(
    port: int,
    hostname: str,
    *,
    cacert: Path,
    no_revoke: bool = True,
    no_partialchain: bool = False,
    ciphers: str | None = None,
    echo: Callable[[stream.SChannelStream], None],
) -> Transfer:
    """``curl --cacert FILE [--ssl-no-revoke] [--ciphers LIST] https://HOSTNAME:PORT/``:
    step1 (credential, first ISC), step2 (the loop), step3 (manual validation), one
    exchange, then schannel_shutdown."""
    cred = curl_credential(cacert=True, no_revoke=no_revoke, ciphers=ciphers)
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    # cred->sni_hostname is the URL's host name, an IP literal too.
    s = stream.SChannelStream(sock, hostname, cred, alpn=[b"http/1.1"])
    try:
        s.handshake()
        curl_verify_certificate(
            s.ctx, cacert, hostname, no_revoke=no_revoke, no_partialchain=no_partialchain
        )
        info = sc.SecPkgContext_CipherInfo()
        assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_CIPHER_INFO, info) == sc.SEC_E_OK
        conn = sc.SecPkgContext_ConnectionInfo()
        assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, conn) == sc.SEC_E_OK
        transfer = Transfer(info.dwCipherSuite, conn.dwProtocol, s.negotiated_alpn())
        echo(s)
        s.shutdown()
        return transfer
    finally:
        s.close()
        sock.close()
        sc.FreeCredentialsHandle(cred)


# --- the peers --------------------------------------------------------------------------------


@dataclass
class Peer:
    """How to start one kind of server and see that our bytes reached it."""

    name: str
    start: Callable[..., AbstractContextManager[Any]]
    echo: Callable[[Any], Callable[[stream.SChannelStream], None]]


#: One line of application data (gnutls-serv --echo rewrites CRLFs, so no HTTP request).
LINE = b"curl-port line\n"


def _openssl_echo(srv: peers.OpenSSLServer) -> Callable[[stream.SChannelStream], None]:
    def run(s: stream.SChannelStream) -> None:
        s.send(LINE)
        srv.wait_for_output("curl-port line")

    return run


def _gnutls_echo(srv: peers.GnuTLSServer) -> Callable[[stream.SChannelStream], None]:
    def run(s: stream.SChannelStream) -> None:
        s.send(LINE)
        got = b""
        while not got.endswith(b"\n"):
            chunk = s.recv()
            assert chunk, "gnutls-serv closed before echoing"
            got += chunk
        assert got == LINE

    return run


def _openssl(cert: peers.ServerCert, *, aes256_only: bool = False) -> peers.OpenSSLServer:
    if aes256_only:  # TLS 1.2, one suite
        return peers.OpenSSLServer(
            **cert.server_kwargs(), tls13=False, cipher=peers.OPENSSL_AES256_GCM_ONLY
        )
    return peers.OpenSSLServer(**cert.server_kwargs())


def _gnutls(cert: peers.ServerCert, *, aes256_only: bool = False) -> peers.GnuTLSServer:
    if aes256_only:
        return peers.GnuTLSServer(**cert.server_kwargs(), priority=peers.GNUTLS_AES256_GCM_ONLY)
    return peers.GnuTLSServer(**cert.server_kwargs())


PEERS = {
    "openssl": Peer("openssl s_server", _openssl, _openssl_echo),
    "gnutls": Peer("gnutls-serv", _gnutls, _gnutls_echo),
}


@pytest.fixture(params=sorted(PEERS))
def peer(request: pytest.FixtureRequest) -> Peer:
    return PEERS[request.param]


@pytest.fixture(scope="module")
def second_san(pki: peers.ServerPki, tmp_path_factory: pytest.TempPathFactory) -> peers.ServerCert:
    """A leaf whose SANs are www.example.com then localhost (no IP), under the test root."""
    issued = make_leaf(pki.intermediate, dns_names=("www.example.com", "localhost"))
    paths = issued.write(tmp_path_factory.mktemp("second-san"), "second-san-")
    return peers.ServerCert(paths.cert, paths.key, paths.chain, paths.fullchain, issued)


@pytest.fixture
def intermediate_only_ca(pki: peers.ServerPki, tmp_path: Path) -> Path:
    path = tmp_path / "intermediate.pem"
    path.write_bytes(pki.intermediate.pem)
    return path


def run(peer: Peer, cert: peers.ServerCert, hostname: str, cacert: Path, **kw: Any) -> Transfer:
    aes256_only = kw.pop("aes256_only", False)
    with peer.start(cert, aes256_only=aes256_only) as srv:
        return curl(srv.port, hostname, cacert=cacert, echo=peer.echo(srv), **kw)


def failure(peer: Peer, cert: peers.ServerCert, hostname: str, cacert: Path, **kw: Any) -> str:
    with pytest.raises(CurlError) as err:
        run(peer, cert, hostname, cacert, **kw)
    assert err.value.code == "CURLE_PEER_FAILED_VERIFICATION", err.value
    return err.value.text


def root_store_trusts(issued: Issued) -> None:
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    der = issued.der
    assert c.CertAddEncodedCertificateToStore(
        root, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, None
    )


# --- --cacert ---------------------------------------------------------------------------------


def test_cacert_trusts_the_server(peer: Peer, pki: peers.ServerPki) -> None:
    # Nothing in "ROOT": only the CA file makes the chain trusted.
    transfer = run(peer, pki.ecdsa, "localhost", pki.root_ca)
    assert transfer.protocol == sc.SP_PROT_TLS1_3_CLIENT
    assert transfer.alpn is None or transfer.alpn == b"http/1.1"


def test_cacert_with_revocation_checking_flags(peer: Peer, pki: peers.ServerPki) -> None:
    # curl's default: SCH_CRED_REVOCATION_CHECK_CHAIN and CERT_CHAIN_REVOCATION_CHECK_CHAIN.
    # The test PKI names no CDP and no OCSP responder, so the chain engine sets
    # CERT_TRUST_REVOCATION_STATUS_UNKNOWN and curl fails, as on Windows with a
    # private CA (curl#12239); --ssl-no-revoke passes (test_cacert_trusts_the_server).
    text = failure(peer, pki.ecdsa, "localhost", pki.root_ca, no_revoke=False)
    assert text == "the revocation status is unknown"


def curl_default_handshake(port: int, cred: sc.CredHandle) -> int:
    """``curl https://localhost:PORT/`` with automatic validation: ISC's final status."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    s = stream.SChannelStream(sock, "localhost", cred, alpn=[b"http/1.1"])
    try:
        s.handshake()
        return sc.SEC_E_OK
    except stream.SChannelError as e:
        return int(e.status)
    finally:
        s.close()
        sock.close()
        sc.FreeCredentialsHandle(cred)


@pytest.mark.usefixtures("isolated_stores")
def test_default_flags_against_a_private_ca_without_revocation_information(
    pki: peers.ServerPki,
) -> None:
    # The "done when" of issue 22: curl's default credential (AUTO_CRED_VALIDATION |
    # REVOCATION_CHECK_CHAIN), the private root trusted in "ROOT", a chain naming no
    # CDP and no OCSP responder: ISC fails with CRYPT_E_NO_REVOCATION_CHECK, the error
    # curl users meet on Windows ("next InitializeSecurityContext failed:
    # CRYPT_E_NO_REVOCATION_CHECK (0x80092012)"); IGNORE_NO_REVOCATION_CHECK lets it pass.
    root_store_trusts(pki.root)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        cred = curl_credential(cacert=False, no_revoke=False)
        assert curl_default_handshake(srv.port, cred) == sc.CRYPT_E_NO_REVOCATION_CHECK
        # --ssl-revoke-best-effort: CHECK_CHAIN plus both IGNORE flags.
        cred = curl_credential(cacert=False, no_revoke=False, best_effort=True)
        assert curl_default_handshake(srv.port, cred) == sc.SEC_E_OK
        # --ssl-no-revoke: no CHECK flag at all.
        cred = curl_credential(cacert=False, no_revoke=True)
        assert curl_default_handshake(srv.port, cred) == sc.SEC_E_OK


def test_root_store_ca_not_in_the_file_is_not_trusted(peer: Peer, pki: peers.ServerPki) -> None:
    # The server's root is in "ROOT", the CA file holds another root: the exclusive
    # engine never looks at "ROOT", so the chain stops at the intermediate.
    root_store_trusts(pki.root)
    text = failure(peer, pki.ecdsa, "localhost", pki.untrusted_root_ca)
    assert text == "the certificate chain is incomplete"


def test_default_engine_would_trust_what_the_exclusive_one_refuses(pki: peers.ServerPki) -> None:
    # The counter-check of the test above, without a server: the same leaf and
    # intermediate under the NULL engine are trusted through "ROOT".
    root_store_trusts(pki.root)
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None)
    assert store is not None
    for issued in (pki.intermediate, pki.ecdsa.issued):
        der = issued.der
        assert c.CertAddEncodedCertificateToStore(
            store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, None
        )
    leaf = next(ctx for ctx in store if ctx.pbCertEncoded == pki.ecdsa.issued.der)
    para = c.CERT_CHAIN_PARA()
    para.RequestedUsage.Usage = c.CTL_USAGE(1, [c.szOID_PKIX_KP_SERVER_AUTH])
    out = c.PCCERT_CHAIN_CONTEXT()
    assert c.CertGetCertificateChain(None, leaf, None, store, para, 0, None, out)
    assert out.value is not None and out.value.TrustStatus.dwErrorStatus == 0


def test_untrusted_server_root(peer: Peer, pki: peers.ServerPki) -> None:
    # The server sends a self-signed chain to a root in no store and no file.
    text = failure(peer, pki.untrusted, "localhost", pki.root_ca)
    assert text == "the certificate chain is incomplete"


def test_wrong_host_name(peer: Peer, pki: peers.ServerPki) -> None:
    # The chain is good (ISC checked nothing under manual validation); the name is not.
    text = failure(peer, pki.wrong_name, "localhost", pki.root_ca)
    assert "failed to match connection hostname (localhost)" in text


def test_ip_san(peer: Peer, pki: peers.ServerPki) -> None:
    # curl passes the IP literal as pszTargetName; Curl_verify_host compares the
    # CERT_ALT_NAME_IP_ADDRESS bytes of CryptDecodeObjectEx's CERT_ALT_NAME_INFO.
    run(peer, pki.ecdsa, "127.0.0.1", pki.root_ca)


def test_ip_not_in_the_sans(peer: Peer, pki: peers.ServerPki) -> None:
    text = failure(peer, pki.wrong_name, "127.0.0.1", pki.root_ca)
    assert text == "no IP address matched"


def test_localhost_as_the_second_san(
    peer: Peer, pki: peers.ServerPki, second_san: peers.ServerCert
) -> None:
    run(peer, second_san, "localhost", pki.root_ca)


def test_expired_server_certificate(peer: Peer, pki: peers.ServerPki) -> None:
    text = failure(peer, pki.expired, "localhost", pki.root_ca)
    assert text == "this certificate or one of the certificates in the chain is not time valid"


def test_intermediate_in_the_ca_file_is_an_anchor(
    peer: Peer, pki: peers.ServerPki, intermediate_only_ca: Path
) -> None:
    # CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG (curl's default on Windows 8+): a CA of the
    # file ends the chain; with --no-partialchain (the Windows 7 structure) it does not.
    run(peer, pki.ecdsa, "localhost", intermediate_only_ca)
    text = failure(peer, pki.ecdsa, "localhost", intermediate_only_ca, no_partialchain=True)
    assert text == "the certificate chain is incomplete"


def test_bad_ca_file(pki: peers.ServerPki, tmp_path: Path) -> None:
    # add_certs_data_to_store: an unterminated block, then a block CryptQueryObject refuses.
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None)
    assert store is not None
    cut = tmp_path / "cut.pem"
    cut.write_bytes(pki.root.pem.split(END_CERT)[0])
    with pytest.raises(CurlError, match="not correctly formatted"):
        add_certs_file_to_store(store, cut)
    garbled = tmp_path / "garbled.pem"
    garbled.write_bytes(pki.root.pem.replace(b"MII", b"M!I", 1))
    with pytest.raises(CurlError, match="failed to extract certificate"):
        add_certs_file_to_store(store, garbled)
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"# two CAs\n" + pki.root.pem + pki.intermediate.pem.replace(b"\n", b"\r\n"))
    assert add_certs_file_to_store(store, bundle) == 2
    assert [ctx.pbCertEncoded for ctx in store] == [pki.root.der, pki.intermediate.der]


def test_hostmatch_rules() -> None:
    # lib/vtls/hostcheck.c, as curl's unit test 1397 exercises it.
    assert hostmatch("www.example.com", "*.example.com")
    assert hostmatch("www.example.com.", "*.example.com")
    assert not hostmatch("example.com", "*.example.com")
    assert not hostmatch("a.b.example.com", "*.example.com")
    assert not hostmatch("www.com", "*.com")
    assert not hostmatch("127.0.0.1", "*.0.0.1")
    assert hostmatch("LOCALHOST", "localhost")


# --- --ciphers --------------------------------------------------------------------------------


def test_ciphers_aes256_list_connects_to_an_aes256_only_server(
    peer: Peer, pki: peers.ServerPki
) -> None:
    transfer = run(
        peer,
        pki.ecdsa,
        "localhost",
        pki.root_ca,
        aes256_only=True,
        ciphers="CALG_AES_256:CALG_SHA_384:CALG_ECDH_EPHEM:CALG_ECDSA",
    )
    # SCHANNEL_CRED: TLS 1.2 only, and the one suite both allow.
    assert transfer.protocol == sc.SP_PROT_TLS1_2_CLIENT
    assert transfer.cipher_suite == 0xC02C


def test_ciphers_by_number_and_strong_crypto(peer: Peer, pki: peers.ServerPki) -> None:
    ciphers = f"{int(sc.CALG_AES_256)}:{int(sc.CALG_ECDH_EPHEM)}:USE_STRONG_CRYPTO"
    transfer = run(peer, pki.ecdsa, "localhost", pki.root_ca, aes256_only=True, ciphers=ciphers)
    assert transfer.cipher_suite == 0xC02C


def test_ciphers_aes128_list_fails_against_an_aes256_only_server(
    peer: Peer, pki: peers.ServerPki
) -> None:
    with pytest.raises(stream.SChannelError) as err:
        run(peer, pki.ecdsa, "localhost", pki.root_ca, aes256_only=True, ciphers="CALG_AES_128")
    # Both peers answer a ClientHello with no shared suite with handshake_failure.
    assert err.value.status == sc.SEC_E_ILLEGAL_MESSAGE


def test_ciphers_nothing_usable_fails_at_acquire() -> None:
    # ALG_IDs of suites the package lacks leave nothing: SEC_E_ALGORITHM_MISMATCH at
    # AcquireCredentialsHandle (rule 2.2.5), which curl reports as a connect error.
    with pytest.raises(CurlError) as err:
        curl_credential(cacert=True, no_revoke=True, ciphers="CALG_RC4:CALG_3DES")
    assert err.value.code == "CURLE_SSL_CONNECT_ERROR" and "ALGORITHM_MISMATCH" in err.value.text


def test_ciphers_unknown_name_is_curl_s_own_error() -> None:
    with pytest.raises(CurlError) as err:
        curl_credential(cacert=True, no_revoke=True, ciphers="CALG_AES_256:TLS_AES_128_GCM_SHA256")
    assert err.value.code == "CURLE_SSL_CIPHER"
