""".NET's SslStream on Windows (client side), ported call for call, against real peers.

Sources, dotnet/runtime (src/libraries/...):

* ``System.Net.Security/src/System/Net/Security/SslStreamPal.Windows.cs``:
  ``VerifyPackageInfo``, ``AcquireCredentialsHandleSchCredentials``,
  ``AcquireCredentialsHandleSchannelCred`` (builds before 18836),
  ``InitializeSecurityContext`` (with the SSL_SESSION_DISABLE_RECONNECTS token),
  ``EncryptMessage``, ``DecryptMessage``, ``ApplyAlertToken``, ``ApplyShutdownToken``,
  ``QueryContextStreamSizes``;
* ``System.Net.Security/src/System/Net/Security/SslStream.Protocol.cs``:
  ``NextMessage`` / ``GenerateToken`` (one retry after CredentialsNeeded with a
  refreshed credential), ``SelectClientCertificate`` (ISSUER_LIST_EX and the
  in-handshake REMOTE_CERT_CHAIN), ``ProcessHandshakeSuccess``,
  ``VerifyRemoteCertificate``, ``CreateFatalHandshakeAlertToken``,
  ``GetAlertMessageFromChain``, ``CreateShutdownToken``;
* ``SslStream.IO.cs``: one TLS frame per DecryptMessage, SEC_I_RENEGOTIATE answered by
  ``ReplyOnReAuthenticationAsync`` (ISC with the decrypted leftover, usually none);
* ``SslConnectionInfo.Windows.cs`` (``UpdateSslConnectionInfo``): CONNECTION_INFO,
  CIPHER_INFO, APPLICATION_PROTOCOL;
* ``System.Net.Security/src/System/Net/CertificateValidationPal.Windows.cs``
  (``GetRemoteCertificate``: REMOTE_CERT_CHAIN inside the handshake,
  REMOTE_CERT_CONTEXT plus its store after; ``IsLocalCertificateUsed``);
* ``Common/src/System/Net/Security/CertificateValidation.Windows.cs``
  (``BuildChainAndVerifyProperties``: the SSL policy with every IGNORE flag but
  IGNORE_INVALID_NAME, for the name only);
* ``System.Security.Cryptography/.../X509Certificates/ChainPal.Windows.BuildChain.cs``
  (``BuildChain``, ``GetChainEngine`` with hExclusiveRoot for CustomRootTrust,
  ``MapRevocationFlags``) and ``ChainPal.Windows.cs`` (``Verify``: the BASE policy
  decides X509Chain.Build's result).

What is .NET's own managed code (SslPolicyErrors, X509ChainStatusFlags, the
certificate-selection callback) is kept to the values the SSPI results feed.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import schannel_py as sc
import schannel_py.crypt32 as c
from schannel_py.testing.pki import Issued, make_ca, make_leaf
from tests.support import peers
from tests.support.sspi_driver import no_unexpected_exceptions

pytestmark = pytest.mark.interop

IO_TIMEOUT = 10.0
SECURITY_PACKAGE = "Microsoft Unified Security Protocol Provider"
REQUIRED_FLAGS = (
    sc.ISC_REQ_REPLAY_DETECT
    | sc.ISC_REQ_SEQUENCE_DETECT
    | sc.ISC_REQ_CONFIDENTIALITY
    | sc.ISC_REQ_ALLOCATE_MEMORY
)
#: .NET's CertChainPolicyIgnoreFlags.CERT_CHAIN_POLICY_IGNORE_ALL (its own enum, not
#: a wincrypt.h name): every IGNORE flag from NOT_TIME_VALID to PEER_TRUST.
CERT_CHAIN_POLICY_IGNORE_ALL = 0x00001FFF


class SslPolicyErrors(enum.IntFlag):
    NONE = 0
    RemoteCertificateNotAvailable = 1
    RemoteCertificateNameMismatch = 2
    RemoteCertificateChainErrors = 4


class AuthenticationError(Exception):
    """AuthenticationException / Win32Exception with the SSPI status."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(f"{message} ({status:#010x})")
        self.status = status


@dataclass
class SslClientAuthenticationOptions:
    target_host: str = "localhost"
    #: SslProtocols mapped to SP_PROT_*_CLIENT bits; 0 = the system's default.
    enabled_ssl_protocols: int = 0
    application_protocols: list[bytes] = field(default_factory=list)
    #: X509RevocationMode (.NET's default: NoCheck); anything else asks SChannel for
    #: OCSP stapling and makes X509Chain check revocation (MapRevocationFlags).
    certificate_revocation_check_mode: str = "NoCheck"
    allow_tls_resume: bool = True
    client_certificates: list[c.CERT_CONTEXT] = field(default_factory=list)
    #: LocalCertificateSelectionCallback(targetHost, remoteCert DER, issuers) -> index or None
    cert_selection: Callable[[str, bytes | None, list[bytes]], int | None] | None = None
    #: X509ChainTrustMode.CustomRootTrust with this CustomTrustStore (DER); None = System.
    custom_trust_store: list[bytes] | None = None
    #: Windows builds before 18836 use SCHANNEL_CRED (UseNewCryptoApi false).
    use_new_crypto_api: bool = True
    #: .NET 6/7 replayed the same input after CredentialsNeeded; current .NET sends none.
    replay_input_after_credentials_needed: bool = False


class SslStream:
    """The client half of SslStream over a blocking socket."""

    def __init__(self, address: tuple[str, int], options: SslClientAuthenticationOptions) -> None:
        self.sock = socket.create_connection(address, timeout=IO_TIMEOUT)
        self.options = options
        self.credentials_handle: sc.CredHandle | None = None
        self.security_context: sc.CtxtHandle | None = None
        self.refresh_credential_needed = True
        self.selected_client_certificate: c.CERT_CONTEXT | None = None
        self.header_size = 5
        self.trailer_size = 16
        self.max_data_size = 16354
        self.stream_sizes = sc.SecPkgContext_StreamSizes()
        self.connection_info = sc.SecPkgContext_ConnectionInfo()
        self.cipher_info = sc.SecPkgContext_CipherInfo()
        self.negotiated_application_protocol: bytes | None = None
        self.ssl_policy_errors = SslPolicyErrors.NONE
        self.chain_status = 0  # OR of the chain's dwErrorStatus
        self.remote_certificate: bytes | None = None
        self.in_handshake_remote_certificate: bytes | None = None
        self.issuers_seen: list[bytes] = []
        self.statuses: list[str] = []
        self.buffer = bytearray()
        self.received_eof = False
        self.resumed = False
        self.local_certificate_used = False

    # -- SslStreamPal -----------------------------------------------------------

    @staticmethod
    def verify_package_info() -> int:
        """SSPIWrapper.GetVerifyPackageInfo: EnumerateSecurityPackages, find the package
        by name (case-insensitively), keep cbMaxToken; NotSupportedException if absent."""
        count, infos = sc.ULONG(), sc.PVOID()
        status = sc.EnumerateSecurityPackages(count, infos)
        if status != sc.SEC_E_OK:
            raise AuthenticationError("EnumerateSecurityPackages", status)
        try:
            for info in infos.value[: count.value]:  # type: ignore[index]
                if info.Name.lower() == SECURITY_PACKAGE.lower():
                    max_token: int = info.cbMaxToken
                    return max_token
        finally:
            sc.FreeContextBuffer(infos.value)
        raise NotImplementedError("package not found")

    def acquire_credentials_handle(self, certificate: c.CERT_CONTEXT | None) -> sc.CredHandle:
        """SslStreamPal.AcquireCredentialsHandle: SCH_CREDENTIALS on current Windows,
        SCHANNEL_CRED before build 18836."""
        o = self.options
        flags = sc.SCH_CRED_MANUAL_CRED_VALIDATION | sc.SCH_CRED_NO_DEFAULT_CREDS
        flags |= sc.SCH_SEND_AUX_RECORD
        if o.certificate_revocation_check_mode != "NoCheck":
            # "Request OCSP Stapling from the server"
            flags |= (
                sc.SCH_CRED_REVOCATION_CHECK_END_CERT
                | sc.SCH_CRED_IGNORE_NO_REVOCATION_CHECK
                | sc.SCH_CRED_IGNORE_REVOCATION_OFFLINE
            )
        flags |= sc.SCH_USE_STRONG_CRYPTO  # RequireEncryption, no SSL3
        protocol_flags = o.enabled_ssl_protocols
        auth: object
        if o.use_new_crypto_api:
            tls_parameters = sc.TLS_PARAMETERS()
            if protocol_flags:
                tls_parameters.grbitDisabledProtocols = protocol_flags ^ 0xFFFFFFFF
            tls_parameters.cDisabledCrypto = 0  # AllowRsaPkcs1Padding/PssPadding: true
            auth = sc.SCH_CREDENTIALS(
                dwVersion=sc.SCH_CREDENTIALS_VERSION,
                dwFlags=flags,
                dwSessionLifespan=0 if o.allow_tls_resume else -1,
                cCreds=1 if certificate is not None else 0,
                paCred=[certificate] if certificate is not None else None,
                cTlsParameters=1,
                pTlsParameters=[tls_parameters],
            )
        else:
            auth = sc.SCHANNEL_CRED(
                dwVersion=sc.SCHANNEL_CRED_VERSION,
                dwFlags=flags,
                grbitEnabledProtocols=protocol_flags,
                dwMinimumCipherStrength=0,
                dwMaximumCipherStrength=0,
                dwSessionLifespan=0 if o.allow_tls_resume else -1,
                cCreds=1 if certificate is not None else 0,
                paCred=[certificate] if certificate is not None else None,
            )
        handle = sc.CredHandle()
        status = sc.AcquireCredentialsHandle(
            None,
            SECURITY_PACKAGE,
            sc.SECPKG_CRED_OUTBOUND,
            None,
            auth,
            None,
            None,
            handle,
            sc.TimeStamp(),
        )
        self.statuses.append("ach:" + repr(status))
        if status != sc.SEC_E_OK:
            raise AuthenticationError("net_auth_SSPI", status)
        return handle

    def initialize_security_context(self, input_buffer: bytes) -> tuple[sc.SecStatus, bytes, int]:
        """SslStreamPal.InitializeSecurityContext: [TOKEN(input), EMPTY (+ ALPN on the
        first call)]; consumed = length minus the EXTRA; DISABLE_RECONNECTS after the
        first call when resumption is not allowed."""
        o = self.options
        new_context = self.security_context is None
        inputs = [
            sc.SecBuffer(len(input_buffer), sc.SECBUFFER_TOKEN, input_buffer),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
        if new_context and o.application_protocols:
            blob = sc.pack_application_protocols(o.application_protocols)
            inputs.append(sc.SecBuffer(len(blob), sc.SECBUFFER_APPLICATION_PROTOCOLS, blob))
        input_desc = sc.SecBufferDesc(inputs)
        out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None)])
        if new_context:
            self.security_context = sc.CtxtHandle()
        status = sc.InitializeSecurityContext(
            self.credentials_handle,
            None if new_context else self.security_context,
            o.target_host,
            REQUIRED_FLAGS | sc.ISC_REQ_MANUAL_CRED_VALIDATION,
            0,
            sc.SECURITY_NATIVE_DREP,
            input_desc,
            0,
            self.security_context,
            out,
            sc.ULONG(),
            sc.TimeStamp(),
        )
        self.statuses.append(repr(status))
        token = out.pBuffers[0].data()
        if out.pBuffers[0].pvBuffer is not None:
            sc.FreeContextBuffer(out.pBuffers[0].pvBuffer)
        if not o.allow_tls_resume and new_context and self.security_context is not None:
            session = struct.pack("<II", sc.SCHANNEL_SESSION, sc.SSL_SESSION_DISABLE_RECONNECTS)
            result = sc.ApplyControlToken(
                self.security_context,
                sc.SecBufferDesc([sc.SecBuffer(len(session), sc.SECBUFFER_TOKEN, session)]),
            )
            self.statuses.append("session-token:" + repr(result))
            if result != sc.SEC_E_OK:
                status = result
        consumed = len(input_buffer)
        if input_desc.pBuffers[1].BufferType == sc.SECBUFFER_EXTRA:
            consumed -= input_desc.pBuffers[1].cbBuffer
        return status, token, consumed

    # -- SslStream.Protocol ------------------------------------------------------

    def select_client_certificate(self) -> c.CERT_CONTEXT | None:
        """SelectClientCertificate: with a callback, the issuers (ISSUER_LIST_EX) and the
        server's certificate read inside the handshake (REMOTE_CERT_CHAIN)."""
        o = self.options
        if o.cert_selection is None:
            return o.client_certificates[0] if o.client_certificates else None
        issuers = self.get_request_certificate_authorities()
        remote = self.get_remote_certificate(retrieve_chain_certificates=False)
        self.in_handshake_remote_certificate = remote
        index = o.cert_selection(o.target_host, remote, issuers)
        return None if index is None else o.client_certificates[index]

    def get_request_certificate_authorities(self) -> list[bytes]:
        """CertificateValidationPal.GetRequestCertificateAuthorities."""
        if self.security_context is None:
            return []
        issuer_list = sc.SecPkgContext_IssuerListInfoEx()
        status = sc.QueryContextAttributes(
            self.security_context, sc.SECPKG_ATTR_ISSUER_LIST_EX, issuer_list
        )
        if status != sc.SEC_E_OK:
            return []
        self.issuers_seen = [bytes(i) for i in issuer_list.aIssuers[: issuer_list.cIssuers]]
        return self.issuers_seen

    def acquire_client_credentials(self) -> None:
        """AcquireClientCredentials: the selected certificate or an anonymous one."""
        certificate = None
        if self.credentials_handle is not None or self.options.cert_selection is not None:
            certificate = self.select_client_certificate()
        elif self.options.client_certificates:
            certificate = self.options.client_certificates[0]  # session restart attempt
        self.selected_client_certificate = certificate
        self.credentials_handle = self.acquire_credentials_handle(certificate)

    def generate_token(self, input_buffer: bytes) -> tuple[sc.SecStatus, bytes, int]:
        """GenerateToken: refresh the credential when needed, then one ISC."""
        if self.refresh_credential_needed:
            self.acquire_client_credentials()
            self.refresh_credential_needed = False
        return self.initialize_security_context(input_buffer)

    def next_message(self, incoming: bytes) -> tuple[sc.SecStatus, bytes, int]:
        """NextMessage: on CredentialsNeeded, refresh the credential and call again."""
        status, token, consumed = self.generate_token(incoming)
        if status == sc.SEC_I_INCOMPLETE_CREDENTIALS:
            self.refresh_credential_needed = True
            if self.options.replay_input_after_credentials_needed:
                status, token, consumed = self.generate_token(incoming)
            else:
                incoming = incoming[consumed:]
                status, token, more = self.generate_token(incoming)
                consumed += more
        return status, token, consumed

    def process_handshake_success(self) -> None:
        """ProcessHandshakeSuccess and SslConnectionInfo.UpdateSslConnectionInfo."""
        ctx = self.security_context
        assert ctx is not None
        assert (
            sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_STREAM_SIZES, self.stream_sizes)
            == sc.SEC_E_OK
        )
        self.header_size = self.stream_sizes.cbHeader
        self.trailer_size = self.stream_sizes.cbTrailer
        self.max_data_size = self.stream_sizes.cbMaximumMessage - (
            self.header_size + self.trailer_size
        )
        assert self.max_data_size > 0
        assert (
            sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_CONNECTION_INFO, self.connection_info)
            == sc.SEC_E_OK
        )
        assert (
            sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_CIPHER_INFO, self.cipher_info)
            == sc.SEC_E_OK
        )
        alpn = sc.SecPkgContext_ApplicationProtocol()
        if (
            sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_APPLICATION_PROTOCOL, alpn) == sc.SEC_E_OK
            and alpn.ProtoNegoExt == sc.SecApplicationProtocolNegotiationExt_ALPN
            and alpn.ProtoNegoStatus == sc.SecApplicationProtocolNegotiationStatus_Success
        ):
            self.negotiated_application_protocol = bytes(alpn.ProtocolId[: alpn.ProtocolIdSize])
        info = sc.SecPkgContext_SessionInfo()
        if sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_SESSION_INFO, info) == sc.SEC_E_OK:
            self.resumed = bool(info.dwFlags & sc.SSL_SESSION_RECONNECT)
        self.local_certificate_used = self.is_local_certificate_used()

    def is_local_certificate_used(self) -> bool:
        """IsLocalCertificateUsed: a resumed session answers from the credential,
        otherwise LOCAL_CERT_CONTEXT."""
        if self.selected_client_certificate is None:
            return False
        if self.resumed:
            return True
        holder = sc.PVOID()
        assert self.security_context is not None
        status = sc.QueryContextAttributes(
            self.security_context, sc.SECPKG_ATTR_LOCAL_CERT_CONTEXT, holder
        )
        return status == sc.SEC_E_OK and holder.value is not None

    # -- certificate validation -----------------------------------------------------

    def get_remote_certificate(
        self, retrieve_chain_certificates: bool, extra_store: list[bytes] | None = None
    ) -> bytes | None:
        """CertificateValidationPal.GetRemoteCertificate: REMOTE_CERT_CHAIN inside the
        handshake; REMOTE_CERT_CONTEXT after it, its store enumerated into ExtraStore."""
        if self.security_context is None:
            return None
        holder = sc.PVOID()
        attribute = (
            sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT
            if retrieve_chain_certificates
            else sc.SECPKG_ATTR_REMOTE_CERT_CHAIN
        )
        status = sc.QueryContextAttributes(self.security_context, attribute, holder)
        remote = holder.value
        if status != sc.SEC_E_OK or not isinstance(remote, c.CERT_CONTEXT):
            return None
        result = bytes(remote.pbCertEncoded)
        if retrieve_chain_certificates and extra_store is not None:
            # UnmanagedCertificateContext.GetRemoteCertificatesFromStoreContext
            cert = c.CertEnumCertificatesInStore(remote.hCertStore, None)
            while cert is not None:
                extra_store.append(bytes(cert.pbCertEncoded))
                cert = c.CertEnumCertificatesInStore(remote.hCertStore, cert)
        c.CertFreeCertificateContext(remote)
        return result

    def build_chain(self, leaf: bytes, extra: list[bytes]) -> c.CERT_CHAIN_CONTEXT | None:
        """ChainPal.BuildChain: the engine (CustomRootTrust: hExclusiveRoot), the extra
        store, serverAuth (AND), the time, MapRevocationFlags(mode, ExcludeRoot)."""
        engine: object = None
        custom = self.options.custom_trust_store
        if custom is not None:
            trust = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
            assert trust is not None
            for der in custom:
                assert c.CertAddEncodedCertificateToStore(
                    trust, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_ALWAYS, None
                )
            handle = c.HCERTCHAINENGINE()
            assert c.CertCreateCertificateChainEngine(
                c.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot=trust), handle
            )
            engine = handle
        extra_store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
        assert extra_store is not None
        for der in extra:
            c.CertAddEncodedCertificateToStore(
                extra_store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_ALWAYS, None
            )
        cert = c.CertCreateCertificateContext(c.X509_ASN_ENCODING, leaf, len(leaf))
        assert cert is not None
        usage = c.CERT_ENHKEY_USAGE(
            cUsageIdentifier=1, rgpszUsageIdentifier=[c.szOID_PKIX_KP_SERVER_AUTH]
        )
        chain_para = c.CERT_CHAIN_PARA(
            RequestedUsage=c.CERT_USAGE_MATCH(dwType=c.USAGE_MATCH_TYPE_AND, Usage=usage),
            dwUrlRetrievalTimeout=0,
        )
        now = datetime.datetime.now(datetime.timezone.utc)
        out = c.PCCERT_CHAIN_CONTEXT()
        ok = c.CertGetCertificateChain(
            engine,
            cert,
            now,
            extra_store,
            chain_para,
            {
                "NoCheck": 0,
                "Online": c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
                "Offline": c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
                | c.CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY,
            }[self.options.certificate_revocation_check_mode],
            None,
            out,
        )
        if engine is not None:
            c.CertFreeCertificateChainEngine(engine)
        return out.value if ok else None

    def verify_remote_certificate(self) -> bool:
        """VerifyRemoteCertificate: X509Chain.Build (CertGetCertificateChain, then the
        BASE policy as ChainPal.Verify) and the name by the SSL policy
        (CertificateValidation.BuildChainAndVerifyProperties)."""
        extra: list[bytes] = []
        leaf = self.get_remote_certificate(retrieve_chain_certificates=True, extra_store=extra)
        self.remote_certificate = leaf
        if leaf is None:
            self.ssl_policy_errors |= SslPolicyErrors.RemoteCertificateNotAvailable
            return False
        chain = self.build_chain(leaf, extra)
        assert chain is not None, hex(c.GetLastError())
        self.chain_status = chain.TrustStatus.dwErrorStatus
        base = c.CERT_CHAIN_POLICY_STATUS()
        assert c.CertVerifyCertificateChainPolicy(
            c.CERT_CHAIN_POLICY_BASE, chain, c.CERT_CHAIN_POLICY_PARA(dwFlags=0), base
        )
        chain_build_result = base.dwError == 0
        extra_para = c.SSL_EXTRA_CERT_CHAIN_POLICY_PARA(
            dwAuthType=c.AUTHTYPE_SERVER, fdwChecks=0, pwszServerName=self.options.target_host
        )
        policy_para = c.CERT_CHAIN_POLICY_PARA(
            dwFlags=CERT_CHAIN_POLICY_IGNORE_ALL & ~c.CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG,
            pvExtraPolicyPara=extra_para,
        )
        status = c.CERT_CHAIN_POLICY_STATUS()
        assert c.CertVerifyCertificateChainPolicy(
            c.CERT_CHAIN_POLICY_SSL, chain, policy_para, status
        )
        if status.dwError == sc.CERT_E_CN_NO_MATCH:
            self.ssl_policy_errors |= SslPolicyErrors.RemoteCertificateNameMismatch
        if not chain_build_result:
            self.ssl_policy_errors |= SslPolicyErrors.RemoteCertificateChainErrors
        c.CertFreeCertificateChain(chain)
        return self.ssl_policy_errors == SslPolicyErrors.NONE

    def alert_message_from_chain(self) -> int:
        """GetAlertMessageFromChain, on the trust bits X509ChainStatus comes from."""
        bits = self.chain_status
        if bits & (
            c.CERT_TRUST_IS_UNTRUSTED_ROOT | c.CERT_TRUST_IS_PARTIAL_CHAIN | c.CERT_TRUST_IS_CYCLIC
        ):
            return sc.TLS1_ALERT_UNKNOWN_CA
        if bits & (c.CERT_TRUST_IS_REVOKED | c.CERT_TRUST_IS_OFFLINE_REVOCATION):
            return sc.TLS1_ALERT_CERTIFICATE_REVOKED
        if bits & (c.CERT_TRUST_IS_NOT_TIME_VALID | c.CERT_TRUST_IS_NOT_TIME_NESTED):
            return sc.TLS1_ALERT_CERTIFICATE_EXPIRED
        if bits:
            return sc.TLS1_ALERT_BAD_CERTIFICATE
        return sc.TLS1_ALERT_BAD_CERTIFICATE

    def create_fatal_handshake_alert_token(self) -> bytes:
        """CreateFatalHandshakeAlertToken: ApplyControlToken(SCHANNEL_ALERT) then
        GenerateToken with no input."""
        if self.ssl_policy_errors == SslPolicyErrors.RemoteCertificateChainErrors:
            alert = self.alert_message_from_chain()
        elif self.ssl_policy_errors == SslPolicyErrors.RemoteCertificateNameMismatch:
            alert = sc.TLS1_ALERT_BAD_CERTIFICATE
        else:
            alert = sc.TLS1_ALERT_CERTIFICATE_UNKNOWN
        token = struct.pack("<III", sc.SCHANNEL_ALERT, sc.TLS1_ALERT_FATAL, alert)
        _, out = self.control_token_then_generate(token, "alert")
        return out

    def control_token_then_generate(self, token: bytes, label: str) -> tuple[sc.SecStatus, bytes]:
        """What CreateFatalHandshakeAlertToken and CreateShutdownToken share: ApplyControlToken
        with the SCHANNEL_ALERT / SCHANNEL_SHUTDOWN token, then GenerateToken with no
        input; both statuses recorded as ``label-token:`` and ``label:``."""
        assert self.security_context is not None
        status = sc.ApplyControlToken(
            self.security_context,
            sc.SecBufferDesc([sc.SecBuffer(len(token), sc.SECBUFFER_TOKEN, token)]),
        )
        self.statuses.append(f"{label}-token:" + repr(status))
        assert status == sc.SEC_E_OK
        status, out, _ = self.generate_token(b"")
        self.statuses.append(f"{label}:" + repr(status))
        return status, out

    # -- SslStream.IO --------------------------------------------------------------------

    def _read_more(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def _frame_size(self) -> int | None:
        """TlsFrameHelper: a whole record (header + length) or None."""
        if len(self.buffer) < 5:
            return None
        size = 5 + int.from_bytes(self.buffer[3:5], "big")
        return size if len(self.buffer) >= size else None

    def _full_frames(self) -> int:
        """The length of all complete records at the front of the buffer."""
        total = 0
        while len(self.buffer) >= total + 5:
            size = 5 + int.from_bytes(self.buffer[total + 3 : total + 5], "big")
            if len(self.buffer) < total + size:
                break
            total += size
        return total

    def authenticate_as_client(self) -> None:
        """ForceAuthenticationAsync: VerifyPackageInfo, the first token, then frames
        through NextMessage until OK; ProcessHandshakeSuccess; VerifyRemoteCertificate."""
        with no_unexpected_exceptions():
            self.verify_package_info()
            status, token, _ = self.next_message(b"")
            if status != sc.SEC_I_CONTINUE_NEEDED:
                raise AuthenticationError("first ISC", status)
            self.sock.sendall(token)
            while status != sc.SEC_E_OK:
                frames = self._full_frames()
                while frames == 0:
                    if not self._read_more():
                        raise AuthenticationError("EOF during the handshake")
                    frames = self._full_frames()
                status, token, consumed = self.next_message(bytes(self.buffer[:frames]))
                del self.buffer[:consumed]
                if token:
                    self.sock.sendall(token)
                if status not in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
                    raise AuthenticationError("handshake", status)
            self.process_handshake_success()
            if not self.verify_remote_certificate():
                alert = self.create_fatal_handshake_alert_token()
                if alert:
                    self.sock.sendall(alert)
                raise AuthenticationError(
                    f"remote certificate is invalid: {self.ssl_policy_errors!r}", 0
                )

    def write(self, data: bytes) -> None:
        """EncryptMessage over [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY] in one buffer."""
        assert self.security_context is not None
        for start in range(0, len(data), self.max_data_size):
            chunk = data[start : start + self.max_data_size]
            h, t = self.header_size, self.trailer_size
            payload = bytearray(h + len(chunk) + t)
            payload[h : h + len(chunk)] = chunk
            view = memoryview(payload)
            desc = sc.SecBufferDesc(
                [
                    sc.SecBuffer(h, sc.SECBUFFER_STREAM_HEADER, view[:h]),
                    sc.SecBuffer(len(chunk), sc.SECBUFFER_DATA, view[h : h + len(chunk)]),
                    sc.SecBuffer(t, sc.SECBUFFER_STREAM_TRAILER, view[h + len(chunk) :]),
                    sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
                ]
            )
            status = sc.EncryptMessage(self.security_context, 0, desc, 0)
            assert status == sc.SEC_E_OK, status
            size = sum(desc.pBuffers[i].cbBuffer for i in range(3))
            desc.release()
            view.release()
            self.sock.sendall(bytes(payload[:size]))

    def decrypt_message(self, frame: bytearray) -> tuple[int, bytes]:
        """SslStreamPal.DecryptMessage: [DATA, EMPTY x3]; the DATA on OK, else the EXTRA."""
        assert self.security_context is not None
        desc = sc.SecBufferDesc(
            [sc.SecBuffer(len(frame), sc.SECBUFFER_DATA, frame)]
            + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
        )
        status = sc.DecryptMessage(self.security_context, desc, 0, None)
        found = b""
        for buf in desc.pBuffers:
            if (status == sc.SEC_E_OK and buf.BufferType == sc.SECBUFFER_DATA) or (
                status != sc.SEC_E_OK and buf.BufferType == sc.SECBUFFER_EXTRA
            ):
                found = buf.data()
                break
        desc.release()
        return status, found

    def read(self) -> bytes:
        """ReadAsyncInternal: one frame at a time; Renegotiate -> ReplyOnReAuthentication
        (NextMessage with the leftover), ContextExpired -> EOF."""
        with no_unexpected_exceptions():
            while True:
                size = self._frame_size()
                while size is None:
                    if not self._read_more():
                        self.received_eof = True
                        return b""
                    size = self._frame_size()
                frame = bytearray(self.buffer[:size])
                del self.buffer[:size]
                status, data = self.decrypt_message(frame)
                self.statuses.append("decrypt:" + repr(status))
                if status == sc.SEC_E_OK:
                    if data:
                        return data
                    continue
                if status == sc.SEC_I_RENEGOTIATE:
                    st, token, _ = self.next_message(data)
                    self.statuses.append("reauth:" + repr(st))
                    if token:
                        self.sock.sendall(token)
                    if st not in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
                        raise AuthenticationError("re-authentication", st)
                    continue
                if status == sc.SEC_I_CONTEXT_EXPIRED:
                    self.received_eof = True
                    return b""
                raise AuthenticationError("net_io_decrypt", status)

    def read_until(self, needle: bytes) -> bytes:
        got = b""
        while needle not in got:
            data = self.read()
            assert data or not self.received_eof, f"EOF before {needle!r}: {got!r}"
            got += data
        return got

    def shutdown(self) -> None:
        """ShutdownAsync: CreateShutdownToken (ApplyControlToken(SCHANNEL_SHUTDOWN),
        GenerateToken with no input) and send it."""
        token = struct.pack("<I", sc.SCHANNEL_SHUTDOWN)
        status, out = self.control_token_then_generate(token, "shutdown")
        assert status in (sc.SEC_E_OK, sc.SEC_I_CONTEXT_EXPIRED), status
        self.sock.sendall(out)

    def close(self) -> None:
        """CloseContext: DeleteSecurityContext; the credential stays cached."""
        if self.security_context is not None:
            sc.DeleteSecurityContext(self.security_context)
            self.security_context = None
        self.sock.close()


# --------------------------------------------------------------------------- #
# Scenarios
# --------------------------------------------------------------------------- #

TLS12 = sc.SP_PROT_TLS1_2_CLIENT
TLS13 = sc.SP_PROT_TLS1_3_CLIENT


@contextlib.contextmanager
def open_stream(
    srv: peers.OpenSSLServer | peers.GnuTLSServer, **kwargs: object
) -> Iterator[SslStream]:
    """An SslStream to ``srv`` with these options, closed (CloseContext) on the way out."""
    s = SslStream(srv.address, SslClientAuthenticationOptions(**kwargs))  # type: ignore[arg-type]
    try:
        yield s
    finally:
        s.close()


def pfx_client_certificate(pki: peers.ServerPki, name: str) -> tuple[Issued, c.CERT_CONTEXT]:
    issued = make_leaf(pki.intermediate, dns_names=(), common_name=name, eku=("clientAuth",))
    store = c.PFXImportCertStore(issued.to_pkcs12(b"pw"), "pw", 0)
    assert store is not None
    cert = next(x for x in store if x.private_key is not None)
    return issued, cert


def test_dotnet_finds_the_package_under_its_name() -> None:
    assert SslStream.verify_package_info() == 24576


@pytest.mark.parametrize(
    ("protocols", "new_api"),
    [(TLS13, True), (TLS12, True), (TLS12, False), (0, True)],
    ids=["tls13", "tls12", "tls12-schannel-cred", "system-default"],
)
def test_dotnet_trusted_handshake_echo_and_shutdown_openssl(
    pki: peers.ServerPki, root_certs_env: Path, protocols: int, new_api: bool
) -> None:
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=protocols != TLS12, tls12=protocols != TLS13
    ) as srv:
        with open_stream(srv, enabled_ssl_protocols=protocols, use_new_crypto_api=new_api) as s:
            s.authenticate_as_client()
            expected = TLS12 if protocols == TLS12 else TLS13
            assert s.connection_info.dwProtocol == expected
            assert s.cipher_info.dwCipherSuite in (0x1301, 0x1302, 0x1303, 0xC02B, 0xC02C, 0xCCA9)
            assert s.stream_sizes.cbMaximumMessage == 16384 and s.header_size in (5, 13)
            assert s.max_data_size == 16384 - s.header_size - s.trailer_size
            assert s.remote_certificate == pki.ecdsa.issued.der
            assert s.chain_status == 0 and s.ssl_policy_errors == SslPolicyErrors.NONE
            s.write(b"dotnet says hi\n")
            srv.wait_for_output("dotnet says hi")
            srv.send_line("openssl answers")
            assert s.read_until(b"answers\n").endswith(b"openssl answers\n")
            s.shutdown()
            assert s.read() == b"" and s.received_eof  # s_server's close_notify
            assert s.statuses[-1] == "decrypt:SEC_I_CONTEXT_EXPIRED"


