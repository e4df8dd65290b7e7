"""QueryContextAttributes and SetContextAttributes as tables.

:data:`QUERY` maps each attribute the package answers to an :class:`Attribute`:
the structure the caller passes, when the answer is available, and the
function that fills it.  Each filler makes its checks in the order SChannel's
statuses show (a wrong structure before or after "not yet available"), so the
statuses are those of the calls they replace.  An attribute not in the table is
SEC_E_UNSUPPORTED_FUNCTION.  :data:`SET` does the same for SetContextAttributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from .. import constants as C
from ..constants import SecStatus
from ..tls import groups as G
from ..tls.alerts import TLSError
from ..tls.record import MAX_PLAINTEXT
from ..tls.result import HandshakeResult
from ..tls.suites import CipherSuite
from .credentials import suite_alg_ids
from .handshake import ret_flags
from .phases import Phase
from .types import (
    SecPkgContext_ApplicationProtocol,
    SecPkgContext_Bindings,
    SecPkgContext_CipherInfo,
    SecPkgContext_ConnectionInfo,
    SecPkgContext_Flags,
    SecPkgContext_IssuerListInfoEx,
    SecPkgContext_KeyInfo,
    SecPkgContext_KeyingMaterial,
    SecPkgContext_KeyingMaterialInfo,
    SecPkgContext_PyHandshakeInfo,
    SecPkgContext_PyRenegotiationPolicy,
    SecPkgContext_PyVerifyCallback,
    SecPkgContext_SessionInfo,
    SecPkgContext_StreamSizes,
    pack_channel_bindings,
)
from .validation import server_cert_context

if TYPE_CHECKING:
    from .context import Context

# There is no CALG for ChaCha20 in wincrypt.h; msquic uses this private value.
CALG_CHACHA20_POLY1305 = C.CALG_CHACHA20_POLY1305

Filler = Callable[["Context", object], SecStatus]


@dataclass(frozen=True)
class Attribute:
    """One attribute: its structure (a type, or "value" for a holder with ``.value``),
    when it can be read, and the function that answers."""

    structure: type | str
    available: str
    fill: Filler


# --- what the negotiated suite means in CryptoAPI's words -------------------------------


def _cert_kind(cert: x509.Certificate | None) -> tuple[str, int]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = cert.public_key() if cert is not None else None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA", C.CALG_ECDSA
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EDDSA", 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", C.CALG_RSA_SIGN
    return "", 0


def _endpoint_hash(cert: x509.Certificate) -> bytes:
    """RFC 5929 tls-server-end-point: the certificate's signature hash, SHA-256 at least."""
    algo = cert.signature_hash_algorithm
    if algo is None or isinstance(algo, (hashes.MD5, hashes.SHA1)):
        algo = hashes.SHA256()
    return hashlib.new(algo.name.replace("-", ""), cert.public_bytes(Encoding.DER)).digest()


def _cipher_calg(suite: CipherSuite) -> int:
    return suite_alg_ids(suite)[C.ALG_CLASS_DATA_ENCRYPT]


def _cipher_name(suite: CipherSuite) -> str:
    return "AES" if suite.cipher == "AES" else "CHACHA20_POLY1305"


# --- attributes available at any time ----------------------------------------------------


def _remote_cert_context(ctx: Context, pBuffer: object) -> SecStatus:
    """The server's leaf as a CERT_CONTEXT whose store holds what it sent, as soon as
    its Certificate message was read (SEC_E_NO_CREDENTIALS before); a stapled OCSP
    response is its CERT_OCSP_RESPONSE_PROP_ID property."""
    client = ctx.client
    if not client.peer_chain:
        return C.SEC_E_NO_CREDENTIALS
    if not hasattr(pBuffer, "value"):
        return C.SEC_E_INTERNAL_ERROR
    pBuffer.value = server_cert_context(client.peer_chain, client.ocsp_staple)
    return C.SEC_E_OK


def _local_cert_context(ctx: Context, pBuffer: object) -> SecStatus:
    if ctx.local_cert is None or not ctx.client.client_certificate_sent:
        return C.SEC_E_NO_CREDENTIALS
    if not hasattr(pBuffer, "value"):
        return C.SEC_E_INTERNAL_ERROR
    pBuffer.value = ctx.local_cert
    return C.SEC_E_OK


