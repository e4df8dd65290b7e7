"""Qt's SChannel TLS backend, ported call for call, against real peers.

The port follows qt/qtbase ``src/plugins/tls/schannel/qtls_schannel.cpp``
(class ``QTlsPrivate::TlsCryptographSchannel``, client mode; read at commit
00f4e483).  Each method below names the Qt function it stands for and keeps its
SSPI and CryptoAPI calls, their arguments and the statuses Qt accepts.  What is
Qt's own C++ (QSslError, QSslCertificate parsing, its host-name matcher) is
replaced by the smallest Python that gives the same answer, and says so.

Qt is event driven: ``QSslSocket`` calls ``continueHandshake`` / ``transmit``
whenever bytes arrive.  :class:`QtSocket` is that loop on a blocking socket: it
waits for the socket to become readable, then calls what Qt would.

Scenarios (openssl s_server and gnutls-serv on 127.0.0.1): a trusted handshake
and echo for TLS 1.2 and 1.3, ALPN, a wrong host, an untrusted root, Qt's own
CA list without the system roots, a server that asks for a certificate Qt does
not have, a client certificate picked with CertFindChainInStore, TLS 1.3
tickets through ISC(NULL) after SEC_I_RENEGOTIATE, a TLS 1.2 renegotiation the
server starts, and the close through ApplyControlToken(SCHANNEL_SHUTDOWN).
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import re
import select
import socket
import struct
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

import schannel_py as sc
import schannel_py.crypt32 as c
from schannel_py.testing.pki import Issued, make_ca, make_leaf
from tests.support import peers
from tests.support.isc_call import QT_FLAGS, out_buffers, token_input
from tests.support.sspi_driver import no_unexpected_exceptions

pytestmark = pytest.mark.interop

IO_TIMEOUT = 10.0
NETSCAPE_CERT_TYPE_OID = "2.16.840.1.113730.1.1"
NETSCAPE_SSL_SERVER_AUTH_CERT_TYPE = 0x40


class QtSocket:
    """The plain TCP socket under QSslSocket: bytesAvailable, read, write."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.open = True

    def bytes_available(self) -> int:
        raw = fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        count: int = struct.unpack("i", raw)[0]
        return count

    def read(self, n: int) -> bytes:
        return self.sock.recv(n) if n > 0 else b""

    def write(self, data: bytes) -> int:
        self.sock.sendall(data)
        return len(data)

    def wait_for_ready_read(self, timeout: float = IO_TIMEOUT) -> bool:
        """True once bytes (or EOF) can be read; False on timeout."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        return bool(ready)

    def at_eof(self) -> bool:
        try:
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False

    def close(self) -> None:
        self.open = False
        self.sock.close()


class SchannelState(enum.Enum):
    InitializeHandshake = 0
    PerformHandshake = 1
    VerifyHandshake = 2
    Done = 3
    Renegotiate = 4


@dataclass
class QtConfig:
    """The parts of QSslConfiguration the backend reads."""

    #: toSchannelProtocol(configuration.protocol()): the SP_PROT_* bits wanted.
    protocols: int = sc.SP_PROT_TLS1_2 | sc.SP_PROT_TLS1_3
    allowed_next_protocols: list[bytes] = field(default_factory=list)
    #: localCertificateChain + privateKey, as the PKCS#12 Qt makes of them.
    local_pkcs12: bytes | None = None
    #: caCertificates (DER); None keeps the default: the system's roots, loaded
    #: with root-on-demand allowed (QSchannelBackend::ensureInitializedImplementation).
    ca_certificates: list[bytes] | None = None
    #: "AutoVerifyPeer" (a client's default) or "VerifyNone".
    peer_verify_mode: str = "AutoVerifyPeer"


def system_ca_certificates() -> list[bytes]:
    """QSchannelBackend::systemCaCertificatesImplementation: CertOpenStore(SYSTEM,
    READONLY | CURRENT_USER, "ROOT") walked with CertFindCertificateInStore(CERT_FIND_ANY)."""
    store = c.CertOpenStore(
        c.CERT_STORE_PROV_SYSTEM,
        0,
        None,
        c.CERT_STORE_READONLY_FLAG | c.CERT_SYSTEM_STORE_CURRENT_USER,
        "ROOT",
    )
    found: list[bytes] = []
    if store is None:
        return found
    pc = c.CertFindCertificateInStore(store, c.X509_ASN_ENCODING, 0, c.CERT_FIND_ANY, None, None)
    while pc is not None:
        found.append(bytes(pc.pbCertEncoded))
        pc = c.CertFindCertificateInStore(store, c.X509_ASN_ENCODING, 0, c.CERT_FIND_ANY, None, pc)
    c.CertCloseStore(store, 0)
    return found


def make_pkcs12(certs: list[x509.Certificate], key: Issued | None) -> bytes:
    """_q_makePkcs12(certChain, privateKey, ""): what Qt feeds PFXImportCertStore
    (the first certificate with ``key``'s private key, or CA certificates alone)."""
    from cryptography.hazmat.primitives.serialization import NoEncryption

    if key is None:
        return pkcs12.serialize_key_and_certificates(b"qt", None, None, certs, NoEncryption())
    return pkcs12.serialize_key_and_certificates(
        b"qt",
        key.key,  # type: ignore[arg-type]
        certs[0],
        certs[1:],
        NoEncryption(),
    )


def create_alpn_string(protocols: list[bytes]) -> bytes:
    """createAlpnString: SEC_APPLICATION_PROTOCOLS laid out by hand, as Qt does."""
    names = b"".join(bytes([len(p)]) + p for p in protocols if 0 < len(p) <= 255)
    if not names:
        return b""
    alpn_id = sc.SecApplicationProtocolNegotiationExt_ALPN
    total = 4 + 2 + len(names)
    return struct.pack("<IIH", total, alpn_id, len(names)) + names


def is_matching_hostname(der: bytes, name: str) -> bool:
    """Qt's own QSslSocketPrivate::isMatchingHostname (not an SSPI call); the package's
    RFC 6125 matcher gives the same answers for these certificates."""
    return c.name_matches(x509.load_der_x509_certificate(der), name)


def _free(out: sc.SecBufferDesc) -> None:
    for buf in out.pBuffers:
        if buf.pvBuffer is not None:
            sc.FreeContextBuffer(buf.pvBuffer)


class TlsCryptographSchannel:
    """QTlsPrivate::TlsCryptographSchannel in client mode."""

    def __init__(self, plain: QtSocket, peer_name: str, config: QtConfig) -> None:
        self.plain = plain
        self.peer_name = peer_name
        self.config = config
        self.credential_handle: sc.CredHandle | None = None
        self.context_handle: sc.CtxtHandle | None = None
        self.context_attributes = sc.ULONG()
        self.schannel_state = SchannelState.InitializeHandshake
        self.intermediate_buffer = bytearray()
        self.missing_data = 0
        self.shutdown = False
        self.renegotiating = False
        self.encrypted = False
        self.local_cert_context: c.CERT_CONTEXT | None = None
        self.local_certificate_store: c.CertStore | None = None
        self.ca_certificate_store: c.CertStore | None = None
        self.stream_sizes = sc.SecPkgContext_StreamSizes()
        self.cipher_info = sc.SecPkgContext_CipherInfo()
        self.connection_info = sc.SecPkgContext_ConnectionInfo()
        self.negotiated_protocol: bytes | None = None
        self.ssl_errors: list[str] = []
        self.error: str | None = None
        self.read_buffer = bytearray()
        self.peer_certificate_chain: list[bytes] = []
        self.statuses: list[str] = []  # every ISC status, for the tests
        self.write_buffer = bytearray()
        self.roots_on_demand = config.ca_certificates is None
        self.ca_certificates = (
            system_ca_certificates()
            if config.ca_certificates is None
            else list(config.ca_certificates)
        )

    # -- helpers -------------------------------------------------------------

    def set_error_and_emit(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def send_token(self, token: object, length: int) -> bool:
        """sendToken."""
        if length == 0:
            return True
        if not self.plain.open:
            return False
        data = bytes(memoryview(token)[:length])  # type: ignore[arg-type]
        return self.plain.write(data) == length

    def target_name(self) -> str:
        return self.peer_name

    def get_context_requirements(self) -> int:
        """getContextRequirements (client): ALLOCATE_MEMORY, CONFIDENTIALITY,
        REPLAY_DETECT, SEQUENCE_DETECT, STREAM, MANUAL_CRED_VALIDATION."""
        return QT_FLAGS

    def read_to_buffer(self) -> int:
        """readToBuffer: at most 16 KiB of what the socket holds."""
        to_read = min(16 * 1024, self.plain.bytes_available())
        data = self.plain.read(to_read) if to_read > 0 else b""
        self.intermediate_buffer += data
        return len(data)

    def retain_extra_data(self, extra: sc.SecBuffer) -> None:
        """retainExtraData: keep the last cbBuffer bytes."""
        if extra.cbBuffer >= len(self.intermediate_buffer):
            return
        del self.intermediate_buffer[: len(self.intermediate_buffer) - extra.cbBuffer]

    @staticmethod
    def check_incomplete_data(buf: sc.SecBuffer) -> int:
        """checkIncompleteData (Qt looks at outBuffers[0], as ported)."""
        return buf.cbBuffer if buf.BufferType == sc.SECBUFFER_MISSING else 0

    def initialize_security_context(
        self,
        context: sc.CtxtHandle | None,
        input_buffers: sc.SecBufferDesc | None,
        new_context: sc.CtxtHandle | None,
        out: sc.SecBufferDesc,
    ) -> sc.SecStatus:
        """InitializeSecurityContext as every Qt call site makes it: the credential, the
        target name and getContextRequirements(), Reserved1/2 0, TargetDataRep 0,
        contextAttributes and an expiry Qt does not read."""
        return sc.InitializeSecurityContext(
            self.credential_handle,
            context,
            self.target_name(),
            self.get_context_requirements(),
            0,
            0,
            input_buffers,
            0,
            new_context,
            out,
            self.context_attributes,
            sc.TimeStamp(),
        )

    # -- acquireCredentialsHandle ---------------------------------------------

    def initialize_certificate_stores(self) -> None:
        """initializeCertificateStores: PFXImportCertStore(&pfx, L"", 0) of the local
        chain with its key, and of the user's CA list without one."""
        if self.config.local_pkcs12 is not None and self.local_certificate_store is None:
            blob = c.CRYPT_DATA_BLOB.from_bytes(self.config.local_pkcs12)
            self.local_certificate_store = c.PFXImportCertStore(blob, "", 0)
        if self.config.ca_certificates and self.ca_certificate_store is None:
            cas = [x509.load_der_x509_certificate(d) for d in self.config.ca_certificates]
            blob = c.CRYPT_DATA_BLOB.from_bytes(make_pkcs12(cas, None))
            self.ca_certificate_store = c.PFXImportCertStore(blob, "", 0)

    def acquire_credentials_handle(self) -> bool:
        """acquireCredentialsHandle: CertFindChainInStore for the local certificate,
        then SCH_CREDENTIALS with REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT | NO_DEFAULT_CREDS
        and grbitDisabledProtocols = SP_PROT_ALL & ~wanted (negatedSchannelProtocols)."""
        protocols = self.config.protocols
        certs_count = 0
        self.initialize_certificate_stores()
        if self.config.local_pkcs12 is not None and self.local_certificate_store is None:
            return True
        if self.local_certificate_store is not None:
            find_param = c.CERT_CHAIN_FIND_BY_ISSUER_PARA()
            find_param.pszUsageIdentifier = c.szOID_PKIX_KP_CLIENT_AUTH
            chain_context = c.CertFindChainInStore(
                self.local_certificate_store,
                c.X509_ASN_ENCODING,
                0,
                c.CERT_CHAIN_FIND_BY_ISSUER,
                find_param,
                None,
            )
            if chain_context is None:
                self.set_error_and_emit("The certificate provided cannot be used for a client.")
                return False
            assert chain_context.cChain == 1
            element = chain_context.rgpChain[0].rgpElement[0]
            self.local_cert_context = c.CertDuplicateCertificateContext(element.pCertContext)
            certs_count = 1
            c.CertFreeCertificateChain(chain_context)

        tls_parameters = sc.TLS_PARAMETERS(
            cAlpnIds=0,
            rgstrAlpnIds=None,
            grbitDisabledProtocols=sc.SP_PROT_ALL & ~protocols,
            cDisabledCrypto=0,
            pDisabledCrypto=None,
            dwFlags=0,
        )
        credentials = sc.SCH_CREDENTIALS(
            dwVersion=sc.SCH_CREDENTIALS_VERSION,
            dwCredFormat=0,
            cCreds=certs_count,
            paCred=[self.local_cert_context] if certs_count else None,
            hRootStore=None,
            cMappers=0,
            aphMappers=None,
            dwSessionLifespan=0,
            dwFlags=sc.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT | sc.SCH_CRED_NO_DEFAULT_CREDS,
            cTlsParameters=1,
            pTlsParameters=[tls_parameters],
        )
        self.credential_handle = sc.CredHandle()
        status = sc.AcquireCredentialsHandle(
            None,
            sc.UNISP_NAME,
            sc.SECPKG_CRED_OUTBOUND,
            None,
            credentials,
            None,
            None,
            self.credential_handle,
            sc.TimeStamp(),
        )
        if status != sc.SEC_E_OK:
            self.credential_handle = None
            self.set_error_and_emit(f"AcquireCredentialsHandle: {status!r}")
            return False
        return True

    # -- createContext / performHandshake -----------------------------------------

    def create_context(self) -> bool:
        """createContext: the first ISC, ALPN as the only input (or NULL input)."""
        assert self.credential_handle is not None
        out = out_buffers()
        alpn = create_alpn_string(self.config.allowed_next_protocols)
        alpn_desc = sc.SecBufferDesc(
            [sc.SecBuffer(len(alpn), sc.SECBUFFER_APPLICATION_PROTOCOLS, alpn)]
        )
        self.context_handle = sc.CtxtHandle()
        status = self.initialize_security_context(
            None, alpn_desc if alpn else None, self.context_handle, out
        )
        self.statuses.append(repr(status))
        try:
            if status != sc.SEC_I_CONTINUE_NEEDED:
                self.set_error_and_emit(f"Error creating SSL context ({status!r})")
                return False
            token = out.pBuffers[0]
            if not self.send_token(token.pvBuffer, token.cbBuffer):
                return False
        finally:
            _free(out)
        self.schannel_state = SchannelState.PerformHandshake
        return True

    def perform_handshake(self) -> bool:
        """performHandshake: up to two ISC calls with the same credential, flags and
        input when the first says SEC_I_INCOMPLETE_CREDENTIALS."""
        if not self.plain.open:
            self.set_error_and_emit("The TLS/SSL connection has been closed")
            return False
        assert self.credential_handle is not None and self.context_handle is not None
        if self.missing_data > self.plain.bytes_available():
            return True
        self.missing_data = 0
        self.read_to_buffer()
        if not self.intermediate_buffer:
            return True
        attempts = 2
        while True:
            data = bytes(self.intermediate_buffer)
            input_buffers = token_input(data)  # [TOKEN, EMPTY]
            out = out_buffers()
            status = self.initialize_security_context(self.context_handle, input_buffers, None, out)
            self.statuses.append(repr(status))
            if input_buffers.pBuffers[1].BufferType == sc.SECBUFFER_EXTRA:
                self.retain_extra_data(input_buffers.pBuffers[1])
            elif status != sc.SEC_E_INCOMPLETE_MESSAGE:
                self.intermediate_buffer.clear()
            attempts -= 1
            if status != sc.SEC_I_INCOMPLETE_CREDENTIALS or attempts <= 0:
                break
            _free(out)
        try:
            token = out.pBuffers[0]
            if status == sc.SEC_E_OK:
                if not self.send_token(token.pvBuffer, token.cbBuffer):
                    return False
                self.schannel_state = SchannelState.VerifyHandshake
                return True
            if status == sc.SEC_I_CONTINUE_NEEDED:
                return self.send_token(token.pvBuffer, token.cbBuffer)
            if status == sc.SEC_I_INCOMPLETE_CREDENTIALS:
                self.set_error_and_emit("Server did not accept any certificate we could present.")
                return False
            if status == sc.SEC_I_CONTEXT_EXPIRED:
                if token.BufferType == sc.SECBUFFER_TOKEN:
                    if not self.send_token(token.pvBuffer, token.cbBuffer):
                        return False
                if not self.shutdown:
                    self.set_error_and_emit("The TLS/SSL connection has been closed")
                return True
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                self.missing_data = self.check_incomplete_data(token)
                return True
            if status == sc.SEC_E_ALGORITHM_MISMATCH:
                self.set_error_and_emit("Algorithm mismatch")
                self.shutdown = True
                return False
            self.set_error_and_emit(f"Handshake failed: {status!r}")
            return False
        finally:
            _free(out)

    # -- verifyHandshake ------------------------------------------------------------

    def matches_context_requirements(self, attributes: int, requirements: int) -> bool:
        """matchesContextRequirements (client, not VerifyPeer): each REQ bit mirrored by
        its RET bit for CONFIDENTIALITY, REPLAY_DETECT, SEQUENCE_DETECT, STREAM and
        MANUAL_CRED_VALIDATION."""
        pairs = [
            (sc.ISC_REQ_CONFIDENTIALITY, sc.ISC_RET_CONFIDENTIALITY),
            (sc.ISC_REQ_REPLAY_DETECT, sc.ISC_RET_REPLAY_DETECT),
            (sc.ISC_REQ_SEQUENCE_DETECT, sc.ISC_RET_SEQUENCE_DETECT),
            (sc.ISC_REQ_STREAM, sc.ISC_RET_STREAM),
            (sc.ISC_REQ_MANUAL_CRED_VALIDATION, sc.ISC_RET_MANUAL_CRED_VALIDATION),
        ]
        if self.config.peer_verify_mode == "VerifyPeer":
            pairs.append((sc.ISC_REQ_MUTUAL_AUTH, sc.ISC_RET_MUTUAL_AUTH))
        return all(bool(requirements & req) == bool(attributes & ret) for req, ret in pairs)

    def verify_handshake(self) -> bool:
        """verifyHandshake: the returned flags, STREAM_SIZES, CIPHER_INFO,
        CONNECTION_INFO, APPLICATION_PROTOCOL, then REMOTE_CERT_CONTEXT and Qt's own
        chain check."""
        assert self.context_handle is not None
        self.ssl_errors.clear()
        if not self.matches_context_requirements(
            self.context_attributes.value, self.get_context_requirements()
        ):
            self.set_error_and_emit("Did not get the required attributes for the connection.")
            return False
        for attribute, structure in (
            (sc.SECPKG_ATTR_STREAM_SIZES, self.stream_sizes),
            (sc.SECPKG_ATTR_CIPHER_INFO, self.cipher_info),
            (sc.SECPKG_ATTR_CONNECTION_INFO, self.connection_info),
        ):
            status = sc.QueryContextAttributes(self.context_handle, attribute, structure)
            if status != sc.SEC_E_OK:
                self.set_error_and_emit(f"Failed to query the TLS context: {status!r}")
                return False
        allowed = self.config.allowed_next_protocols
        if allowed:
            alpn = sc.SecPkgContext_ApplicationProtocol()
            status = sc.QueryContextAttributes(
                self.context_handle, sc.SECPKG_ATTR_APPLICATION_PROTOCOL, alpn
            )
            if status != sc.SEC_E_OK:
                self.set_error_and_emit(f"Failed to query the TLS context: {status!r}")
                return False
            if alpn.ProtoNegoStatus == sc.SecApplicationProtocolNegotiationStatus_Success:
                negotiated = bytes(alpn.ProtocolId[: alpn.ProtocolIdSize])
                if negotiated not in allowed:
                    self.set_error_and_emit("Unwanted protocol was negotiated")
                    return False
                self.negotiated_protocol = negotiated
            else:
                self.negotiated_protocol = None

        holder = sc.PVOID()
        status = sc.QueryContextAttributes(
            self.context_handle, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder
        )
        certificate_context = holder.value if status == sc.SEC_E_OK else None
        if self.config.peer_verify_mode not in ("VerifyNone", "QueryPeer"):
            if status != sc.SEC_E_OK:
                self.ssl_errors.append("NoPeerCertificate")
        if isinstance(certificate_context, c.CERT_CONTEXT):
            self.verify_cert_context(certificate_context)
            c.CertFreeCertificateContext(certificate_context)
        if not self.check_ssl_errors():
            return False
        self.schannel_state = SchannelState.Done
        return True

    def check_ssl_errors(self) -> bool:
        """checkSslErrors: any error fails a client that verifies its peer."""
        if not self.ssl_errors:
            return True
        if self.config.peer_verify_mode in ("VerifyPeer", "AutoVerifyPeer"):
            self.set_error_and_emit(self.ssl_errors[0])
            return False
        return True

    def verify_cert_context(self, cert_context: c.CERT_CONTEXT) -> None:
        """verifyCertContext: a collection of ROOT (when roots load on demand), the
        user's CA store and the certificate's own store; CertGetCertificateChain with
        serverAuth (AND) and REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT; then Qt's reading of
        the chain's and each element's TrustStatus."""
        collection = c.CertOpenStore(
            c.CERT_STORE_PROV_COLLECTION,
            c.X509_ASN_ENCODING,
            None,
            c.CERT_STORE_CREATE_NEW_FLAG,
            None,
        )
        assert collection is not None
        if self.roots_on_demand:
            root_store = c.CertOpenStore(
                c.CERT_STORE_PROV_SYSTEM,
                0,
                None,
                c.CERT_STORE_READONLY_FLAG | c.CERT_SYSTEM_STORE_CURRENT_USER,
                "ROOT",
            )
            assert root_store is not None
            assert c.CertAddStoreToCollection(collection, root_store, 0, 1)
        if self.ca_certificate_store is not None:
            assert c.CertAddStoreToCollection(collection, self.ca_certificate_store, 0, 1)
        assert c.CertAddStoreToCollection(collection, cert_context.hCertStore, 0, 0)

        usage = c.CERT_ENHKEY_USAGE(
            cUsageIdentifier=1, rgpszUsageIdentifier=[c.szOID_PKIX_KP_SERVER_AUTH]
        )
        parameters = c.CERT_CHAIN_PARA(
            RequestedUsage=c.CERT_USAGE_MATCH(dwType=c.USAGE_MATCH_TYPE_AND, Usage=usage)
        )
        self.peer_certificate_chain = []
        out = c.PCCERT_CHAIN_CONTEXT()
        ok = c.CertGetCertificateChain(
            None,
            cert_context,
            None,
            collection,
            parameters,
            c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
            None,
            out,
        )
        chain_context = out.value
        if not ok or chain_context is None or chain_context.cChain == 0:
            self.ssl_errors.append("UnableToVerifyFirstCertificate")
            return
        try:
            self._read_chain(chain_context)
        finally:
            c.CertFreeCertificateChain(chain_context)
            c.CertCloseStore(collection, 0)

    def _read_chain(self, chain_context: c.CERT_CHAIN_CONTEXT) -> None:
        chain = chain_context.rgpChain[chain_context.cChain - 1]
        status = chain.TrustStatus.dwErrorStatus
        if status & c.CERT_TRUST_IS_PARTIAL_CHAIN:
            self.ssl_errors.append("UnableToGetIssuerCertificate")
        if status & c.CERT_TRUST_INVALID_BASIC_CONSTRAINTS:
            self.ssl_errors.append("PathLengthExceeded")
        leftover_chain = (
            c.CERT_TRUST_IS_CYCLIC
            | c.CERT_TRUST_INVALID_EXTENSION
            | c.CERT_TRUST_INVALID_POLICY_CONSTRAINTS
            | c.CERT_TRUST_INVALID_NAME_CONSTRAINTS
            | c.CERT_TRUST_CTL_IS_NOT_TIME_VALID
            | c.CERT_TRUST_CTL_IS_NOT_SIGNATURE_VALID
            | c.CERT_TRUST_CTL_IS_NOT_VALID_FOR_USAGE
        )
        if status & leftover_chain:
            self.ssl_errors.append("UnspecifiedError")
        ders = [
            bytes(e.pCertContext.pbCertEncoded) if e.pCertContext is not None else b""
            for e in chain.rgpElement
        ]
        if (
            not self.roots_on_demand
            and not status & c.CERT_TRUST_IS_PARTIAL_CHAIN
            and self.config.peer_verify_mode in ("VerifyPeer", "AutoVerifyPeer")
        ):
            # "Windows helpfully builds a chain that may include roots from the system
            # store": with the user's own CA list, the top must be one of them.
            if ders[chain.cElement - 1] not in self.ca_certificates:
                self.ssl_errors.append("CertificateUntrusted")

        for i in range(chain.cElement):
            element = chain.rgpElement[i]
            der = ders[i]
            if not der:
                self.ssl_errors.append("UnableToGetIssuerCertificate")
                return
            self.peer_certificate_chain.append(der)
            assert element.pCertContext is not None
            result = c.CertVerifyTimeValidity(None, element.pCertContext.pCertInfo)
            if result != 0:
                self.ssl_errors.append(
                    "CertificateNotYetValid" if result == -1 else "CertificateExpired"
                )
            errors = element.TrustStatus.dwErrorStatus
            if errors & c.CERT_TRUST_IS_REVOKED:
                self.ssl_errors.append("CertificateRevoked")
            if errors & c.CERT_TRUST_IS_NOT_SIGNATURE_VALID:
                self.ssl_errors.append("CertificateSignatureFailed")
            if self._netscape_wrong_cert_type(element.pCertContext):
                errors |= c.CERT_TRUST_IS_NOT_VALID_FOR_USAGE
            if errors & c.CERT_TRUST_IS_NOT_VALID_FOR_USAGE:
                self.ssl_errors.append("InvalidPurpose")
            if errors & c.CERT_TRUST_IS_UNTRUSTED_ROOT and der not in self.ca_certificates:
                self.ssl_errors.append("CertificateUntrusted")
            # OFFLINE_REVOCATION | REVOCATION_STATUS_UNKNOWN: "@future(maybe)", ignored.
            leftover = (
                c.CERT_TRUST_IS_CYCLIC
                | c.CERT_TRUST_INVALID_EXTENSION
                | c.CERT_TRUST_INVALID_NAME_CONSTRAINTS
                | c.CERT_TRUST_INVALID_POLICY_CONSTRAINTS
                | c.CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT
                | c.CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT
                | c.CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT
                | c.CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT
                | c.CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT
            )
            if errors & leftover:
                self.ssl_errors.append("UnspecifiedError")
            if errors & c.CERT_TRUST_INVALID_BASIC_CONSTRAINTS:
                self.ssl_errors.append("PathLengthExceeded")
            if errors & c.CERT_TRUST_IS_EXPLICIT_DISTRUST:
                self.ssl_errors.append("CertificateBlacklisted")
            if element.TrustStatus.dwInfoStatus & c.CERT_TRUST_IS_SELF_SIGNED:
                cert = element.pCertContext.certificate
                if not (self._is_certificate_authority(cert) or cert.version.value == 0):
                    self.ssl_errors.append("SelfSignedCertificate")

        if self.peer_certificate_chain:
            if not is_matching_hostname(self.peer_certificate_chain[0], self.peer_name):
                self.ssl_errors.append("HostNameMismatch")
        elif self.config.peer_verify_mode in ("VerifyPeer", "AutoVerifyPeer"):
            self.ssl_errors.append("NoPeerCertificate")

    @staticmethod
    def _netscape_wrong_cert_type(ctx: c.CERT_CONTEXT) -> bool:
        """netscapeWrongCertType (Qt parses the extension itself)."""
        info = ctx.pCertInfo
        ext = c.CertFindExtension(NETSCAPE_CERT_TYPE_OID, info.cExtension, info.rgExtension)
        if ext is None:
            return False
        value = bytes(ext.Value.pbData or b"")
        return len(value) < 4 or not value[3] & NETSCAPE_SSL_SERVER_AUTH_CERT_TYPE

    @staticmethod
    def _is_certificate_authority(cert: x509.Certificate) -> bool:
        """isCertificateAuthority (Qt's own extension reading)."""
        try:
            return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            return False

    # -- renegotiate / transmit / sendShutdown -------------------------------------

    def renegotiate(self) -> bool:
        """renegotiate: ISC with pInput NULL; CONTINUE_NEEDED (send) or OK, else fail."""
        assert self.credential_handle is not None and self.context_handle is not None
        out = out_buffers()
        status = self.initialize_security_context(self.context_handle, None, None, out)
        self.statuses.append("renegotiate:" + repr(status))
        try:
            if status == sc.SEC_I_CONTINUE_NEEDED:
                self.schannel_state = SchannelState.PerformHandshake
                token = out.pBuffers[0]
                return self.send_token(token.pvBuffer, token.cbBuffer)
            if status == sc.SEC_E_OK:
                self.schannel_state = SchannelState.PerformHandshake
                return True
            self.set_error_and_emit(f"Renegotiation was unsuccessful: {status!r}")
            return False
        finally:
            _free(out)

    def get_next_encrypted_message(self) -> bytes | None:
        """getNextEncryptedMessage: [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY] over one
        buffer, encrypted in place; the trailer's final size decides what is sent."""
        assert self.context_handle is not None
        header, trailer = self.stream_sizes.cbHeader, self.stream_sizes.cbTrailer
        size = min(len(self.write_buffer), self.stream_sizes.cbMaximumMessage)
        full = bytearray(header + size + trailer)
        full[header : header + size] = self.write_buffer[:size]
        view = memoryview(full)
        message = sc.SecBufferDesc(
            [
                sc.SecBuffer(header, sc.SECBUFFER_STREAM_HEADER, view[:header]),
                sc.SecBuffer(size, sc.SECBUFFER_DATA, view[header : header + size]),
                sc.SecBuffer(trailer, sc.SECBUFFER_STREAM_TRAILER, view[header + size :]),
                sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
            ]
        )
        status = sc.EncryptMessage(self.context_handle, 0, message, 0)
        if status != sc.SEC_E_OK:
            self.set_error_and_emit(f"Schannel failed to encrypt data: {status!r}")
            return None
        del self.write_buffer[:size]
        length = sum(message.pBuffers[i].cbBuffer for i in range(3))
        message.release()
        view.release()
        return bytes(full[:length])

    def write(self, data: bytes) -> None:
        """QSslSocket::write then transmit's encrypting half."""
        self.write_buffer += data
        while self.write_buffer:
            record = self.get_next_encrypted_message()
            assert record is not None, self.error
            self.plain.write(record)

    def transmit(self) -> None:
        """transmit's decrypting half: DecryptMessage over [DATA, EMPTY x3] and its
        handling of OK, RENEGOTIATE, CONTEXT_EXPIRED and INCOMPLETE_MESSAGE."""
        if self.schannel_state != SchannelState.Done:
            self.continue_handshake()
            return
        assert self.context_handle is not None
        had_incomplete = False
        while True:
            if self.missing_data > self.plain.bytes_available():
                break
            self.missing_data = 0
            read = self.read_to_buffer()
            if not self.intermediate_buffer or (had_incomplete and read == 0):
                break
            had_incomplete = False
            data_buffer = sc.SecBufferDesc(
                [
                    sc.SecBuffer(
                        len(self.intermediate_buffer), sc.SECBUFFER_DATA, self.intermediate_buffer
                    )
                ]
                + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
            )
            status = sc.DecryptMessage(self.context_handle, data_buffer, 0, None)
            if status in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTEXT_EXPIRED):
                if data_buffer.pBuffers[1].cbBuffer > 0:
                    self.read_buffer += data_buffer.pBuffers[1].data()
                extra = data_buffer.pBuffers[3]
                data_buffer.release()
                if extra.BufferType == sc.SECBUFFER_EXTRA:
                    self.retain_extra_data(extra)
                else:
                    self.intermediate_buffer.clear()
            else:
                data_buffer.release()
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                self.missing_data = self.check_incomplete_data(data_buffer.pBuffers[0])
                had_incomplete = True
            elif status in (
                sc.SEC_E_INVALID_TOKEN,
                sc.SEC_E_MESSAGE_ALTERED,
                sc.SEC_E_OUT_OF_SEQUENCE,
            ):
                self.shutdown = True
                self.disconnect_from_host()
                self.set_error_and_emit(repr(status))
                break
            elif status == sc.SEC_I_CONTEXT_EXPIRED:
                self.disconnect_from_host()
                break
            elif status == sc.SEC_I_RENEGOTIATE:
                self.schannel_state = SchannelState.Renegotiate
                self.renegotiating = True
                self.continue_handshake()
                break
            elif status != sc.SEC_E_OK:
                self.set_error_and_emit(f"DecryptMessage: {status!r}")
                break

    def send_shutdown(self) -> None:
        """sendShutdown: ApplyControlToken(SCHANNEL_SHUTDOWN), then ISC with pInput
        NULL; the token goes out on SEC_E_OK or SEC_I_CONTEXT_EXPIRED."""
        assert self.context_handle is not None
        token = struct.pack("<I", sc.SCHANNEL_SHUTDOWN)
        desc = sc.SecBufferDesc([sc.SecBuffer(len(token), sc.SECBUFFER_TOKEN, token)])
        status = sc.ApplyControlToken(self.context_handle, desc)
        self.statuses.append("shutdown-token:" + repr(status))
        if status != sc.SEC_E_OK:
            return
        out = out_buffers()
        status = self.initialize_security_context(self.context_handle, None, None, out)
        self.statuses.append("shutdown:" + repr(status))
        try:
            if status in (sc.SEC_E_OK, sc.SEC_I_CONTEXT_EXPIRED):
                first = out.pBuffers[0]
                self.send_token(first.pvBuffer, first.cbBuffer)
        finally:
            _free(out)

    def disconnect_from_host(self) -> None:
        """disconnectFromHost: the close_notify unless already shut down, then close."""
        if self.context_handle is not None and not self.shutdown:
            self.shutdown = True
            if self.plain.open and self.encrypted:
                self.send_shutdown()
                self.transmit()
        if self.plain.open:
            with contextlib.suppress(OSError):  # the peer may have closed already
                self.plain.sock.shutdown(socket.SHUT_WR)

    def release(self) -> None:
        """~TlsCryptographSchannel: DeleteSecurityContext, FreeCredentialsHandle."""
        if self.context_handle is not None:
            sc.DeleteSecurityContext(self.context_handle)
            self.context_handle = None
        if self.credential_handle is not None:
            sc.FreeCredentialsHandle(self.credential_handle)
            self.credential_handle = None
        if self.local_cert_context is not None:
            c.CertFreeCertificateContext(self.local_cert_context)
            self.local_cert_context = None
        self.plain.close()

    # -- continueHandshake ----------------------------------------------------------

    def continue_handshake(self) -> None:
        """continueHandshake: the state machine with its fall-throughs."""
        state = self.schannel_state
        if state == SchannelState.InitializeHandshake:
            if self.credential_handle is None and not self.acquire_credentials_handle():
                self.disconnect_from_host()
                return
            if self.credential_handle is None:
                return
            if self.context_handle is None and not self.create_context():
                self.disconnect_from_host()
                return
            if self.schannel_state != SchannelState.PerformHandshake:
                return
            state = SchannelState.PerformHandshake
        if state == SchannelState.PerformHandshake:
            if not self.perform_handshake():
                self.disconnect_from_host()
                return
            if self.schannel_state != SchannelState.VerifyHandshake:
                return
            state = SchannelState.VerifyHandshake
        if state == SchannelState.VerifyHandshake:
            if not self.verify_handshake():
                self.shutdown = True
                self.disconnect_from_host()
                return
            if self.schannel_state != SchannelState.Done:
                return
            state = SchannelState.Done
        if state == SchannelState.Done:
            self.encrypted = True
            self.renegotiating = False
            self.transmit()
            return
        if state == SchannelState.Renegotiate:
            if not self.renegotiate():
                self.disconnect_from_host()
            elif self.intermediate_buffer or self.plain.bytes_available():
                self.continue_handshake()

    # -- what QSslSocket's event loop does ---------------------------------------------

    def connect_to_host_encrypted(self) -> bool:
        """startClientEncryption, then continueHandshake on every readyRead."""
        with no_unexpected_exceptions():
            self.continue_handshake()
            while not self.encrypted and self.error is None:
                if not self.plain.open or not self.plain.wait_for_ready_read():
                    self.set_error_and_emit("timed out or closed during the handshake")
                    break
                if self.plain.at_eof():
                    self.set_error_and_emit("The TLS/SSL connection has been closed")
                    break
                self.transmit()
        return self.encrypted and self.error is None

    def read_until(self, needle: bytes) -> bytes:
        """waitForReadyRead + transmit until ``needle`` was decrypted."""
        with no_unexpected_exceptions():
            while needle not in self.read_buffer:
                assert self.error is None, self.error
                assert self.plain.wait_for_ready_read(), f"no data from the server {self.statuses}"
                if self.plain.at_eof() and not self.intermediate_buffer:
                    raise AssertionError(f"EOF before {needle!r}: {bytes(self.read_buffer)!r}")
                self.transmit()
        got = bytes(self.read_buffer)
        self.read_buffer.clear()
        return got


# --------------------------------------------------------------------------- #
# Scenarios
# --------------------------------------------------------------------------- #


@contextlib.contextmanager
def connect(
    srv: peers.OpenSSLServer | peers.GnuTLSServer, config: QtConfig, name: str = "localhost"
) -> Iterator[TlsCryptographSchannel]:
    """A QSslSocket to ``srv``, released (~TlsCryptographSchannel) on the way out."""
    qt = TlsCryptographSchannel(QtSocket(srv.address), name, config)
    try:
        yield qt
    finally:
        qt.release()


def only(version: str) -> int:
    return sc.SP_PROT_TLS1_3 if version == "tls13" else sc.SP_PROT_TLS1_2


@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_qt_trusted_handshake_echo_and_shutdown_openssl(
    pki: peers.ServerPki, root_certs_env: Path, version: str
) -> None:
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=version == "tls13", tls12=version == "tls12"
    ) as srv:
        with connect(srv, QtConfig(protocols=only(version))) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.ssl_errors, qt.statuses)
            # verifyHandshake's returned flags: exactly what matchesContextRequirements wants.
            assert qt.context_attributes.value & sc.ISC_RET_MANUAL_CRED_VALIDATION
            assert qt.context_attributes.value & sc.ISC_RET_STREAM
            want = sc.SP_PROT_TLS1_3_CLIENT if version == "tls13" else sc.SP_PROT_TLS1_2_CLIENT
            assert qt.connection_info.dwProtocol == want  # toQtSslProtocol's input
            assert qt.cipher_info.szCipherSuite.startswith("TLS_")  # ciphersByName's input
            assert qt.peer_certificate_chain == [
                pki.ecdsa.issued.der,
                pki.intermediate.der,
                pki.root.der,
            ]
            qt.write(b"hello from qt\n")
            srv.wait_for_output("hello from qt")
            srv.send_line("hello from openssl")
            assert b"hello from openssl\n" in qt.read_until(b"\n")
            qt.disconnect_from_host()
            assert "shutdown-token:SEC_E_OK" in qt.statuses
            assert "shutdown:SEC_E_OK" in qt.statuses
            srv.wait_for_output("DONE|shutting down SSL|CONNECTION CLOSED")


