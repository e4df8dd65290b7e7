"""Client certificates through the SSPI surface: sending, SEC_I_INCOMPLETE_CREDENTIALS, post-handshake auth."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import crypt32
from schannel_py.testing import acquire_credential
from tests.support import peers
from tests.support.clientauth import client_certificate, server
from tests.support.isc_call import QT_FLAGS, isc_continue, token_input
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
@pytest.mark.parametrize("key_type", ["p256", "p384", "rsa2048", "ed25519"])
def test_client_certificate_is_sent(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion, key_type: str
) -> None:
    issued, cert = client_certificate(pki, key_type)
    srv = server(pki, version)
    loop = CurlLoop(srv, acquire_credential(certificate=cert, schannel_cred=version == TLS12))
    assert loop.handshake() == sc.SEC_E_OK
    loop.server.feed(loop.encrypt(b"hi"))
    assert loop.server.read() == b"hi"
    assert srv.tls.getpeercert(binary_form=True) == issued.der
    local = sc.PVOID()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_LOCAL_CERT_CONTEXT, local) == sc.SEC_E_OK
    )
    assert local.value is cert


def test_ach_expiry_is_the_certificate_expiry(pki: peers.ServerPki) -> None:
    issued, cert = client_certificate(pki, "p256")
    handle, expiry = sc.CredHandle(), sc.TimeStamp()
    auth = sc.SCH_CREDENTIALS(dwVersion=sc.SCH_CREDENTIALS_VERSION, cCreds=1, paCred=[cert])
    assert (
        sc.AcquireCredentialsHandle(
            None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, handle, expiry
        )
        == sc.SEC_E_OK
    )
    not_after = issued.cert.not_valid_after_utc.timestamp()
    assert expiry.QuadPart == int(not_after * 10_000_000) + 116444736000000000
    names = sc.SecPkgCredentials_Names()
    assert sc.QueryCredentialsAttributes(handle, sc.SECPKG_CRED_ATTR_NAMES, names) == sc.SEC_E_OK
    assert names.sUserName is not None and "client-p256" in names.sUserName


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_incomplete_credentials_then_use_supplied_creds(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    """curl's pattern: no certificate, no USE_SUPPLIED_CREDS -> INCOMPLETE; add the flag,
    re-feed the same bytes (curl lib/vtls/schannel.c, schannel_connect_step2)."""
    srv = server(pki, version, required=False)
    flags = CURL_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS
    loop = CurlLoop(
        srv,
        acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS, schannel_cred=version == TLS12),
        flags=flags,
    )
    loop.encdata += srv.feed(loop.first_call())
    before = bytes(loop.encdata)
    status, sent = loop.step()
    assert status == sc.SEC_I_INCOMPLETE_CREDENTIALS
    assert sent == b""
    issuers = sc.SecPkgContext_IssuerListInfoEx()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_ISSUER_LIST_EX, issuers) == sc.SEC_E_OK
    )
    # The identical input plus USE_SUPPLIED_CREDS continues with an empty Certificate.
    loop.encdata = bytearray(before)
    loop.flags = CURL_FLAGS
    status = loop.handshake_from_step()
    assert status == sc.SEC_E_OK
    assert loop.attrs.value == CURL_FLAGS
    assert srv.tls.getpeercert() is None
    local = sc.PVOID()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_LOCAL_CERT_CONTEXT, local)
        == sc.SEC_E_NO_CREDENTIALS
    )


# .NET's request flags (dotnet/runtime SslStreamPal.Windows.cs, InitializeSecurityContext):
# no STREAM.
NET_FLAGS = (
    sc.ISC_REQ_REPLAY_DETECT
    | sc.ISC_REQ_SEQUENCE_DETECT
    | sc.ISC_REQ_CONFIDENTIALITY
    | sc.ISC_REQ_ALLOCATE_MEMORY
    | sc.ISC_REQ_MANUAL_CRED_VALIDATION
)


def _isc(
    loop: CurlLoop, cred: sc.CredHandle, flags: int, token: bytes | None
) -> tuple[sc.SecStatus, bytes, int]:
    """One ISC on the loop's context, laid out as Qt and .NET lay it out: input
    [TOKEN, EMPTY] (``token`` None: pInput NULL), output [TOKEN, ALERT, EMPTY];
    (status, token to send, EXTRA count)."""
    pinput = None if token is None else token_input(token)
    status, sent = isc_continue(cred, loop.ctx, loop.target, flags, pinput)
    extra = 0
    if pinput is not None and pinput.pBuffers[1].BufferType == sc.SECBUFFER_EXTRA:
        extra = pinput.pBuffers[1].cbBuffer
    return status, sent, extra


def _anonymous_credential(v4: bool) -> sc.CredHandle:
    return acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS, schannel_cred=v4)


#: How each caller makes the ISC after SEC_I_INCOMPLETE_CREDENTIALS: (same credential?,
#: input: "same" flight again, "leftover" (what EXTRA left: nothing here) or None (pInput NULL)).
REPEATS = {
    # Qt: qtls_schannel.cpp, performHandshake: same handle and flags, its buffer less what
    # it consumed (no EXTRA came back: an empty TOKEN), a second attempt.
    "qt_leftover": (QT_FLAGS, True, "leftover"),
    "qt_null_input": (QT_FLAGS, True, None),
    # Microsoft's WebClient sample and ms_spec rule 9: the same call again, same input.
    "same_call_again": (QT_FLAGS, True, "same"),
    # .NET (SecureChannel.cs, NextMessage/GenerateToken): a new anonymous credential
    # and an empty input; .NET 6/7 replayed the same input with the new credential.
    "net_new_credential_empty_input": (NET_FLAGS, False, "leftover"),
    "net67_new_credential_same_input": (NET_FLAGS, False, "same"),
}


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
@pytest.mark.parametrize("how", list(REPEATS))
def test_repeated_call_after_incomplete_credentials_goes_on_without_certificate(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion, how: str
) -> None:
    """A server that requests (does not require) a certificate: the ISC after
    SEC_I_INCOMPLETE_CREDENTIALS continues with an empty Certificate, without
    ISC_REQ_USE_SUPPLIED_CREDS, whether it repeats the call (Qt) or brings a new
    credential without a certificate (.NET)."""
    flags, same_cred, given = REPEATS[how]
    v4 = version == TLS12
    srv = server(pki, version, required=False)
    loop = CurlLoop(srv, _anonymous_credential(v4), flags=flags)
    loop.encdata += srv.feed(loop.first_call())
    flight = bytes(loop.encdata)
    status, sent, extra = _isc(loop, loop.cred, flags, flight)
    assert (status, sent, extra) == (sc.SEC_I_INCOMPLETE_CREDENTIALS, b"", 0)
    cred = loop.cred if same_cred else _anonymous_credential(v4)
    token = flight if given == "same" else (b"" if given == "leftover" else None)
    status, sent, extra = _isc(loop, cred, flags, token)
    assert extra == 0
    if version == TLS13:
        assert status == sc.SEC_E_OK  # empty Certificate and Finished
        srv.feed(sent)
    else:
        assert status == sc.SEC_I_CONTINUE_NEEDED  # Certificate, ClientKeyExchange, Finished
        loop.cred, loop.flags = cred, flags
        loop.encdata = bytearray(srv.feed(sent))
        status = loop.handshake_from_step()
        assert status == sc.SEC_E_OK
    assert srv.handshake_done
    assert srv.tls.getpeercert() is None
    srv.feed(loop.encrypt(b"anonymous"))
    assert srv.read() == b"anonymous"


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_incomplete_credentials_then_new_credential(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    issued, cert = client_certificate(pki, "p256")
    srv = server(pki, version)
    flags = CURL_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS
    loop = CurlLoop(
        srv,
        acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS, schannel_cred=version == TLS12),
        flags=flags,
    )
    loop.encdata += srv.feed(loop.first_call())
    before = bytes(loop.encdata)
    assert loop.step()[0] == sc.SEC_I_INCOMPLETE_CREDENTIALS
    loop.encdata = bytearray(before)
    loop.cred = acquire_credential(certificate=cert, schannel_cred=version == TLS12)
    assert loop.handshake_from_step() == sc.SEC_E_OK
    assert srv.tls.getpeercert(binary_form=True) == issued.der


def test_use_supplied_creds_from_the_start_never_pauses(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    srv = server(pki, TLS13, required=False)
    loop = CurlLoop(srv, acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    assert sc.SEC_I_INCOMPLETE_CREDENTIALS not in loop.statuses


def test_required_certificate_missing_maps_the_server_alert(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    srv = server(pki, TLS12)
    loop = CurlLoop(srv, acquire_credential(schannel_cred=True))
    with pytest.raises(ssl.SSLError):
        loop.handshake()
    loop.encdata += srv.pending_output()
    status, _ = loop.step()
    assert status == sc.SEC_E_ILLEGAL_MESSAGE  # handshake_failure (40) from the server


def test_post_handshake_authentication(pki: peers.ServerPki, root_certs_env: Path) -> None:
    issued, cert = client_certificate(pki, "p256")
    srv = server(pki, TLS13, required=False, post_handshake=True)
    loop = CurlLoop(srv, acquire_credential(certificate=cert))
    assert loop.handshake() == sc.SEC_E_OK
    loop.encdata += loop.server.pending_output()
    loop.server.tls.verify_client_post_handshake()
    loop.server.tls.do_handshake()  # queues the CertificateRequest
    loop.encdata += loop.server.write(b"after-request")
    plain, statuses = loop.decrypt_all()  # CertificateRequest -> RENEGOTIATE -> ISC answers
    assert plain == b"after-request"
    assert sc.SEC_I_RENEGOTIATE in statuses
    loop.server.read()  # the server processes our Certificate/CertificateVerify/Finished
    assert loop.server.tls.getpeercert(binary_form=True) == issued.der


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_auto_selection_from_my_store(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    """No certificate, no USE_SUPPLIED_CREDS, default credentials allowed: SChannel picks one from "MY"."""
    issued, cert = client_certificate(pki, "p256")
    ca = crypt32.CertOpenSystemStore(None, "CA")  # where Windows keeps intermediates
    inter = pki.intermediate.der
    assert crypt32.CertAddEncodedCertificateToStore(
        ca, crypt32.X509_ASN_ENCODING, inter, len(inter), crypt32.CERT_STORE_ADD_USE_EXISTING, None
    )
    my = crypt32.CertOpenSystemStore(None, "MY")
    assert crypt32.CertAddCertificateContextToStore(
        my, cert, crypt32.CERT_STORE_ADD_REPLACE_EXISTING, None
    )
    srv = server(pki, version)
    loop = CurlLoop(
        srv,
        acquire_credential(schannel_cred=version == TLS12),
        flags=CURL_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS,
    )
    assert loop.handshake() == sc.SEC_E_OK
    assert sc.SEC_I_INCOMPLETE_CREDENTIALS not in loop.statuses
    assert srv.tls.getpeercert(binary_form=True) == issued.der


def test_no_post_handshake_auth_flag(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """ISC_REQ_NO_POST_HANDSHAKE_AUTH (a 64-bit flag, in SECBUFFER_FLAGS) drops post_handshake_auth."""
    from schannel_py.tls.messages import ClientHello, Ext, find_ext

    with_ext = CurlLoop(server(pki, TLS13), acquire_credential())
    hello = ClientHello.parse(with_ext.first_call()[5:])
    assert find_ext(hello.extensions, Ext.post_handshake_auth) == b""
    without = CurlLoop(
        server(pki, TLS13), acquire_credential(), flags64=sc.ISC_REQ_NO_POST_HANDSHAKE_AUTH
    )
    hello = ClientHello.parse(without.first_call()[5:])
    assert find_ext(hello.extensions, Ext.post_handshake_auth) is None


@pytest.mark.parametrize("again", ["repeated", "use_supplied_creds"])
def test_post_handshake_request_without_a_certificate_asks_for_credentials(
    pki: peers.ServerPki, root_certs_env: Path, again: str
) -> None:
    """A TLS 1.3 post-handshake CertificateRequest that the credential cannot answer
    (no certificate, no USE_SUPPLIED_CREDS, nothing to pick): the ISC after
    SEC_I_RENEGOTIATE returns SEC_I_INCOMPLETE_CREDENTIALS and sends nothing, as
    during the handshake; the next one (repeated as it was, or with USE_SUPPLIED_CREDS
    as curl does) answers with an empty Certificate and the connection goes on.  An
    earlier version asked again on a plain repeat; Windows goes on (rule 1.5.7)."""
    srv = server(pki, TLS13, required=False, post_handshake=True)
    flags = CURL_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS
    loop = CurlLoop(srv, acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS), flags=flags)
    assert loop.handshake() == sc.SEC_E_OK
    loop.encdata += loop.server.pending_output()
    loop.server.tls.verify_client_post_handshake()
    loop.server.tls.do_handshake()  # queues the CertificateRequest
    loop.encdata += loop.server.write(b"after-request")
    status = sc.SEC_I_RENEGOTIATE
    while status != sc.SEC_I_INCOMPLETE_CREDENTIALS:  # tickets first, then the request
        assert loop.encdata
        desc = sc.SecBufferDesc(
            [sc.SecBuffer(len(loop.encdata), sc.SECBUFFER_DATA, loop.encdata)]
            + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
        )
        assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_I_RENEGOTIATE
        extra = desc.pBuffers[3]
        left = extra.cbBuffer if extra.BufferType == sc.SECBUFFER_EXTRA else 0
        desc.release()
        del loop.encdata[: len(loop.encdata) - left]
        status, sent = loop.step()
        assert status in (sc.SEC_E_OK, sc.SEC_I_INCOMPLETE_CREDENTIALS), status
    assert sent == b""
    if again == "use_supplied_creds":
        loop.flags = CURL_FLAGS  # curl's way: add USE_SUPPLIED_CREDS
    status, sent = loop.step()
    assert status == sc.SEC_E_OK and sent  # empty Certificate and Finished
    loop.server.feed(sent)
    plain, statuses = loop.decrypt_all()
    assert plain == b"after-request"
    assert sc.SEC_E_OK in statuses
    loop.server.read()
    assert loop.server.tls.getpeercert(binary_form=True) is None
    loop.server.feed(loop.encrypt(b"still working"))
    assert loop.server.read() == b"still working"


def _leaf_and_store(ctx: sc.CtxtHandle, attribute: int) -> tuple[sc.SecStatus, list[bytes]]:
    holder = sc.PVOID()
    status = sc.QueryContextAttributes(ctx, attribute, holder)
    if status != sc.SEC_E_OK:
        return status, []
    leaf = holder.value
    assert isinstance(leaf, crypt32.CERT_CONTEXT)
    chain: list[bytes] = []
    cert = crypt32.CertEnumCertificatesInStore(leaf.hCertStore, None)
    while cert is not None and len(chain) < 10:
        chain.append(bytes(cert.pbCertEncoded))
        cert = crypt32.CertEnumCertificatesInStore(leaf.hCertStore, cert)
    return status, [bytes(leaf.pbCertEncoded), *chain]


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_remote_cert_chain_during_and_after_the_handshake(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    """SECPKG_ATTR_REMOTE_CERT_CHAIN (0x67): the server's leaf as a CERT_CONTEXT whose
    store holds the chain, read as .NET reads it at SEC_I_INCOMPLETE_CREDENTIALS to pick
    a client certificate (dotnet/runtime CertificateValidationPal.Windows.cs,
    GetRemoteCertificate with retrieveChainCertificates false), and after."""
    v4 = version == TLS12
    srv = server(pki, version, required=False)
    loop = CurlLoop(srv, _anonymous_credential(v4), flags=NET_FLAGS)
    token = loop.first_call()
    before = _leaf_and_store(loop.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CHAIN)
    assert before == (sc.SEC_E_NO_CREDENTIALS, [])  # no server Certificate yet
    loop.encdata += srv.feed(token)
    assert loop.step()[0] == sc.SEC_I_INCOMPLETE_CREDENTIALS
    status, (leaf, *chain) = _leaf_and_store(loop.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CHAIN)
    assert status == sc.SEC_E_OK
    assert leaf == pki.ecdsa.issued.der
    assert sorted(chain) == sorted([pki.ecdsa.issued.der, pki.intermediate.der])
    holder = sc.SecPkgContext_StreamSizes()  # a structure without .value
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CHAIN, holder)
        == sc.SEC_E_INTERNAL_ERROR
    )
    loop.cred = _anonymous_credential(v4)  # .NET's anonymous credential, same input
    assert loop.handshake_from_step() == sc.SEC_E_OK
    after = _leaf_and_store(loop.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CHAIN)
    assert after == _leaf_and_store(loop.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT)
    assert after[1][0] == pki.ecdsa.issued.der
