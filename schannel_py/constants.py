"""Every SSPI / SChannel constant, under its Windows name, defined once.

Values come from the Windows SDK headers (``sspi.h``, ``schannel.h``,
``minschannel.h``, ``wincrypt.h``, ``winerror.h``; see section 0.1 of
``docs/windows-behaviour.md``); composite masks (``SP_PROT_TLS1_2``,
``SP_PROT_TLS1_X`` ...) are built here from their parts exactly as the headers
build them.  Nothing in this module has behaviour beyond naming numbers.

Status codes (``SECURITY_STATUS``) are :class:`SecStatus` objects: plain
``int`` values (the unsigned 32-bit value of the header, never negative) whose
``repr``/``str`` is the Windows name.  Everything else is a plain ``int`` (or a
``str`` for package names).
"""

from __future__ import annotations

import operator
from typing import SupportsIndex

# ---------------------------------------------------------------------------
# SECURITY_STATUS
# ---------------------------------------------------------------------------

_STATUS_NAMES: dict[int, str] = {}
_STATUS_MESSAGES: dict[int, str] = {}
_STATUS_OBJECTS: dict[int, SecStatus] = {}

_FAILURE_BIT = 0x80000000
_U32 = 0xFFFFFFFF


def _to_u32(value: SupportsIndex) -> int:
    """Normalise an HRESULT-style value to its unsigned 32-bit form.

    Accepts the unsigned form (``0x80090318``) and the signed ``LONG`` form a C
    binding would hand over (``-2146893032``); anything else is not a
    ``SECURITY_STATUS``.
    """
    v = operator.index(value)
    if -0x80000000 <= v < 0:
        v &= _U32
    if not 0 <= v <= _U32:
        raise ValueError(f"not a 32-bit SECURITY_STATUS value: {v:#x}")
    return v


class SecStatus(int):
    """A ``SECURITY_STATUS`` / ``HRESULT`` value.

    An ``int`` equal to the unsigned 32-bit header value (``SEC_E_INCOMPLETE_MESSAGE
    == 0x80090318``), whose ``repr()`` and ``str()`` are the Windows name.
    ``SecStatus(0x80090318)`` returns the named object (``SecStatus`` values are
    interned per value); a signed ``LONG`` such as ``-2146893032`` is accepted
    and normalised.  Unknown values print as ``SecStatus(0x1234ABCD)``.  Where the
    headers define two names for one value (``SEC_E_NOT_SUPPORTED`` /
    ``SEC_E_UNSUPPORTED_FUNCTION``) the first, primary name is shown.
    """

    __slots__ = ()

    def __new__(cls, value: SupportsIndex = 0) -> SecStatus:
        v = _to_u32(value)
        known = _STATUS_OBJECTS.get(v)
        if known is not None and type(known) is cls:
            return known
        return super().__new__(cls, v)

    @property
    def name(self) -> str | None:
        """The Windows name, or ``None`` for a value no header names."""
        return _STATUS_NAMES.get(int(self))

    @property
    def message(self) -> str:
        """A short description (the ``winerror.h`` text where known)."""
        text = _STATUS_MESSAGES.get(int(self))
        if text is not None:
            return text
        return "Unknown security status." if FAILED(self) else "Unknown success status."

    @property
    def failed(self) -> bool:
        """True when the severity (high) bit is set, as the ``FAILED()`` macro."""
        return FAILED(self)

    def __repr__(self) -> str:
        name = _STATUS_NAMES.get(int(self))
        return name if name is not None else f"SecStatus(0x{int(self):08X})"

    __str__ = __repr__


def _status(name: str, value: int, message: str) -> SecStatus:
    """Create and register one named status (first name for a value wins)."""
    obj = int.__new__(SecStatus, value)
    if value not in _STATUS_OBJECTS:
        _STATUS_OBJECTS[value] = obj
        _STATUS_NAMES[value] = name
        _STATUS_MESSAGES[value] = message
    return _STATUS_OBJECTS[value]


def status_name(value: SupportsIndex) -> str:
    """Windows name of a status value (``"SEC_E_INCOMPLETE_MESSAGE"``).

    Unknown values give ``"SecStatus(0x........)"``, the same text as ``str()``.
    Signed ``LONG`` values are accepted.
    """
    return str(SecStatus(value))


def FAILED(status: SupportsIndex) -> bool:
    """The ``FAILED()`` macro: true when the severity (high) bit is set."""
    return (operator.index(status) & _FAILURE_BIT) != 0


def SUCCEEDED(status: SupportsIndex) -> bool:
    """The ``SUCCEEDED()`` macro: true when the severity (high) bit is clear."""
    return not FAILED(status)


# --- success and informational codes (sspi.h / winerror.h) -----------------
SEC_E_OK = _status("SEC_E_OK", 0x00000000, "The operation completed successfully.")
SEC_I_CONTINUE_NEEDED = _status(
    "SEC_I_CONTINUE_NEEDED",
    0x00090312,
    "The function completed successfully, but must be called again to complete the context.",
)
SEC_I_COMPLETE_NEEDED = _status(
    "SEC_I_COMPLETE_NEEDED",
    0x00090313,
    "The function completed successfully, but CompleteToken must be called.",
)
SEC_I_COMPLETE_AND_CONTINUE = _status(
    "SEC_I_COMPLETE_AND_CONTINUE",
    0x00090314,
    "The function completed successfully, but both CompleteToken and this function "
    "must be called to complete the context.",
)
SEC_I_LOCAL_LOGON = _status(
    "SEC_I_LOCAL_LOGON",
    0x00090315,
    "The logon was completed, but no network authority was available.",
)
SEC_I_GENERIC_EXTENSION_RECEIVED = _status(
    "SEC_I_GENERIC_EXTENSION_RECEIVED",
    0x00090316,
    "Schannel has received a TLS extension the SSPI caller subscribed to.",
)
SEC_I_CONTEXT_EXPIRED = _status(
    "SEC_I_CONTEXT_EXPIRED", 0x00090317, "The context has expired and can no longer be used."
)
SEC_I_INCOMPLETE_CREDENTIALS = _status(
    "SEC_I_INCOMPLETE_CREDENTIALS",
    0x00090320,
    "The credentials supplied were not complete, and could not be verified. "
    "Additional information can be returned from the context.",
)
SEC_I_RENEGOTIATE = _status(
    "SEC_I_RENEGOTIATE", 0x00090321, "The context data must be renegotiated with the peer."
)
SEC_I_NO_LSA_CONTEXT = _status(
    "SEC_I_NO_LSA_CONTEXT", 0x00090323, "There is no LSA mode context associated with this context."
)
SEC_I_SIGNATURE_NEEDED = _status(
    "SEC_I_SIGNATURE_NEEDED",
    0x0009035C,
    "A signature operation must be performed before the user can authenticate.",
)
SEC_I_NO_RENEGOTIATION = _status(
    "SEC_I_NO_RENEGOTIATION", 0x00090360, "The recipient rejected the renegotiation request."
)
SEC_I_MESSAGE_FRAGMENT = _status(
    "SEC_I_MESSAGE_FRAGMENT",
    0x00090364,
    "The returned buffer is only a fragment of the message. More fragments need to be returned.",
)
SEC_I_CONTINUE_NEEDED_MESSAGE_OK = _status(
    "SEC_I_CONTINUE_NEEDED_MESSAGE_OK",
    0x00090366,
    "The function completed successfully, but must be called again to complete the context. "
    "Early start can be used.",
)
SEC_I_ASYNC_CALL_PENDING = _status(
    "SEC_I_ASYNC_CALL_PENDING",
    0x00090368,
    "An asynchronous SSPI routine has been called and the work is pending completion.",
)
# Named SEC_I_ but the header value has the failure bit set (sic).
SEC_I_INVALID_SESSION_STATE = _status(
    "SEC_I_INVALID_SESSION_STATE", 0x8009036C, "The TLS session cannot be resumed."
)