@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_qt_echo_and_alpn_gnutls(pki: peers.ServerPki, root_certs_env: Path, version: str) -> None:
    prio = peers.gnutls_only(version == "tls13")
    with peers.GnuTLSServer(
        **pki.rsa.server_kwargs(), priority=prio, alpn=["h2", "http/1.1"]
    ) as srv:
        config = QtConfig(protocols=only(version), allowed_next_protocols=[b"http/1.1"])
        with connect(srv, config) as qt:
            try:
                assert qt.connect_to_host_encrypted(), (qt.error, qt.ssl_errors, qt.statuses)
                assert qt.negotiated_protocol == b"http/1.1"
                qt.write(b"echo me please\n")
                # gnutls-serv --echo answers every record; TLS 1.3 tickets come first and
                # go through renegotiate() (ISC with NULL input).
                assert qt.read_until(b"please\n").endswith(b"echo me please\n")
            finally:
                qt.disconnect_from_host()


def test_qt_alpn_refused_by_server_is_unsupported(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), alpn="h2") as srv:
        with connect(srv, QtConfig(allowed_next_protocols=[b"h2", b"http/1.1"])) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            assert qt.negotiated_protocol == b"h2"
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        with connect(srv, QtConfig(allowed_next_protocols=[b"h2"])) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            assert qt.negotiated_protocol is None  # NextProtocolNegotiationUnsupported


