"""TLS alert descriptions and the one exception type the TLS core raises.

Every failure inside ``tls/`` surfaces as :class:`TLSError`, carrying the alert
description that must be (or was) sent.  The SSPI layer maps it to a Windows
status code; nothing else in the core is allowed to escape.
"""

from __future__ import annotations

import enum


class AlertLevel(enum.IntEnum):
    """RFC 8446 section 6 alert levels."""

    warning = 1
    fatal = 2


class AlertDescription(enum.IntEnum):
    """RFC 8446 section 6 alert descriptions (and the TLS 1.2 ones still seen)."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    no_application_protocol = 120


def alert_name(value: int) -> str:
    """Name of an alert description, or its number for unknown ones."""
    try:
        return AlertDescription(value).name
    except ValueError:
        return f"alert_{value}"


class TLSError(Exception):
    """A fatal TLS failure.

    ``description`` is the alert number.  ``remote`` is True when the peer sent
    the alert (nothing is sent back); otherwise the client must send it.
    ``cause`` lets a caller-supplied callback (certificate validation) attach
    its own verdict, which the layer above may prefer to the alert mapping.
    """

    def __init__(
        self,
        description: int,
        message: str = "",
        *,
        remote: bool = False,
        cause: object | None = None,
    ) -> None:
        self.description = int(description)
        self.remote = remote
        self.cause = cause
        text = message or alert_name(self.description)
        super().__init__(f"{alert_name(self.description)}: {text}")
        self.message = text


def decode_error(message: str) -> TLSError:
    """Shorthand for the most common local failure: malformed input."""
    return TLSError(AlertDescription.decode_error, message)


def unexpected(message: str) -> TLSError:
    """Shorthand for a message that is not allowed in the current state."""
    return TLSError(AlertDescription.unexpected_message, message)


def illegal(message: str) -> TLSError:
    """Shorthand for a well-formed but forbidden value."""
    return TLSError(AlertDescription.illegal_parameter, message)
