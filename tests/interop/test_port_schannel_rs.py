"""The Rust crate ``schannel`` (schannel-rs) client, ported call for call.

Sources (steffengy/schannel-rs @ff7ffd30, fetched mirror):

* src/schannel_cred.rs: ``Builder::acquire`` (SCHANNEL_CRED with
  ``palgSupportedAlgs`` when algorithms are given, else SCH_CREDENTIALS);
* src/security_context.rs: ``SecurityContext::initialize`` (the first ISC);
* src/lib.rs: ``INIT_REQUESTS``;
* src/tls_stream.rs: ``TlsStream::initialize`` (the handshake loop, which
  calls ``validate`` after every leg), ``step_initialize``, ``validate``
  (CertGetCertificateChain + CertVerifyCertificateChainPolicy(SSL)),
  ``decrypt``, ``encrypt``, ``read_in``, ``write_out``, ``fill_buf``,
  ``shutdown``, ``session_resumed``, ``negotiated_application_protocol``;
* src/alpn_list.rs: the SECBUFFER_APPLICATION_PROTOCOLS layout;
* src/test.rs: the expectations ported below (``expired_cert``,
  ``self_signed_cert``, ``self_signed_cert_manual_trust``, ``wrong_host_cert``,
  ``wrong_host_cert_ignored``, ``verify_callback_*``, ``tls_13``,
  ``invalid_algorithms``, ``valid_algorithms``, ``no_session_resumed``,
  ``basic_session_resumed``, ``shutdown``, ``test_loopback_alpn*``,
  ``validation_failure_is_permanent``), against ``openssl s_server`` and
  ``gnutls-serv`` on 127.0.0.1 instead of badssl.com and google.com.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

import schannel_py as sc
from schannel_py import crypt32 as c
from schannel_py.testing.pki import make_leaf
from tests.support import peers

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("isolated_stores")]

IO_TIMEOUT = 10.0

#: src/lib.rs INIT_REQUESTS.
INIT_REQUESTS = (
    sc.ISC_REQ_CONFIDENTIALITY
    | sc.ISC_REQ_INTEGRITY
    | sc.ISC_REQ_REPLAY_DETECT
    | sc.ISC_REQ_SEQUENCE_DETECT
    | sc.ISC_REQ_MANUAL_CRED_VALIDATION
    | sc.ISC_REQ_ALLOCATE_MEMORY
    | sc.ISC_REQ_STREAM
    | sc.ISC_REQ_USE_SUPPLIED_CREDS
)

#: Protocol::dword(Outbound) (src/schannel_cred.rs).
PROTOCOLS = {"tls12": sc.SP_PROT_TLS1_2_CLIENT, "tls13": sc.SP_PROT_TLS1_3_CLIENT}


class RsError(Exception):
    """io::Error::from_raw_os_error(code), as the crate returns it."""

    def __init__(self, code: int, where: str) -> None:
        super().__init__(f"{where}: {code:#010x}")
        self.code = code & 0xFFFFFFFF


# --- src/schannel_cred.rs ---------------------------------------------------------------------


def acquire(
    enabled_protocols: list[str] | None = None, supported_algorithms: list[int] | None = None
) -> sc.CredHandle:
    """``Builder::acquire(Direction::Outbound)`` on a build >= 17763."""
    enabled = 0
    for name in enabled_protocols or []:
        enabled |= PROTOCOLS[name]
    auth: sc.SCHANNEL_CRED | sc.SCH_CREDENTIALS
    if supported_algorithms is not None:
        auth = sc.SCHANNEL_CRED(
            dwVersion=sc.SCHANNEL_CRED_VERSION,
            dwFlags=sc.SCH_USE_STRONG_CRYPTO | sc.SCH_CRED_NO_DEFAULT_CREDS,
            grbitEnabledProtocols=enabled,
            cSupportedAlgs=len(supported_algorithms),
            palgSupportedAlgs=list(supported_algorithms),
        )
    else:
        params = sc.TLS_PARAMETERS()
        if enabled:
            params.grbitDisabledProtocols = ~enabled & 0xFFFFFFFF
        auth = sc.SCH_CREDENTIALS(
            dwVersion=sc.SCH_CREDENTIALS_VERSION,
            dwFlags=sc.SCH_USE_STRONG_CRYPTO | sc.SCH_CRED_NO_DEFAULT_CREDS,
            cTlsParameters=1,
            pTlsParameters=[params],
        )
    handle = sc.CredHandle()
    status = sc.AcquireCredentialsHandleA(
        None, sc.UNISP_NAME_A, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, handle, None
    )
    if status != sc.SEC_E_OK:
        raise RsError(status, "AcquireCredentialsHandleA")
    return handle


# --- src/alpn_list.rs -------------------------------------------------------------------------


def alpn_list(protos: list[bytes]) -> bytearray:
    """``AlpnList::new``: u32 length of the rest, u32 SecApplicationProtocolNegotiationExt_ALPN,
    u16 list length, then each protocol with a one-byte length (little-endian integers)."""
    body = b"".join(bytes([len(p)]) + p for p in protos)
    rest = struct.pack("<IH", sc.SecApplicationProtocolNegotiationExt_ALPN, len(body)) + body
    return bytearray(struct.pack("<I", len(rest)) + rest)


# --- src/tls_stream.rs ------------------------------------------------------------------------


@dataclass
class CertValidationResult:
    """What ``verify_callback`` is given."""

    chain: c.CERT_CHAIN_CONTEXT
    res: int
    chain_index: int
    element_index: int


VerifyCallback = Callable[[CertValidationResult], int]


def secbuf(buffer_type: int, data: Any = None) -> sc.SecBuffer:
    return sc.SecBuffer(0 if data is None else len(data), buffer_type, data)


class TlsStream:
    """``tls_stream::Builder::connect`` and the ``TlsStream`` it drives, over a socket."""

    def __init__(
        self,
        cred: sc.CredHandle,
        sock: socket.socket,
        domain: str | None,
        *,
        cert_store: c.CertStore | None = None,
        accept_invalid_hostnames: bool = False,
        verify_callback: VerifyCallback | None = None,
        requested_application_protocols: list[bytes] | None = None,
    ) -> None:
        self.cred, self.sock, self.domain = cred, sock, domain
        self.cert_store = cert_store
        self.accept_invalid_hostnames = accept_invalid_hostnames
        self.verify_callback = verify_callback
        self.alpn = requested_application_protocols
        self.context = sc.CtxtHandle()
        self.enc_in = bytearray()  # Cursor<Vec<u8>>: everything here is "position"
        self.dec_in = bytearray()
        self.out_buf = bytearray()
        self.needs_read = 1
        self.state = "initializing"
        self.more_calls, self.shutting_down, self.validated = True, False, False
        self.sizes: sc.SecPkgContext_StreamSizes | None = None
        self.calls: list[tuple[str, int]] = []
        self._security_context_initialize()

    # security_context.rs SecurityContext::initialize
    def _security_context_initialize(self) -> None:
        inbufs = (
            []
            if self.alpn is None
            else [secbuf(sc.SECBUFFER_APPLICATION_PROTOCOLS, alpn_list(self.alpn))]
        )
        outbuf = sc.SecBufferDesc([secbuf(sc.SECBUFFER_EMPTY)])
        attributes = sc.ULONG()
        status = sc.InitializeSecurityContextW(
            self.cred,
            None,
            self.domain,
            INIT_REQUESTS,
            0,
            0,
            sc.SecBufferDesc(inbufs),
            0,
            self.context,
            outbuf,
            attributes,
            None,
        )
        self.calls.append(("initialize", status))
        if status != sc.SEC_I_CONTINUE_NEEDED:
            raise RsError(status, "InitializeSecurityContextW")
        self.out_buf += bytes(outbuf.pBuffers[0].pvBuffer or b"")
        sc.FreeContextBuffer(outbuf.pBuffers[0].pvBuffer)

    def step_initialize(self) -> None:
        pos = len(self.enc_in)
        inbufs = [secbuf(sc.SECBUFFER_TOKEN, self.enc_in), secbuf(sc.SECBUFFER_EMPTY)]
        if self.alpn is not None:
            inbufs.append(secbuf(sc.SECBUFFER_APPLICATION_PROTOCOLS, alpn_list(self.alpn)))
        indesc = sc.SecBufferDesc(inbufs)
        outbufs = [
            secbuf(sc.SECBUFFER_TOKEN),
            secbuf(sc.SECBUFFER_ALERT),
            secbuf(sc.SECBUFFER_EMPTY),
        ]
        attributes = sc.ULONG()
        status = sc.InitializeSecurityContextW(
            self.cred,
            self.context,
            self.domain,
            INIT_REQUESTS,
            0,
            0,
            indesc,
            0,
            None,  # phNewContext: NULL after the first call
            sc.SecBufferDesc(outbufs),
            attributes,
            None,
        )
        self.calls.append(("step", status))
        for buf in outbufs[1:]:
            if buf.pvBuffer is not None:
                sc.FreeContextBuffer(buf.pvBuffer)
        extra = inbufs[1].cbBuffer if inbufs[1].BufferType == sc.SECBUFFER_EXTRA else 0
        missing = inbufs[1].cbBuffer if inbufs[1].BufferType == sc.SECBUFFER_MISSING else 0
        indesc.release()
        if status in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
            token = outbufs[0].pvBuffer
            self.consume_enc_in(pos - extra)
            self.needs_read = int(len(self.enc_in) == 0)
            if token is not None:
                self.out_buf += bytes(token[: outbufs[0].cbBuffer])
                sc.FreeContextBuffer(token)
            if status == sc.SEC_E_OK:
                self.more_calls = False
        elif status == sc.SEC_E_INCOMPLETE_MESSAGE:
            self.needs_read = missing or 1
        else:
            raise RsError(status, "InitializeSecurityContextW")

    def consume_enc_in(self, nread: int) -> None:
        del self.enc_in[:nread]

    def write_out(self) -> int:
        out = len(self.out_buf)
        if out:
            self.sock.sendall(self.out_buf)
            self.out_buf.clear()
        return out

    def read_in(self) -> int:
        total = 0
        while self.needs_read > 0:
            data = self.sock.recv(max(1024, 2 * len(self.enc_in), self.needs_read))
            if not data:
                break
            self.enc_in += data
            total += len(data)
            self.needs_read = max(0, self.needs_read - len(data))
        return total

    def initialize(self) -> sc.SecPkgContext_StreamSizes | None:
        while True:
            if self.state == "initializing":
                self.write_out()
                if not self.shutting_down and not self.validated:
                    # "on the last call, we require a valid certificate"
                    if self.validate(require_cert=not self.more_calls):
                        self.validated = True
                if not self.more_calls:
                    if self.shutting_down:
                        self.state = "shutdown"
                    else:
                        sizes = sc.SecPkgContext_StreamSizes()
                        status = sc.QueryContextAttributesW(
                            self.context, sc.SECPKG_ATTR_STREAM_SIZES, sizes
                        )
                        if status != sc.SEC_E_OK:
                            raise RsError(status, "QueryContextAttributesW")
                        self.sizes, self.state = sizes, "streaming"
                    continue
                if self.needs_read > 0 and self.read_in() == 0:
                    raise EOFError("unexpected EOF during handshake")
                self.step_initialize()
            elif self.state == "streaming":
                return self.sizes
            else:
                return None

    def validate(self, require_cert: bool) -> bool:
        """``validate``: the chain of the remote certificate with the default engine, the
        leaf's store (plus the caller's store) as additional store, usage serverAuth OR
        the two SGC OIDs; then the SSL policy with the domain, ignoring unknown revocation
        and, when a chain certificate is in the caller's store, an unknown CA."""
        holder = sc.PVOID()
        status = sc.QueryContextAttributesW(
            self.context, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder
        )
        if status != sc.SEC_E_OK or holder.value is None:
            if not require_cert:
                return False
            raise RsError(status, "QueryContextAttributesW(REMOTE_CERT_CONTEXT)")
        cert_context = holder.value
        assert isinstance(cert_context, c.CERT_CONTEXT)
        cert_store = cert_context.hCertStore
        if cert_store is not None and self.cert_store is not None:
            for extra_cert in self.cert_store:
                if not c.CertAddCertificateContextToStore(
                    cert_store, extra_cert, c.CERT_STORE_ADD_REPLACE_EXISTING, None
                ):
                    raise RsError(c.GetLastError(), "CertAddCertificateContextToStore")
        elif cert_store is None:
            cert_store = self.cert_store
        flags = (
            c.CERT_CHAIN_CACHE_END_CERT
            | c.CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY
            | c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
        )
        para = c.CERT_CHAIN_PARA()
        para.RequestedUsage.dwType = c.USAGE_MATCH_TYPE_OR
        identifiers = [
            c.szOID_PKIX_KP_SERVER_AUTH,
            c.szOID_SERVER_GATED_CRYPTO,
            c.szOID_SGC_NETSCAPE,
        ]
        para.RequestedUsage.Usage.cUsageIdentifier = len(identifiers)
        para.RequestedUsage.Usage.rgpszUsageIdentifier = identifiers
        chain = c.PCCERT_CHAIN_CONTEXT()
        if not c.CertGetCertificateChain(
            None, cert_context, None, cert_store, para, flags, None, chain
        ):
            raise RsError(c.GetLastError(), "CertGetCertificateChain")
        assert chain.value is not None
        para_flags = c.CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS
        if self.cert_store is not None:
            # "check if any cert of the chain is in the passed store (and therefore trusted)"
            final = chain.value.rgpChain[chain.value.cChain - 1]
            trusted = {ctx.pbCertEncoded for ctx in self.cert_store}
            if any(
                e.pCertContext and e.pCertContext.pbCertEncoded in trusted for e in final.rgpElement
            ):
                para_flags |= c.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG
        extra_para = c.HTTPSPolicyCallbackData(dwAuthType=c.AUTHTYPE_SERVER)
        if self.domain is not None and not self.accept_invalid_hostnames:
            extra_para.pwszServerName = self.domain
        policy_para = c.CERT_CHAIN_POLICY_PARA(dwFlags=para_flags, pvExtraPolicyPara=extra_para)
        policy_status = c.CERT_CHAIN_POLICY_STATUS()
        if not c.CertVerifyCertificateChainPolicy(
            c.CERT_CHAIN_POLICY_SSL, chain.value, policy_para, policy_status
        ):
            raise RsError(c.GetLastError(), "CertVerifyCertificateChainPolicy")
        verify_result = policy_status.dwError
        if self.verify_callback is not None:
            verify_result = self.verify_callback(
                CertValidationResult(
                    chain.value,
                    policy_status.dwError,
                    policy_status.lChainIndex,
                    policy_status.lElementIndex,
                )
            )
        c.CertFreeCertificateChain(chain.value)
        if verify_result != c.NO_ERROR:
            raise RsError(verify_result, "validate")
        return True

    def decrypt(self) -> bool:
        position = len(self.enc_in)
        bufs = [secbuf(sc.SECBUFFER_DATA, self.enc_in)] + [
            secbuf(sc.SECBUFFER_EMPTY) for _ in range(3)
        ]
        desc = sc.SecBufferDesc(bufs)
        status = sc.DecryptMessage(self.context, desc, 0, None)
        self.calls.append(("decrypt", status))
        extra = bufs[3].cbBuffer if bufs[3].BufferType == sc.SECBUFFER_EXTRA else 0
        if status == sc.SEC_E_OK:
            plain = (
                bytes(bufs[1].pvBuffer[: bufs[1].cbBuffer]) if bufs[1].pvBuffer is not None else b""
            )
            desc.release()
            self.dec_in += plain
            self.consume_enc_in(position - extra)
            self.needs_read = int(len(self.enc_in) == 0)
            return False
        if status == sc.SEC_E_INCOMPLETE_MESSAGE:
            missing = bufs[1].cbBuffer if bufs[1].BufferType == sc.SECBUFFER_MISSING else 0
            desc.release()
            self.needs_read = missing or 1
            return False
        desc.release()
        if status == sc.SEC_I_CONTEXT_EXPIRED:
            return True
        if status == sc.SEC_I_RENEGOTIATE:
            self.state = "initializing"
            self.more_calls, self.shutting_down, self.validated = True, False, False
            self.consume_enc_in(position - extra)
            self.needs_read = 0
            return False
        raise RsError(status, "DecryptMessage")

    def encrypt(self, buf: bytes, sizes: sc.SecPkgContext_StreamSizes) -> None:
        assert len(buf) <= sizes.cbMaximumMessage
        header, trailer = sizes.cbHeader, sizes.cbTrailer
        out = bytearray(header + len(buf) + trailer)
        out[header : header + len(buf)] = buf
        view = memoryview(out)
        bufs = [
            secbuf(sc.SECBUFFER_STREAM_HEADER, view[:header]),
            secbuf(sc.SECBUFFER_DATA, view[header : header + len(buf)]),
            secbuf(sc.SECBUFFER_STREAM_TRAILER, view[header + len(buf) :]),
            secbuf(sc.SECBUFFER_EMPTY),
        ]
        status = sc.EncryptMessage(self.context, 0, sc.SecBufferDesc(bufs), 0)
        if status != sc.SEC_E_OK:
            raise RsError(status, "EncryptMessage")
        length = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer
        view.release()
        self.out_buf = out[:length]

    # io::Write / io::Read
    def write(self, buf: bytes) -> int:
        sizes = self.initialize()
        if sizes is None:
            raise RsError(sc.SEC_E_CONTEXT_EXPIRED, "write")
        length = min(len(buf), sizes.cbMaximumMessage)
        self.encrypt(buf[:length], sizes)
        self.write_out()
        return length

    def read(self, size: int = 16384) -> bytes:
        while not self.dec_in:
            if self.initialize() is None:
                break
            if self.needs_read > 0:
                if self.read_in() == 0:
                    break
                self.needs_read = 0
            if self.decrypt():
                break
        out = bytes(self.dec_in[:size])
        del self.dec_in[:size]
        return out

    def shutdown(self) -> None:
        if self.state == "shutdown":
            return
        token = struct.pack("<I", sc.SCHANNEL_SHUTDOWN)
        desc = sc.SecBufferDesc([secbuf(sc.SECBUFFER_TOKEN, token)])
        status = sc.ApplyControlToken(self.context, desc)
        if status != sc.SEC_E_OK:
            raise RsError(status, "ApplyControlToken")
        self.state = "initializing"
        self.more_calls, self.shutting_down, self.validated = True, True, False
        self.needs_read = 0
        self.initialize()

    def session_resumed(self) -> bool:
        info = sc.SecPkgContext_SessionInfo()
        status = sc.QueryContextAttributesW(self.context, sc.SECPKG_ATTR_SESSION_INFO, info)
        if status != sc.SEC_E_OK:
            raise RsError(status, "QueryContextAttributesW(SESSION_INFO)")
        return bool(info.dwFlags & sc.SSL_SESSION_RECONNECT)

    def negotiated_application_protocol(self) -> bytes | None:
        proto = sc.SecPkgContext_ApplicationProtocol()
        status = sc.QueryContextAttributesW(
            self.context, sc.SECPKG_ATTR_APPLICATION_PROTOCOL, proto
        )
        if status != sc.SEC_E_OK:
            raise RsError(status, "QueryContextAttributesW(APPLICATION_PROTOCOL)")
        if (
            proto.ProtoNegoStatus != sc.SecApplicationProtocolNegotiationStatus_Success
            or proto.ProtoNegoExt != sc.SecApplicationProtocolNegotiationExt_ALPN
        ):
            return None
        return bytes(proto.ProtocolId[: proto.ProtocolIdSize])

    def protocol(self) -> int:
        info = sc.SecPkgContext_ConnectionInfo()
        assert (
            sc.QueryContextAttributesW(self.context, sc.SECPKG_ATTR_CONNECTION_INFO, info)
            == sc.SEC_E_OK
        )
        return int(info.dwProtocol)

    def close(self) -> None:
        sc.DeleteSecurityContext(self.context)