# --- failure codes (winerror.h) ---------------------------------------------
SEC_E_INSUFFICIENT_MEMORY = _status(
    "SEC_E_INSUFFICIENT_MEMORY",
    0x80090300,
    "Not enough memory is available to complete this request.",
)
SEC_E_INVALID_HANDLE = _status(
    "SEC_E_INVALID_HANDLE", 0x80090301, "The handle specified is invalid."
)
SEC_E_UNSUPPORTED_FUNCTION = _status(
    "SEC_E_UNSUPPORTED_FUNCTION", 0x80090302, "The function requested is not supported."
)
SEC_E_NOT_SUPPORTED = SEC_E_UNSUPPORTED_FUNCTION
SEC_E_TARGET_UNKNOWN = _status(
    "SEC_E_TARGET_UNKNOWN", 0x80090303, "The specified target is unknown or unreachable."
)
SEC_E_INTERNAL_ERROR = _status(
    "SEC_E_INTERNAL_ERROR", 0x80090304, "The Local Security Authority cannot be contacted."
)
SEC_E_NO_SPM = SEC_E_INTERNAL_ERROR
SEC_E_SECPKG_NOT_FOUND = _status(
    "SEC_E_SECPKG_NOT_FOUND", 0x80090305, "The requested security package does not exist."
)
SEC_E_NOT_OWNER = _status(
    "SEC_E_NOT_OWNER", 0x80090306, "The caller is not the owner of the desired credentials."
)
SEC_E_CANNOT_INSTALL = _status(
    "SEC_E_CANNOT_INSTALL",
    0x80090307,
    "The security package failed to initialize, and cannot be installed.",
)
SEC_E_INVALID_TOKEN = _status(
    "SEC_E_INVALID_TOKEN", 0x80090308, "The token supplied to the function is invalid."
)
SEC_E_CANNOT_PACK = _status(
    "SEC_E_CANNOT_PACK",
    0x80090309,
    "The security package is not able to marshall the logon buffer, so the logon attempt has failed.",
)
SEC_E_QOP_NOT_SUPPORTED = _status(
    "SEC_E_QOP_NOT_SUPPORTED",
    0x8009030A,
    "The per-message Quality of Protection is not supported by the security package.",
)
SEC_E_NO_IMPERSONATION = _status(
    "SEC_E_NO_IMPERSONATION",
    0x8009030B,
    "The security context does not allow impersonation of the client.",
)
SEC_E_LOGON_DENIED = _status("SEC_E_LOGON_DENIED", 0x8009030C, "The logon attempt failed.")
SEC_E_UNKNOWN_CREDENTIALS = _status(
    "SEC_E_UNKNOWN_CREDENTIALS",
    0x8009030D,
    "The credentials supplied to the package were not recognized.",
)
SEC_E_NO_CREDENTIALS = _status(
    "SEC_E_NO_CREDENTIALS", 0x8009030E, "No credentials are available in the security package."
)
SEC_E_MESSAGE_ALTERED = _status(
    "SEC_E_MESSAGE_ALTERED",
    0x8009030F,
    "The message or signature supplied for verification has been altered.",
)
SEC_E_OUT_OF_SEQUENCE = _status(
    "SEC_E_OUT_OF_SEQUENCE", 0x80090310, "The message supplied for verification is out of sequence."
)
SEC_E_NO_AUTHENTICATING_AUTHORITY = _status(
    "SEC_E_NO_AUTHENTICATING_AUTHORITY",
    0x80090311,
    "No authority could be contacted for authentication.",
)
SEC_E_BAD_PKGID = _status(
    "SEC_E_BAD_PKGID", 0x80090316, "The requested security package does not exist."
)
SEC_E_CONTEXT_EXPIRED = _status(
    "SEC_E_CONTEXT_EXPIRED", 0x80090317, "The context has expired and can no longer be used."
)
SEC_E_INCOMPLETE_MESSAGE = _status(
    "SEC_E_INCOMPLETE_MESSAGE",
    0x80090318,
    "The supplied message is incomplete. The signature was not verified.",
)
SEC_E_INCOMPLETE_CREDENTIALS = _status(
    "SEC_E_INCOMPLETE_CREDENTIALS",
    0x80090320,
    "The credentials supplied were not complete, and could not be verified. "
    "The context could not be initialized.",
)
SEC_E_BUFFER_TOO_SMALL = _status(
    "SEC_E_BUFFER_TOO_SMALL", 0x80090321, "The buffers supplied to a function was too small."
)
SEC_E_WRONG_PRINCIPAL = _status(
    "SEC_E_WRONG_PRINCIPAL", 0x80090322, "The target principal name is incorrect."
)
SEC_E_TIME_SKEW = _status(
    "SEC_E_TIME_SKEW", 0x80090324, "The clocks on the client and server machines are skewed."
)
SEC_E_UNTRUSTED_ROOT = _status(
    "SEC_E_UNTRUSTED_ROOT",
    0x80090325,
    "The certificate chain was issued by an authority that is not trusted.",
)
SEC_E_ILLEGAL_MESSAGE = _status(
    "SEC_E_ILLEGAL_MESSAGE", 0x80090326, "The message received was unexpected or badly formatted."
)
SEC_E_CERT_UNKNOWN = _status(
    "SEC_E_CERT_UNKNOWN", 0x80090327, "An unknown error occurred while processing the certificate."
)
SEC_E_CERT_EXPIRED = _status(
    "SEC_E_CERT_EXPIRED", 0x80090328, "The received certificate has expired."
)
SEC_E_ENCRYPT_FAILURE = _status(
    "SEC_E_ENCRYPT_FAILURE", 0x80090329, "The specified data could not be encrypted."
)
SEC_E_DECRYPT_FAILURE = _status(
    "SEC_E_DECRYPT_FAILURE", 0x80090330, "The specified data could not be decrypted."
)
SEC_E_ALGORITHM_MISMATCH = _status(
    "SEC_E_ALGORITHM_MISMATCH",
    0x80090331,
    "The client and server cannot communicate, because they do not possess a common algorithm.",
)
SEC_E_SECURITY_QOS_FAILED = _status(
    "SEC_E_SECURITY_QOS_FAILED",
    0x80090332,
    "The security context could not be established due to a failure in the requested "
    "quality of service.",
)
SEC_E_UNFINISHED_CONTEXT_DELETED = _status(
    "SEC_E_UNFINISHED_CONTEXT_DELETED",
    0x80090333,
    "A security context was deleted before the context was completed.",
)
SEC_E_WRONG_CREDENTIAL_HANDLE = _status(
    "SEC_E_WRONG_CREDENTIAL_HANDLE",
    0x80090336,
    "The supplied credential handle does not match the credential associated with the "
    "security context.",
)
SEC_E_CRYPTO_SYSTEM_INVALID = _status(
    "SEC_E_CRYPTO_SYSTEM_INVALID",
    0x80090337,
    "The crypto system or checksum function is invalid because a required function is unavailable.",
)
SEC_E_STRONG_CRYPTO_NOT_SUPPORTED = _status(
    "SEC_E_STRONG_CRYPTO_NOT_SUPPORTED",
    0x8009033A,
    "The requested strong cryptography is not supported.",
)
SEC_E_SHUTDOWN_IN_PROGRESS = _status(
    "SEC_E_SHUTDOWN_IN_PROGRESS", 0x8009033F, "A system shutdown is in progress."
)
SEC_E_BAD_BINDINGS = _status(
    "SEC_E_BAD_BINDINGS", 0x80090346, "Client's supplied SSPI channel bindings were incorrect."
)
SEC_E_CERT_WRONG_USAGE = _status(
    "SEC_E_CERT_WRONG_USAGE", 0x80090349, "The certificate is not valid for the requested usage."
)
SEC_E_DOWNGRADE_DETECTED = _status(
    "SEC_E_DOWNGRADE_DETECTED",
    0x80090350,
    "The system detected a possible attempt to compromise security.",
)
SEC_E_INVALID_PARAMETER = _status(
    "SEC_E_INVALID_PARAMETER",
    0x8009035D,
    "One or more of the parameters passed to the function was invalid.",
)
SEC_E_NO_CONTEXT = _status(
    "SEC_E_NO_CONTEXT", 0x80090361, "The requested security context does not exist."
)
SEC_E_MUTUAL_AUTH_FAILED = _status(
    "SEC_E_MUTUAL_AUTH_FAILED", 0x80090363, "The server failed mutual authentication."
)
SEC_E_ONLY_HTTPS_ALLOWED = _status(
    "SEC_E_ONLY_HTTPS_ALLOWED", 0x80090365, "Only the https scheme is allowed."
)
SEC_E_APPLICATION_PROTOCOL_MISMATCH = _status(
    "SEC_E_APPLICATION_PROTOCOL_MISMATCH",
    0x80090367,
    "No common application protocol exists between the client and the server. "
    "Application protocol negotiation failed.",
)
SEC_E_INVALID_UPN_NAME = _status(
    "SEC_E_INVALID_UPN_NAME", 0x80090369, "The user principal name is not in a valid format."
)
SEC_E_EXT_BUFFER_TOO_SMALL = _status(
    "SEC_E_EXT_BUFFER_TOO_SMALL",
    0x8009036A,
    "The buffer supplied by the SSPI caller to receive generic extensions is too small.",
)
SEC_E_INSUFFICIENT_BUFFERS = _status(
    "SEC_E_INSUFFICIENT_BUFFERS",
    0x8009036B,
    "Not enough secbuffers were supplied to generate a token.",
)

# --- certificate and trust codes (winerror.h) --------------------------------
CRYPT_E_NOT_FOUND = _status("CRYPT_E_NOT_FOUND", 0x80092004, "Cannot find object or property.")
CRYPT_E_REVOKED = _status("CRYPT_E_REVOKED", 0x80092010, "The certificate is revoked.")
CRYPT_E_NO_REVOCATION_DLL = _status(
    "CRYPT_E_NO_REVOCATION_DLL",
    0x80092011,
    "No Dll or exported function was found to verify revocation.",
)
CRYPT_E_NO_REVOCATION_CHECK = _status(
    "CRYPT_E_NO_REVOCATION_CHECK",
    0x80092012,
    "The revocation function was unable to check revocation for the certificate.",
)
CRYPT_E_REVOCATION_OFFLINE = _status(
    "CRYPT_E_REVOCATION_OFFLINE",
    0x80092013,
    "The revocation function was unable to check revocation because the revocation server "
    "was offline.",
)
TRUST_E_CERT_SIGNATURE = _status(
    "TRUST_E_CERT_SIGNATURE", 0x80096004, "The signature of the certificate cannot be verified."
)
CERT_E_EXPIRED = _status(
    "CERT_E_EXPIRED",
    0x800B0101,
    "A required certificate is not within its validity period.",
)
CERT_E_UNTRUSTEDROOT = _status(
    "CERT_E_UNTRUSTEDROOT",
    0x800B0109,
    "A certificate chain processed, but terminated in a root certificate which is not "
    "trusted by the trust provider.",
)
CERT_E_CHAINING = _status(
    "CERT_E_CHAINING",
    0x800B010A,
    "A certificate chain could not be built to a trusted root authority.",
)
TRUST_E_FAIL = _status("TRUST_E_FAIL", 0x800B010B, "Generic trust failure.")
CERT_E_REVOKED = _status(
    "CERT_E_REVOKED", 0x800B010C, "A certificate was explicitly revoked by its issuer."
)
CERT_E_REVOCATION_FAILURE = _status(
    "CERT_E_REVOCATION_FAILURE",
    0x800B010E,
    "The revocation process could not continue - the certificate(s) could not be checked.",
)
CERT_E_CN_NO_MATCH = _status(
    "CERT_E_CN_NO_MATCH", 0x800B010F, "The certificate's CN name does not match the passed value."
)
CERT_E_WRONG_USAGE = _status(
    "CERT_E_WRONG_USAGE", 0x800B0110, "The certificate is not valid for the requested usage."
)
TRUST_E_EXPLICIT_DISTRUST = _status(
    "TRUST_E_EXPLICIT_DISTRUST",
    0x800B0111,
    "The certificate was explicitly marked as untrusted by the user.",
)
CERT_E_UNTRUSTEDCA = _status(
    "CERT_E_UNTRUSTEDCA",
    0x800B0112,
    "A certification chain processed correctly, but one of the CA certificates is not "
    "trusted by the policy provider.",
)

# ---------------------------------------------------------------------------
# Package names and package-level values (schannel.h, sspi.h)
# ---------------------------------------------------------------------------