def test_qt_wrong_host_is_its_own_error(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """MANUAL_CRED_VALIDATION: SChannel completes; Qt's own name check refuses."""
    with peers.OpenSSLServer(**pki.wrong_name.server_kwargs()) as srv:
        with connect(srv, QtConfig()) as qt:
            assert not qt.connect_to_host_encrypted()
            assert qt.statuses[-1] == "SEC_E_OK"  # the handshake itself succeeded
            assert qt.ssl_errors == ["HostNameMismatch"]
            assert qt.error == "HostNameMismatch"


def test_qt_untrusted_root(pki: peers.ServerPki, root_certs_env: Path) -> None:
    with peers.OpenSSLServer(**pki.untrusted.server_kwargs()) as srv:
        with connect(srv, QtConfig()) as qt:
            assert not qt.connect_to_host_encrypted()
            assert qt.statuses[-1] == "SEC_E_OK"
            # The server sends no root: the chain stops at a CA nobody trusts.
            assert qt.ssl_errors[0] in ("UnableToGetIssuerCertificate", "CertificateUntrusted")


def test_qt_expired_certificate(pki: peers.ServerPki, root_certs_env: Path) -> None:
    with peers.OpenSSLServer(**pki.expired.server_kwargs()) as srv:
        with connect(srv, QtConfig()) as qt:
            assert not qt.connect_to_host_encrypted()
            assert qt.ssl_errors == ["CertificateExpired"]  # CertVerifyTimeValidity == 1


def test_qt_own_ca_list_without_system_roots(pki: peers.ServerPki, isolated_stores: None) -> None:
    """QSslConfiguration::setCaCertificates: the CAs go through PFXImportCertStore into
    the collection, ROOT is left out, and the chain's top must be one of them."""
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        with connect(srv, QtConfig(ca_certificates=[pki.root.der])) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.ssl_errors)
            assert qt.peer_certificate_chain[-1] == pki.root.der
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        other = make_ca("Some Other CA")
        with connect(srv, QtConfig(ca_certificates=[other.der])) as qt:
            assert not qt.connect_to_host_encrypted()
            assert "UnableToGetIssuerCertificate" in qt.ssl_errors


