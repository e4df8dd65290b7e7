"""SSPI data types: handles, buffers, credential and attribute structures.

Each class mirrors the C structure of the same name in ``sspi.h`` /
``schannel.h`` (field names and order as in the header, see
docs/windows-behaviour.md sections 0, 2 and 4), so C code ports line by line:

* every field can be given by keyword and defaults to zero / ``None`` (NULL)
  / empty, like a ``{0}``-initialised C struct;
* out-parameters are mutable objects that the package fills in, as in C;
* ``None`` stands for a NULL pointer; pointer-to-array fields are Python
  sequences (or ``None``), ``WCHAR`` arrays and ``LPWSTR`` are ``str``, byte
  arrays are ``bytes``.

The structures are dataclasses compared by value (``eq=True``); being mutable
they are deliberately unhashable.  To key a table by handle, use
``(h.dwLower, h.dwUpper)``.

The module also holds the byte layouts callers put into ``SecBuffer`` s
(``SEC_APPLICATION_PROTOCOLS``, ``SEC_FLAGS``, ``SCHANNEL_ALERT_TOKEN``,
``SCHANNEL_SESSION_TOKEN``, ``SEC_CHANNEL_BINDINGS``): one pack/parse pair per
wire format, little-endian as on Windows.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from schannel_py.constants import (
    SCHANNEL_ALERT,
    SCHANNEL_PY_KEY_UPDATE,
    SCHANNEL_PY_RENEGOTIATION_ACCEPT,
    SCHANNEL_SESSION,
    SECBUFFER_ATTRMASK,
    SECBUFFER_VERSION,
    SECPKGCONTEXT_CIPHERINFO_V1,
    SECPKGCONTEXT_CONNECTION_INFO_EX_V1,
    SecApplicationProtocolNegotiationExt_ALPN,
)

__all__ = [
    "PVOID",
    "SCHANNEL_ALERT_TOKEN",
    "SCHANNEL_CRED",
    "SCHANNEL_PY_KEY_UPDATE_TOKEN",
    "SCHANNEL_SESSION_TOKEN",
    "SCH_CREDENTIALS",
    "SEC_CHANNEL_BINDINGS_SIZE",
    "ULONG",
    "BufferData",
    "CRYPTO_SETTINGS",
    "CredHandle",
    "CtxtHandle",
    "SecBuffer",
    "SecBufferDesc",
    "SecHandle",
    "SecInvalidateHandle",
    "SecIsValidHandle",
    "SecPkgContext_ApplicationProtocol",
    "SecPkgContext_Bindings",
    "SecPkgContext_CertificateValidationResult",
    "SecPkgContext_Certificates",
    "SecPkgContext_CipherInfo",
    "SecPkgContext_ConnectionInfo",
    "SecPkgContext_ConnectionInfoEx",
    "SecPkgContext_EarlyStart",
    "SecPkgContext_Flags",
    "SecPkgContext_IssuerListInfoEx",
    "SecPkgContext_KeyInfo",
    "SecPkgContext_KeyingMaterial",
    "SecPkgContext_KeyingMaterialInfo",
    "SecPkgContext_Lifespan",
    "SecPkgContext_Names",
    "SecPkgContext_NegotiatedTlsExtensions",
    "SecPkgContext_ProtoInfo",
    "SecPkgContext_PyHandshakeInfo",
    "SecPkgContext_PyRenegotiationPolicy",
    "SecPkgContext_PyVerifyCallback",
    "SecPkgContext_SessionAppData",
    "SecPkgContext_SessionInfo",
    "SecPkgContext_Sizes",
    "SecPkgContext_StreamSizes",
    "SecPkgContext_SupportedSignatures",
    "SecPkgCred_CipherStrengths",
    "SecPkgCred_SupportedAlgs",
    "SecPkgCred_SupportedProtocols",
    "SecPkgCredentials_Names",
    "SecPkgInfo",
    "TLS_PARAMETERS",
    "TimeStamp",
    "effective_list",
    "pack_alert_token",
    "pack_application_protocols",
    "pack_channel_bindings",
    "pack_control_token",
    "pack_key_update_token",
    "pack_sec_flags",
    "pack_session_token",
    "parse_control_token",
    "parse_application_protocols",
    "parse_channel_bindings",
    "unpack_sec_flags",
]

_T = TypeVar("_T")

#: What ``SecBuffer.pvBuffer`` may point at (``None`` is NULL).
BufferData = bytes | bytearray | memoryview

_ULONG_PTR_MAX = 0xFFFFFFFFFFFFFFFF  # (ULONG_PTR)(INT_PTR)-1 on 64-bit Windows


# ---------------------------------------------------------------------------
# Handles and scalar out-parameters
# ---------------------------------------------------------------------------


@dataclass
class SecHandle:
    """``SecHandle``: an opaque pair of ``ULONG_PTR`` set by the package.

    A zeroed handle is the conventional "not yet filled" value; the package
    never hands out ``(0, 0)``.
    """

    dwLower: int = 0
    dwUpper: int = 0

    @property
    def is_null(self) -> bool:
        """True when both halves are zero (a fresh, never-filled handle)."""
        return self.dwLower == 0 and self.dwUpper == 0


@dataclass
class CredHandle(SecHandle):
    """``CredHandle``: filled by ``AcquireCredentialsHandle``."""


@dataclass
class CtxtHandle(SecHandle):
    """``CtxtHandle``: filled by ``InitializeSecurityContext`` (phNewContext)."""


def SecInvalidateHandle(handle: SecHandle) -> None:
    """The ``SecInvalidateHandle`` macro: set both halves to ``(ULONG_PTR)-1``."""
    handle.dwLower = _ULONG_PTR_MAX
    handle.dwUpper = _ULONG_PTR_MAX


def SecIsValidHandle(handle: SecHandle) -> bool:
    """The ``SecIsValidHandle`` macro: false only for an invalidated handle.

    As in C, a zeroed handle counts as "valid" here; use ``is_null`` to test
    for a handle that was never filled.
    """
    return handle.dwLower != _ULONG_PTR_MAX and handle.dwUpper != _ULONG_PTR_MAX


@dataclass
class TimeStamp:
    """``TimeStamp`` (``LARGE_INTEGER``): 100 ns FILETIME units.

    ``QuadPart`` is the signed 64-bit value; ``LowPart`` (unsigned 32 bits) and
    ``HighPart`` (signed 32 bits) are views of it, as in the C union.
    """

    QuadPart: int = 0

    @property
    def LowPart(self) -> int:
        """Low 32 bits (``DWORD``)."""
        return self.QuadPart & 0xFFFFFFFF

    @LowPart.setter
    def LowPart(self, value: int) -> None:
        self.QuadPart = (self.HighPart << 32) | (value & 0xFFFFFFFF)

    @property
    def HighPart(self) -> int:
        """High 32 bits (``LONG``, signed)."""
        return self.QuadPart >> 32

    @HighPart.setter
    def HighPart(self, value: int) -> None:
        high = ((value + 0x80000000) & 0xFFFFFFFF) - 0x80000000  # wrap to LONG
        self.QuadPart = (high << 32) | self.LowPart


@dataclass
class ULONG:
    """A ``ULONG`` out-parameter (``PULONG pfContextAttr``, ``pfQOP``)."""

    value: int = 0


@dataclass
class PVOID:
    """A pointer-sized out-parameter (``void*`` / ``PCCERT_CONTEXT`` / ``HCERTSTORE``).

    ``QueryContextAttributes(ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, pv)`` sets
    ``pv.value`` to the ``CERT_CONTEXT``, as C writes through ``&pCertContext``.
    """

    value: object = None


# ---------------------------------------------------------------------------
# Buffers
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class SecBuffer:
    """``SecBuffer``: ``cbBuffer`` bytes of type ``BufferType`` at ``pvBuffer``.

    ``pvBuffer`` is ``None`` (NULL), ``bytes``, a ``bytearray`` or a
    ``memoryview``.  ``BufferType`` may carry attribute bits
    (``SECBUFFER_READONLY`` ...); ``base_type`` strips them.
    """

    cbBuffer: int = 0
    BufferType: int = 0
    pvBuffer: BufferData | None = None

    @property
    def base_type(self) -> int:
        """``BufferType`` without the ``SECBUFFER_ATTRMASK`` attribute bits."""
        return self.BufferType & ~SECBUFFER_ATTRMASK & 0xFFFFFFFF

    def data(self) -> bytes:
        """A copy of the first ``cbBuffer`` bytes of ``pvBuffer``.

        ``b""`` for NULL; a ``cbBuffer`` larger than the buffer gives the whole
        buffer (C would read past the end), a negative one gives ``b""``.
        """
        if self.pvBuffer is None or self.cbBuffer <= 0:
            return b""
        view = memoryview(self.pvBuffer)
        if view.ndim == 1 and view.itemsize == 1:
            return bytes(view[: self.cbBuffer])
        return view.tobytes()[: self.cbBuffer]


@dataclass(init=False, slots=True)
class SecBufferDesc:
    """``SecBufferDesc``: a list of ``SecBuffer`` s.

    ``cBuffers`` defaults to ``len(pBuffers)``.  As in C, the package reads only
    the first ``cBuffers`` entries (``active_buffers()``); a ``cBuffers`` larger
    than the list is clamped to it.  The list given is kept (not copied), so
    the caller's own list and buffers are what the package updates.
    """

    pBuffers: list[SecBuffer]
    ulVersion: int
    cBuffers: int

    def __init__(
        self,
        pBuffers: Sequence[SecBuffer] | None = None,
        ulVersion: int = SECBUFFER_VERSION,
        cBuffers: int | None = None,
    ) -> None:
        if isinstance(pBuffers, list):
            self.pBuffers = pBuffers
        else:
            self.pBuffers = list(pBuffers or ())
        self.ulVersion = ulVersion
        self.cBuffers = len(self.pBuffers) if cBuffers is None else cBuffers

    def active_buffers(self) -> list[SecBuffer]:
        """The buffers the package reads: the first ``cBuffers`` of ``pBuffers``."""
        return self.pBuffers[: max(self.cBuffers, 0)]

    def release(self) -> None:
        """Release the memoryviews the package left in the buffers.

        DecryptMessage's DATA/EXTRA buffers are views into the caller's
        ``bytearray``; while such a view lives Python refuses to resize the
        bytearray.  Call this (or drop the descriptor) before moving the EXTRA
        bytes to the front.  Released buffers get ``pvBuffer = None``.
        """
        for buf in self.pBuffers:
            view = buf.pvBuffer
            if isinstance(view, memoryview):
                try:
                    view.release()
                except BufferError:  # still exported elsewhere; just drop our reference
                    pass
                buf.pvBuffer = None


# ---------------------------------------------------------------------------
# Credential structures (schannel.h)
# ---------------------------------------------------------------------------


def effective_list(count: int, lst: Sequence[_T] | None) -> list[_T]:
    """The entries a ``(count, pointer)`` pair designates.

    As in C, a non-zero ``count`` selects the first ``count`` entries (clamped
    to the sequence's length).  For Python callers a ``count`` of 0 (or less)
    with a non-empty sequence means "all of it", so ``SCHANNEL_CRED(paCred=[c])``
    works without also setting ``cCreds``.  ``None`` (NULL) gives ``[]``.
    """
    if lst is None:
        return []
    if count > 0:
        return list(lst[:count])
    return list(lst)


@dataclass
class SCHANNEL_CRED:
    """``SCHANNEL_CRED`` (``dwVersion = SCHANNEL_CRED_VERSION``, 4).

    ``paCred`` holds ``CERT_CONTEXT`` objects; ``palgSupportedAlgs`` ``ALG_ID`` s.
    Counts follow :func:`effective_list` (0 with a non-empty list = all).
    """

    dwVersion: int = 0
    cCreds: int = 0
    paCred: Sequence[object] | None = None
    hRootStore: object | None = None
    cMappers: int = 0
    aphMappers: Sequence[object] | None = None
    cSupportedAlgs: int = 0
    palgSupportedAlgs: Sequence[int] | None = None
    grbitEnabledProtocols: int = 0
    dwMinimumCipherStrength: int = 0
    dwMaximumCipherStrength: int = 0
    dwSessionLifespan: int = 0
    dwFlags: int = 0
    dwCredFormat: int = 0

    def creds(self) -> list[object]:
        """The certificate contexts designated by ``cCreds``/``paCred``."""
        return effective_list(self.cCreds, self.paCred)

    def supported_algs(self) -> list[int]:
        """The ``ALG_ID`` s designated by ``cSupportedAlgs``/``palgSupportedAlgs``."""
        return effective_list(self.cSupportedAlgs, self.palgSupportedAlgs)


@dataclass
class CRYPTO_SETTINGS:
    """``CRYPTO_SETTINGS``: one algorithm (CNG id) to disable or bound.

    ``eAlgorithmUsage`` is a ``TlsParametersCngAlgUsage*`` value;
    ``strCngAlgId`` a CNG algorithm id such as ``"AES"`` or ``"RSA"``
    (``None``/``""`` = empty ``UNICODE_STRING``).
    """

    eAlgorithmUsage: int = 0
    strCngAlgId: str | None = None
    cChainingModes: int = 0
    rgstrChainingModes: Sequence[str] | None = None
    dwMinBitLength: int = 0
    dwMaxBitLength: int = 0

    def chaining_modes(self) -> list[str]:
        """The chaining modes designated by ``cChainingModes``/``rgstrChainingModes``."""
        return effective_list(self.cChainingModes, self.rgstrChainingModes)


@dataclass
class TLS_PARAMETERS:
    """``TLS_PARAMETERS``: protocols and crypto to disable (``SCH_CREDENTIALS``).

    ``rgstrAlpnIds`` and ``TLS_PARAMS_OPTIONAL`` are server-only.
    """

    cAlpnIds: int = 0
    rgstrAlpnIds: Sequence[str | bytes] | None = None
    grbitDisabledProtocols: int = 0
    cDisabledCrypto: int = 0
    pDisabledCrypto: Sequence[CRYPTO_SETTINGS] | None = None
    dwFlags: int = 0

    def alpn_ids(self) -> list[str | bytes]:
        """The ALPN ids designated by ``cAlpnIds``/``rgstrAlpnIds``."""
        return effective_list(self.cAlpnIds, self.rgstrAlpnIds)

    def disabled_crypto(self) -> list[CRYPTO_SETTINGS]:
        """The settings designated by ``cDisabledCrypto``/``pDisabledCrypto``."""
        return effective_list(self.cDisabledCrypto, self.pDisabledCrypto)


@dataclass
class SCH_CREDENTIALS:
    """``SCH_CREDENTIALS`` (``dwVersion = SCH_CREDENTIALS_VERSION``, 5).

    The only credential structure that can negotiate TLS 1.3.  Counts follow
    :func:`effective_list` (0 with a non-empty list = all).
    """

    dwVersion: int = 0
    dwCredFormat: int = 0
    cCreds: int = 0
    paCred: Sequence[object] | None = None
    hRootStore: object | None = None
    cMappers: int = 0
    aphMappers: Sequence[object] | None = None
    dwSessionLifespan: int = 0
    dwFlags: int = 0
    cTlsParameters: int = 0
    pTlsParameters: Sequence[TLS_PARAMETERS] | None = None

    def creds(self) -> list[object]:
        """The certificate contexts designated by ``cCreds``/``paCred``."""
        return effective_list(self.cCreds, self.paCred)

    def tls_parameters(self) -> list[TLS_PARAMETERS]:
        """The entries designated by ``cTlsParameters``/``pTlsParameters``."""
        return effective_list(self.cTlsParameters, self.pTlsParameters)


# ---------------------------------------------------------------------------
# Credential attribute structures (QueryCredentialsAttributes)
# ---------------------------------------------------------------------------


@dataclass
class SecPkgCredentials_Names:
    """``SECPKG_CRED_ATTR_NAMES``: the credential's user (certificate subject)."""

    sUserName: str | None = None


@dataclass
class SecPkgCred_SupportedAlgs:
    """``SECPKG_ATTR_SUPPORTED_ALGS``: ``ALG_ID`` s the credential allows."""

    cSupportedAlgs: int = 0
    palgSupportedAlgs: list[int] = field(default_factory=list)


@dataclass
class SecPkgCred_CipherStrengths:
    """``SECPKG_ATTR_CIPHER_STRENGTHS``: cipher strength bounds in bits."""

    dwMinimumCipherStrength: int = 0
    dwMaximumCipherStrength: int = 0


@dataclass
class SecPkgCred_SupportedProtocols:
    """``SECPKG_ATTR_SUPPORTED_PROTOCOLS``: enabled ``SP_PROT_*`` bits."""

    grbitProtocol: int = 0


@dataclass(frozen=True)
class SecPkgInfo:
    """``SecPkgInfoW`` / ``SecPkgInfoA``: what EnumerateSecurityPackages and
    QuerySecurityPackageInfo report about one package (read-only, as the
    package-allocated memory is)."""

    fCapabilities: int = 0
    wVersion: int = 0
    wRPCID: int = 0
    cbMaxToken: int = 0
    Name: str = ""
    Comment: str = ""


# ---------------------------------------------------------------------------
# Context attribute structures (QueryContextAttributes)
# ---------------------------------------------------------------------------


@dataclass
class SecPkgContext_Sizes:
    """``SECPKG_ATTR_SIZES``."""

    cbMaxToken: int = 0
    cbMaxSignature: int = 0
    cbBlockSize: int = 0
    cbSecurityTrailer: int = 0


@dataclass
class SecPkgContext_StreamSizes:
    """``SECPKG_ATTR_STREAM_SIZES``: buffer sizes for EncryptMessage."""

    cbHeader: int = 0
    cbTrailer: int = 0
    cbMaximumMessage: int = 0
    cBuffers: int = 0
    cbBlockSize: int = 0


@dataclass
class SecPkgContext_Names:
    """``SECPKG_ATTR_NAMES``."""

    sUserName: str | None = None


@dataclass
class SecPkgContext_Lifespan:
    """``SECPKG_ATTR_LIFESPAN``: FILETIME validity of the context."""

    tsStart: TimeStamp = field(default_factory=TimeStamp)
    tsExpiry: TimeStamp = field(default_factory=TimeStamp)


@dataclass
class SecPkgContext_KeyInfo:
    """``SECPKG_ATTR_KEY_INFO``: algorithm names, ``ALG_ID`` s and key size."""

    sSignatureAlgorithmName: str | None = None
    sEncryptAlgorithmName: str | None = None
    KeySize: int = 0
    SignatureAlgorithm: int = 0
    EncryptAlgorithm: int = 0


@dataclass
class SecPkgContext_ProtoInfo:
    """``SECPKG_ATTR_PROTO_INFO``."""

    sProtocolName: str | None = None
    majorVersion: int = 0
    minorVersion: int = 0


@dataclass
class SecPkgContext_Flags:
    """``SECPKG_ATTR_FLAGS``: the negotiated ``ISC_RET_*`` flags."""

    Flags: int = 0


@dataclass
class SecPkgContext_Bindings:
    """``SECPKG_ATTR_UNIQUE_BINDINGS`` / ``SECPKG_ATTR_ENDPOINT_BINDINGS``.

    ``Bindings`` is a ``SEC_CHANNEL_BINDINGS`` blob (see
    :func:`pack_channel_bindings`); ``BindingsLength`` is its size.
    """

    BindingsLength: int = 0
    Bindings: bytes | None = None


@dataclass
class SecPkgContext_ApplicationProtocol:
    """``SECPKG_ATTR_APPLICATION_PROTOCOL``: the ALPN result."""

    ProtoNegoStatus: int = 0
    ProtoNegoExt: int = 0
    ProtocolIdSize: int = 0
    ProtocolId: bytes = b""


@dataclass
class SecPkgContext_NegotiatedTlsExtensions:
    """``SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS``: extension code points."""

    ExtensionsCount: int = 0
    Extensions: list[int] = field(default_factory=list)


@dataclass
class SecPkgContext_IssuerListInfoEx:
    """``SECPKG_ATTR_ISSUER_LIST_EX``: DER-encoded names of CAs the server accepts."""

    aIssuers: list[bytes] = field(default_factory=list)
    cIssuers: int = 0


@dataclass
class SecPkgContext_ConnectionInfo:
    """``SECPKG_ATTR_CONNECTION_INFO``: protocol (``SP_PROT_*``) and ``ALG_ID`` s."""

    dwProtocol: int = 0
    aiCipher: int = 0
    dwCipherStrength: int = 0
    aiHash: int = 0
    dwHashStrength: int = 0
    aiExch: int = 0
    dwExchStrength: int = 0


@dataclass
class SecPkgContext_ConnectionInfoEx:
    """``SECPKG_ATTR_CONNECTION_INFO_EX``: as ConnectionInfo, with CNG names."""

    dwVersion: int = SECPKGCONTEXT_CONNECTION_INFO_EX_V1
    dwProtocol: int = 0
    szCipher: str = ""
    dwCipherStrength: int = 0
    szHash: str = ""
    dwHashStrength: int = 0
    szExchange: str = ""
    dwExchStrength: int = 0


@dataclass
class SecPkgContext_SessionInfo:
    """``SECPKG_ATTR_SESSION_INFO``: ``SSL_SESSION_RECONNECT`` and the session id."""

    dwFlags: int = 0
    cbSessionId: int = 0
    rgbSessionId: bytes = b""


@dataclass
class SecPkgContext_SessionAppData:
    """``SECPKG_ATTR_APP_DATA``: application data stored with the session."""

    dwFlags: int = 0
    cbAppData: int = 0
    pbAppData: bytes | None = None


@dataclass
class SecPkgContext_Certificates:
    """``SECPKG_ATTR_REMOTE_CERTIFICATES``: repeated ``[4-byte length][DER]``."""

    cCertificates: int = 0
    cbCertificateChain: int = 0
    pbCertificateChain: bytes | None = None


@dataclass
class SecPkgContext_CipherInfo:
    """``SECPKG_ATTR_CIPHER_INFO``: the suite, by IANA number and name.

    Set ``dwVersion`` (default ``SECPKGCONTEXT_CIPHERINFO_V1``) before the
    call, as C callers must.  ``dwProtocol`` is the wire version (0x0303).
    """

    dwVersion: int = SECPKGCONTEXT_CIPHERINFO_V1
    dwProtocol: int = 0
    dwCipherSuite: int = 0
    dwBaseCipherSuite: int = 0
    szCipherSuite: str = ""
    szCipher: str = ""
    dwCipherLen: int = 0
    dwCipherBlockLen: int = 0
    szHash: str = ""
    dwHashLen: int = 0
    szExchange: str = ""
    dwMinExchangeLen: int = 0
    dwMaxExchangeLen: int = 0
    szCertificate: str = ""
    dwKeyType: int = 0


@dataclass
class SecPkgContext_SupportedSignatures:
    """``SECPKG_ATTR_SUPPORTED_SIGNATURES``: TLS SignatureAndHashAlgorithm values."""

    cSignatureAndHashAlgorithms: int = 0
    pSignatureAndHashAlgorithms: list[int] = field(default_factory=list)


@dataclass
class SecPkgContext_EarlyStart:
    """``SECPKG_ATTR_EARLY_START`` (set): ``ENABLE_TLS_CLIENT_EARLY_START``."""

    dwEarlyStartFlags: int = 0


@dataclass
class SecPkgContext_KeyingMaterialInfo:
    """``SECPKG_ATTR_KEYING_MATERIAL_INFO`` (set): RFC 5705 exporter input.

    ``cbLabel`` counts the terminating NUL, as in C; ``pszLabel`` is the label
    without it.
    """

    cbLabel: int = 0
    pszLabel: str | None = None
    cbContextValue: int = 0
    pbContextValue: bytes | None = None
    cbKeyingMaterial: int = 0


@dataclass
class SecPkgContext_KeyingMaterial:
    """``SECPKG_ATTR_KEYING_MATERIAL``: RFC 5705 exported keying material."""

    cbKeyingMaterial: int = 0
    pbKeyingMaterial: bytes | None = None


@dataclass
class SecPkgContext_CertificateValidationResult:
    """``SECPKG_ATTR_CERT_CHECK_RESULT(_INPROC)``: deferred validation result."""

    dwChainErrorStatus: int = 0
    hrVerifyChainStatus: int = 0


# ---------------------------------------------------------------------------
# schannel_py extensions (not in Windows): see docs/porting-from-windows.md
# ---------------------------------------------------------------------------

#: What ``SecPkgContext_PyVerifyCallback.pfnCallback`` is: called with the server's
#: leaf ``CERT_CONTEXT`` (its ``hCertStore`` holds the chain as sent), it returns a
#: ``SECURITY_STATUS`` or a tuple ``(SECURITY_STATUS, alert_description)``.
VerifyCallback = Callable[[Any], Any]


@dataclass
class SecPkgContext_PyVerifyCallback:
    """``SECPKG_ATTR_PY_VERIFY_CALLBACK`` (set): the application's certificate check.

    ``pfnCallback`` runs when the server's Certificate is processed (after the
    package's own validation, or alone under manual validation); ``None``
    removes it.  ``fOnResumption``: also run it, with the certificate stored
    with the session, on a resumed handshake.
    """

    pfnCallback: VerifyCallback | None = None
    fOnResumption: bool = False


@dataclass
class SecPkgContext_PyHandshakeInfo:
    """``SECPKG_ATTR_PY_HANDSHAKE_INFO``: what the handshake negotiated, for tests.

    ``wPeerSignatureScheme``: the TLS SignatureScheme of the server's
    CertificateVerify / ServerKeyExchange (0 on a resumed handshake);
    ``wKeyExchangeGroup``: the negotiated group (0 if none); the flags say
    whether a HelloRetryRequest came, extended master secret (always for TLS 1.3)
    and secure renegotiation (TLS 1.2 renegotiation_info) were negotiated;
    ``cTicketsReceived`` counts NewSessionTickets on this connection;
    ``fNewSession``: the connection produced a session the cache can offer;
    ``aPeerVerifyPrefs``: the signature schemes of the server's CertificateRequest;
    ``fFailureAlert``: the context failed on a problem the package detected
    itself (e.g. DecryptMessage: a record that does not authenticate), and
    ``bFailureAlert`` is the fatal alert description TLS prescribes for it (for
    ``SCHANNEL_ALERT_TOKEN``); False while the context works or when the peer's
    alert ended it; ``aCertificateTypes``: the certificate_types of the server's
    TLS 1.2 CertificateRequest (ClientCertificateType values; TLS 1.3 has none);
    ``rgbClientFinished`` / ``rgbServerFinished``: the verify_data of the
    handshake's Finished messages (OpenSSL's SSL_get_finished /
    SSL_get_peer_finished, which CPython's TLS 1.3 tls-unique is made of;
    SECPKG_ATTR_UNIQUE_BINDINGS defines tls-unique for TLS 1.2 only).
    """

    wPeerSignatureScheme: int = 0
    wKeyExchangeGroup: int = 0
    fHelloRetryRequest: bool = False
    fExtendedMasterSecret: bool = False
    fSecureRenegotiation: bool = False
    cTicketsReceived: int = 0
    fNewSession: bool = False
    cPeerVerifyPrefs: int = 0
    aPeerVerifyPrefs: list[int] = field(default_factory=list)
    fFailureAlert: bool = False
    bFailureAlert: int = 0
    cCertificateTypes: int = 0
    aCertificateTypes: list[int] = field(default_factory=list)
    rgbClientFinished: bytes = b""
    rgbServerFinished: bytes = b""


@dataclass
class SecPkgContext_PyRenegotiationPolicy:
    """``SECPKG_ATTR_PY_RENEGOTIATION_POLICY`` (set and query): what a TLS 1.2
    HelloRequest on an established connection does.

    ``dwPolicy``: ``SCHANNEL_PY_RENEGOTIATION_ACCEPT`` (0, the default and
    Windows' behaviour: DecryptMessage returns ``SEC_I_RENEGOTIATE`` and the
    caller's next ISC renegotiates) or ``SCHANNEL_PY_RENEGOTIATION_IGNORE`` (1:
    the HelloRequest is dropped, DecryptMessage returns ``SEC_E_OK`` with no
    data and nothing changes).
    """

    dwPolicy: int = SCHANNEL_PY_RENEGOTIATION_ACCEPT


# ---------------------------------------------------------------------------
# Wire formats callers place in SecBuffers
# ---------------------------------------------------------------------------


def _as_bytes(data: object) -> bytes | None:
    """``bytes`` of a bytes-like object, or ``None`` if it is not one."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return None
    try:
        return bytes(data) if not isinstance(data, memoryview) else data.tobytes()
    except (ValueError, TypeError, BufferError):
        return None


def pack_control_token(dwTokenType: int) -> bytes:
    """A bare control token: one ``DWORD`` (e.g. ``SCHANNEL_SHUTDOWN``)."""
    return struct.pack("<I", dwTokenType)


@dataclass
class SCHANNEL_ALERT_TOKEN:
    """``SCHANNEL_ALERT_TOKEN``: ask ApplyControlToken to generate an alert."""

    dwTokenType: int = SCHANNEL_ALERT
    dwAlertType: int = 0
    dwAlertNumber: int = 0

    def pack(self) -> bytes:
        """The 12-byte structure, three little-endian ``DWORD`` s."""
        return struct.pack("<III", self.dwTokenType, self.dwAlertType, self.dwAlertNumber)


@dataclass
class SCHANNEL_SESSION_TOKEN:
    """``SCHANNEL_SESSION_TOKEN``: enable/disable session-id reconnects."""

    dwTokenType: int = SCHANNEL_SESSION
    dwFlags: int = 0

    def pack(self) -> bytes:
        """The 8-byte structure, two little-endian ``DWORD`` s."""
        return struct.pack("<II", self.dwTokenType, self.dwFlags)


@dataclass
class SCHANNEL_PY_KEY_UPDATE_TOKEN:
    """schannel_py extension: ask ApplyControlToken for a TLS 1.3 KeyUpdate.

    ``dwUpdateRequested``: ``SCHANNEL_PY_KEY_UPDATE_REQUESTED`` (1) asks the
    server to update its keys too, ``SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED`` (0)
    does not.
    """

    dwTokenType: int = SCHANNEL_PY_KEY_UPDATE
    dwUpdateRequested: int = 0

    def pack(self) -> bytes:
        """The 8-byte structure, two little-endian ``DWORD`` s."""
        return struct.pack("<II", self.dwTokenType, self.dwUpdateRequested)


def pack_key_update_token(dwUpdateRequested: int = 0) -> bytes:
    """``SCHANNEL_PY_KEY_UPDATE_TOKEN{SCHANNEL_PY_KEY_UPDATE, dwUpdateRequested}`` as bytes."""
    return SCHANNEL_PY_KEY_UPDATE_TOKEN(SCHANNEL_PY_KEY_UPDATE, int(dwUpdateRequested)).pack()


def pack_alert_token(dwAlertType: int, dwAlertNumber: int) -> bytes:
    """``SCHANNEL_ALERT_TOKEN{SCHANNEL_ALERT, dwAlertType, dwAlertNumber}`` as bytes."""
    return SCHANNEL_ALERT_TOKEN(SCHANNEL_ALERT, dwAlertType, dwAlertNumber).pack()


def pack_session_token(dwFlags: int) -> bytes:
    """``SCHANNEL_SESSION_TOKEN{SCHANNEL_SESSION, dwFlags}`` as bytes."""
    return SCHANNEL_SESSION_TOKEN(SCHANNEL_SESSION, dwFlags).pack()


def parse_control_token(
    data: memoryview,
) -> tuple[int, int, int] | None:
    """(dwTokenType, first field, second field) of an ApplyControlToken input, as
    ApplyControlToken reads it: a ``DWORD`` type, then the fields its structure
    has (``SCHANNEL_ALERT_TOKEN``: type and number; ``SCHANNEL_SESSION_TOKEN`` and
    ``SCHANNEL_PY_KEY_UPDATE_TOKEN``: one ``DWORD``).  Missing fields are -1;
    None if there are fewer than four bytes."""
    if len(data) < 4:
        return None
    token = int.from_bytes(data[:4], "little")
    first = int.from_bytes(data[4:8], "little") if len(data) >= 8 else -1
    second = int.from_bytes(data[8:12], "little") if len(data) >= 12 else -1
    return token, first, second


def pack_sec_flags(flags64: int) -> bytes:
    """``SEC_FLAGS{ULONGLONG Flags}`` for a ``SECBUFFER_FLAGS`` input buffer.

    Carries the 64-bit ``ISC_REQ_*`` flags.  The header requires the low 32
    bits to be zero; that rule is the package's to enforce, not this
    encoder's, so tests can build invalid buffers.
    """
    if not 0 <= flags64 <= 0xFFFFFFFFFFFFFFFF:
        raise ValueError(f"SEC_FLAGS value out of range: {flags64:#x}")
    return struct.pack("<Q", flags64)


def unpack_sec_flags(data: bytes | bytearray | memoryview) -> int | None:
    """The ``ULONGLONG`` of a ``SEC_FLAGS`` buffer, or ``None`` if shorter than 8 bytes."""
    raw = _as_bytes(data)
    if raw is None or len(raw) < 8:
        return None
    value: int = struct.unpack_from("<Q", raw)[0]
    return value


#: ``sizeof(SEC_CHANNEL_BINDINGS)``: eight ``ULONG`` s.
SEC_CHANNEL_BINDINGS_SIZE = 32


def pack_channel_bindings(app_data: bytes) -> bytes:
    """A ``SEC_CHANNEL_BINDINGS`` blob carrying only application data.

    The 32-byte header (address fields zero, ``cbApplicationDataLength =
    len(app_data)``, ``dwApplicationDataOffset = 32``) followed by the data,
    which is what Schannel returns for ``SECPKG_ATTR_*_BINDINGS``.
    """
    header = struct.pack("<8I", 0, 0, 0, 0, 0, 0, len(app_data), SEC_CHANNEL_BINDINGS_SIZE)
    return header + bytes(app_data)


def parse_channel_bindings(data: bytes | bytearray | memoryview) -> bytes | None:
    """The application data of a ``SEC_CHANNEL_BINDINGS`` blob, or ``None`` if malformed."""
    raw = _as_bytes(data)
    if raw is None or len(raw) < SEC_CHANNEL_BINDINGS_SIZE:
        return None
    fields = struct.unpack_from("<8I", raw)
    length, offset = fields[6], fields[7]
    if offset + length > len(raw):
        return None
    return raw[offset : offset + length]


def pack_application_protocols(
    protocols: Sequence[bytes | str],
    ext: int = SecApplicationProtocolNegotiationExt_ALPN,
) -> bytes:
    """A ``SEC_APPLICATION_PROTOCOLS`` buffer holding one protocol list.

    Layout (docs/windows-behaviour.md section 1.2, little-endian)::

        ULONG  ProtocolListsSize      bytes that follow
        ULONG  ProtoNegoExt           ext (ALPN = 2)
        USHORT ProtocolListSize       bytes of ProtocolList
        BYTE   ProtocolList[]         8-bit length-prefixed ids, preferred first

    ``str`` ids are encoded as UTF-8.  Raises ``ValueError`` for an id that is
    empty or longer than 255 bytes, or a list longer than 65535 bytes.
    """
    parts: list[bytes] = []
    for proto in protocols:
        raw = proto.encode("utf-8") if isinstance(proto, str) else bytes(proto)
        if not 1 <= len(raw) <= 0xFF:
            raise ValueError(f"protocol id must be 1..255 bytes, got {len(raw)}")
        parts.append(bytes([len(raw)]) + raw)
    proto_list = b"".join(parts)
    if len(proto_list) > 0xFFFF:
        raise ValueError("protocol list longer than 65535 bytes")
    body = struct.pack("<IH", ext, len(proto_list)) + proto_list
    return struct.pack("<I", len(body)) + body


def parse_application_protocols(data: bytes | bytearray | memoryview) -> list[bytes] | None:
    """The ALPN protocol ids in a ``SEC_APPLICATION_PROTOCOLS`` buffer.

    Lists of other kinds (NPN, None, unknown) are skipped; ids from several
    ALPN lists are concatenated in order; a well-formed buffer with no ALPN
    list gives ``[]``.  Bytes after ``ProtocolListsSize`` are ignored.  Returns
    ``None`` for anything malformed (truncated, a list header cut short, an
    empty or overrunning id in an ALPN list).  Never raises.
    """
    raw = _as_bytes(data)
    if raw is None or len(raw) < 4:
        return None
    (lists_size,) = struct.unpack_from("<I", raw, 0)
    end = 4 + lists_size
    if end > len(raw):
        return None
    result: list[bytes] = []
    pos = 4
    while pos < end:
        if end - pos < 6:
            return None
        ext, list_size = struct.unpack_from("<IH", raw, pos)
        pos += 6
        list_end = pos + list_size
        if list_end > end:
            return None
        if ext == SecApplicationProtocolNegotiationExt_ALPN:
            while pos < list_end:
                id_len = raw[pos]
                pos += 1
                if id_len == 0 or pos + id_len > list_end:
                    return None
                result.append(raw[pos : pos + id_len])
                pos += id_len
        pos = list_end
    return result