UNISP_NAME = "Microsoft Unified Security Protocol Provider"
SCHANNEL_NAME = "Schannel"
DEFAULT_TLS_SSP_NAME = "Default TLS SSP"
SSL2SP_NAME = "Microsoft SSL 2.0"
SSL3SP_NAME = "Microsoft SSL 3.0"
TLS1SP_NAME = "Microsoft TLS 1.0"
PCT1SP_NAME = "Microsoft PCT 1.0"
# The headers' ANSI/Unicode spellings; Python strings serve both.
UNISP_NAME_A = UNISP_NAME_W = UNISP_NAME
SCHANNEL_NAME_A = SCHANNEL_NAME_W = SCHANNEL_NAME
DEFAULT_TLS_SSP_NAME_A = DEFAULT_TLS_SSP_NAME_W = DEFAULT_TLS_SSP_NAME
SSL2SP_NAME_A = SSL2SP_NAME_W = SSL2SP_NAME
SSL3SP_NAME_A = SSL3SP_NAME_W = SSL3SP_NAME
TLS1SP_NAME_A = TLS1SP_NAME_W = TLS1SP_NAME
PCT1SP_NAME_A = PCT1SP_NAME_W = PCT1SP_NAME

UNISP_RPC_ID = 14
# SecPkgInfo.fCapabilities bits (sspi.h); those SChannel reports, and a few neighbours.
SECPKG_FLAG_INTEGRITY = 0x00000001
SECPKG_FLAG_PRIVACY = 0x00000002
SECPKG_FLAG_TOKEN_ONLY = 0x00000004
SECPKG_FLAG_DATAGRAM = 0x00000008
SECPKG_FLAG_CONNECTION = 0x00000010
SECPKG_FLAG_MULTI_REQUIRED = 0x00000020
SECPKG_FLAG_CLIENT_ONLY = 0x00000040
SECPKG_FLAG_EXTENDED_ERROR = 0x00000080
SECPKG_FLAG_IMPERSONATION = 0x00000100
SECPKG_FLAG_ACCEPT_WIN32_NAME = 0x00000200
SECPKG_FLAG_STREAM = 0x00000400
SECPKG_FLAG_NEGOTIABLE = 0x00000800
SECPKG_FLAG_GSS_COMPATIBLE = 0x00001000
SECPKG_FLAG_LOGON = 0x00002000
SECPKG_FLAG_MUTUAL_AUTH = 0x00010000
SECPKG_FLAG_DELEGATION = 0x00020000
SECPKG_FLAG_APPCONTAINER_PASSTHROUGH = 0x00400000
SECPKG_FLAG_APPCONTAINER_CHECKS = 0x00800000

# TargetDataRep (ignored by Schannel)
SECURITY_NATIVE_DREP = 0x00000010
SECURITY_NETWORK_DREP = 0x00000000

# EncryptMessage fQOP
SECQOP_WRAP_OOB_DATA = 0x40000000
SECQOP_WRAP_NO_ENCRYPT = 0x80000001

# ---------------------------------------------------------------------------
# SecBuffer types (sspi.h)  -- docs/windows-behaviour.md section 0.1
# ---------------------------------------------------------------------------

SECBUFFER_VERSION = 0
SECBUFFER_EMPTY = 0
SECBUFFER_DATA = 1
SECBUFFER_TOKEN = 2
SECBUFFER_PKG_PARAMS = 3
SECBUFFER_MISSING = 4
SECBUFFER_EXTRA = 5
SECBUFFER_STREAM_TRAILER = 6
SECBUFFER_STREAM_HEADER = 7
SECBUFFER_NEGOTIATION_INFO = 8
SECBUFFER_PADDING = 9
SECBUFFER_STREAM = 10
SECBUFFER_MECHLIST = 11
SECBUFFER_MECHLIST_SIGNATURE = 12
SECBUFFER_TARGET = 13
SECBUFFER_CHANNEL_BINDINGS = 14
SECBUFFER_CHANGE_PASS_RESPONSE = 15
SECBUFFER_TARGET_HOST = 16
SECBUFFER_ALERT = 17
SECBUFFER_APPLICATION_PROTOCOLS = 18
SECBUFFER_SRTP_PROTECTION_PROFILES = 19
SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER = 20
SECBUFFER_TOKEN_BINDING = 21
SECBUFFER_PRESHARED_KEY = 22
SECBUFFER_PRESHARED_KEY_IDENTITY = 23
SECBUFFER_DTLS_MTU = 24
SECBUFFER_SEND_GENERIC_TLS_EXTENSION = 25
SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION = 26
SECBUFFER_FLAGS = 27
SECBUFFER_TRAFFIC_SECRETS = 28
SECBUFFER_CERTIFICATE_REQUEST_CONTEXT = 29
SECBUFFER_CHANNEL_BINDINGS_RESULT = 30
SECBUFFER_APP_SESSION_STATE = 31
SECBUFFER_SESSION_TICKET = 32
# attribute bits OR-ed into BufferType
SECBUFFER_ATTRMASK = 0xF0000000
SECBUFFER_READONLY = 0x80000000
SECBUFFER_READONLY_WITH_CHECKSUM = 0x10000000
SECBUFFER_RESERVED = 0x60000000

# ---------------------------------------------------------------------------
# InitializeSecurityContext request / return flags (sspi.h) -- section 0.2
# ---------------------------------------------------------------------------

ISC_REQ_DELEGATE = 0x00000001
ISC_REQ_MUTUAL_AUTH = 0x00000002
ISC_REQ_REPLAY_DETECT = 0x00000004
ISC_REQ_SEQUENCE_DETECT = 0x00000008
ISC_REQ_CONFIDENTIALITY = 0x00000010
ISC_REQ_USE_SESSION_KEY = 0x00000020
ISC_REQ_PROMPT_FOR_CREDS = 0x00000040
ISC_REQ_USE_SUPPLIED_CREDS = 0x00000080
ISC_REQ_ALLOCATE_MEMORY = 0x00000100
ISC_REQ_USE_DCE_STYLE = 0x00000200
ISC_REQ_DATAGRAM = 0x00000400
ISC_REQ_CONNECTION = 0x00000800
ISC_REQ_CALL_LEVEL = 0x00001000
ISC_REQ_FRAGMENT_SUPPLIED = 0x00002000
ISC_REQ_EXTENDED_ERROR = 0x00004000
ISC_REQ_STREAM = 0x00008000
ISC_REQ_INTEGRITY = 0x00010000
ISC_REQ_IDENTIFY = 0x00020000
ISC_REQ_NULL_SESSION = 0x00040000
ISC_REQ_MANUAL_CRED_VALIDATION = 0x00080000
ISC_REQ_RESERVED1 = 0x00100000
ISC_REQ_FRAGMENT_TO_FIT = 0x00200000
ISC_REQ_FORWARD_CREDENTIALS = 0x00400000
ISC_REQ_NO_INTEGRITY = 0x00800000
ISC_REQ_USE_HTTP_STYLE = 0x01000000
ISC_REQ_UNVERIFIED_TARGET_NAME = 0x20000000
ISC_REQ_CONFIDENTIALITY_ONLY = 0x40000000
# 64-bit requests: passed in a SECBUFFER_FLAGS input buffer (SEC_FLAGS)
ISC_REQ_MESSAGES = 0x0000000100000000
ISC_REQ_DEFERRED_CRED_VALIDATION = 0x0000000200000000
ISC_REQ_NO_POST_HANDSHAKE_AUTH = 0x0000000400000000
ISC_REQ_REUSE_SESSION_TICKETS = 0x0000000800000000
ISC_REQ_EXPLICIT_SESSION = 0x0000001000000000

ISC_RET_DELEGATE = 0x00000001
ISC_RET_MUTUAL_AUTH = 0x00000002
ISC_RET_REPLAY_DETECT = 0x00000004
ISC_RET_SEQUENCE_DETECT = 0x00000008
ISC_RET_CONFIDENTIALITY = 0x00000010
ISC_RET_USE_SESSION_KEY = 0x00000020
ISC_RET_USED_COLLECTED_CREDS = 0x00000040
ISC_RET_USED_SUPPLIED_CREDS = 0x00000080
ISC_RET_ALLOCATED_MEMORY = 0x00000100
ISC_RET_USED_DCE_STYLE = 0x00000200
ISC_RET_DATAGRAM = 0x00000400
ISC_RET_CONNECTION = 0x00000800
ISC_RET_INTERMEDIATE_RETURN = 0x00001000
ISC_RET_CALL_LEVEL = 0x00002000
ISC_RET_EXTENDED_ERROR = 0x00004000
ISC_RET_STREAM = 0x00008000
ISC_RET_INTEGRITY = 0x00010000
ISC_RET_IDENTIFY = 0x00020000
ISC_RET_NULL_SESSION = 0x00040000
ISC_RET_MANUAL_CRED_VALIDATION = 0x00080000
ISC_RET_RESERVED1 = 0x00100000
ISC_RET_FRAGMENT_ONLY = 0x00200000
ISC_RET_FORWARD_CREDENTIALS = 0x00400000
ISC_RET_USED_HTTP_STYLE = 0x01000000
ISC_RET_NO_ADDITIONAL_TOKEN = 0x02000000
ISC_RET_REAUTHENTICATION = 0x08000000
ISC_RET_CONFIDENTIALITY_ONLY = 0x40000000
ISC_RET_MESSAGES = 0x0000000100000000
ISC_RET_DEFERRED_CRED_VALIDATION = 0x0000000200000000
ISC_RET_NO_POST_HANDSHAKE_AUTH = 0x0000000400000000
ISC_RET_REUSE_SESSION_TICKETS = 0x0000000800000000
ISC_RET_EXPLICIT_SESSION = 0x0000001000000000

# ---------------------------------------------------------------------------
# AcquireCredentialsHandle fCredentialUse (sspi.h) -- section 2
# ---------------------------------------------------------------------------

SECPKG_CRED_INBOUND = 0x00000001
SECPKG_CRED_OUTBOUND = 0x00000002
SECPKG_CRED_BOTH = 0x00000003
SECPKG_CRED_DEFAULT = 0x00000004
SECPKG_CRED_AUTOLOGON_RESTRICTED = 0x00000010
SECPKG_CRED_PROCESS_POLICY_ONLY = 0x00000020
SECPKG_CRED_RESERVED = 0xF0000000

# QueryCredentialsAttributes
SECPKG_CRED_ATTR_NAMES = 1