def _keying_material(ctx: Context, pBuffer: object) -> SecStatus:
    if not isinstance(pBuffer, SecPkgContext_KeyingMaterial):
        return C.SEC_E_INTERNAL_ERROR
    client = ctx.client
    if not client.handshake_complete:
        return C.SEC_E_INVALID_HANDLE
    if ctx.keying_material_info is None:
        return C.SEC_E_INVALID_PARAMETER  # KEYING_MATERIAL_INFO was never set
    label, value, length = ctx.keying_material_info
    try:
        material = client.export_keying_material(label, value, length)
    except (TLSError, KeyError):
        return C.SEC_E_INTERNAL_ERROR
    pBuffer.pbKeyingMaterial = material
    pBuffer.cbKeyingMaterial = len(material)
    return C.SEC_E_OK


def _issuer_list(ctx: Context, pBuffer: object) -> SecStatus:
    if not isinstance(pBuffer, SecPkgContext_IssuerListInfoEx):
        return C.SEC_E_INTERNAL_ERROR
    pBuffer.aIssuers = list(ctx.client.certificate_authorities)
    pBuffer.cIssuers = len(pBuffer.aIssuers)
    return C.SEC_E_OK


def _flags(ctx: Context, pBuffer: object) -> SecStatus:
    if not isinstance(pBuffer, SecPkgContext_Flags):
        return C.SEC_E_UNSUPPORTED_FUNCTION
    pBuffer.Flags = ret_flags(ctx.req)
    return C.SEC_E_OK


def _renegotiation_policy(ctx: Context, pBuffer: object) -> SecStatus:
    if not isinstance(pBuffer, SecPkgContext_PyRenegotiationPolicy):
        return C.SEC_E_INVALID_PARAMETER
    pBuffer.dwPolicy = (
        C.SCHANNEL_PY_RENEGOTIATION_IGNORE
        if ctx.client.config.ignore_hello_request
        else C.SCHANNEL_PY_RENEGOTIATION_ACCEPT
    )
    return C.SEC_E_OK


def _handshake_info(ctx: Context, pBuffer: object) -> SecStatus:
    """SECPKG_ATTR_PY_HANDSHAKE_INFO (schannel_py extension), after the handshake."""
    if pBuffer is None:
        return C.SEC_E_INTERNAL_ERROR
    if not isinstance(pBuffer, SecPkgContext_PyHandshakeInfo):
        return C.SEC_E_INVALID_PARAMETER
    client = ctx.client
    result = client.result
    if result is None:
        return C.SEC_E_INVALID_HANDLE
    pBuffer.wPeerSignatureScheme = result.peer_signature_scheme  # 0: none (resumed)
    pBuffer.wKeyExchangeGroup = result.group
    pBuffer.fHelloRetryRequest = result.hello_retry_request
    pBuffer.fExtendedMasterSecret = result.extended_master_secret
    pBuffer.fSecureRenegotiation = result.secure_renegotiation
    pBuffer.cTicketsReceived = client.tickets_received
    pBuffer.fNewSession = client.new_session and ctx.reconnects
    pBuffer.aPeerVerifyPrefs = list(client.peer_verify_schemes)
    pBuffer.cPeerVerifyPrefs = len(pBuffer.aPeerVerifyPrefs)
    alert = ctx.failure_alert if ctx.phase is Phase.FAILED else None
    pBuffer.fFailureAlert = alert is not None
    pBuffer.bFailureAlert = alert if alert is not None else 0
    pBuffer.aCertificateTypes = list(client.certificate_types)
    pBuffer.cCertificateTypes = len(pBuffer.aCertificateTypes)
    pBuffer.rgbClientFinished = result.client_finished
    pBuffer.rgbServerFinished = result.server_finished
    return C.SEC_E_OK


# --- attributes of an established connection ----------------------------------------------


