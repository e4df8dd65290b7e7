"""Events the TLS client reports to its driver after each record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class of everything ``receive_record`` returns."""


@dataclass(frozen=True)
class HandshakeComplete(Event):
    """The server Finished verified; the client flight is queued for sending."""


@dataclass(frozen=True)
class ApplicationData(Event):
    data: bytes


@dataclass(frozen=True)
class TicketReceived(Event):
    """A post-handshake NewSessionTicket was stored."""


@dataclass(frozen=True)
class KeyUpdated(Event):
    """The peer's traffic key changed; ``answered`` if we queued our own KeyUpdate."""

    answered: bool


@dataclass(frozen=True)
class CloseNotify(Event):
    """The peer sent close_notify."""


@dataclass(frozen=True)
class Ignored(Event):
    """A record with nothing for the application (e.g. a compatibility CCS)."""


@dataclass(frozen=True)
class CredentialNeeded(Event):
    """The server asked for a client certificate and the driver must decide (PAUSE)."""


@dataclass(frozen=True)
class CertificateRequested(Event):
    """TLS 1.3 post-handshake CertificateRequest; the answer is queued (or paused)."""


@dataclass(frozen=True)
class RenegotiationRefused(Event):
    """TLS 1.2: the server answered our renegotiation ClientHello with no_renegotiation."""


@dataclass(frozen=True)
class RenegotiationRequested(Event):
    """TLS 1.2: the server sent HelloRequest; the driver should renegotiate."""