# ---------------------------------------------------------------------------
# Context / credential attribute ids (sspi.h, schannel.h) -- section 4.1
# ---------------------------------------------------------------------------

SECPKG_ATTR_SIZES = 0
SECPKG_ATTR_NAMES = 1
SECPKG_ATTR_LIFESPAN = 2
SECPKG_ATTR_DCE_INFO = 3
SECPKG_ATTR_STREAM_SIZES = 4
SECPKG_ATTR_DATAGRAM_SIZES = SECPKG_ATTR_STREAM_SIZES
SECPKG_ATTR_KEY_INFO = 5
SECPKG_ATTR_AUTHORITY = 6
SECPKG_ATTR_PROTO_INFO = 7
SECPKG_ATTR_PASSWORD_EXPIRY = 8
SECPKG_ATTR_SESSION_KEY = 9
SECPKG_ATTR_PACKAGE_INFO = 10
SECPKG_ATTR_USER_FLAGS = 11
SECPKG_ATTR_NEGOTIATION_INFO = 12
SECPKG_ATTR_NATIVE_NAMES = 13
SECPKG_ATTR_FLAGS = 14
SECPKG_ATTR_TARGET_INFORMATION = 17
SECPKG_ATTR_ACCESS_TOKEN = 18
SECPKG_ATTR_UNIQUE_BINDINGS = 25
SECPKG_ATTR_ENDPOINT_BINDINGS = 26
SECPKG_ATTR_DTLS_MTU = 34
SECPKG_ATTR_APPLICATION_PROTOCOL = 35
SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS = 36
SECPKG_ATTR_IS_LOOPBACK = 37
SECPKG_ATTR_ISSUER_LIST = 0x50
SECPKG_ATTR_REMOTE_CRED = 0x51
SECPKG_ATTR_LOCAL_CRED = 0x52
SECPKG_ATTR_REMOTE_CERT_CONTEXT = 0x53
SECPKG_ATTR_LOCAL_CERT_CONTEXT = 0x54
SECPKG_ATTR_ROOT_STORE = 0x55
SECPKG_ATTR_SUPPORTED_ALGS = 0x56
SECPKG_ATTR_CIPHER_STRENGTHS = 0x57
SECPKG_ATTR_SUPPORTED_PROTOCOLS = 0x58
SECPKG_ATTR_ISSUER_LIST_EX = 0x59
SECPKG_ATTR_CONNECTION_INFO = 0x5A
SECPKG_ATTR_EAP_KEY_BLOCK = 0x5B
SECPKG_ATTR_MAPPED_CRED_ATTR = 0x5C
SECPKG_ATTR_SESSION_INFO = 0x5D
SECPKG_ATTR_APP_DATA = 0x5E
SECPKG_ATTR_REMOTE_CERTIFICATES = 0x5F
SECPKG_ATTR_CLIENT_CERT_POLICY = 0x60
SECPKG_ATTR_CC_POLICY_RESULT = 0x61
SECPKG_ATTR_USE_NCRYPT = 0x62
SECPKG_ATTR_LOCAL_CERT_INFO = 0x63
SECPKG_ATTR_CIPHER_INFO = 0x64
SECPKG_ATTR_EAP_PRF_INFO = 0x65
SECPKG_ATTR_SUPPORTED_SIGNATURES = 0x66
SECPKG_ATTR_REMOTE_CERT_CHAIN = 0x67
SECPKG_ATTR_UI_INFO = 0x68
SECPKG_ATTR_EARLY_START = 0x69
SECPKG_ATTR_KEYING_MATERIAL_INFO = 0x6A
SECPKG_ATTR_KEYING_MATERIAL = 0x6B
SECPKG_ATTR_SRTP_PARAMETERS = 0x6C
SECPKG_ATTR_TOKEN_BINDING = 0x6D
SECPKG_ATTR_CONNECTION_INFO_EX = 0x6E
SECPKG_ATTR_KEYING_MATERIAL_TOKEN_BINDING = 0x6F
SECPKG_ATTR_KEYING_MATERIAL_INPROC = 0x70
SECPKG_ATTR_CERT_CHECK_RESULT = 0x71
SECPKG_ATTR_CERT_CHECK_RESULT_INPROC = 0x72
SECPKG_ATTR_SESSION_TICKET_KEYS = 0x73
SECPKG_ATTR_SERIALIZED_REMOTE_CERT_CONTEXT_INPROC = 0x74
SECPKG_ATTR_SERIALIZED_REMOTE_CERT_CONTEXT = 0x75
SECPKG_ATTR_SUBJECT_SECURITY_ATTRIBUTES = 128
SECPKG_ATTR_CREDS_2 = 0x80000086

# Attribute structure versions and sizes
SECPKGCONTEXT_CIPHERINFO_V1 = 1
SECPKGCONTEXT_CONNECTION_INFO_EX_V1 = 1
SZ_ALG_MAX_SIZE = 64
MAX_PROTOCOL_ID_SIZE = 0xFF
ENABLE_TLS_CLIENT_EARLY_START = 0x00000001

# SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS (sspi.h enum)
SecApplicationProtocolNegotiationStatus_None = 0
SecApplicationProtocolNegotiationStatus_Success = 1
SecApplicationProtocolNegotiationStatus_SelectedClientOnly = 2

# SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT (sspi.h enum)
SecApplicationProtocolNegotiationExt_None = 0
SecApplicationProtocolNegotiationExt_NPN = 1
SecApplicationProtocolNegotiationExt_ALPN = 2

# ---------------------------------------------------------------------------
# Credential structures: versions, formats, limits (schannel.h) -- 2.2, 2.3
# ---------------------------------------------------------------------------

SCH_CRED_V1 = 0x00000001
SCH_CRED_V2 = 0x00000002
SCH_CRED_VERSION = 0x00000002
SCH_CRED_V3 = 0x00000003
SCHANNEL_CRED_VERSION = 0x00000004
SCH_CREDENTIALS_VERSION = 0x00000005

SCH_CRED_FORMAT_CERT_CONTEXT = 0x00000000
SCH_CRED_FORMAT_CERT_HASH = 0x00000001
SCH_CRED_FORMAT_CERT_HASH_STORE = 0x00000002
SCH_MACHINE_CERT_HASH = 0x00000001

SCH_CRED_MAX_STORE_NAME_SIZE = 128
SCH_CRED_MAX_SUPPORTED_ALGS = 256
SCH_CRED_MAX_SUPPORTED_CERTS = 100
SCH_CRED_MAX_SUPPORTED_PARAMETERS = 16
SCH_CRED_MAX_SUPPORTED_ALPN_IDS = 16
SCH_CRED_MAX_SUPPORTED_CRYPTO_SETTINGS = 16
SCH_CRED_MAX_SUPPORTED_CHAINING_MODES = 16

# TLS_PARAMETERS.dwFlags
TLS_PARAMS_OPTIONAL = 0x00000001

# eTlsAlgorithmUsage (CRYPTO_SETTINGS.eAlgorithmUsage)
TlsParametersCngAlgUsageKeyExchange = 0
TlsParametersCngAlgUsageSignature = 1
TlsParametersCngAlgUsageCipher = 2
TlsParametersCngAlgUsageDigest = 3
TlsParametersCngAlgUsageCertSig = 4

# CRYPTO_SETTINGS.strCngAlgId pseudo-algorithms for RSA padding
SCHANNEL_RSA_PSS_PADDING_ALGORITHM = "SCH_RSA_PSS_PAD"
SCHANNEL_RSA_PKCS_PADDING_ALGORITHM = "SCH_RSA_PKCS_PAD"

# ---------------------------------------------------------------------------
# SCHANNEL_CRED / SCH_CREDENTIALS dwFlags (schannel.h) -- section 2.4
# ---------------------------------------------------------------------------

SCH_CRED_NO_SYSTEM_MAPPER = 0x00000002
SCH_CRED_NO_SERVERNAME_CHECK = 0x00000004
SCH_CRED_MANUAL_CRED_VALIDATION = 0x00000008
SCH_CRED_NO_DEFAULT_CREDS = 0x00000010
SCH_CRED_AUTO_CRED_VALIDATION = 0x00000020
SCH_CRED_USE_DEFAULT_CREDS = 0x00000040
SCH_CRED_DISABLE_RECONNECTS = 0x00000080
SCH_CRED_REVOCATION_CHECK_END_CERT = 0x00000100
SCH_CRED_REVOCATION_CHECK_CHAIN = 0x00000200
SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT = 0x00000400
SCH_CRED_IGNORE_NO_REVOCATION_CHECK = 0x00000800
SCH_CRED_IGNORE_REVOCATION_OFFLINE = 0x00001000
SCH_CRED_RESTRICTED_ROOTS = 0x00002000
SCH_CRED_REVOCATION_CHECK_CACHE_ONLY = 0x00004000
SCH_CRED_CACHE_ONLY_URL_RETRIEVAL = 0x00008000
SCH_CRED_MEMORY_STORE_CERT = 0x00010000
SCH_CRED_CACHE_ONLY_URL_RETRIEVAL_ON_CREATE = 0x00020000
SCH_SEND_ROOT_CERT = 0x00040000
SCH_CRED_SNI_CREDENTIAL = 0x00080000
SCH_CRED_SNI_ENABLE_OCSP = 0x00100000
SCH_SEND_AUX_RECORD = 0x00200000
SCH_USE_STRONG_CRYPTO = 0x00400000
SCH_USE_PRESHAREDKEY_ONLY = 0x00800000
SCH_USE_DTLS_ONLY = 0x01000000
SCH_ALLOW_NULL_ENCRYPTION = 0x02000000
SCH_CRED_DEFERRED_CRED_VALIDATION = 0x04000000

# ---------------------------------------------------------------------------
# Protocol bits (schannel.h) -- section 2.5
# ---------------------------------------------------------------------------

SP_PROT_NONE = 0
SP_PROT_ALL = 0xFFFFFFFF

