"""The sans-IO TLS client: records in, records and events out.

Theory of operation
-------------------
The driver (the SSPI layer, a test, a socket loop) calls :meth:`TLSClient.start`
to queue the ClientHello, then hands the client one complete record at a time
(:func:`record.frame` tells where records end).  Each call returns a list of
:mod:`events` and may queue bytes to send, collected with
:meth:`TLSClient.data_to_send`.  The client never reads a clock or a random
source of its own: both are injected, so a handshake can be replayed byte for
byte.

Records are demultiplexed here: alerts and change_cipher_spec are handled
directly, handshake bytes are reassembled into messages (which may span or
share records) and passed to the version's handshake state machine
(:mod:`handshake13`, which hands over to :mod:`handshake12` through
:meth:`TLSClient.hand_over_to_tls12` when the server picks TLS 1.2),
application data is decrypted and returned.  Any failure raises
:class:`alerts.TLSError`; after that the client is dead, and
:meth:`alert_record` produces the alert to send.

What the handshake negotiated is :attr:`TLSClient.result`, a read-only
:class:`~.result.HandshakeResult` set when it completes; the many attributes
the handshakes fill in as they go remain for the checks that run during a
handshake and for older callers (see :mod:`result`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from .alerts import AlertDescription, AlertLevel, TLSError, decode_error, unexpected
from .clientauth import CertificateRequestInfo
from .events import ApplicationData, CloseNotify, Event, Ignored, RenegotiationRefused
from .groups import SUPPORTED_GROUPS, X25519
from .handshake12 import Handshake12
from .handshake13 import Handshake13
from .handshake_base import Handshake
from .messages import ClientHello, HandshakeType, Offer, ServerHello
from .record import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    HEADER_LEN,
    MAX_PLAINTEXT,
    Protection,
    frame,
    plaintext_records,
)
from .result import HandshakeResult
from .session import Session12, Ticket13, Transcript
from .sigalgs import DEFAULT_SCHEMES
from .suites import DEFAULT_TLS12_SUITES, DEFAULT_TLS13_SUITES, CipherSuite

MAX_HANDSHAKE_MESSAGE = 1 << 17
#: Consecutive records without content (empty records; TLS 1.3 compatibility CCS)
#: accepted before the peer is taken for a flood (BoringSSL's kMaxEmptyRecords).
MAX_EMPTY_RECORDS = 32
#: receive_in_place's answer when a record brought no events (shared: never changed).
_NO_EVENTS: tuple[Event, ...] = ()
#: Protocol versions, as ``ClientConfig.versions`` and ``HandshakeResult.version`` give them.
TLS1_2 = 0x0303
TLS1_3 = 0x0304


@dataclass
class ClientCredential:
    """A client certificate chain (DER, leaf first) and a signer for it."""

    chain: list[bytes]
    schemes: tuple[int, ...]
    sign: Callable[[int, bytes], bytes]


@dataclass
class ClientConfig:
    """Everything the client offers and checks; the SSPI layer fills it from a credential."""

    server_name: str | None = None
    alpn: list[bytes] = field(default_factory=list)
    versions: tuple[int, ...] = (0x0304,)
    # TLS 1.3 and TLS 1.2 suites together; each version offers its own.
    cipher_suites: tuple[int, ...] = DEFAULT_TLS13_SUITES + DEFAULT_TLS12_SUITES
    groups: tuple[int, ...] = SUPPORTED_GROUPS
    key_share_groups: tuple[int, ...] = (X25519,)
    signature_schemes: tuple[int, ...] = DEFAULT_SCHEMES
    middlebox_compat: bool = True
    # Called with the server's chain (DER, leaf first) once the Certificate
    # message arrives; raises TLSError to reject it.
    verify_certificate: Callable[[list[bytes]], None] | None = None
    # Called on a resumed handshake with the chain stored with the session, before
    # the client's Finished (TLS 1.3: after EncryptedExtensions; TLS 1.2: after the
    # ServerHello); raises TLSError to abort the resumption.
    verify_resumed_certificate: Callable[[list[bytes]], None] | None = None
    client_credential: ClientCredential | None = None
    # Lets tests and replays rewrite the ClientHello before it is sent.
    customize_client_hello: Callable[[ClientHello], ClientHello] | None = None
    max_tickets: int = 8
    # Asked when the server requests a certificate and client_credential is None:
    # a credential, None (send none) or clientauth.PAUSE (the driver decides later).
    choose_credential: (
        Callable[[CertificateRequestInfo], ClientCredential | None | object] | None
    ) = None
    # Offer TLS 1.3 post-handshake client authentication (RFC 8446 4.6.2).
    post_handshake_auth: bool = False
    # TLS 1.2: drop a HelloRequest on an established connection instead of
    # reporting RenegotiationRequested (BoringSSL's ssl_renegotiate_ignore).  A
    # HelloRequest during a handshake (first or renegotiation) is ignored anyway
    # (RFC 5246 7.4.1.1); a malformed one is still decode_error.
    ignore_hello_request: bool = False
    # Resumption: a TLS 1.3 ticket to offer as a PSK, and/or a TLS 1.2 session.
    resume_ticket: Ticket13 | None = None
    resume_session12: Session12 | None = None
    max_chain_length: int = 100
    # OCSP stapling: send status_request (RFC 6066 section 8) and accept the
    # server's stapled OCSPResponse (TLS 1.2 CertificateStatus; TLS 1.3 the leaf's
    # CertificateEntry), kept in TLSClient.ocsp_staple.  Without it a staple is
    # refused as unsolicited.
    ocsp_stapling: bool = False
    # Keep every handshake message sent and received in TLSClient.message_log
    # (traces, replays, tests).  The SSPI layer turns it off unless an observer
    # watches the call: a connection then keeps none of its handshake bytes.
    log_messages: bool = True


class TLSClient:
    """One client connection; see the module docstring."""

    # Immutable starting values live on the class (an instance gets its own
    # attribute when one is first assigned): a connection is set up per
    # handshake, and these would otherwise be ~35 stores each time.
    read_protection: Protection | None = None
    write_protection: Protection | None = None
    _hs_rest = 0  # bytes after the message being handled, in its record
    warning_alerts = 0
    # Records in a row that carried nothing (see MAX_EMPTY_RECORDS).
    empty_records = 0
    # TLS 1.3 KeyUpdates since the last application data (bounded, see handshake13).
    key_updates_in_a_row = 0
    _previous_handshake: Handshake | None = None
    renegotiations = 0
    renegotiation_requested = False
    # verify_data of the last Finished each way (TLS 1.2: RFC 5746, tls-unique; both versions:
    # HandshakeResult.client_finished / server_finished).
    client_verify_data = b""
    server_verify_data = b""
    first_finished = b""
    extended_master_secret = False  # RFC 7627 in TLS 1.2; always so in TLS 1.3
    secure_renegotiation = False  # TLS 1.2: the server sent renegotiation_info
    handshake_complete = False
    failed = False
    peer_closed = False
    local_closed = False
    server_hello_seen = False
    hrr_seen = False
    session_id = b""
    # Negotiated results, filled in as the handshake goes.
    version = 0
    suite: CipherSuite | None = None
    group = 0
    alpn: bytes | None = None
    peer_certificate: x509.Certificate | None = None
    peer_signature_scheme = 0
    client_random = b""
    server_random = b""
    client_certificate_sent = False
    certificate_requested = False
    tickets_received = 0  # NewSessionTicket messages on this connection
    session12: Session12 | None = None
    session12_is_new = False  # session12 is not just the resumed session again
    awaiting_credential = False
    _continuation: Callable[[], list[Event]] | None = None
    #: The read protection while an application-data record may be opened with it
    #: and nothing else to decide (handshake complete; not failed, closed, paused
    #: or inside a fragmented message; no KeyUpdate or empty record since the last
    #: data); else None.  :meth:`receive_in_place` reads this one attribute instead
    #: of those seven, and every call that can change them recomputes it.
    app_reader: Protection | None = None
    resumed = False
    #: The OCSPResponse (DER, as received) the server stapled to the certificate of
    #: this connection (config.ocsp_stapling), or None.  Set before
    #: config.verify_certificate is called with that certificate, so the check can
    #: use it (TLS 1.2: when the CertificateStatus arrives, or when the next message
    #: shows the server sent none); a resumed handshake reports the staple kept with
    #: the session (the certificate is the session's too).
    ocsp_staple: bytes | None = None
    #: What the handshake negotiated, once it completed (None before).
    result: HandshakeResult | None = None

    def __init__(
        self,
        config: ClientConfig,
        random: Callable[[int], bytes],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.random = random
        self.now = now
        self._out = bytearray()
        self._hs_buf = bytearray()  # a handshake message still incomplete
        self.handshake: Handshake = Handshake13(self)
        self.peer_chain: list[bytes] = []
        self.tickets: list[Ticket13] = []
        # Signature schemes of the server's (latest) CertificateRequest.
        self.peer_verify_schemes: list[int] = []
        # TLS 1.2: certificate_types of that CertificateRequest (TLS 1.3 has none).
        self.certificate_types: list[int] = []
        self.certificate_authorities: list[bytes] = []
        self.secrets: dict[str, bytes] = {}
        #: (direction, handshake type, message) in order, while config.log_messages
        #: (or a caller) keeps a list here; None: nothing is kept.
        self.message_log: list[tuple[str, int, bytes]] | None = [] if config.log_messages else None

    def release(self) -> None:
        """Break the links that make a connection a reference cycle: each handshake's
        pointer back to this client and a paused handshake's continuation.  Dropping
        the last reference then frees the connection and its secrets at once, not at
        the next cyclic collection.  The client is unusable afterwards (the SSPI
        layer calls this from DeleteSecurityContext)."""
        for handshake in (self.handshake, self._previous_handshake):
            if handshake is not None:
                vars(handshake).pop("conn", None)
        self._previous_handshake = None
        self._continuation = None

    # --- driver API -----------------------------------------------------------

    def start(self) -> None:
        """Queue the ClientHello."""
        self.handshake.start()

    def data_to_send(self) -> bytes:
        """Bytes queued for the peer since the last call."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def receive_record(self, record: bytes | memoryview) -> list[Event]:
        """Process exactly one complete record (header included)."""
        if self.failed:
            raise TLSError(AlertDescription.internal_error, "connection already failed")
        if self.awaiting_credential:
            raise TLSError(
                AlertDescription.internal_error, "waiting for a client credential decision"
            )
        try:
            return self._receive(record)
        except TLSError:
            self.failed = True
            raise
        finally:
            self._refresh_reader()

    def _refresh_reader(self) -> None:
        """Recompute :attr:`app_reader` after anything that may have changed it."""
        self.app_reader = (
            self.read_protection
            if self.handshake_complete
            and not (
                self.failed
                or self.awaiting_credential
                or self.peer_closed
                or self._hs_buf
                or self.key_updates_in_a_row
                or self.empty_records
            )
            else None
        )

    def receive_in_place(self, data: memoryview) -> tuple[int, int, int, Sequence[Event]]:
        """Frame the first record of the caller's writable ``data`` and receive it there.

        Returns (record length, content offset, content length, events).  A record
        length below zero is the number of bytes still missing (nothing was done).
        A protected record is decrypted over itself: application data gives its
        content length and no events, the content at ``data[offset:offset +
        length]``, no copy made; any other record gives a content length of -1 and
        its events (the offset is then where the read protection puts content).  A header
        that cannot start a record raises :class:`~.record.RecordHeaderError`
        (as :func:`~.record.frame` does); everything else fails as
        :meth:`receive_record` fails.  The record is framed and checked here
        only, so the caller need not read its header first.
        """
        have = len(data)
        protection = self.app_reader
        if (
            protection is not None
            and have >= HEADER_LEN
            and data[0] == APPLICATION_DATA
            and data[1] == 3
            and (n := HEADER_LEN + ((data[3] << 8) | data[4])) <= have
        ):  # application data, now: opened with nothing else to decide
            try:
                ctype, length = protection.open_in_place(data if n == have else data[:n])
                hl = protection.header_len
                if ctype == APPLICATION_DATA and length:
                    return n, hl, length, _NO_EVENTS
                events = self._on_protected(ctype, bytes(data[hl : hl + length]))
            except TLSError:
                self.failed = True
                self.app_reader = None
                raise
            self._refresh_reader()
            return n, self.read_header_len, -1, events
        n = frame(data)
        if n < 0:
            return n, self.read_header_len, -1, _NO_EVENTS
        events = self.receive_record(data if n == have else data[:n])
        return n, self.read_header_len, -1, events

    def pause_for_credential(self, continuation: Callable[[], list[Event]]) -> None:
        """Stop until :meth:`provide_credential` (used by the handshake state machines)."""
        self.awaiting_credential = True
        self._continuation = continuation

    def provide_credential(self, credential: ClientCredential | None) -> list[Event]:
        """Resume a paused handshake with a credential, or None for an empty Certificate."""
        if not self.awaiting_credential or self._continuation is None:
            raise TLSError(AlertDescription.internal_error, "no credential decision pending")
        self.config.client_credential = credential
        continuation, self._continuation = self._continuation, None
        self.awaiting_credential = False
        try:
            return continuation()
        except TLSError:
            self.failed = True
            raise
        finally:
            self._refresh_reader()

    def export_keying_material(self, label: bytes, context: bytes | None, length: int) -> bytes:
        """RFC 5705 / RFC 8446 section 7.5 exporter for the established connection."""
        suite = self.suite
        if not self.handshake_complete or suite is None or not 0 < length <= 0xFFFF:
            raise TLSError(AlertDescription.internal_error, "exporter not available")
        if self.version == 0x0304:
            from .keyschedule import derive_secret, hkdf_expand_label

            h = suite.hash_name
            empty = hashlib.new(h).digest()
            secret = derive_secret(h, self.secrets["exporter_master_secret"], label, empty)
            return hkdf_expand_label(
                h, secret, b"exporter", hashlib.new(h, context or b"").digest(), length
            )
        from .prf import prf

        seed = self.client_random + self.server_random
        if context is not None:
            if len(context) > 0xFFFF:
                raise TLSError(AlertDescription.internal_error, "exporter context too long")
            seed += len(context).to_bytes(2, "big") + context
        return prf(suite.hash_name, self.secrets["master_secret"], label, seed, length)

    @property
    def new_session(self) -> bool:
        """This connection produced a session that a later connection can offer."""
        if self.version == 0x0304:
            return bool(self.tickets)
        return self.session12 is not None and self.session12_is_new

    def key_update(self, request_peer: bool) -> None:
        """Queue a TLS 1.3 KeyUpdate (under the current key) and move to the next write key."""
        handshake = self.handshake
        if (
            self.version != 0x0304
            or not self.handshake_complete
            or self.failed
            or self.local_closed
            or not isinstance(handshake, Handshake13)
        ):
            raise TLSError(
                AlertDescription.internal_error, "KeyUpdate needs an established TLS 1.3 connection"
            )
        handshake.send_key_update(request_peer)

    def encrypt(self, data: bytes | memoryview) -> tuple[bytes, bytes]:
        """(header, body) of one application-data record; body = ciphertext + tag."""
        protection = self._application_write_protection(len(data))
        record = protection.seal(APPLICATION_DATA, data)
        hl = protection.header_len
        return record[:hl], record[hl:]

    def encrypt_into(
        self, data: bytes | memoryview, header: memoryview, body: memoryview, trailer: memoryview
    ) -> bool:
        """:meth:`encrypt` written straight into ``header`` (``record_overhead[0]``
        bytes), ``body`` (the ciphertext) and ``trailer`` (the tag, and TLS 1.3's
        content type).  True: both versions' protections seal into memory now (it
        was False where a caller had to fall back to :meth:`encrypt`)."""
        protection = self._application_write_protection(len(data))
        protection.seal_into(APPLICATION_DATA, len(data), header, body, trailer, data)
        return True

    def _application_write_protection(self, size: int) -> Protection:
        protection = self.write_protection
        if not self.handshake_complete or protection is None or self.handshake.in_progress():
            raise TLSError(AlertDescription.internal_error, "handshake not complete")
        if not 0 <= size <= MAX_PLAINTEXT:
            raise TLSError(AlertDescription.internal_error, "application record too long")
        return protection

    def send_application_data(self, data: bytes) -> None:
        """Queue application data, split into records."""
        for i in range(0, len(data), MAX_PLAINTEXT):
            h, b = self.encrypt(data[i : i + MAX_PLAINTEXT])
            self._out += h + b

    def close(self) -> bytes:
        """The close_notify record (queued nowhere; the caller sends it)."""
        self.local_closed = True
        return self.alert_record(AlertDescription.close_notify, AlertLevel.warning)

    def alert_record(self, description: int, level: int = AlertLevel.fatal) -> bytes:
        """An alert record, protected if the write direction has keys (TLS 1.3:
        preceded by the compatibility CCS when that is still owed)."""
        payload = bytes([level, description])
        if self.write_protection is not None:
            handshake = self.handshake
            # A TLS 1.3 alert that is the first protected record still follows the
            # compatibility CCS (RFC 8446 D.4): the server could not read it otherwise.
            ccs = handshake.take_compat_ccs() if isinstance(handshake, Handshake13) else b""
            return ccs + self.write_protection.seal(ALERT, payload)
        return plaintext_records(ALERT, payload, self._plaintext_version())

    @property
    def record_overhead(self) -> tuple[int, int]:
        """(header, trailer) bytes around application data in one record we send."""
        if self.version == 0x0303:
            header_len = self.write_protection.header_len if self.write_protection else HEADER_LEN
            return header_len, 16
        return HEADER_LEN, 17

    @property
    def read_header_len(self) -> int:
        """Bytes before the plaintext in a record we receive."""
        return self.read_protection.header_len if self.read_protection else HEADER_LEN

    def renegotiate(self) -> None:
        """Start a TLS 1.2 secure renegotiation (after a HelloRequest or on request)."""
        if self.version != 0x0303 or not self.handshake_complete:
            raise TLSError(
                AlertDescription.internal_error,
                "renegotiation needs an established TLS 1.2 connection",
            )
        self.renegotiation_requested = False
        self.renegotiations += 1
        self.resumed = False  # a renegotiation offers no session: it is a full handshake
        self._previous_handshake = self.handshake
        self.handshake = Handshake12(self, renegotiation=True)
        self.handshake.start()

    # --- used by the handshake state machines ---------------------------------

    def hand_over_to_tls12(
        self,
        client_hello: ClientHello,
        client_hello_message: bytes,
        offer: Offer,
        transcript: Transcript,
        server_hello: tuple[bytes, ServerHello],
    ) -> list[Event]:
        """The server answered the first ClientHello with TLS 1.2: a
        :class:`Handshake12` takes the connection over and handles that ServerHello.

        The switch happens here, in the facade that owns both state machines, so
        that the TLS 1.3 machine need not know the TLS 1.2 one.
        """
        tls12 = Handshake12(self)
        tls12.take_over(client_hello, client_hello_message, offer, transcript, server_hello)
        self.handshake = tls12
        return tls12.handle(HandshakeType.server_hello, server_hello[0])

    def complete_handshake(self) -> None:
        """Mark the (re)negotiation complete and record :attr:`result` from what
        the handshake filled in; called by a handshake once both Finished are done."""
        suite = self.suite
        if suite is None:  # pragma: no cover - a handshake completes after choosing one
            raise TLSError(AlertDescription.internal_error, "handshake completed without a suite")
        self.handshake_complete = True
        self.result = HandshakeResult(
            self.version,
            suite,
            self.group,
            self.peer_signature_scheme,
            self.alpn,
            tuple(self.peer_chain),
            self.peer_certificate,
            self.resumed,
            self.session_id,
            self.client_random,
            self.server_random,
            self.hrr_seen,
            self.extended_master_secret,
            self.secure_renegotiation,
            self.first_finished,
            self.certificate_requested,
            self.client_certificate_sent,
            self.session12,
            self.renegotiations,
            self.ocsp_staple,
            self.client_verify_data,
            self.server_verify_data,
        )

    def queue(self, data: bytes) -> None:
        self._out += data

    def queue_ccs(self) -> None:
        """A ChangeCipherSpec record under the current write state (TLS 1.2)."""
        if self.write_protection is None:
            self._out += plaintext_records(CHANGE_CIPHER_SPEC, b"\x01", 0x0303)
        else:
            self._out += self.write_protection.seal(CHANGE_CIPHER_SPEC, b"\x01")

    def send_handshake(self, messages: bytes) -> None:
        """Queue handshake messages under the current write keys."""
        if self.write_protection is None:
            self._out += plaintext_records(HANDSHAKE, messages, self._plaintext_version())
            return
        for i in range(0, len(messages), MAX_PLAINTEXT):
            self._out += self.write_protection.seal(HANDSHAKE, messages[i : i + MAX_PLAINTEXT])

    def _plaintext_version(self) -> int:
        """legacy_record_version of an unprotected record we send.

        0x0301 only before any server message (the initial ClientHello); RFC 8446
        section 5.1 requires 0x0303 for everything else, including the second
        ClientHello after a HelloRetryRequest.
        """
        return 0x0303 if self.server_hello_seen or self.hrr_seen else 0x0301

    def log_message(self, direction: str, msg_type: int, message: bytes) -> None:
        log = self.message_log
        if log is not None:
            log.append((direction, msg_type, message))

    def require_no_partial_message(self, why: str = "handshake message spans a key change") -> None:
        """Handshake messages must not span a key change (RFC 8446 section 5.1), nor
        follow the end of the server's flight (``why`` says which)."""
        if self._hs_buf or self._hs_rest:
            raise unexpected(why)

    # --- record demultiplexing ------------------------------------------------

    def _receive(self, record: bytes | memoryview) -> list[Event]:
        total = frame(record)
        if total != len(record):
            raise decode_error("receive_record needs exactly one complete record")
        ctype = record[0]
        if ctype == CHANGE_CIPHER_SPEC and (self.version != 0x0303 or self.read_protection is None):
            # TLS 1.3 (or the first TLS 1.2 handshake): CCS is never protected.
            if self._hs_buf:
                raise unexpected("change_cipher_spec inside a fragmented handshake message")
            if self.version != 0x0303:  # TLS 1.3 (or not yet known): a CCS carries nothing
                self._count_empty_record()
            return self._on_ccs(bytes(record[HEADER_LEN:]))
        if self.read_protection is not None:
            ctype, payload = self.read_protection.open(record)
            return self._on_protected(ctype, payload)
        if ctype == APPLICATION_DATA:
            raise unexpected("application data before keys are established")
        payload = bytes(record[HEADER_LEN:])
        if len(payload) > MAX_PLAINTEXT:
            raise TLSError(AlertDescription.record_overflow, "plaintext record too long")
        return self._on_content(ctype, payload)

    def _on_protected(self, ctype: int, payload: bytes) -> list[Event]:
        if ctype == CHANGE_CIPHER_SPEC and self.version == 0x0304:
            raise unexpected("protected change_cipher_spec")  # RFC 8446 section 5
        return self._on_content(ctype, payload)

    def _count_empty_record(self) -> None:
        """One more record without content; too many in a row are a flood."""
        self.empty_records += 1
        if self.empty_records > MAX_EMPTY_RECORDS:
            raise unexpected("too many empty records in a row")

    def _on_content(self, ctype: int, payload: bytes) -> list[Event]:
        if not payload:
            self._count_empty_record()
        else:
            self.empty_records = 0
        if ctype != HANDSHAKE and self._hs_buf:
            raise unexpected("record interleaved with a fragmented handshake message")
        if ctype == CHANGE_CIPHER_SPEC:
            return self._on_ccs(payload)
        if ctype == HANDSHAKE:
            if not payload:
                raise unexpected("empty handshake record")
            return self._on_handshake_bytes(payload)
        if ctype == ALERT:
            return self._on_alert(payload)
        if ctype == APPLICATION_DATA:
            # During a TLS 1.2 renegotiation data still flows under the old keys.
            if not self.handshake_complete:
                raise unexpected("application data before the handshake completed")
            if self.peer_closed:
                raise unexpected("data after close_notify")
            self.key_updates_in_a_row = 0
            return [ApplicationData(payload)]
        raise unexpected(f"unexpected inner content type {ctype}")

    def _on_ccs(self, payload: bytes) -> list[Event]:
        if payload != b"\x01":
            raise unexpected("bad change_cipher_spec payload")
        if not self.handshake.ccs_allowed():
            raise unexpected("change_cipher_spec not allowed now")
        self.handshake.on_ccs()
        return [Ignored()]

    def _on_alert(self, payload: bytes) -> list[Event]:
        if len(payload) != 2:
            raise decode_error("alert record must be two bytes")
        level, desc = payload
        if desc == AlertDescription.close_notify:
            self.peer_closed = True
            return [CloseNotify()]
        if level not in (AlertLevel.warning, AlertLevel.fatal):
            raise TLSError(AlertDescription.illegal_parameter, "bad alert level")
        if (
            self.version == 0x0303
            and level == AlertLevel.warning
            and desc == AlertDescription.no_renegotiation
            and self._previous_handshake is not None
            and self.handshake.awaiting_server_hello()
        ):
            # The server declined our renegotiation: carry on with the old session.
            self.handshake = self._previous_handshake
            self._previous_handshake = None
            return [RenegotiationRefused()]
        if level == AlertLevel.warning and (
            self.version != 0x0304 or desc == AlertDescription.user_canceled
        ):
            # TLS 1.2 warnings (e.g. no_renegotiation; also before the ServerHello, such as
            # RFC 6066's unrecognized_name) and user_canceled, a closure alert in TLS 1.3
            # too (RFC 8446 6.1: close_notify should follow), are survivable, but not in floods.
            self.warning_alerts += 1
            if self.warning_alerts > 4:
                raise unexpected("too many warning alerts")
            return [Ignored()]
        # TLS 1.3: every other alert is an error alert whatever its level (RFC 8446 6).
        raise TLSError(desc, "alert from the peer", remote=True)

    def _on_handshake_bytes(self, payload: bytes) -> list[Event]:
        """Split a handshake record's bytes into messages (joined to a partial one
        left by earlier records) and hand each to the state machine.

        While a message is handled, ``_hs_rest`` counts the bytes of this
        record after it, so that ``require_no_partial_message`` sees them.
        """
        buf = self._hs_buf
        if buf:
            buf += payload
            data = bytes(buf)
            buf.clear()
        else:
            data = payload
        events: list[Event] = []
        pos = 0
        end = len(data)
        try:
            while end - pos >= 4:
                length = (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]
                if length > MAX_HANDSHAKE_MESSAGE:
                    raise TLSError(AlertDescription.decode_error, "handshake message too long")
                stop = pos + 4 + length
                if stop > end:
                    break
                message = data[pos:stop]
                pos = stop
                self._hs_rest = end - stop
                msg_type = message[0]
                self.log_message("in", msg_type, message)
                events.extend(self.handshake.handle(msg_type, message))
                if self.failed:
                    break
        finally:
            self._hs_rest = 0
            if pos < end:
                buf += data[pos:]  # a partial message (or, after a failure, the rest)
        return events