@pytest.mark.parametrize("protocols", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_dotnet_alpn_and_echo_gnutls(
    pki: peers.ServerPki, root_certs_env: Path, protocols: int
) -> None:
    prio = peers.gnutls_only(protocols == TLS13)
    with peers.GnuTLSServer(**pki.rsa.server_kwargs(), priority=prio, alpn=["h2"]) as srv:
        with open_stream(
            srv, enabled_ssl_protocols=protocols, application_protocols=[b"h2", b"http/1.1"]
        ) as s:
            s.authenticate_as_client()
            assert s.negotiated_application_protocol == b"h2"
            message = b"x" * 39999 + b"\n"
            s.write(message)  # three records of at most max_data_size
            assert s.read_until(b"\n") == message


def test_dotnet_wrong_host_is_a_name_mismatch_and_a_bad_certificate_alert(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.OpenSSLServer(**pki.wrong_name.server_kwargs(), tls13=False) as srv:
        with open_stream(srv) as s:
            with pytest.raises(AuthenticationError):
                s.authenticate_as_client()
            assert s.ssl_policy_errors == SslPolicyErrors.RemoteCertificateNameMismatch
            assert s.chain_status == 0
            assert "alert-token:SEC_E_OK" in s.statuses and "alert:SEC_E_OK" in s.statuses
            srv.wait_for_output("(?i)bad certificate")


def test_dotnet_untrusted_root_is_a_chain_error_and_unknown_ca(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.OpenSSLServer(**pki.untrusted.server_kwargs(), tls13=False) as srv:
        with open_stream(srv) as s:
            with pytest.raises(AuthenticationError):
                s.authenticate_as_client()
            assert s.ssl_policy_errors == SslPolicyErrors.RemoteCertificateChainErrors
            assert s.chain_status & (c.CERT_TRUST_IS_PARTIAL_CHAIN | c.CERT_TRUST_IS_UNTRUSTED_ROOT)
            srv.wait_for_output("(?i)unknown ca")


def test_dotnet_custom_root_trust(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """X509ChainTrustMode.CustomRootTrust: an exclusive engine; the ROOT store's trust
    in the test root no longer counts."""
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        with open_stream(srv, custom_trust_store=[pki.root.der]) as s:
            s.authenticate_as_client()
            assert s.chain_status == 0
    other = make_ca("Not the server's root")
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        with open_stream(srv, custom_trust_store=[other.der]) as s:
            with pytest.raises(AuthenticationError):
                s.authenticate_as_client()
            assert s.ssl_policy_errors == SslPolicyErrors.RemoteCertificateChainErrors


@pytest.mark.parametrize("replay", [False, True], ids=["current-empty-input", "net6-replay"])
@pytest.mark.parametrize("protocols", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_dotnet_optional_client_certificate_declined(
    pki: peers.ServerPki, root_certs_env: Path, protocols: int, replay: bool
) -> None:
    """CredentialsNeeded: the callback sees the issuers and the server's certificate
    (REMOTE_CERT_CHAIN, inside the handshake) and picks none; the anonymous credential
    goes on."""
    seen: list[tuple[bytes | None, list[bytes]]] = []

    def callback(host: str, remote: bytes | None, issuers: list[bytes]) -> int | None:
        seen.append((remote, issuers))
        return None

    args = ["-verify", "4", "-CAfile", str(pki.root_ca)]
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=protocols == TLS13,
        tls12=protocols == TLS12,
        extra_args=args,
    ) as srv:
        with open_stream(
            srv,
            enabled_ssl_protocols=protocols,
            cert_selection=callback,
            replay_input_after_credentials_needed=replay,
        ) as s:
            s.authenticate_as_client()
            assert "SEC_I_INCOMPLETE_CREDENTIALS" in s.statuses
            assert [st for st in s.statuses if st.startswith("ach:")] == ["ach:SEC_E_OK"] * 2
            # First at the first ISC (no server yet: a session restart attempt), then
            # at CredentialsNeeded with the issuers and the server's certificate.
            assert [remote for remote, _ in seen] == [None, pki.ecdsa.issued.der]
            assert seen[1][1] == [pki.root.cert.subject.public_bytes()]
            assert not s.local_certificate_used
            s.write(b"anonymous\n")
            srv.wait_for_output("anonymous")


@pytest.mark.parametrize("protocols", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_dotnet_client_certificate_chosen_when_asked(
    pki: peers.ServerPki, root_certs_env: Path, protocols: int
) -> None:
    _, cert = pfx_client_certificate(pki, "dotnet-client")

    def callback(host: str, remote: bytes | None, issuers: list[bytes]) -> int | None:
        return 0 if remote is not None else None

    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=protocols == TLS13,
        tls12=protocols == TLS12,
        verify_client=True,
        client_ca_file=pki.root_ca,
    ) as srv:
        with open_stream(
            srv,
            enabled_ssl_protocols=protocols,
            client_certificates=[cert],
            cert_selection=callback,
        ) as s:
            s.authenticate_as_client()
            assert s.in_handshake_remote_certificate == pki.ecdsa.issued.der
            assert s.local_certificate_used
            s.write(b"certified\n")
            srv.wait_for_output("certified")
            assert "dotnet-client" in srv.output()


@pytest.mark.parametrize("protocols", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_dotnet_session_resumption_and_disabling_it(
    pki: peers.ServerPki, root_certs_env: Path, protocols: int
) -> None:
    """SslSessionsCache reuses the credential handle, so SChannel resumes; with
    AllowTlsResume false the SSL_SESSION_DISABLE_RECONNECTS token (and
    dwSessionLifespan -1) keep it from resuming."""
    prio = peers.gnutls_only(protocols == TLS13)
    for allow in (True, False):
        with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=prio) as srv:
            cached: sc.CredHandle | None = None
            resumed = []
            for _ in range(2):
                with open_stream(srv, enabled_ssl_protocols=protocols, allow_tls_resume=allow) as s:
                    if cached is not None:  # SslSessionsCache.TryCachedCredential
                        s.credentials_handle, s.refresh_credential_needed = cached, False
                    s.authenticate_as_client()
                    cached = s.credentials_handle
                    s.write(b"ping\n")
                    assert s.read_until(b"ping\n") == b"ping\n"  # TLS 1.3 tickets on the way
                    resumed.append(s.resumed)
                    s.shutdown()
            assert resumed == [False, allow]
            if not allow:
                assert "session-token:SEC_E_OK" in s.statuses
            assert cached is not None
            sc.FreeCredentialsHandle(cached)


def test_dotnet_tls13_tickets_reauthenticate_with_no_input(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False, num_tickets=2) as srv:
        with open_stream(srv, enabled_ssl_protocols=TLS13) as s:
            s.authenticate_as_client()
            srv.send_line("after tickets")
            assert s.read_until(b"tickets\n").endswith(b"after tickets\n")
            assert s.statuses.count("decrypt:SEC_I_RENEGOTIATE") == 2
            assert s.statuses.count("reauth:SEC_E_OK") == 2
