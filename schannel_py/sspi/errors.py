"""How TLS failures become Windows status codes.

Two tables, one per direction: the alert a server *sent* maps as Microsoft
documents ("Schannel error codes for TLS and SSL alerts"); an alert the client
*sends* because it detected a problem maps to the same code except where the
problem is better described by a more specific code (no common algorithm,
downgrade).  A certificate-validation verdict attached to the error wins.
"""

from __future__ import annotations

from ..constants import (
    CRYPT_E_REVOKED,
    SEC_E_ALGORITHM_MISMATCH,
    SEC_E_APPLICATION_PROTOCOL_MISMATCH,
    SEC_E_CERT_EXPIRED,
    SEC_E_CERT_UNKNOWN,
    SEC_E_DECRYPT_FAILURE,
    SEC_E_DOWNGRADE_DETECTED,
    SEC_E_ILLEGAL_MESSAGE,
    SEC_E_INTERNAL_ERROR,
    SEC_E_LOGON_DENIED,
    SEC_E_MESSAGE_ALTERED,
    SEC_E_UNFINISHED_CONTEXT_DELETED,
    SEC_E_UNSUPPORTED_FUNCTION,
    SEC_E_UNTRUSTED_ROOT,
    SecStatus,
)
from ..tls.alerts import AlertDescription as A
from ..tls.alerts import TLSError

# Alert received from the peer -> status (docs/windows-behaviour.md section 0.4).
RECEIVED_ALERT_STATUS: dict[int, SecStatus] = {
    A.unexpected_message: SEC_E_ILLEGAL_MESSAGE,
    A.bad_record_mac: SEC_E_MESSAGE_ALTERED,
    A.decryption_failed: SEC_E_DECRYPT_FAILURE,
    A.record_overflow: SEC_E_ILLEGAL_MESSAGE,
    A.decompression_failure: SEC_E_MESSAGE_ALTERED,
    A.handshake_failure: SEC_E_ILLEGAL_MESSAGE,
    A.bad_certificate: SEC_E_CERT_UNKNOWN,
    A.unsupported_certificate: SEC_E_CERT_UNKNOWN,
    A.certificate_revoked: CRYPT_E_REVOKED,
    A.certificate_expired: SEC_E_CERT_EXPIRED,
    A.certificate_unknown: SEC_E_CERT_UNKNOWN,
    A.illegal_parameter: SEC_E_ILLEGAL_MESSAGE,
    A.unknown_ca: SEC_E_UNTRUSTED_ROOT,
    A.access_denied: SEC_E_LOGON_DENIED,
    A.decode_error: SEC_E_ILLEGAL_MESSAGE,
    A.decrypt_error: SEC_E_DECRYPT_FAILURE,
    A.export_restriction: SEC_E_ILLEGAL_MESSAGE,
    A.protocol_version: SEC_E_UNSUPPORTED_FUNCTION,
    A.insufficient_security: SEC_E_ALGORITHM_MISMATCH,
    A.internal_error: SEC_E_INTERNAL_ERROR,
    A.user_canceled: SEC_E_UNFINISHED_CONTEXT_DELETED,
    A.no_renegotiation: SEC_E_ILLEGAL_MESSAGE,
    A.unsupported_extension: SEC_E_ILLEGAL_MESSAGE,
    A.unknown_psk_identity: SEC_E_ILLEGAL_MESSAGE,
    # The documentation's row names ILLEGAL_MESSAGE but gives this value.
    A.no_application_protocol: SEC_E_APPLICATION_PROTOCOL_MISMATCH,
}

# Where a locally detected failure is better named than by its alert.
_LOCAL_OVERRIDES: dict[int, SecStatus] = {
    A.handshake_failure: SEC_E_ALGORITHM_MISMATCH,
    A.bad_record_mac: SEC_E_MESSAGE_ALTERED,
}


def status_for_error(err: TLSError) -> SecStatus:
    """The status an SSPI call returns for a TLS failure."""
    if isinstance(err.cause, int):
        return SecStatus(err.cause)
    if err.cause == "downgrade":
        return SEC_E_DOWNGRADE_DETECTED
    if not err.remote and err.description in _LOCAL_OVERRIDES:
        return _LOCAL_OVERRIDES[err.description]
    return RECEIVED_ALERT_STATUS.get(err.description, SEC_E_ILLEGAL_MESSAGE)