def _established(
    structure: type, fill: Callable[[Context, HandshakeResult, object], SecStatus]
) -> Filler:
    """A filler for an attribute of the negotiated connection (the TLS client's
    :class:`HandshakeResult`): no buffer is SEC_E_INTERNAL_ERROR, before the
    handshake SEC_E_INVALID_HANDLE, then the structure must be the right one
    (else SEC_E_INTERNAL_ERROR)."""

    def filler(ctx: Context, pBuffer: object) -> SecStatus:
        if pBuffer is None:
            return C.SEC_E_INTERNAL_ERROR
        result = ctx.client.result
        if result is None:
            return C.SEC_E_INVALID_HANDLE
        if not isinstance(pBuffer, structure):
            return C.SEC_E_INTERNAL_ERROR
        return fill(ctx, result, pBuffer)

    return filler


def _stream_sizes(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_StreamSizes)
    pBuffer.cbHeader, pBuffer.cbTrailer = ctx.client.record_overhead
    pBuffer.cbMaximumMessage = MAX_PLAINTEXT
    pBuffer.cBuffers = 4
    pBuffer.cbBlockSize = 16 if result.suite.cipher == "AES" else 1
    return C.SEC_E_OK


def _connection_info(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_ConnectionInfo)
    suite = result.suite
    tls13 = result.version == 0x0304
    pBuffer.dwProtocol = C.SP_PROT_TLS1_3_CLIENT if tls13 else C.SP_PROT_TLS1_2_CLIENT
    pBuffer.aiCipher = _cipher_calg(suite)
    pBuffer.dwCipherStrength = suite.key_len * 8
    pBuffer.aiHash = C.CALG_SHA_384 if suite.hash_name == "sha384" else C.CALG_SHA_256
    pBuffer.dwHashStrength = 0
    pBuffer.aiExch = 0 if tls13 else C.CALG_ECDH_EPHEM
    pBuffer.dwExchStrength = G.GROUP_BITS.get(result.group, 0)
    return C.SEC_E_OK


def _cipher_info(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_CipherInfo)
    suite = result.suite
    pBuffer.dwVersion = C.SECPKGCONTEXT_CIPHERINFO_V1
    pBuffer.dwProtocol = result.version
    pBuffer.dwCipherSuite = suite.code
    pBuffer.dwBaseCipherSuite = suite.code
    pBuffer.szCipherSuite = suite.name
    pBuffer.szCipher = _cipher_name(suite)
    pBuffer.dwCipherLen = suite.key_len * 8
    pBuffer.dwCipherBlockLen = 16 if suite.cipher == "AES" else 1
    pBuffer.szHash = ""
    pBuffer.dwHashLen = 0
    pBuffer.szExchange = "ECDH"
    pBuffer.dwMinExchangeLen = 0
    pBuffer.dwMaxExchangeLen = 65536
    pBuffer.szCertificate = _cert_kind(result.peer_certificate)[0]
    pBuffer.dwKeyType = result.group
    return C.SEC_E_OK


def _key_info(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_KeyInfo)
    suite = result.suite
    cert_name, cert_alg = _cert_kind(result.peer_certificate)
    pBuffer.sSignatureAlgorithmName = cert_name
    pBuffer.sEncryptAlgorithmName = _cipher_name(suite)
    pBuffer.KeySize = suite.key_len * 8
    pBuffer.SignatureAlgorithm = cert_alg
    pBuffer.EncryptAlgorithm = _cipher_calg(suite)
    return C.SEC_E_OK


def _application_protocol(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_ApplicationProtocol)
    alpn = result.alpn
    if alpn:
        pBuffer.ProtoNegoStatus = C.SecApplicationProtocolNegotiationStatus_Success
        pBuffer.ProtoNegoExt = C.SecApplicationProtocolNegotiationExt_ALPN
        pBuffer.ProtocolIdSize = len(alpn)
        pBuffer.ProtocolId = bytes(alpn)
    else:
        pBuffer.ProtoNegoStatus = C.SecApplicationProtocolNegotiationStatus_None
        pBuffer.ProtoNegoExt = C.SecApplicationProtocolNegotiationExt_None
        pBuffer.ProtocolIdSize = 0
        pBuffer.ProtocolId = b""
    return C.SEC_E_OK