def connect(cred: sc.CredHandle, port: int, domain: str = "localhost", **kw: Any) -> TlsStream:
    """``TcpStream::connect`` + ``Builder::new().domain(..).connect(creds, stream)``: the
    handshake runs inside connect (``MidHandshakeTlsStream::handshake`` -> ``initialize``)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    try:
        tls = TlsStream(cred, sock, domain, **kw)
        tls.initialize()
    except BaseException:
        sock.close()
        raise
    return tls


# --- the peers ------------------------------------------------------------------------------

LINE = b"schannel-rs line\n"


@dataclass
class Peer:
    name: str
    start: Callable[..., AbstractContextManager[Any]]
    gnutls: bool


def _openssl(
    cert: peers.ServerCert,
    *,
    tls13: bool = True,
    alpn: str | None = None,
    aes256_only: bool = False,
) -> peers.OpenSSLServer:
    kw: dict[str, Any] = {"alpn": alpn}
    if aes256_only:
        kw.update(tls13=False, cipher=peers.OPENSSL_AES256_GCM_ONLY)
    elif not tls13:
        kw.update(tls13=False)
    return peers.OpenSSLServer(**cert.server_kwargs(), **kw)


def _gnutls(
    cert: peers.ServerCert,
    *,
    tls13: bool = True,
    alpn: str | None = None,
    aes256_only: bool = False,
) -> peers.GnuTLSServer:
    priority = None
    if aes256_only:
        priority = peers.GNUTLS_AES256_GCM_ONLY
    elif not tls13:
        priority = peers.gnutls_only(tls13=False)
    return peers.GnuTLSServer(**cert.server_kwargs(), priority=priority, alpn=alpn)


PEERS = {
    "openssl": Peer("openssl s_server", _openssl, False),
    "gnutls": Peer("gnutls-serv", _gnutls, True),
}


@pytest.fixture(params=sorted(PEERS))
def peer(request: pytest.FixtureRequest) -> Peer:
    return PEERS[request.param]


@pytest.fixture
def trusted_root(pki: peers.ServerPki, isolated_stores: None) -> None:
    """The test root in "ROOT", as an installed CA is on Windows (after the reset)."""
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    der = pki.root.der
    assert c.CertAddEncodedCertificateToStore(
        root, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, None
    )


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> peers.ServerCert:
    issued = make_leaf(None, dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    paths = issued.write(tmp_path_factory.mktemp("self-signed"), "self-signed-")
    return peers.ServerCert(paths.cert, paths.key, None, paths.fullchain, issued)


@contextmanager
def session(
    peer: Peer,
    cert: peers.ServerCert,
    cred: sc.CredHandle | None = None,
    server: dict[str, Any] | None = None,
    **kw: Any,
) -> Iterator[tuple[TlsStream, Any]]:
    with peer.start(cert, **(server or {})) as srv:
        tls = connect(cred if cred is not None else acquire(), srv.port, **kw)
        try:
            yield tls, srv
        finally:
            tls.close()
            tls.sock.close()


def exchange(peer: Peer, tls: TlsStream, srv: Any) -> None:
    """Write a line; gnutls-serv echoes it, openssl s_server prints it."""
    assert tls.write(LINE) == len(LINE)
    if peer.gnutls:
        got = b""
        while not got.endswith(b"\n"):
            chunk = tls.read()
            assert chunk, "gnutls-serv closed before echoing"
            got += chunk
        assert got == LINE
    else:
        srv.wait_for_output("schannel-rs line")


def handshake_error(peer: Peer, cert: peers.ServerCert, **kw: Any) -> int:
    with pytest.raises(RsError) as err:
        with session(peer, cert, **kw):
            pass
    return err.value.code


# --- src/test.rs, against local peers --------------------------------------------------------


@pytest.mark.usefixtures("trusted_root")
def test_valid_protocol_and_shutdown(peer: Peer, pki: peers.ServerPki) -> None:
    # valid_protocol / valid_protocol_with_intermediate_certs / shutdown
    with session(peer, pki.ecdsa) as (tls, srv):
        exchange(peer, tls, srv)
        assert tls.protocol() == sc.SP_PROT_TLS1_3_CLIENT
        tls.shutdown()
        assert tls.state == "shutdown"
    # validate() ran after every leg (no certificate yet: tolerated) and passed at the end.
    assert tls.calls[:2] == [
        ("initialize", sc.SEC_I_CONTINUE_NEEDED),
        ("step", sc.SEC_I_CONTINUE_NEEDED),
    ]
    assert ("step", sc.SEC_E_OK) in tls.calls


@pytest.mark.usefixtures("trusted_root")
def test_tls_13(peer: Peer, pki: peers.ServerPki) -> None:
    with session(peer, pki.ecdsa, cred=acquire(["tls12", "tls13"])) as (tls, srv):
        assert tls.protocol() == sc.SP_PROT_TLS1_3_CLIENT
        exchange(peer, tls, srv)


@pytest.mark.usefixtures("trusted_root")
def test_tls_12_only(peer: Peer, pki: peers.ServerPki) -> None:
    with session(peer, pki.rsa, cred=acquire(["tls12"])) as (tls, srv):
        assert tls.protocol() == sc.SP_PROT_TLS1_2_CLIENT
        exchange(peer, tls, srv)


@pytest.mark.usefixtures("trusted_root")
def test_expired_cert(peer: Peer, pki: peers.ServerPki) -> None:
    assert handshake_error(peer, pki.expired) == sc.CERT_E_EXPIRED


def test_self_signed_cert(peer: Peer, self_signed: peers.ServerCert) -> None:
    assert handshake_error(peer, self_signed) == sc.CERT_E_UNTRUSTEDROOT


def test_self_signed_cert_manual_trust(peer: Peer, self_signed: peers.ServerCert) -> None:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None)
    assert store is not None
    der = self_signed.issued.der
    assert c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, None
    )
    with session(peer, self_signed, cert_store=store) as (tls, srv):
        exchange(peer, tls, srv)


def test_chain_to_an_unknown_root(peer: Peer, pki: peers.ServerPki) -> None:
    # The root is neither sent nor installed: a partial chain (rule 8.2.2).
    assert handshake_error(peer, pki.untrusted) == sc.CERT_E_CHAINING


@pytest.mark.usefixtures("trusted_root")
def test_wrong_host_cert(peer: Peer, pki: peers.ServerPki) -> None:
    assert handshake_error(peer, pki.wrong_name) == sc.CERT_E_CN_NO_MATCH


@pytest.mark.usefixtures("trusted_root")
def test_wrong_host_cert_ignored(peer: Peer, pki: peers.ServerPki) -> None:
    with session(peer, pki.wrong_name, accept_invalid_hostnames=True) as (tls, srv):
        exchange(peer, tls, srv)


def test_verify_callback_success(peer: Peer, self_signed: peers.ServerCert) -> None:
    seen: list[CertValidationResult] = []

    def callback(result: CertValidationResult) -> int:
        seen.append(result)
        assert result.res == sc.CERT_E_UNTRUSTEDROOT
        return c.NO_ERROR

    with session(peer, self_signed, verify_callback=callback) as (tls, srv):
        exchange(peer, tls, srv)
    # verify_callback_gives_failed_cert: the element the policy named is the server's.
    # (validate runs again after each TLS 1.3 ticket's SEC_I_RENEGOTIATE, as in the crate.)
    result = seen[0]
    assert all(r.res == result.res for r in seen)
    failed = result.chain.rgpChain[result.chain_index].rgpElement[result.element_index]
    assert failed.pCertContext is not None
    assert failed.pCertContext.pbCertEncoded == self_signed.issued.der


@pytest.mark.usefixtures("trusted_root")
def test_verify_callback_error(peer: Peer, pki: peers.ServerPki) -> None:
    def callback(result: CertValidationResult) -> int:
        assert result.res == c.NO_ERROR and (result.chain_index, result.element_index) == (-1, -1)
        return int(sc.CERT_E_UNTRUSTEDROOT)

    assert handshake_error(peer, pki.ecdsa, verify_callback=callback) == sc.CERT_E_UNTRUSTEDROOT


def test_validation_failure_is_permanent(peer: Peer, self_signed: peers.ServerCert) -> None:
    with peer.start(self_signed) as srv:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=IO_TIMEOUT)
        try:
            tls = TlsStream(acquire(), sock, "localhost")
            for _ in range(2):  # handshake() again after the failure: the same error
                with pytest.raises(RsError) as err:
                    tls.initialize()
                assert err.value.code == sc.CERT_E_UNTRUSTEDROOT
        finally:
            sock.close()


def test_invalid_algorithms() -> None:
    with pytest.raises(RsError) as err:
        acquire(supported_algorithms=[sc.CALG_RC2, sc.CALG_ECDSA])
    assert err.value.code == sc.SEC_E_ALGORITHM_MISMATCH


@pytest.mark.usefixtures("trusted_root")
def test_valid_algorithms(peer: Peer, pki: peers.ServerPki) -> None:
    cred = acquire(supported_algorithms=[sc.CALG_AES_128, sc.CALG_ECDSA])
    with session(peer, pki.ecdsa, cred=cred) as (tls, srv):
        assert tls.protocol() == sc.SP_PROT_TLS1_2_CLIENT  # SCHANNEL_CRED: no TLS 1.3
        info = sc.SecPkgContext_CipherInfo()
        assert (
            sc.QueryContextAttributesW(tls.context, sc.SECPKG_ATTR_CIPHER_INFO, info) == sc.SEC_E_OK
        )
        assert info.dwCipherSuite == 0xC02B  # ECDHE-ECDSA-AES128-GCM-SHA256
        exchange(peer, tls, srv)


@pytest.mark.usefixtures("trusted_root")
def test_aes128_only_does_not_connect_to_an_aes256_only_server(
    peer: Peer, pki: peers.ServerPki
) -> None:
    cred = acquire(supported_algorithms=[sc.CALG_AES_128, sc.CALG_ECDSA])
    code = handshake_error(peer, pki.ecdsa, cred=cred, server={"aes256_only": True})
    assert code == sc.SEC_E_ILLEGAL_MESSAGE


@pytest.mark.usefixtures("trusted_root")
def test_no_session_resumed(peer: Peer, pki: peers.ServerPki) -> None:
    with peer.start(pki.ecdsa, tls13=False) as srv:
        for _ in range(2):  # a new credential each time: a new cache key
            tls = connect(acquire(), srv.port)
            try:
                assert not tls.session_resumed()
                tls.shutdown()
            finally:
                tls.close()
                tls.sock.close()


@pytest.mark.usefixtures("trusted_root")
def test_basic_session_resumed(peer: Peer, pki: peers.ServerPki) -> None:
    cred = acquire(["tls12"])
    with peer.start(pki.ecdsa, tls13=False) as srv:
        resumed = []
        for _ in range(2):
            tls = connect(cred, srv.port)
            try:
                resumed.append(tls.session_resumed())
                tls.shutdown()
            finally:
                tls.close()
                tls.sock.close()
    assert resumed == [False, True]


@pytest.mark.usefixtures("trusted_root")
def test_alpn(peer: Peer, pki: peers.ServerPki) -> None:
    # test_loopback_alpn / test_alpn_list: the list is resent on every ISC leg.
    with session(
        peer, pki.ecdsa, server={"alpn": "h2"}, requested_application_protocols=[b"h2", b"http/1.1"]
    ) as (tls, srv):
        assert tls.negotiated_application_protocol() == b"h2"
        exchange(peer, tls, srv)


@pytest.mark.usefixtures("trusted_root")
def test_alpn_mismatch(peer: Peer, pki: peers.ServerPki) -> None:
    # test_loopback_alpn_mismatch expects no protocol and a connection (its server is
    # SChannel).  gnutls-serv behaves so; openssl s_server answers no_application_protocol
    # (120), which ISC reports as SEC_E_APPLICATION_PROTOCOL_MISMATCH (rule 0.4.2).
    kw: dict[str, Any] = {"server": {"alpn": "foo"}, "requested_application_protocols": [b"h2"]}
    if not peer.gnutls:
        assert handshake_error(peer, pki.ecdsa, **kw) == sc.SEC_E_APPLICATION_PROTOCOL_MISMATCH
        return
    with session(peer, pki.ecdsa, **kw) as (tls, srv):
        assert tls.negotiated_application_protocol() is None
        exchange(peer, tls, srv)


def test_alpn_list_layout() -> None:
    # src/alpn_list.rs: [u32 len][u32 ALPN=2][u16 list len][1 'a'][2 'bc']
    assert bytes(alpn_list([b"a", b"bc"])) == bytes.fromhex("0b000000020000000500") + b"\x01a\x02bc"