@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_qt_optional_client_certificate_it_does_not_have(
    pki: peers.ServerPki, root_certs_env: Path, version: str
) -> None:
    """performHandshake's second ISC after SEC_I_INCOMPLETE_CREDENTIALS (same handle,
    flags and input) goes on without a certificate (rule 1.5.7)."""
    args = ["-verify", "4", "-CAfile", str(pki.root_ca)]  # asks, does not require
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=version == "tls13",
        tls12=version == "tls12",
        extra_args=args,
    ) as srv:
        with connect(srv, QtConfig(protocols=only(version))) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            assert "SEC_I_INCOMPLETE_CREDENTIALS" in qt.statuses
            qt.write(b"anonymous client\n")
            srv.wait_for_output("anonymous client")
            assert "qt-client" not in srv.output() and "CN = " not in srv.output()


@pytest.mark.parametrize("version", ["tls13", "tls12"])
def test_qt_client_certificate_from_cert_find_chain_in_store(
    pki: peers.ServerPki, root_certs_env: Path, version: str
) -> None:
    client = make_leaf(pki.intermediate, dns_names=(), common_name="qt-client", eku=("clientAuth",))
    pfx = make_pkcs12([client.cert, pki.intermediate.cert], client)
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=version == "tls13",
        tls12=version == "tls12",
        verify_client=True,
        client_ca_file=pki.root_ca,
    ) as srv:
        with connect(srv, QtConfig(protocols=only(version), local_pkcs12=pfx)) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            assert qt.local_cert_context is not None
            assert qt.local_cert_context.pbCertEncoded == client.der
            assert "SEC_I_INCOMPLETE_CREDENTIALS" not in qt.statuses
            qt.write(b"with a certificate\n")
            srv.wait_for_output("with a certificate")
            assert re.search(r"CN ?= ?qt-client", srv.output())