def _endpoint_bindings(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_Bindings)
    cert = result.peer_certificate
    if cert is None:
        return C.SEC_E_NO_CREDENTIALS
    return _bindings(pBuffer, b"tls-server-end-point:" + _endpoint_hash(cert))


def _unique_bindings(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_Bindings)
    if result.version != 0x0303 or not result.tls_unique:
        return C.SEC_E_UNSUPPORTED_FUNCTION  # tls-unique is not defined for TLS 1.3
    return _bindings(pBuffer, b"tls-unique:" + result.tls_unique)


def _bindings(pBuffer: SecPkgContext_Bindings, application_data: bytes) -> SecStatus:
    """SEC_CHANNEL_BINDINGS around RFC 5929's application data, into the structure."""
    blob = pack_channel_bindings(application_data)
    pBuffer.Bindings = blob
    pBuffer.BindingsLength = len(blob)
    return C.SEC_E_OK


def _session_info(ctx: Context, result: HandshakeResult, pBuffer: object) -> SecStatus:
    assert isinstance(pBuffer, SecPkgContext_SessionInfo)
    sid = result.session_id
    pBuffer.dwFlags = C.SSL_SESSION_RECONNECT if result.resumed else 0
    pBuffer.cbSessionId = len(sid)
    pBuffer.rgbSessionId = sid
    return C.SEC_E_OK


_ANY = "any time (SEC_E_NO_CREDENTIALS or an empty answer when there is nothing yet)"
_DONE = "after the handshake (SEC_E_INVALID_HANDLE before)"


def _attr(
    structure: type, fill: Callable[[Context, HandshakeResult, object], SecStatus]
) -> Attribute:
    return Attribute(structure, _DONE, _established(structure, fill))


#: QueryContextAttributes: attribute -> structure, availability, filler.
QUERY: Mapping[int, Attribute] = {
    C.SECPKG_ATTR_REMOTE_CERT_CONTEXT: Attribute("value", _ANY, _remote_cert_context),
    # The same PCCERT_CONTEXT (leaf, chain in hCertStore): .NET reads it during the
    # handshake, to choose a client certificate (rule 4.2.10).
    C.SECPKG_ATTR_REMOTE_CERT_CHAIN: Attribute("value", _ANY, _remote_cert_context),
    C.SECPKG_ATTR_LOCAL_CERT_CONTEXT: Attribute("value", _ANY, _local_cert_context),
    C.SECPKG_ATTR_KEYING_MATERIAL: Attribute(
        SecPkgContext_KeyingMaterial,
        _DONE + ", once KEYING_MATERIAL_INFO was set",
        _keying_material,
    ),
    C.SECPKG_ATTR_ISSUER_LIST_EX: Attribute(SecPkgContext_IssuerListInfoEx, _ANY, _issuer_list),
    C.SECPKG_ATTR_FLAGS: Attribute(SecPkgContext_Flags, _ANY, _flags),
    C.SECPKG_ATTR_PY_HANDSHAKE_INFO: Attribute(
        SecPkgContext_PyHandshakeInfo, _DONE, _handshake_info
    ),
    C.SECPKG_ATTR_PY_RENEGOTIATION_POLICY: Attribute(
        SecPkgContext_PyRenegotiationPolicy, _ANY, _renegotiation_policy
    ),
    C.SECPKG_ATTR_STREAM_SIZES: _attr(SecPkgContext_StreamSizes, _stream_sizes),
    C.SECPKG_ATTR_CONNECTION_INFO: _attr(SecPkgContext_ConnectionInfo, _connection_info),
    C.SECPKG_ATTR_CIPHER_INFO: _attr(SecPkgContext_CipherInfo, _cipher_info),
    C.SECPKG_ATTR_KEY_INFO: _attr(SecPkgContext_KeyInfo, _key_info),
    C.SECPKG_ATTR_APPLICATION_PROTOCOL: _attr(
        SecPkgContext_ApplicationProtocol, _application_protocol
    ),
    C.SECPKG_ATTR_ENDPOINT_BINDINGS: _attr(SecPkgContext_Bindings, _endpoint_bindings),
    C.SECPKG_ATTR_UNIQUE_BINDINGS: _attr(SecPkgContext_Bindings, _unique_bindings),
    C.SECPKG_ATTR_SESSION_INFO: _attr(SecPkgContext_SessionInfo, _session_info),
}