SP_PROT_PCT1_SERVER = 0x00000001
SP_PROT_PCT1_CLIENT = 0x00000002
SP_PROT_PCT1 = SP_PROT_PCT1_SERVER | SP_PROT_PCT1_CLIENT
SP_PROT_SSL2_SERVER = 0x00000004
SP_PROT_SSL2_CLIENT = 0x00000008
SP_PROT_SSL2 = SP_PROT_SSL2_SERVER | SP_PROT_SSL2_CLIENT
SP_PROT_SSL3_SERVER = 0x00000010
SP_PROT_SSL3_CLIENT = 0x00000020
SP_PROT_SSL3 = SP_PROT_SSL3_SERVER | SP_PROT_SSL3_CLIENT
SP_PROT_TLS1_SERVER = 0x00000040
SP_PROT_TLS1_CLIENT = 0x00000080
SP_PROT_TLS1 = SP_PROT_TLS1_SERVER | SP_PROT_TLS1_CLIENT
SP_PROT_TLS1_0_SERVER = SP_PROT_TLS1_SERVER
SP_PROT_TLS1_0_CLIENT = SP_PROT_TLS1_CLIENT
SP_PROT_TLS1_0 = SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_0_CLIENT
SP_PROT_TLS1_1_SERVER = 0x00000100
SP_PROT_TLS1_1_CLIENT = 0x00000200
SP_PROT_TLS1_1 = SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_1_CLIENT
SP_PROT_TLS1_2_SERVER = 0x00000400
SP_PROT_TLS1_2_CLIENT = 0x00000800
SP_PROT_TLS1_2 = SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_2_CLIENT
SP_PROT_TLS1_3_SERVER = 0x00001000
SP_PROT_TLS1_3_CLIENT = 0x00002000
SP_PROT_TLS1_3 = SP_PROT_TLS1_3_SERVER | SP_PROT_TLS1_3_CLIENT
SP_PROT_DTLS_SERVER = 0x00010000
SP_PROT_DTLS_CLIENT = 0x00020000
SP_PROT_DTLS = SP_PROT_DTLS_SERVER | SP_PROT_DTLS_CLIENT
SP_PROT_DTLS1_0_SERVER = SP_PROT_DTLS_SERVER
SP_PROT_DTLS1_0_CLIENT = SP_PROT_DTLS_CLIENT
SP_PROT_DTLS1_0 = SP_PROT_DTLS1_0_SERVER | SP_PROT_DTLS1_0_CLIENT
SP_PROT_DTLS1_2_SERVER = 0x00040000
SP_PROT_DTLS1_2_CLIENT = 0x00080000
SP_PROT_DTLS1_2 = SP_PROT_DTLS1_2_SERVER | SP_PROT_DTLS1_2_CLIENT
SP_PROT_UNI_SERVER = 0x40000000
SP_PROT_UNI_CLIENT = 0x80000000
SP_PROT_UNI = SP_PROT_UNI_SERVER | SP_PROT_UNI_CLIENT

SP_PROT_DTLS1_X_SERVER = SP_PROT_DTLS1_0_SERVER | SP_PROT_DTLS1_2_SERVER
SP_PROT_DTLS1_X_CLIENT = SP_PROT_DTLS1_0_CLIENT | SP_PROT_DTLS1_2_CLIENT
SP_PROT_DTLS1_X = SP_PROT_DTLS1_X_SERVER | SP_PROT_DTLS1_X_CLIENT
SP_PROT_TLS1_1PLUS_SERVER = SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER
SP_PROT_TLS1_1PLUS_CLIENT = SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT
SP_PROT_TLS1_1PLUS = SP_PROT_TLS1_1PLUS_SERVER | SP_PROT_TLS1_1PLUS_CLIENT
SP_PROT_TLS1_3PLUS_SERVER = SP_PROT_TLS1_3_SERVER
SP_PROT_TLS1_3PLUS_CLIENT = SP_PROT_TLS1_3_CLIENT
SP_PROT_TLS1_3PLUS = SP_PROT_TLS1_3PLUS_SERVER | SP_PROT_TLS1_3PLUS_CLIENT
SP_PROT_TLS1_X_SERVER = (
    SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER
)
SP_PROT_TLS1_X_CLIENT = (
    SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT
)
SP_PROT_TLS1_X = SP_PROT_TLS1_X_SERVER | SP_PROT_TLS1_X_CLIENT
SP_PROT_SSL3TLS1_CLIENTS = SP_PROT_TLS1_CLIENT | SP_PROT_SSL3_CLIENT
SP_PROT_SSL3TLS1_SERVERS = SP_PROT_TLS1_SERVER | SP_PROT_SSL3_SERVER
SP_PROT_SSL3TLS1 = SP_PROT_SSL3 | SP_PROT_TLS1
SP_PROT_SSL3TLS1_X_CLIENTS = SP_PROT_TLS1_X_CLIENT | SP_PROT_SSL3_CLIENT
SP_PROT_SSL3TLS1_X_SERVERS = SP_PROT_TLS1_X_SERVER | SP_PROT_SSL3_SERVER
SP_PROT_SSL3TLS1_X = SP_PROT_SSL3 | SP_PROT_TLS1_X
SP_PROT_CLIENTS = (
    SP_PROT_PCT1_CLIENT
    | SP_PROT_SSL2_CLIENT
    | SP_PROT_SSL3_CLIENT
    | SP_PROT_UNI_CLIENT
    | SP_PROT_TLS1_CLIENT
)
SP_PROT_SERVERS = (
    SP_PROT_PCT1_SERVER
    | SP_PROT_SSL2_SERVER
    | SP_PROT_SSL3_SERVER
    | SP_PROT_UNI_SERVER
    | SP_PROT_TLS1_SERVER
)
SP_PROT_X_CLIENTS = SP_PROT_CLIENTS | SP_PROT_TLS1_X_CLIENT | SP_PROT_DTLS1_X_CLIENT
SP_PROT_X_SERVERS = SP_PROT_SERVERS | SP_PROT_TLS1_X_SERVER | SP_PROT_DTLS1_X_SERVER

# ---------------------------------------------------------------------------
# ALG_ID values (wincrypt.h) -- section 4.3
# ---------------------------------------------------------------------------

ALG_TYPE_ANY = 0  # aiExch for TLS 1.3 ("any key exchange")
# GET_ALG_CLASS(x) = x & (7 << 13): which of SCHANNEL_CRED.palgSupportedAlgs' kinds an ALG_ID is.
ALG_CLASS_ANY = 0
ALG_CLASS_SIGNATURE = 1 << 13
ALG_CLASS_MSG_ENCRYPT = 2 << 13
ALG_CLASS_DATA_ENCRYPT = 3 << 13
ALG_CLASS_HASH = 4 << 13
ALG_CLASS_KEY_EXCHANGE = 5 << 13
ALG_CLASS_ALL = 7 << 13
CALG_MD5 = 0x8003
CALG_SHA = 0x8004
CALG_SHA1 = CALG_SHA
CALG_HMAC = 0x8009
CALG_TLS1PRF = 0x800A
CALG_SHA_256 = 0x800C
CALG_SHA_384 = 0x800D
CALG_SHA_512 = 0x800E
CALG_RSA_SIGN = 0x2400
CALG_DSS_SIGN = 0x2200
CALG_ECDSA = 0x2203
CALG_RSA_KEYX = 0xA400
CALG_DH_SF = 0xAA01
CALG_DH_EPHEM = 0xAA02
CALG_ECDH = 0xAA05
CALG_ECDH_EPHEM = 0xAE06
CALG_DES = 0x6601
CALG_RC2 = 0x6602
CALG_3DES = 0x6603
CALG_AES_128 = 0x660E
CALG_AES_192 = 0x660F
CALG_AES_256 = 0x6610
CALG_AES = 0x6611
CALG_RC4 = 0x6801
CALG_NULLCIPHER = 0x6000
CALG_TLS1_MASTER = 0x4C06
# Not in wincrypt.h (which has no ChaCha20): the private value msquic uses, which the
# package reports and accepts for ChaCha20-Poly1305 (docs/windows-behaviour.md rule 4.3.1).
CALG_CHACHA20_POLY1305 = 0x6612

# ---------------------------------------------------------------------------
# TLS alerts (schannel.h) -- section 0.4
# ---------------------------------------------------------------------------

TLS1_ALERT_WARNING = 1
TLS1_ALERT_FATAL = 2

TLS1_ALERT_CLOSE_NOTIFY = 0
TLS1_ALERT_UNEXPECTED_MESSAGE = 10
TLS1_ALERT_BAD_RECORD_MAC = 20
TLS1_ALERT_DECRYPTION_FAILED = 21
TLS1_ALERT_RECORD_OVERFLOW = 22
TLS1_ALERT_DECOMPRESSION_FAIL = 30
TLS1_ALERT_HANDSHAKE_FAILURE = 40
TLS1_ALERT_BAD_CERTIFICATE = 42
TLS1_ALERT_UNSUPPORTED_CERT = 43
TLS1_ALERT_CERTIFICATE_REVOKED = 44
TLS1_ALERT_CERTIFICATE_EXPIRED = 45
TLS1_ALERT_CERTIFICATE_UNKNOWN = 46
TLS1_ALERT_ILLEGAL_PARAMETER = 47
TLS1_ALERT_UNKNOWN_CA = 48
TLS1_ALERT_ACCESS_DENIED = 49
TLS1_ALERT_DECODE_ERROR = 50
TLS1_ALERT_DECRYPT_ERROR = 51
TLS1_ALERT_EXPORT_RESTRICTION = 60
TLS1_ALERT_PROTOCOL_VERSION = 70
TLS1_ALERT_INSUFFIENT_SECURITY = 71  # (sic) the header's spelling
TLS1_ALERT_INSUFFICIENT_SECURITY = TLS1_ALERT_INSUFFIENT_SECURITY
TLS1_ALERT_INTERNAL_ERROR = 80
TLS1_ALERT_USER_CANCELED = 90
TLS1_ALERT_NO_RENEGOTIATION = 100
TLS1_ALERT_UNSUPPORTED_EXT = 110
TLS1_ALERT_UNKNOWN_PSK_IDENTITY = 115
TLS1_ALERT_NO_APP_PROTOCOL = 120

# ---------------------------------------------------------------------------
# ApplyControlToken tokens and session flags (schannel.h) -- section 5
# ---------------------------------------------------------------------------

SCHANNEL_RENEGOTIATE = 0
SCHANNEL_SHUTDOWN = 1
SCHANNEL_ALERT = 2
SCHANNEL_SESSION = 3

SSL_SESSION_ENABLE_RECONNECTS = 1
SSL_SESSION_DISABLE_RECONNECTS = 2

# SecPkgContext_SessionInfo.dwFlags
SSL_SESSION_RECONNECT = 1

