"""SSPI data types with Windows' field names: handles, buffers, credential and attribute structures.

C passes pointers to structures the callee fills in; here the caller passes a
mutable object and the package sets its fields.  Every field defaults to
0/None/empty so structures can be built by keyword, as C code zero-fills them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .. import constants as C

BufferData = bytes | bytearray | memoryview


@dataclass(eq=False)
class _SecHandle:
    """SecHandle: two pointer-sized values identifying a package object."""

    dwLower: int = 0
    dwUpper: int = 0

    @property
    def is_null(self) -> bool:
        return self.dwLower == 0 and self.dwUpper == 0


@dataclass(eq=False)
class CredHandle(_SecHandle):
    """A credential handle (AcquireCredentialsHandle's phCredential)."""


@dataclass(eq=False)
class CtxtHandle(_SecHandle):
    """A security context handle (InitializeSecurityContext's phNewContext)."""


@dataclass(eq=False)
class TimeStamp:
    """LARGE_INTEGER in FILETIME units (100 ns since 1601)."""

    QuadPart: int = 0

    @property
    def LowPart(self) -> int:
        return self.QuadPart & 0xFFFFFFFF

    @property
    def HighPart(self) -> int:
        return (self.QuadPart >> 32) & 0xFFFFFFFF


@dataclass(eq=False)
class ULONG:
    """An out-parameter ULONG (pfContextAttr)."""

    value: int = 0


@dataclass(eq=False)
class PVOID:
    """An out-parameter pointer (QueryContextAttributes(REMOTE_CERT_CONTEXT) sets ``value``)."""

    value: object = None


@dataclass(eq=False)
class SecBuffer:
    """SecBuffer {cbBuffer, BufferType, pvBuffer}; pvBuffer None is NULL."""

    cbBuffer: int = 0
    BufferType: int = C.SECBUFFER_EMPTY
    pvBuffer: BufferData | None = None

    def data(self) -> bytes:
        """The first cbBuffer bytes of pvBuffer (b"" for NULL)."""
        if self.pvBuffer is None or self.cbBuffer <= 0:
            return b""
        return bytes(memoryview(self.pvBuffer).cast("B")[: self.cbBuffer])


@dataclass(eq=False)
class SecBufferDesc:
    """SecBufferDesc; only the first ``cBuffers`` buffers are read, as in C."""

    pBuffers: list[SecBuffer] = field(default_factory=list)
    ulVersion: int = C.SECBUFFER_VERSION
    cBuffers: int = -1

    def __post_init__(self) -> None:
        if self.cBuffers < 0:
            self.cBuffers = len(self.pBuffers)

    def release(self) -> None:
        """Release memoryviews the package left in the buffers.

        DecryptMessage's DATA/EXTRA point into the caller's bytearray; while
        those views live, Python refuses to resize it.  Call this (or drop the
        descriptor) before moving the EXTRA bytes to the front.
        """
        for b in self.pBuffers:
            if isinstance(b.pvBuffer, memoryview):
                b.pvBuffer.release()
                b.pvBuffer = None


# --- credentials ------------------------------------------------------------------


@dataclass(eq=False)
class SCHANNEL_CRED:
    """SCHANNEL_CRED (dwVersion = SCHANNEL_CRED_VERSION, 4): never offers TLS 1.3."""

    dwVersion: int = 0
    cCreds: int = 0
    paCred: list[object] | None = None
    hRootStore: object = None
    cMappers: int = 0
    aphMappers: object = None
    cSupportedAlgs: int = 0
    palgSupportedAlgs: list[int] | None = None
    grbitEnabledProtocols: int = 0
    dwMinimumCipherStrength: int = 0
    dwMaximumCipherStrength: int = 0
    dwSessionLifespan: int = 0
    dwFlags: int = 0
    dwCredFormat: int = 0


@dataclass(eq=False)
class CRYPTO_SETTINGS:
    """CRYPTO_SETTINGS: one algorithm (by CNG name) to disable or restrict."""

    eAlgorithmUsage: int = 0
    strCngAlgId: str | None = None
    cChainingModes: int = 0
    rgstrChainingModes: list[str] | None = None
    dwMinBitLength: int = 0
    dwMaxBitLength: int = 0


@dataclass(eq=False)
class TLS_PARAMETERS:
    """TLS_PARAMETERS: protocol versions and algorithms to disable."""

    cAlpnIds: int = 0
    rgstrAlpnIds: list[str] | None = None
    grbitDisabledProtocols: int = 0
    cDisabledCrypto: int = 0
    pDisabledCrypto: list[CRYPTO_SETTINGS] | None = None
    dwFlags: int = 0


@dataclass(eq=False)
class SCH_CREDENTIALS:
    """SCH_CREDENTIALS (dwVersion = SCH_CREDENTIALS_VERSION, 5): TLS 1.3 and 1.2 by default."""

    dwVersion: int = 0
    dwCredFormat: int = 0
    cCreds: int = 0
    paCred: list[object] | None = None
    hRootStore: object = None
    cMappers: int = 0
    aphMappers: object = None
    dwSessionLifespan: int = 0
    dwFlags: int = 0
    cTlsParameters: int = 0
    pTlsParameters: list[TLS_PARAMETERS] | None = None


# --- attribute structures -----------------------------------------------------------


@dataclass(eq=False)
class SecPkgContext_StreamSizes:
    cbHeader: int = 0
    cbTrailer: int = 0
    cbMaximumMessage: int = 0
    cBuffers: int = 0
    cbBlockSize: int = 0


@dataclass(eq=False)
class SecPkgContext_ConnectionInfo:
    dwProtocol: int = 0
    aiCipher: int = 0
    dwCipherStrength: int = 0
    aiHash: int = 0
    dwHashStrength: int = 0
    aiExch: int = 0
    dwExchStrength: int = 0


@dataclass(eq=False)
class SecPkgContext_CipherInfo:
    dwVersion: int = C.SECPKGCONTEXT_CIPHERINFO_V1
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


@dataclass(eq=False)
class SecPkgContext_KeyInfo:
    sSignatureAlgorithmName: str = ""
    sEncryptAlgorithmName: str = ""
    KeySize: int = 0
    SignatureAlgorithm: int = 0
    EncryptAlgorithm: int = 0


@dataclass(eq=False)
class SecPkgContext_ApplicationProtocol:
    ProtoNegoStatus: int = 0
    ProtoNegoExt: int = 0
    ProtocolIdSize: int = 0
    ProtocolId: bytes = b""


@dataclass(eq=False)
class SecPkgContext_Bindings:
    BindingsLength: int = 0
    Bindings: bytes | None = None


@dataclass(eq=False)
class SecPkgContext_SessionInfo:
    dwFlags: int = 0
    cbSessionId: int = 0
    rgbSessionId: bytes = b""


@dataclass(eq=False)
class SecPkgContext_IssuerListInfoEx:
    aIssuers: list[bytes] = field(default_factory=list)
    cIssuers: int = 0


@dataclass(eq=False)
class SecPkgContext_Flags:
    Flags: int = 0


@dataclass(eq=False)
class SecPkgContext_NegotiatedTlsExtensions:
    ExtensionsCount: int = 0
    Extensions: list[int] = field(default_factory=list)


@dataclass(eq=False)
class SecPkgContext_CertificateValidationResult:
    dwChainErrorStatus: int = 0
    hrVerifyChainStatus: int = 0


@dataclass(eq=False)
class SecPkgCred_SupportedProtocols:
    grbitProtocol: int = 0


@dataclass(eq=False)
class SecPkgCred_SupportedAlgs:
    cSupportedAlgs: int = 0
    palgSupportedAlgs: list[int] = field(default_factory=list)


@dataclass(eq=False)
class SecPkgCred_CipherStrengths:
    dwMinimumCipherStrength: int = 0
    dwMaximumCipherStrength: int = 0


@dataclass(eq=False)
class SecPkgCredentials_Names:
    sUserName: str | None = None


# --- byte layouts callers put into buffers ----------------------------------------------


def pack_channel_bindings(app_data: bytes) -> bytes:
    """SEC_CHANNEL_BINDINGS: 8 ULONGs (only the application-data length and offset set) + data."""
    return struct.pack("<8I", 0, 0, 0, 0, 0, 0, len(app_data), 32) + app_data


def pack_control_token(token: int) -> bytes:
    """A DWORD control token (SCHANNEL_SHUTDOWN, SCHANNEL_RENEGOTIATE)."""
    return struct.pack("<I", token)


def pack_alert_token(dwAlertType: int, dwAlertNumber: int) -> bytes:
    """SCHANNEL_ALERT_TOKEN {SCHANNEL_ALERT, dwAlertType, dwAlertNumber}."""
    return struct.pack("<3I", C.SCHANNEL_ALERT, dwAlertType, dwAlertNumber)


def pack_session_token(dwFlags: int) -> bytes:
    """SCHANNEL_SESSION_TOKEN {SCHANNEL_SESSION, dwFlags}."""
    return struct.pack("<2I", C.SCHANNEL_SESSION, dwFlags)


def pack_sec_flags(flags64: int) -> bytes:
    """SEC_FLAGS for a SECBUFFER_FLAGS input buffer (64-bit ISC_REQ_* flags)."""
    return struct.pack("<Q", flags64)


def pack_application_protocols(
    protocols: list[bytes], ext: int = C.SecApplicationProtocolNegotiationExt_ALPN
) -> bytes:
    """SEC_APPLICATION_PROTOCOLS with one protocol list (SCHANNEL_BEHAVIOUR.md section 1.2)."""
    plist = b"".join(bytes([len(p)]) + p for p in protocols)
    entry = struct.pack("<IH", ext, len(plist)) + plist
    return struct.pack("<I", len(entry)) + entry


def parse_application_protocols(data: bytes) -> list[bytes] | None:
    """The ALPN protocols in a SEC_APPLICATION_PROTOCOLS blob; None if malformed. Never raises."""
    if len(data) < 4:
        return None
    (total,) = struct.unpack_from("<I", data, 0)
    if total > len(data) - 4:
        return None
    pos, end = 4, 4 + total
    result: list[bytes] = []
    while pos < end:
        if end - pos < 6:
            return None
        ext, size = struct.unpack_from("<IH", data, pos)
        pos += 6
        if size > end - pos:
            return None
        plist = data[pos : pos + size]
        pos += size
        protos: list[bytes] = []
        i = 0
        while i < len(plist):
            n = plist[i]
            if n == 0 or i + 1 + n > len(plist):
                return None
            protos.append(plist[i + 1 : i + 1 + n])
            i += 1 + n
        if ext == C.SecApplicationProtocolNegotiationExt_ALPN:
            result.extend(protos)
    return result


__all__ = [
    "BufferData",
    "CredHandle",
    "CtxtHandle",
    "TimeStamp",
    "ULONG",
    "PVOID",
    "SecBuffer",
    "SecBufferDesc",
    "SCHANNEL_CRED",
    "SCH_CREDENTIALS",
    "TLS_PARAMETERS",
    "CRYPTO_SETTINGS",
    "SecPkgContext_StreamSizes",
    "SecPkgContext_ConnectionInfo",
    "SecPkgContext_CipherInfo",
    "SecPkgContext_KeyInfo",
    "SecPkgContext_ApplicationProtocol",
    "SecPkgContext_Bindings",
    "SecPkgContext_SessionInfo",
    "SecPkgContext_IssuerListInfoEx",
    "SecPkgContext_Flags",
    "SecPkgContext_NegotiatedTlsExtensions",
    "SecPkgContext_CertificateValidationResult",
    "SecPkgCred_SupportedProtocols",
    "SecPkgCred_SupportedAlgs",
    "SecPkgCred_CipherStrengths",
    "SecPkgCredentials_Names",
    "pack_channel_bindings",
    "pack_control_token",
    "pack_alert_token",
    "pack_session_token",
    "pack_sec_flags",
    "pack_application_protocols",
    "parse_application_protocols",
]