def query(ctx: Context, attr: int, pBuffer: object) -> SecStatus:
    """QueryContextAttributes on a context."""
    entry = QUERY.get(attr)
    if entry is None:
        return C.SEC_E_UNSUPPORTED_FUNCTION
    return entry.fill(ctx, pBuffer)


# --- SetContextAttributes ---------------------------------------------------------------------


def _set_keying_material_info(ctx: Context, pBuffer: object) -> SecStatus:
    """RFC 5705 exporter parameters, read by a later KEYING_MATERIAL query."""
    if not isinstance(pBuffer, SecPkgContext_KeyingMaterialInfo):
        return C.SEC_E_INVALID_PARAMETER
    label = pBuffer.pszLabel
    length = pBuffer.cbKeyingMaterial
    if (
        not isinstance(label, str)  # "" is a label like any other (RFC 5705)
        or not isinstance(length, int)
        or not 0 < length <= 0xFFFF
    ):
        return C.SEC_E_INVALID_PARAMETER
    value = pBuffer.pbContextValue
    if value is not None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            return C.SEC_E_INVALID_PARAMETER
        size = pBuffer.cbContextValue if isinstance(pBuffer.cbContextValue, int) else -1
        if not 0 <= size <= len(value):
            return C.SEC_E_INVALID_PARAMETER
        value = bytes(value[:size])
    try:
        label_bytes = label.encode("ascii")
    except UnicodeEncodeError:
        return C.SEC_E_INVALID_PARAMETER
    ctx.keying_material_info = (label_bytes, value, length)
    return C.SEC_E_OK


def _set_verify_callback(ctx: Context, pBuffer: object) -> SecStatus:
    """Install, replace (or with pfnCallback None remove) the verify callback."""
    if not isinstance(pBuffer, SecPkgContext_PyVerifyCallback):
        return C.SEC_E_INVALID_PARAMETER
    callback = pBuffer.pfnCallback
    on_resumption = pBuffer.fOnResumption
    if (callback is not None and not callable(callback)) or not isinstance(on_resumption, int):
        return C.SEC_E_INVALID_PARAMETER
    ctx.verify_callback = callback
    ctx.verify_on_resumption = bool(on_resumption)
    return C.SEC_E_OK


_RENEGOTIATION_POLICIES = (C.SCHANNEL_PY_RENEGOTIATION_ACCEPT, C.SCHANNEL_PY_RENEGOTIATION_IGNORE)


def _set_renegotiation_policy(ctx: Context, pBuffer: object) -> SecStatus:
    """Accept (Windows) or ignore the TLS 1.2 HelloRequests that arrive from now on."""
    if not isinstance(pBuffer, SecPkgContext_PyRenegotiationPolicy):
        return C.SEC_E_INVALID_PARAMETER
    policy = pBuffer.dwPolicy
    if type(policy) is not int or policy not in _RENEGOTIATION_POLICIES:
        return C.SEC_E_INVALID_PARAMETER
    ctx.client.config.ignore_hello_request = policy == C.SCHANNEL_PY_RENEGOTIATION_IGNORE
    return C.SEC_E_OK


#: SetContextAttributes: attribute -> setter (KEYING_MATERIAL_INFO is SChannel's;
#: the PY_ ones are schannel_py extensions).
SET: Mapping[int, Filler] = {
    C.SECPKG_ATTR_KEYING_MATERIAL_INFO: _set_keying_material_info,
    C.SECPKG_ATTR_PY_VERIFY_CALLBACK: _set_verify_callback,
    C.SECPKG_ATTR_PY_RENEGOTIATION_POLICY: _set_renegotiation_policy,
}


def set_attribute(ctx: Context, attr: int, pBuffer: object) -> SecStatus:
    """SetContextAttributes on a context."""
    setter = SET.get(attr)
    if setter is None:
        return C.SEC_E_UNSUPPORTED_FUNCTION
    return setter(ctx, pBuffer)