# ---------------------------------------------------------------------------
# schannel_py extensions (not in Windows)
#
# Hooks that Windows has no equivalent for (see docs/porting-from-windows.md,
# "schannel_py extensions").  Their ids live in a private range, 0x53500000 + n
# ("SP"), far from every attribute id and control token type the headers define,
# so a Windows caller's value can never select one by accident.
# ---------------------------------------------------------------------------

#: SetContextAttributes: a certificate verify callback (SecPkgContext_PyVerifyCallback).
SECPKG_ATTR_PY_VERIFY_CALLBACK = 0x53500001
#: QueryContextAttributes: handshake facts (SecPkgContext_PyHandshakeInfo).
SECPKG_ATTR_PY_HANDSHAKE_INFO = 0x53500002
#: ApplyControlToken dwTokenType: send a TLS 1.3 KeyUpdate (SCHANNEL_PY_KEY_UPDATE_TOKEN).
SCHANNEL_PY_KEY_UPDATE = 0x53500003
# SCHANNEL_PY_KEY_UPDATE_TOKEN.dwUpdateRequested (RFC 8446 KeyUpdateRequest)
SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED = 0
SCHANNEL_PY_KEY_UPDATE_REQUESTED = 1
#: SetContextAttributes / QueryContextAttributes: what a TLS 1.2 HelloRequest does
#: (SecPkgContext_PyRenegotiationPolicy).
SECPKG_ATTR_PY_RENEGOTIATION_POLICY = 0x53500004
# SecPkgContext_PyRenegotiationPolicy.dwPolicy
#: Windows' behaviour (the default): DecryptMessage returns SEC_I_RENEGOTIATE and
#: Encrypt/DecryptMessage answer SEC_E_CONTEXT_EXPIRED until ISC renegotiates.
SCHANNEL_PY_RENEGOTIATION_ACCEPT = 0
#: The HelloRequest is dropped: DecryptMessage returns SEC_E_OK with no data and the
#: connection goes on unchanged (BoringSSL's ssl_renegotiate_ignore).
SCHANNEL_PY_RENEGOTIATION_IGNORE = 1


# ---------------------------------------------------------------------------
# Public names.  Kept as a literal list so type checkers see it; a test checks
# that it lists every public constant defined above.
# ---------------------------------------------------------------------------