def test_qt_tls13_tickets_through_isc_without_input(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """Every NewSessionTicket: DecryptMessage says SEC_I_RENEGOTIATE, renegotiate()
    calls ISC with pInput NULL and accepts SEC_E_OK (nothing to send)."""
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False, num_tickets=3) as srv:
        with connect(srv, QtConfig(protocols=sc.SP_PROT_TLS1_3)) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            srv.send_line("after the tickets")
            assert qt.read_until(b"tickets\n").endswith(b"after the tickets\n")
            renegotiations = [s for s in qt.statuses if s.startswith("renegotiate:")]
            assert renegotiations and set(renegotiations) == {"renegotiate:SEC_E_OK"}
            qt.write(b"still fine\n")
            srv.wait_for_output("still fine")


def test_qt_tls12_server_renegotiation(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """A HelloRequest: renegotiate() gets SEC_I_CONTINUE_NEEDED and a ClientHello, then
    performHandshake and verifyHandshake run again."""
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False) as srv:
        with connect(srv, QtConfig(protocols=sc.SP_PROT_TLS1_2)) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            qt.write(b"before\n")
            srv.wait_for_output("before")
            srv.send_line("R")  # s_server: HelloRequest, and ask for a certificate
            deadline = time.monotonic() + IO_TIMEOUT
            while (
                "renegotiate:SEC_I_CONTINUE_NEEDED" not in qt.statuses
                or qt.schannel_state != SchannelState.Done
                or qt.renegotiating
            ):
                assert time.monotonic() < deadline, qt.statuses
                assert qt.plain.wait_for_ready_read(), qt.statuses
                qt.transmit()
            srv.send_line("after renegotiation")
            got = qt.read_until(b"renegotiation\n")
            assert got.endswith(b"after renegotiation\n"), qt.statuses
            assert "renegotiate:SEC_I_CONTINUE_NEEDED" in qt.statuses
            assert qt.schannel_state == SchannelState.Done
            qt.write(b"renegotiated\n")
            srv.wait_for_output("renegotiated")


def test_qt_server_close_notify_is_context_expired(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs()) as srv:
        with connect(srv, QtConfig()) as qt:
            assert qt.connect_to_host_encrypted(), (qt.error, qt.statuses)
            qt.disconnect_from_host()  # our close_notify; gnutls answers with its own
            assert "shutdown:SEC_E_OK" in qt.statuses
            assert qt.plain.wait_for_ready_read()
            qt.transmit()
            assert qt.error is None