__all__ = [
    "FAILED",
    "SUCCEEDED",
    "SecStatus",
    "status_name",
    # statuses
    "SEC_E_OK",
    "SEC_I_CONTINUE_NEEDED",
    "SEC_I_COMPLETE_NEEDED",
    "SEC_I_COMPLETE_AND_CONTINUE",
    "SEC_I_LOCAL_LOGON",
    "SEC_I_GENERIC_EXTENSION_RECEIVED",
    "SEC_I_CONTEXT_EXPIRED",
    "SEC_I_INCOMPLETE_CREDENTIALS",
    "SEC_I_RENEGOTIATE",
    "SEC_I_NO_LSA_CONTEXT",
    "SEC_I_SIGNATURE_NEEDED",
    "SEC_I_NO_RENEGOTIATION",
    "SEC_I_MESSAGE_FRAGMENT",
    "SEC_I_CONTINUE_NEEDED_MESSAGE_OK",
    "SEC_I_ASYNC_CALL_PENDING",
    "SEC_I_INVALID_SESSION_STATE",
    "SEC_E_INSUFFICIENT_MEMORY",
    "SEC_E_INVALID_HANDLE",
    "SEC_E_UNSUPPORTED_FUNCTION",
    "SEC_E_NOT_SUPPORTED",
    "SEC_E_TARGET_UNKNOWN",
    "SEC_E_INTERNAL_ERROR",
    "SEC_E_NO_SPM",
    "SEC_E_SECPKG_NOT_FOUND",
    "SEC_E_NOT_OWNER",
    "SEC_E_CANNOT_INSTALL",
    "SEC_E_INVALID_TOKEN",
    "SEC_E_CANNOT_PACK",
    "SEC_E_QOP_NOT_SUPPORTED",
    "SEC_E_NO_IMPERSONATION",
    "SEC_E_LOGON_DENIED",
    "SEC_E_UNKNOWN_CREDENTIALS",
    "SEC_E_NO_CREDENTIALS",
    "SEC_E_MESSAGE_ALTERED",
    "SEC_E_OUT_OF_SEQUENCE",
    "SEC_E_NO_AUTHENTICATING_AUTHORITY",
    "SEC_E_BAD_PKGID",
    "SEC_E_CONTEXT_EXPIRED",
    "SEC_E_INCOMPLETE_MESSAGE",
    "SEC_E_INCOMPLETE_CREDENTIALS",
    "SEC_E_BUFFER_TOO_SMALL",
    "SEC_E_WRONG_PRINCIPAL",
    "SEC_E_TIME_SKEW",
    "SEC_E_UNTRUSTED_ROOT",
    "SEC_E_ILLEGAL_MESSAGE",
    "SEC_E_CERT_UNKNOWN",
    "SEC_E_CERT_EXPIRED",
    "SEC_E_ENCRYPT_FAILURE",
    "SEC_E_DECRYPT_FAILURE",
    "SEC_E_ALGORITHM_MISMATCH",
    "SEC_E_SECURITY_QOS_FAILED",
    "SEC_E_UNFINISHED_CONTEXT_DELETED",
    "SEC_E_WRONG_CREDENTIAL_HANDLE",
    "SEC_E_CRYPTO_SYSTEM_INVALID",
    "SEC_E_STRONG_CRYPTO_NOT_SUPPORTED",
    "SEC_E_SHUTDOWN_IN_PROGRESS",
    "SEC_E_BAD_BINDINGS",
    "SEC_E_CERT_WRONG_USAGE",
    "SEC_E_DOWNGRADE_DETECTED",
    "SEC_E_INVALID_PARAMETER",
    "SEC_E_NO_CONTEXT",
    "SEC_E_MUTUAL_AUTH_FAILED",
    "SEC_E_ONLY_HTTPS_ALLOWED",
    "SEC_E_APPLICATION_PROTOCOL_MISMATCH",
    "SEC_E_INVALID_UPN_NAME",
    "SEC_E_EXT_BUFFER_TOO_SMALL",
    "SEC_E_INSUFFICIENT_BUFFERS",
    "CRYPT_E_NOT_FOUND",
    "CRYPT_E_REVOKED",
    "CRYPT_E_NO_REVOCATION_DLL",
    "CRYPT_E_NO_REVOCATION_CHECK",
    "CRYPT_E_REVOCATION_OFFLINE",
    "TRUST_E_CERT_SIGNATURE",
    "CERT_E_EXPIRED",
    "CERT_E_UNTRUSTEDROOT",
    "CERT_E_CHAINING",
    "TRUST_E_FAIL",
    "CERT_E_REVOKED",
    "CERT_E_REVOCATION_FAILURE",
    "CERT_E_CN_NO_MATCH",
    "CERT_E_WRONG_USAGE",
    "TRUST_E_EXPLICIT_DISTRUST",
    "CERT_E_UNTRUSTEDCA",
    # package names and package values
    "UNISP_NAME",
    "UNISP_NAME_A",
    "UNISP_NAME_W",
    "SCHANNEL_NAME",
    "SCHANNEL_NAME_A",
    "SCHANNEL_NAME_W",
    "DEFAULT_TLS_SSP_NAME",
    "DEFAULT_TLS_SSP_NAME_A",
    "DEFAULT_TLS_SSP_NAME_W",
    "SSL2SP_NAME",
    "SSL2SP_NAME_A",
    "SSL2SP_NAME_W",
    "SSL3SP_NAME",
    "SSL3SP_NAME_A",
    "SSL3SP_NAME_W",
    "TLS1SP_NAME",
    "TLS1SP_NAME_A",
    "TLS1SP_NAME_W",
    "PCT1SP_NAME",
    "PCT1SP_NAME_A",
    "PCT1SP_NAME_W",
    "UNISP_RPC_ID",
    "SECPKG_FLAG_INTEGRITY",
    "SECPKG_FLAG_PRIVACY",
    "SECPKG_FLAG_TOKEN_ONLY",
    "SECPKG_FLAG_DATAGRAM",
    "SECPKG_FLAG_CONNECTION",
    "SECPKG_FLAG_MULTI_REQUIRED",
    "SECPKG_FLAG_CLIENT_ONLY",
    "SECPKG_FLAG_EXTENDED_ERROR",
    "SECPKG_FLAG_IMPERSONATION",
    "SECPKG_FLAG_ACCEPT_WIN32_NAME",
    "SECPKG_FLAG_STREAM",
    "SECPKG_FLAG_NEGOTIABLE",
    "SECPKG_FLAG_GSS_COMPATIBLE",
    "SECPKG_FLAG_LOGON",
    "SECPKG_FLAG_MUTUAL_AUTH",
    "SECPKG_FLAG_DELEGATION",
    "SECPKG_FLAG_APPCONTAINER_PASSTHROUGH",
    "SECPKG_FLAG_APPCONTAINER_CHECKS",
    "SECURITY_NATIVE_DREP",
    "SECURITY_NETWORK_DREP",
    "SECQOP_WRAP_OOB_DATA",
    "SECQOP_WRAP_NO_ENCRYPT",
    # SecBuffer types
    "SECBUFFER_VERSION",
    "SECBUFFER_EMPTY",
    "SECBUFFER_DATA",
    "SECBUFFER_TOKEN",
    "SECBUFFER_PKG_PARAMS",
    "SECBUFFER_MISSING",
    "SECBUFFER_EXTRA",
    "SECBUFFER_STREAM_TRAILER",
    "SECBUFFER_STREAM_HEADER",
    "SECBUFFER_NEGOTIATION_INFO",
    "SECBUFFER_PADDING",
    "SECBUFFER_STREAM",
    "SECBUFFER_MECHLIST",
    "SECBUFFER_MECHLIST_SIGNATURE",
    "SECBUFFER_TARGET",
    "SECBUFFER_CHANNEL_BINDINGS",
    "SECBUFFER_CHANGE_PASS_RESPONSE",
    "SECBUFFER_TARGET_HOST",
    "SECBUFFER_ALERT",
    "SECBUFFER_APPLICATION_PROTOCOLS",
    "SECBUFFER_SRTP_PROTECTION_PROFILES",
    "SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER",
    "SECBUFFER_TOKEN_BINDING",
    "SECBUFFER_PRESHARED_KEY",
    "SECBUFFER_PRESHARED_KEY_IDENTITY",
    "SECBUFFER_DTLS_MTU",
    "SECBUFFER_SEND_GENERIC_TLS_EXTENSION",
    "SECBUFFER_SUBSCRIBE_GENERIC_TLS_EXTENSION",
    "SECBUFFER_FLAGS",
    "SECBUFFER_TRAFFIC_SECRETS",
    "SECBUFFER_CERTIFICATE_REQUEST_CONTEXT",
    "SECBUFFER_CHANNEL_BINDINGS_RESULT",
    "SECBUFFER_APP_SESSION_STATE",
    "SECBUFFER_SESSION_TICKET",
    "SECBUFFER_ATTRMASK",
    "SECBUFFER_READONLY",
    "SECBUFFER_READONLY_WITH_CHECKSUM",
    "SECBUFFER_RESERVED",
    # ISC_REQ_*
    "ISC_REQ_DELEGATE",
    "ISC_REQ_MUTUAL_AUTH",
    "ISC_REQ_REPLAY_DETECT",
    "ISC_REQ_SEQUENCE_DETECT",
    "ISC_REQ_CONFIDENTIALITY",
    "ISC_REQ_USE_SESSION_KEY",
    "ISC_REQ_PROMPT_FOR_CREDS",
    "ISC_REQ_USE_SUPPLIED_CREDS",
    "ISC_REQ_ALLOCATE_MEMORY",
    "ISC_REQ_USE_DCE_STYLE",
    "ISC_REQ_DATAGRAM",
    "ISC_REQ_CONNECTION",
    "ISC_REQ_CALL_LEVEL",
    "ISC_REQ_FRAGMENT_SUPPLIED",
    "ISC_REQ_EXTENDED_ERROR",
    "ISC_REQ_STREAM",
    "ISC_REQ_INTEGRITY",
    "ISC_REQ_IDENTIFY",
    "ISC_REQ_NULL_SESSION",
    "ISC_REQ_MANUAL_CRED_VALIDATION",
    "ISC_REQ_RESERVED1",
    "ISC_REQ_FRAGMENT_TO_FIT",
    "ISC_REQ_FORWARD_CREDENTIALS",
    "ISC_REQ_NO_INTEGRITY",
    "ISC_REQ_USE_HTTP_STYLE",
    "ISC_REQ_UNVERIFIED_TARGET_NAME",
    "ISC_REQ_CONFIDENTIALITY_ONLY",
    "ISC_REQ_MESSAGES",
    "ISC_REQ_DEFERRED_CRED_VALIDATION",
    "ISC_REQ_NO_POST_HANDSHAKE_AUTH",
    "ISC_REQ_REUSE_SESSION_TICKETS",
    "ISC_REQ_EXPLICIT_SESSION",
    # ISC_RET_*
    "ISC_RET_DELEGATE",
    "ISC_RET_MUTUAL_AUTH",
    "ISC_RET_REPLAY_DETECT",
    "ISC_RET_SEQUENCE_DETECT",
    "ISC_RET_CONFIDENTIALITY",
    "ISC_RET_USE_SESSION_KEY",
    "ISC_RET_USED_COLLECTED_CREDS",
    "ISC_RET_USED_SUPPLIED_CREDS",
    "ISC_RET_ALLOCATED_MEMORY",
    "ISC_RET_USED_DCE_STYLE",
    "ISC_RET_DATAGRAM",
    "ISC_RET_CONNECTION",
    "ISC_RET_INTERMEDIATE_RETURN",
    "ISC_RET_CALL_LEVEL",
    "ISC_RET_EXTENDED_ERROR",
    "ISC_RET_STREAM",
    "ISC_RET_INTEGRITY",
    "ISC_RET_IDENTIFY",
    "ISC_RET_NULL_SESSION",
    "ISC_RET_MANUAL_CRED_VALIDATION",
    "ISC_RET_RESERVED1",
    "ISC_RET_FRAGMENT_ONLY",
    "ISC_RET_FORWARD_CREDENTIALS",
    "ISC_RET_USED_HTTP_STYLE",
    "ISC_RET_NO_ADDITIONAL_TOKEN",
    "ISC_RET_REAUTHENTICATION",
    "ISC_RET_CONFIDENTIALITY_ONLY",
    "ISC_RET_MESSAGES",
    "ISC_RET_DEFERRED_CRED_VALIDATION",
    "ISC_RET_NO_POST_HANDSHAKE_AUTH",
    "ISC_RET_REUSE_SESSION_TICKETS",
    "ISC_RET_EXPLICIT_SESSION",
    # SECPKG_CRED_*
    "SECPKG_CRED_INBOUND",
    "SECPKG_CRED_OUTBOUND",
    "SECPKG_CRED_BOTH",
    "SECPKG_CRED_DEFAULT",
    "SECPKG_CRED_AUTOLOGON_RESTRICTED",
    "SECPKG_CRED_PROCESS_POLICY_ONLY",
    "SECPKG_CRED_RESERVED",
    "SECPKG_CRED_ATTR_NAMES",
    # SECPKG_ATTR_*
    "SECPKG_ATTR_SIZES",
    "SECPKG_ATTR_NAMES",
    "SECPKG_ATTR_LIFESPAN",
    "SECPKG_ATTR_DCE_INFO",
    "SECPKG_ATTR_STREAM_SIZES",
    "SECPKG_ATTR_DATAGRAM_SIZES",
    "SECPKG_ATTR_KEY_INFO",
    "SECPKG_ATTR_AUTHORITY",
    "SECPKG_ATTR_PROTO_INFO",
    "SECPKG_ATTR_PASSWORD_EXPIRY",
    "SECPKG_ATTR_SESSION_KEY",
    "SECPKG_ATTR_PACKAGE_INFO",
    "SECPKG_ATTR_USER_FLAGS",
    "SECPKG_ATTR_NEGOTIATION_INFO",
    "SECPKG_ATTR_NATIVE_NAMES",
    "SECPKG_ATTR_FLAGS",
    "SECPKG_ATTR_TARGET_INFORMATION",
    "SECPKG_ATTR_ACCESS_TOKEN",
    "SECPKG_ATTR_UNIQUE_BINDINGS",
    "SECPKG_ATTR_ENDPOINT_BINDINGS",
    "SECPKG_ATTR_DTLS_MTU",
    "SECPKG_ATTR_APPLICATION_PROTOCOL",
    "SECPKG_ATTR_NEGOTIATED_TLS_EXTENSIONS",
    "SECPKG_ATTR_IS_LOOPBACK",
    "SECPKG_ATTR_ISSUER_LIST",
    "SECPKG_ATTR_REMOTE_CRED",
    "SECPKG_ATTR_LOCAL_CRED",
    "SECPKG_ATTR_REMOTE_CERT_CONTEXT",
    "SECPKG_ATTR_LOCAL_CERT_CONTEXT",
    "SECPKG_ATTR_ROOT_STORE",
    "SECPKG_ATTR_SUPPORTED_ALGS",
    "SECPKG_ATTR_CIPHER_STRENGTHS",
    "SECPKG_ATTR_SUPPORTED_PROTOCOLS",
    "SECPKG_ATTR_ISSUER_LIST_EX",
    "SECPKG_ATTR_CONNECTION_INFO",
    "SECPKG_ATTR_EAP_KEY_BLOCK",
    "SECPKG_ATTR_MAPPED_CRED_ATTR",
    "SECPKG_ATTR_SESSION_INFO",
    "SECPKG_ATTR_APP_DATA",
    "SECPKG_ATTR_REMOTE_CERTIFICATES",
    "SECPKG_ATTR_CLIENT_CERT_POLICY",
    "SECPKG_ATTR_CC_POLICY_RESULT",
    "SECPKG_ATTR_USE_NCRYPT",
    "SECPKG_ATTR_LOCAL_CERT_INFO",
    "SECPKG_ATTR_CIPHER_INFO",
    "SECPKG_ATTR_EAP_PRF_INFO",
    "SECPKG_ATTR_SUPPORTED_SIGNATURES",
    "SECPKG_ATTR_REMOTE_CERT_CHAIN",
    "SECPKG_ATTR_UI_INFO",
    "SECPKG_ATTR_EARLY_START",
    "SECPKG_ATTR_KEYING_MATERIAL_INFO",
    "SECPKG_ATTR_KEYING_MATERIAL",
    "SECPKG_ATTR_SRTP_PARAMETERS",
    "SECPKG_ATTR_TOKEN_BINDING",
    "SECPKG_ATTR_CONNECTION_INFO_EX",
    "SECPKG_ATTR_KEYING_MATERIAL_TOKEN_BINDING",
    "SECPKG_ATTR_KEYING_MATERIAL_INPROC",
    "SECPKG_ATTR_CERT_CHECK_RESULT",
    "SECPKG_ATTR_CERT_CHECK_RESULT_INPROC",
    "SECPKG_ATTR_SESSION_TICKET_KEYS",
    "SECPKG_ATTR_SERIALIZED_REMOTE_CERT_CONTEXT_INPROC",
    "SECPKG_ATTR_SERIALIZED_REMOTE_CERT_CONTEXT",
    "SECPKG_ATTR_SUBJECT_SECURITY_ATTRIBUTES",
    "SECPKG_ATTR_CREDS_2",
    "SECPKGCONTEXT_CIPHERINFO_V1",
    "SECPKGCONTEXT_CONNECTION_INFO_EX_V1",
    "SZ_ALG_MAX_SIZE",
    "MAX_PROTOCOL_ID_SIZE",
    "ENABLE_TLS_CLIENT_EARLY_START",
    "SecApplicationProtocolNegotiationStatus_None",
    "SecApplicationProtocolNegotiationStatus_Success",
    "SecApplicationProtocolNegotiationStatus_SelectedClientOnly",
    "SecApplicationProtocolNegotiationExt_None",
    "SecApplicationProtocolNegotiationExt_NPN",
    "SecApplicationProtocolNegotiationExt_ALPN",
    # credential structures
    "SCH_CRED_V1",
    "SCH_CRED_V2",
    "SCH_CRED_VERSION",
    "SCH_CRED_V3",
    "SCHANNEL_CRED_VERSION",
    "SCH_CREDENTIALS_VERSION",
    "SCH_CRED_FORMAT_CERT_CONTEXT",
    "SCH_CRED_FORMAT_CERT_HASH",
    "SCH_CRED_FORMAT_CERT_HASH_STORE",
    "SCH_MACHINE_CERT_HASH",
    "SCH_CRED_MAX_STORE_NAME_SIZE",
    "SCH_CRED_MAX_SUPPORTED_ALGS",
    "SCH_CRED_MAX_SUPPORTED_CERTS",
    "SCH_CRED_MAX_SUPPORTED_PARAMETERS",
    "SCH_CRED_MAX_SUPPORTED_ALPN_IDS",
    "SCH_CRED_MAX_SUPPORTED_CRYPTO_SETTINGS",
    "SCH_CRED_MAX_SUPPORTED_CHAINING_MODES",
    "TLS_PARAMS_OPTIONAL",
    "TlsParametersCngAlgUsageKeyExchange",
    "TlsParametersCngAlgUsageSignature",
    "TlsParametersCngAlgUsageCipher",
    "TlsParametersCngAlgUsageDigest",
    "TlsParametersCngAlgUsageCertSig",
    "SCHANNEL_RSA_PSS_PADDING_ALGORITHM",
    "SCHANNEL_RSA_PKCS_PADDING_ALGORITHM",
    # dwFlags
    "SCH_CRED_NO_SYSTEM_MAPPER",
    "SCH_CRED_NO_SERVERNAME_CHECK",
    "SCH_CRED_MANUAL_CRED_VALIDATION",
    "SCH_CRED_NO_DEFAULT_CREDS",
    "SCH_CRED_AUTO_CRED_VALIDATION",
    "SCH_CRED_USE_DEFAULT_CREDS",
    "SCH_CRED_DISABLE_RECONNECTS",
    "SCH_CRED_REVOCATION_CHECK_END_CERT",
    "SCH_CRED_REVOCATION_CHECK_CHAIN",
    "SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT",
    "SCH_CRED_IGNORE_NO_REVOCATION_CHECK",
    "SCH_CRED_IGNORE_REVOCATION_OFFLINE",
    "SCH_CRED_RESTRICTED_ROOTS",
    "SCH_CRED_REVOCATION_CHECK_CACHE_ONLY",
    "SCH_CRED_CACHE_ONLY_URL_RETRIEVAL",
    "SCH_CRED_MEMORY_STORE_CERT",
    "SCH_CRED_CACHE_ONLY_URL_RETRIEVAL_ON_CREATE",
    "SCH_SEND_ROOT_CERT",
    "SCH_CRED_SNI_CREDENTIAL",
    "SCH_CRED_SNI_ENABLE_OCSP",
    "SCH_SEND_AUX_RECORD",
    "SCH_USE_STRONG_CRYPTO",
    "SCH_USE_PRESHAREDKEY_ONLY",
    "SCH_USE_DTLS_ONLY",
    "SCH_ALLOW_NULL_ENCRYPTION",
    "SCH_CRED_DEFERRED_CRED_VALIDATION",
    # SP_PROT_*
    "SP_PROT_NONE",
    "SP_PROT_ALL",
    "SP_PROT_PCT1_SERVER",
    "SP_PROT_PCT1_CLIENT",
    "SP_PROT_PCT1",
    "SP_PROT_SSL2_SERVER",
    "SP_PROT_SSL2_CLIENT",
    "SP_PROT_SSL2",
    "SP_PROT_SSL3_SERVER",
    "SP_PROT_SSL3_CLIENT",
    "SP_PROT_SSL3",
    "SP_PROT_TLS1_SERVER",
    "SP_PROT_TLS1_CLIENT",
    "SP_PROT_TLS1",
    "SP_PROT_TLS1_0_SERVER",
    "SP_PROT_TLS1_0_CLIENT",
    "SP_PROT_TLS1_0",
    "SP_PROT_TLS1_1_SERVER",
    "SP_PROT_TLS1_1_CLIENT",
    "SP_PROT_TLS1_1",
    "SP_PROT_TLS1_2_SERVER",
    "SP_PROT_TLS1_2_CLIENT",
    "SP_PROT_TLS1_2",
    "SP_PROT_TLS1_3_SERVER",
    "SP_PROT_TLS1_3_CLIENT",
    "SP_PROT_TLS1_3",
    "SP_PROT_DTLS_SERVER",
    "SP_PROT_DTLS_CLIENT",
    "SP_PROT_DTLS",
    "SP_PROT_DTLS1_0_SERVER",
    "SP_PROT_DTLS1_0_CLIENT",
    "SP_PROT_DTLS1_0",
    "SP_PROT_DTLS1_2_SERVER",
    "SP_PROT_DTLS1_2_CLIENT",
    "SP_PROT_DTLS1_2",
    "SP_PROT_UNI_SERVER",
    "SP_PROT_UNI_CLIENT",
    "SP_PROT_UNI",
    "SP_PROT_DTLS1_X_SERVER",
    "SP_PROT_DTLS1_X_CLIENT",
    "SP_PROT_DTLS1_X",
    "SP_PROT_TLS1_1PLUS_SERVER",
    "SP_PROT_TLS1_1PLUS_CLIENT",
    "SP_PROT_TLS1_1PLUS",
    "SP_PROT_TLS1_3PLUS_SERVER",
    "SP_PROT_TLS1_3PLUS_CLIENT",
    "SP_PROT_TLS1_3PLUS",
    "SP_PROT_TLS1_X_SERVER",
    "SP_PROT_TLS1_X_CLIENT",
    "SP_PROT_TLS1_X",
    "SP_PROT_SSL3TLS1_CLIENTS",
    "SP_PROT_SSL3TLS1_SERVERS",
    "SP_PROT_SSL3TLS1",
    "SP_PROT_SSL3TLS1_X_CLIENTS",
    "SP_PROT_SSL3TLS1_X_SERVERS",
    "SP_PROT_SSL3TLS1_X",
    "SP_PROT_CLIENTS",
    "SP_PROT_SERVERS",
    "SP_PROT_X_CLIENTS",
    "SP_PROT_X_SERVERS",
    # ALG_ID
    "ALG_TYPE_ANY",
    "ALG_CLASS_ANY",
    "ALG_CLASS_SIGNATURE",
    "ALG_CLASS_MSG_ENCRYPT",
    "ALG_CLASS_DATA_ENCRYPT",
    "ALG_CLASS_HASH",
    "ALG_CLASS_KEY_EXCHANGE",
    "ALG_CLASS_ALL",
    "CALG_MD5",
    "CALG_SHA",
    "CALG_SHA1",
    "CALG_HMAC",
    "CALG_TLS1PRF",
    "CALG_SHA_256",
    "CALG_SHA_384",
    "CALG_SHA_512",
    "CALG_RSA_SIGN",
    "CALG_DSS_SIGN",
    "CALG_ECDSA",
    "CALG_RSA_KEYX",
    "CALG_DH_SF",
    "CALG_DH_EPHEM",
    "CALG_ECDH",
    "CALG_ECDH_EPHEM",
    "CALG_DES",
    "CALG_RC2",
    "CALG_3DES",
    "CALG_AES_128",
    "CALG_AES_192",
    "CALG_AES_256",
    "CALG_AES",
    "CALG_RC4",
    "CALG_NULLCIPHER",
    "CALG_TLS1_MASTER",
    "CALG_CHACHA20_POLY1305",
    # TLS alerts
    "TLS1_ALERT_WARNING",
    "TLS1_ALERT_FATAL",
    "TLS1_ALERT_CLOSE_NOTIFY",
    "TLS1_ALERT_UNEXPECTED_MESSAGE",
    "TLS1_ALERT_BAD_RECORD_MAC",
    "TLS1_ALERT_DECRYPTION_FAILED",
    "TLS1_ALERT_RECORD_OVERFLOW",
    "TLS1_ALERT_DECOMPRESSION_FAIL",
    "TLS1_ALERT_HANDSHAKE_FAILURE",
    "TLS1_ALERT_BAD_CERTIFICATE",
    "TLS1_ALERT_UNSUPPORTED_CERT",
    "TLS1_ALERT_CERTIFICATE_REVOKED",
    "TLS1_ALERT_CERTIFICATE_EXPIRED",
    "TLS1_ALERT_CERTIFICATE_UNKNOWN",
    "TLS1_ALERT_ILLEGAL_PARAMETER",
    "TLS1_ALERT_UNKNOWN_CA",
    "TLS1_ALERT_ACCESS_DENIED",
    "TLS1_ALERT_DECODE_ERROR",
    "TLS1_ALERT_DECRYPT_ERROR",
    "TLS1_ALERT_EXPORT_RESTRICTION",
    "TLS1_ALERT_PROTOCOL_VERSION",
    "TLS1_ALERT_INSUFFIENT_SECURITY",
    "TLS1_ALERT_INSUFFICIENT_SECURITY",
    "TLS1_ALERT_INTERNAL_ERROR",
    "TLS1_ALERT_USER_CANCELED",
    "TLS1_ALERT_NO_RENEGOTIATION",
    "TLS1_ALERT_UNSUPPORTED_EXT",
    "TLS1_ALERT_UNKNOWN_PSK_IDENTITY",
    "TLS1_ALERT_NO_APP_PROTOCOL",
    # control tokens and session flags
    "SCHANNEL_RENEGOTIATE",
    "SCHANNEL_SHUTDOWN",
    "SCHANNEL_ALERT",
    "SCHANNEL_SESSION",
    "SSL_SESSION_ENABLE_RECONNECTS",
    "SSL_SESSION_DISABLE_RECONNECTS",
    "SSL_SESSION_RECONNECT",
    # schannel_py extensions (not in Windows)
    "SECPKG_ATTR_PY_VERIFY_CALLBACK",
    "SECPKG_ATTR_PY_HANDSHAKE_INFO",
    "SCHANNEL_PY_KEY_UPDATE",
    "SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED",
    "SCHANNEL_PY_KEY_UPDATE_REQUESTED",
    "SECPKG_ATTR_PY_RENEGOTIATION_POLICY",
    "SCHANNEL_PY_RENEGOTIATION_ACCEPT",
    "SCHANNEL_PY_RENEGOTIATION_IGNORE",
]
