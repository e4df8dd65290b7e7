"""The TLS 1.3 client handshake (RFC 8446) as an explicit state table.

Theory of operation
-------------------
The client is always in one :class:`State`.  ``TRANSITIONS`` lists, for each
state, the handshake messages it accepts, the handler that processes one, and
the states that handler may move to; any other message is unexpected_message.
The table is the single description of the protocol: ``handle`` dispatches
through it and checks every move against it, and documentation (the state
diagram) is generated from it.

Full handshake::

    WAIT_SH --ServerHello--> WAIT_EE --EncryptedExtensions--> WAIT_CERT_CR
      (HelloRetryRequest: WAIT_SH again, at most once)
    WAIT_CERT_CR --CertificateRequest--> WAIT_CERT --Certificate--> WAIT_CV
    WAIT_CERT_CR --Certificate--> WAIT_CV --CertificateVerify--> WAIT_FINISHED
    WAIT_FINISHED --Finished--> CONNECTED (client flight queued)
    CONNECTED --NewSessionTicket | KeyUpdate--> CONNECTED

Keys change after ServerHello (handshake traffic secrets) and after the
server Finished (application traffic secrets); the client switches its write
keys to application keys once its own Finished is queued.
"""

from __future__ import annotations

import functools
import hmac
import struct
from typing import TYPE_CHECKING, cast

from .alerts import AlertDescription, TLSError, decode_error, illegal, unexpected
from .client_hello import client_hello_extensions as client_hello_extensions
from .client_hello import first_client_hello, first_offer
from .client_hello import offered_suites as offered_suites
from .clientauth import PAUSE, CertificateRequestInfo, parse_certificate_authorities, pick_scheme
from .codec import Reader
from .events import (
    CertificateRequested,
    CredentialNeeded,
    Event,
    HandshakeComplete,
    KeyUpdated,
    TicketReceived,
)
from .groups import KeyShare
from .handshake_base import Handler, StateEnum, dispatch_table
from .keyschedule import (
    KeySchedule13,
    finished_verify_data,
    next_traffic_secret,
    resumption_psk,
    traffic_keys,
)
from .messages import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    Ext,
    HandshakeType,
    NewSessionTicket13,
    Offer,
    ServerHello,
    certificate_verify_input,
    ext_key_share_client,
    find_ext,
    handshake_message,
    parse_alpn_list,
    parse_certificate_status,
    parse_extensions_only,
    parse_key_update,
    parse_u16_list,
)
from .record import CHANGE_CIPHER_SPEC, Protection13, plaintext_records
from .session import Ticket13, Transcript
from .sigalgs import check_signing_usage, leaf_certificate, parse_certificate, verify
from .suites import SUITES, CipherSuite

if TYPE_CHECKING:
    from .client import ClientCredential, TLSClient


class State(StateEnum):
    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_EE = "WAIT_EE"
    WAIT_CERT_CR = "WAIT_CERT_CR"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CV = "WAIT_CV"
    WAIT_FINISHED = "WAIT_FINISHED"
    WAIT_CLIENT_CREDENTIAL = "WAIT_CLIENT_CREDENTIAL"  # paused: the driver picks a certificate
    CONNECTED = "CONNECTED"
    TLS12 = "TLS12"  # the server chose TLS 1.2: handshake12 takes over


HT = HandshakeType
TRANSITIONS: dict[State, dict[int, tuple[str, tuple[State, ...]]]] = {
    State.WAIT_SH: {
        HT.server_hello: ("_on_server_hello", (State.WAIT_EE, State.WAIT_SH, State.TLS12))
    },
    State.WAIT_EE: {
        HT.encrypted_extensions: (
            "_on_encrypted_extensions",
            (State.WAIT_CERT_CR, State.WAIT_FINISHED),
        )
    },
    State.WAIT_CERT_CR: {
        HT.certificate_request: ("_on_certificate_request", (State.WAIT_CERT,)),
        HT.certificate: ("_on_certificate", (State.WAIT_CV,)),
    },
    State.WAIT_CERT: {HT.certificate: ("_on_certificate", (State.WAIT_CV,))},
    State.WAIT_CV: {HT.certificate_verify: ("_on_certificate_verify", (State.WAIT_FINISHED,))},
    State.WAIT_FINISHED: {
        HT.finished: ("_on_finished", (State.CONNECTED, State.WAIT_CLIENT_CREDENTIAL))
    },
    State.CONNECTED: {
        HT.certificate_request: (
            "_on_post_handshake_request",
            (State.CONNECTED, State.WAIT_CLIENT_CREDENTIAL),
        ),
        HT.new_session_ticket: ("_on_new_session_ticket", (State.CONNECTED,)),
        HT.key_update: ("_on_key_update", (State.CONNECTED,)),
    },
}

# Extensions a server may put in each message (RFC 8446 section 4.2 table).
ALLOWED_SH = frozenset({Ext.supported_versions, Ext.key_share, Ext.pre_shared_key})
ALLOWED_HRR = frozenset({Ext.supported_versions, Ext.key_share, Ext.cookie})
ALLOWED_EE = frozenset(
    {
        Ext.server_name,
        Ext.max_fragment_length,
        Ext.supported_groups,
        Ext.use_srtp,
        Ext.heartbeat,
        Ext.alpn,
        Ext.client_certificate_type,
        Ext.server_certificate_type,
        Ext.early_data,
        Ext.record_size_limit,
    }
)
# KeyUpdates accepted in a row without application data between them (BoringSSL's
# limit too): a flood past it is unexpected_message rather than endless work.
MAX_KEY_UPDATES_WITHOUT_DATA = 32
ALLOWED_CERT_ENTRY = frozenset({Ext.status_request, Ext.signed_certificate_timestamp})
KNOWN_EXTENSIONS = frozenset(int(e) for e in Ext)


_PSK_IDENTITY_HEADER = struct.Struct(">HH").pack
_PSK_AGE_AND_BINDERS = struct.Struct(">IHB").pack


class Handshake13:
    """Client side of the TLS 1.3 handshake; drives :class:`TLSClient`."""

    # Immutable starting values on the class, as in TLSClient.
    state = State.START
    client_hello: ClientHello | None = None
    #: The write protection our last KeyUpdate answer switched to (see _on_key_update).
    _answer: Protection13 | None = None
    client_hello_message = b""  # as sent (the latest, after a HelloRetryRequest)
    offer: Offer | None = None
    hrr_seen = False
    hrr_suite = 0
    ccs_sent = False
    schedule: KeySchedule13 | None = None
    #: The zero-binder pre_shared_key extension start() put in the ClientHello.
    psk_placeholder: bytes | None = None
    #: The schedule that computed the PSK binder (its early secret is reused).
    binder_schedule: KeySchedule13 | None = None
    c_hs = b""
    s_hs = b""
    c_ap = b""
    s_ap = b""
    res_master = b""
    cert_request: CertificateRequest13 | None = None
    psk_ticket: Ticket13 | None = None
    psk_accepted = False

    def __init__(self, conn: TLSClient) -> None:
        self.conn = conn
        self.transcript = Transcript()
        self.shares: dict[int, KeyShare] = {}
        self.sent_alpn: list[bytes] = []

    # --- dispatch ---------------------------------------------------------------

    def handle(self, msg_type: int, message: bytes) -> list[Event]:
        entry = _DISPATCH.get(self.state, _NOTHING).get(msg_type)
        if entry is None:
            name = HT(msg_type).name if msg_type in HT._value2member_map_ else str(msg_type)
            raise unexpected(f"{name} not expected in state {self.state.value}")
        handler, targets = entry
        next_state, events = handler(self, message)
        if next_state not in targets:  # pragma: no cover - table and code disagree
            raise TLSError(AlertDescription.internal_error, "state table violation")
        self.state = next_state
        return events

    def on_ccs(self) -> None:
        """A TLS 1.3 compatibility CCS changes nothing."""

    def in_progress(self) -> bool:
        return False

    def awaiting_server_hello(self) -> bool:
        return self.state == State.WAIT_SH

    def ccs_allowed(self) -> bool:
        """A compatibility CCS may arrive after our ClientHello until the server Finished.

        RFC 8446 section 5: "at any time after the first ClientHello message has been
        sent ... and before the peer's Finished", so also before the ServerHello when
        TLS 1.3 was offered.
        """
        return self.state in (
            State.WAIT_SH,
            State.WAIT_EE,
            State.WAIT_CERT_CR,
            State.WAIT_CERT,
            State.WAIT_CV,
            State.WAIT_FINISHED,
        ) and (
            self.state != State.WAIT_SH
            or (self.offer is not None and 0x0304 in self.offer.versions)
        )

    # --- ClientHello ----------------------------------------------------------

    def start(self) -> None:
        cfg = self.conn.config
        ch, self.shares = first_client_hello(cfg, self.conn.random)
        ticket = cfg.resume_ticket
        if 0x0304 in cfg.versions and ticket is not None and ticket.usable_at(self.conn.now()):
            if SUITES[ticket.suite].hash_name in _tls13_hashes(tuple(ch.cipher_suites)):
                self.psk_ticket = ticket
                self.psk_placeholder = self._psk_extension(b"")
                ch.extensions.append((Ext.pre_shared_key, self.psk_placeholder))
        self._send_client_hello(ch, first_offer(cfg, ch, self.shares))
        self.state = State.WAIT_SH

    def _psk_extension(self, binder: bytes) -> bytes:
        """pre_shared_key with our one ticket; a zero binder until it can be computed."""
        ticket = self.psk_ticket
        assert ticket is not None
        binder = binder or bytes(SUITES[ticket.suite].hash_len)
        identity = ticket.ticket
        # identities<7..2^16-1> = one (identity<1..2^16-1>, obfuscated_ticket_age);
        # binders<33..2^16-1> = one binder<32..255>.
        return b"".join(
            (
                _PSK_IDENTITY_HEADER(len(identity) + 6, len(identity)),
                identity,
                _PSK_AGE_AND_BINDERS(
                    ticket.obfuscated_age(self.conn.now()), len(binder) + 1, len(binder)
                ),
                binder,
            )
        )

    def _bind_psk(self, ch: ClientHello) -> tuple[ClientHello, bytes | None]:
        """Fill in the PSK binder over the ClientHello truncated before the binders.

        Also returns the bound ClientHello's encoding (None when there is no binder),
        so that it is not encoded a second time.
        """
        ticket = self.psk_ticket
        if ticket is None or not ch.extensions or ch.extensions[-1][0] != Ext.pre_shared_key:
            return ch, None
        suite = SUITES[ticket.suite]
        # Read the ticket age once: the identity bound is the identity sent, even
        # if the clock moves on while the binder is computed.  The placeholder
        # start() made is that identity, unless a hook replaced the extension.
        placeholder = ch.extensions[-1][1]
        if placeholder is not self.psk_placeholder:
            placeholder = self._psk_extension(b"")
            ch.extensions[-1] = (Ext.pre_shared_key, placeholder)
        self.psk_placeholder = None
        encoded = ch.encode()
        truncated = encoded[: len(encoded) - (2 + 1 + suite.hash_len)]
        schedule = KeySchedule13(suite.hash_name, ticket.psk)
        self.binder_schedule = schedule  # the ServerHello goes on from its early secret
        binder = finished_verify_data(
            suite.hash_name,
            schedule.binder_key(),
            self.transcript.digest_with(suite.hash_name, truncated),
        )
        body = placeholder[: len(placeholder) - suite.hash_len] + binder
        ch.extensions[-1] = (Ext.pre_shared_key, body)
        # The binder replaces the placeholder's last hash_len bytes, same length.
        return ch, encoded[: len(encoded) - suite.hash_len] + binder

    def _send_client_hello(self, ch: ClientHello, offer: Offer | None = None) -> None:
        """Bind the PSK, record what was offered (``offer`` when the caller knows it
        from the values it encoded; else read back from the ClientHello, which a
        customize_client_hello hook may have rewritten) and send it."""
        hook = self.conn.config.customize_client_hello
        if hook is not None:
            ch = hook(ch)
            offer = None
        ch, message = self._bind_psk(ch)
        self.client_hello = ch
        self.offer = offer if offer is not None else Offer.from_client_hello(ch)
        self.conn.client_random = ch.random
        if message is None:
            message = ch.encode()
        self.client_hello_message = message
        self.transcript.add(message)
        self.conn.log_message("out", HT.client_hello, message)
        self.conn.send_handshake(message)

    def _send_ccs_once(self) -> None:
        self.conn.queue(self.take_compat_ccs())

    def take_compat_ccs(self) -> bytes:
        """The middlebox-compatibility CCS record if it is still owed, else b"".

        RFC 8446 D.4: in compatibility mode (a non-empty legacy_session_id) the
        client sends one change_cipher_spec before its first protected record;
        that record may be an alert, when the server's encrypted flight fails.
        """
        offer = self.offer
        if offer is None or not offer.session_id or self.ccs_sent:
            return b""
        self.ccs_sent = True
        return plaintext_records(CHANGE_CIPHER_SPEC, b"\x01")

    # --- ServerHello / HelloRetryRequest ----------------------------------------

    def _on_server_hello(self, message: bytes) -> tuple[State, list[Event]]:
        assert self.offer is not None and self.client_hello is not None
        sh = ServerHello.parse(message[4:])
        self.conn.server_hello_seen = True  # alerts from here on: record version 0x0303
        if sh.legacy_version != 0x0303:
            raise TLSError(
                AlertDescription.protocol_version, "ServerHello legacy_version not 0x0303"
            )
        sv = find_ext(sh.extensions, Ext.supported_versions)
        if sv is None:
            # The server chose TLS 1.2 or older, noticing a downgrade.
            sentinel = sh.random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11)
            if 0x0304 in self.offer.versions and sentinel:
                raise TLSError(
                    AlertDescription.illegal_parameter, "downgrade sentinel", cause="downgrade"
                )
            if 0x0303 not in self.offer.versions:
                raise TLSError(
                    AlertDescription.protocol_version, "server did not negotiate TLS 1.3"
                )
            if self.hrr_seen:
                raise illegal("TLS 1.2 ServerHello after a HelloRetryRequest")
            self.conn.hand_over_to_tls12(
                self.client_hello,
                self.client_hello_message,
                self.offer,
                self.transcript,
                (message, sh),
            )
            return State.TLS12, []
        if len(sv) != 2 or int.from_bytes(sv, "big") != 0x0304:
            raise illegal("server selected a version we did not offer")
        if sh.session_id != self.offer.session_id:
            raise illegal("legacy_session_id_echo does not match")
        if sh.compression != 0:
            raise illegal("non-null compression")
        if sh.cipher_suite not in self.offer.cipher_suites or sh.cipher_suite not in SUITES:
            raise illegal("server chose a cipher suite we did not offer")
        suite = SUITES[sh.cipher_suite]
        if suite.version != 0x0304:
            raise illegal("TLS 1.2 cipher suite in a TLS 1.3 ServerHello")
        allowed = ALLOWED_HRR if sh.is_hrr else ALLOWED_SH
        for code, _ in sh.extensions:
            if code not in self.offer.extension_types and code != Ext.cookie:
                raise TLSError(
                    AlertDescription.unsupported_extension, f"unsolicited extension {code}"
                )
            if code not in allowed:
                raise illegal(f"extension {code} not allowed in ServerHello")
        if sh.is_hrr:
            return self._on_hello_retry(sh, suite, message)
        if self.hrr_seen and sh.cipher_suite != self.hrr_suite:
            raise illegal("ServerHello suite differs from HelloRetryRequest")
        psk = None
        selected = find_ext(sh.extensions, Ext.pre_shared_key)
        if selected is not None:
            ticket = self.psk_ticket
            if ticket is None or selected != b"\x00\x00":
                raise illegal("server selected a PSK we did not offer")
            if SUITES[ticket.suite].hash_name != suite.hash_name:
                raise illegal("server chose a suite whose hash does not match the PSK")
            psk = ticket.psk
            self.psk_accepted = True
        ks = find_ext(sh.extensions, Ext.key_share)
        if ks is None:
            raise TLSError(AlertDescription.missing_extension, "ServerHello without key_share")
        r = Reader(ks)
        group = r.uint16()
        peer_key = r.vector(2, 1)
        r.expect_end("key_share")
        if group not in self.shares or group not in self.offer.share_groups:
            raise illegal("server key share for a group we sent no share for")
        shared = self.shares[group].exchange(peer_key)

        conn = self.conn
        conn.version = 0x0304
        conn.extended_master_secret = True  # the TLS 1.3 key schedule binds the transcript
        conn.suite = suite
        conn.group = group
        conn.server_random = sh.random
        conn.session_id = sh.session_id
        self.transcript.set_hash(suite.hash_name)
        self.transcript.add(message)
        conn.require_no_partial_message()
        binder = self.binder_schedule
        if psk is not None and binder is not None and binder.hash_name == suite.hash_name:
            self.schedule = binder  # same PSK, same early secret: not derived twice
        else:
            self.schedule = KeySchedule13(suite.hash_name, psk)
        if self.psk_accepted and self.psk_ticket is not None:
            conn.resumed = True
            conn.peer_chain = list(self.psk_ticket.peer_chain)
            conn.peer_certificate = leaf_certificate(conn.peer_chain)
            conn.ocsp_staple = self.psk_ticket.ocsp_staple
        self.schedule.enter_handshake(shared)
        self.c_hs, self.s_hs = self.schedule.handshake_traffic(self.transcript.digest())
        conn.secrets = self.schedule.secrets
        conn.read_protection = _protection(suite, self.s_hs)
        conn.write_protection = _protection(suite, self.c_hs)
        self.shares.clear()
        return State.WAIT_EE, []

    def _on_hello_retry(
        self, sh: ServerHello, suite: CipherSuite, message: bytes
    ) -> tuple[State, list[Event]]:
        assert self.offer is not None and self.client_hello is not None
        if self.hrr_seen:
            raise unexpected("second HelloRetryRequest")
        # The server must wait for the second ClientHello: nothing may follow the
        # HelloRetryRequest in its record (BoGo's PartialServerHelloWithHelloRetryRequest).
        self.conn.require_no_partial_message("handshake data after HelloRetryRequest")
        self.hrr_seen = True
        self.conn.hrr_seen = True
        self.hrr_suite = sh.cipher_suite
        ks = find_ext(sh.extensions, Ext.key_share)
        cookie = find_ext(sh.extensions, Ext.cookie)
        new_group = None
        if ks is not None:
            if len(ks) != 2:
                raise decode_error("HelloRetryRequest key_share must be a group")
            new_group = int.from_bytes(ks, "big")
            if new_group not in self.offer.groups:
                raise illegal("HelloRetryRequest names a group we did not offer")
            if new_group in self.offer.share_groups:
                raise illegal("HelloRetryRequest names a group we already sent a share for")
        if new_group is None and cookie is None:
            raise illegal("HelloRetryRequest would not change the ClientHello")
        self.transcript.restart_for_hrr(suite.hash_name)
        self.transcript.add(message)
        self._send_ccs_once()
        old = self.client_hello
        exts: list[tuple[int, bytes]] = []
        for code, body in old.extensions:
            if code == Ext.early_data:
                continue
            if code == Ext.key_share and new_group is not None:
                self.shares = {new_group: KeyShare(new_group, self.conn.random)}
                body = ext_key_share_client([(new_group, self.shares[new_group].public)])
            if code == Ext.pre_shared_key:
                ticket = self.psk_ticket
                if ticket is None or SUITES[ticket.suite].hash_name != suite.hash_name:
                    self.psk_ticket = None  # the retry's suite cannot use this PSK
                    continue
                body = self._psk_extension(b"")
            exts.append((code, body))
        if cookie is not None:
            # The cookie goes before pre_shared_key, which must stay last.
            last_is_psk = bool(exts) and exts[-1][0] == Ext.pre_shared_key
            exts.insert(len(exts) - 1 if last_is_psk else len(exts), (Ext.cookie, cookie))
        ch2 = ClientHello(old.random, old.session_id, old.cipher_suites, exts, old.legacy_version)
        self._send_client_hello(ch2)
        return State.WAIT_SH, []

    # --- server's encrypted flight ---------------------------------------------

    def _on_encrypted_extensions(self, message: bytes) -> tuple[State, list[Event]]:
        assert self.offer is not None
        exts = parse_extensions_only(message[4:], "EncryptedExtensions")
        for code, body in exts:
            if code in KNOWN_EXTENSIONS and code not in ALLOWED_EE:
                raise illegal(f"extension {code} not allowed in EncryptedExtensions")
            if code not in self.offer.extension_types:
                raise TLSError(
                    AlertDescription.unsupported_extension, f"unsolicited extension {code}"
                )
            if code == Ext.alpn:
                protos = parse_alpn_list(body)
                if len(protos) != 1 or protos[0] not in self.offer.alpn:
                    raise illegal("server ALPN must be one protocol we offered")
                self.conn.alpn = protos[0]
            elif code == Ext.server_name and body:
                raise decode_error("server_name in EncryptedExtensions must be empty")
            elif code == Ext.supported_groups:
                parse_u16_list(body)
        self.transcript.add(message)
        if self.psk_accepted:
            reverify = self.conn.config.verify_resumed_certificate
            if reverify is not None:
                reverify(list(self.conn.peer_chain))
            return State.WAIT_FINISHED, []
        return State.WAIT_CERT_CR, []

    def _on_certificate_request(self, message: bytes) -> tuple[State, list[Event]]:
        cr = CertificateRequest13.parse(message[4:])
        if cr.request_context:
            raise illegal("certificate_request_context must be empty in the handshake")
        if find_ext(cr.extensions, Ext.signature_algorithms) is None:
            raise TLSError(
                AlertDescription.missing_extension,
                "CertificateRequest without signature_algorithms",
            )
        self.cert_request = cr
        self.conn.certificate_requested = True
        self.conn.certificate_authorities = _authorities(cr)
        self.conn.peer_verify_schemes = _request_schemes(cr)
        self.transcript.add(message)
        return State.WAIT_CERT, []

    def _credential_ready(self, cr: CertificateRequest13, post_handshake: bool) -> bool:
        """Settle config.client_credential for a request; False means wait for the driver."""
        cfg = self.conn.config
        if cfg.client_credential is not None or cfg.choose_credential is None:
            return True
        info = CertificateRequestInfo(
            _request_schemes(cr),
            _authorities(cr),
            cr.request_context,
            post_handshake,
        )
        choice = cfg.choose_credential(info)
        if choice is PAUSE:
            return False
        cfg.client_credential = cast("ClientCredential | None", choice)
        return True

    def _on_post_handshake_request(self, message: bytes) -> tuple[State, list[Event]]:
        """TLS 1.3 post-handshake authentication (only if we offered it)."""
        assert self.offer is not None
        if Ext.post_handshake_auth not in self.offer.extension_types:
            raise unexpected("post-handshake CertificateRequest without post_handshake_auth")
        cr = CertificateRequest13.parse(message[4:])
        if not cr.request_context:
            raise illegal("post-handshake certificate_request_context must not be empty")
        if find_ext(cr.extensions, Ext.signature_algorithms) is None:
            raise TLSError(
                AlertDescription.missing_extension,
                "CertificateRequest without signature_algorithms",
            )
        self.conn.require_no_partial_message()
        self.conn.certificate_requested = True
        self.conn.certificate_authorities = _authorities(cr)
        self.conn.peer_verify_schemes = _request_schemes(cr)
        transcript = self.transcript.fork()
        transcript.add(message)

        def answer() -> list[Event]:
            self._answer_post_handshake(cr, transcript)
            self.state = State.CONNECTED
            return [CertificateRequested()]

        if not self._credential_ready(cr, post_handshake=True):
            self.conn.pause_for_credential(answer)
            return State.WAIT_CLIENT_CREDENTIAL, [CertificateRequested(), CredentialNeeded()]
        self._answer_post_handshake(cr, transcript)
        return State.CONNECTED, [CertificateRequested()]

    def _answer_post_handshake(self, cr: CertificateRequest13, transcript: Transcript) -> None:
        """Certificate, CertificateVerify and Finished under the application keys."""
        conn = self.conn
        suite = conn.suite
        assert suite is not None
        messages = self._client_auth_messages(cr, transcript)
        fin = handshake_message(
            HT.finished, finished_verify_data(suite.hash_name, self.c_ap, transcript.digest())
        )
        conn.log_message("out", HT.finished, fin)
        conn.send_handshake(messages + fin)

    def _on_certificate(self, message: bytes) -> tuple[State, list[Event]]:
        cert = Certificate13.parse(message[4:])
        if cert.request_context:
            raise illegal("server Certificate has a request context")
        if not cert.entries:
            raise decode_error("server sent an empty certificate list")
        if len(cert.entries) > self.conn.config.max_chain_length:
            raise TLSError(AlertDescription.bad_certificate, "certificate chain too long")
        staple: bytes | None = None
        for index, entry in enumerate(cert.entries):
            for code, body in entry.extensions:
                if code not in ALLOWED_CERT_ENTRY:
                    raise illegal(f"extension {code} not allowed in CertificateEntry")
                if code not in self.offer_types():
                    raise TLSError(
                        AlertDescription.unsupported_extension, "unsolicited certificate extension"
                    )
                if code == Ext.status_request:
                    # RFC 8446 4.4.2.1: a CertificateStatus for the entry's certificate.
                    # Checked in every entry; only the leaf's is kept (an intermediate's
                    # is allowed and ignored, as BoringSSL and OpenSSL do).
                    response = parse_certificate_status(body)
                    if index == 0:
                        staple = response
        chain = [e.cert_data for e in cert.entries]
        try:
            leaf = parse_certificate(chain[0])
        except Exception:
            raise TLSError(
                AlertDescription.bad_certificate, "cannot parse the server certificate"
            ) from None
        check_signing_usage(leaf)
        self.conn.peer_chain = chain
        self.conn.peer_certificate = leaf
        if staple is not None:
            self.conn.ocsp_staple = staple
        verifier = self.conn.config.verify_certificate
        if verifier is not None:
            verifier(chain)
        self.transcript.add(message)
        return State.WAIT_CV, []

    def offer_types(self) -> set[int]:
        assert self.offer is not None
        return self.offer.extension_types

    def _on_certificate_verify(self, message: bytes) -> tuple[State, list[Event]]:
        assert self.offer is not None and self.conn.peer_certificate is not None
        cv = CertificateVerify.parse(message[4:])
        signed = certificate_verify_input(self.transcript.digest(), server=True)
        verify(
            cv.scheme,
            self.conn.peer_certificate,
            signed,
            cv.signature,
            self.offer.signature_schemes,
            allow_pkcs1=False,
        )
        self.conn.peer_signature_scheme = cv.scheme
        self.transcript.add(message)
        return State.WAIT_FINISHED, []

    def _on_finished(self, message: bytes) -> tuple[State, list[Event]]:
        conn = self.conn
        suite = conn.suite
        assert self.schedule is not None and suite is not None

        expected = finished_verify_data(suite.hash_name, self.s_hs, self.transcript.digest())
        if not hmac.compare_digest(expected, message[4:]):
            raise TLSError(AlertDescription.decrypt_error, "server Finished does not verify")
        self.transcript.add(message)
        conn.server_verify_data = expected
        conn.require_no_partial_message()
        self.schedule.enter_master()
        self.c_ap, self.s_ap = self.schedule.application_traffic(self.transcript.digest())
        conn.read_protection = _protection(suite, self.s_ap)
        if self.cert_request is not None and not self._credential_ready(self.cert_request, False):

            def resume() -> list[Event]:
                self.state, events = self._client_flight()
                return events

            conn.pause_for_credential(resume)
            return State.WAIT_CLIENT_CREDENTIAL, [CredentialNeeded()]
        return self._client_flight()

    def _client_flight(self) -> tuple[State, list[Event]]:
        """CCS (compat), client Certificate/CertificateVerify if asked, Finished; then app keys."""
        conn = self.conn
        suite = conn.suite
        assert self.schedule is not None and suite is not None
        self._send_ccs_once()
        flight = b""
        if self.cert_request is not None:
            flight += self._client_auth_messages(self.cert_request, self.transcript)
        verify_data = finished_verify_data(suite.hash_name, self.c_hs, self.transcript.digest())
        fin = handshake_message(HT.finished, verify_data)
        self.transcript.add(fin)
        conn.client_verify_data = verify_data
        conn.log_message("out", HT.finished, fin)
        conn.send_handshake(flight + fin)
        conn.write_protection = _protection(suite, self.c_ap)
        self.res_master = self.schedule.resumption_master(self.transcript.digest())
        conn.complete_handshake()
        return State.CONNECTED, [HandshakeComplete()]

    def _client_auth_messages(self, cr: CertificateRequest13, transcript: Transcript) -> bytes:
        """Certificate (possibly empty) and CertificateVerify for a CertificateRequest."""
        cred = self.conn.config.client_credential
        body = find_ext(cr.extensions, Ext.signature_algorithms) or b""
        scheme = pick_scheme(cred, parse_u16_list(body), tls13=True)
        entries = (
            [CertificateEntry(c, []) for c in cred.chain] if cred is not None and scheme else []
        )
        cert_msg = Certificate13(cr.request_context, entries).encode()
        transcript.add(cert_msg)
        self.conn.log_message("out", HT.certificate, cert_msg)
        self.conn.client_certificate_sent = bool(entries)
        if not entries or cred is None:
            return cert_msg
        signed = certificate_verify_input(transcript.digest(), server=False)
        cv = CertificateVerify(scheme, cred.sign(scheme, signed)).encode()
        transcript.add(cv)
        self.conn.log_message("out", HT.certificate_verify, cv)
        self.conn.client_certificate_sent = True
        return cert_msg + cv

    # --- post-handshake ---------------------------------------------------------

    def _on_new_session_ticket(self, message: bytes) -> tuple[State, list[Event]]:
        assert self.conn.suite is not None
        nst = NewSessionTicket13.parse(message[4:])
        for code, _ in nst.extensions:
            if code in KNOWN_EXTENSIONS and code != Ext.early_data:
                raise illegal(f"extension {code} not allowed in NewSessionTicket")
        self.conn.tickets_received += 1
        suite = self.conn.suite
        if nst.lifetime == 0:
            return State.CONNECTED, [TicketReceived()]
        ticket = Ticket13(
            ticket=nst.ticket,
            lifetime=nst.lifetime,
            age_add=nst.age_add,
            nonce=nst.nonce,
            psk=resumption_psk(suite.hash_name, self.res_master, nst.nonce),
            suite=suite.code,
            received_at=self.conn.now(),
            server_name=self.conn.config.server_name,
            alpn=self.conn.alpn,
            extensions=nst.extensions,
            peer_chain=list(self.conn.peer_chain),
            ocsp_staple=self.conn.ocsp_staple,
        )
        tickets = self.conn.tickets
        tickets.append(ticket)
        del tickets[: max(0, len(tickets) - self.conn.config.max_tickets)]
        return State.CONNECTED, [TicketReceived()]

    def _on_key_update(self, message: bytes) -> tuple[State, list[Event]]:
        conn = self.conn
        suite = conn.suite
        assert suite is not None
        requested = parse_key_update(message[4:])
        conn.require_no_partial_message()
        conn.key_updates_in_a_row += 1
        if conn.key_updates_in_a_row > MAX_KEY_UPDATES_WITHOUT_DATA:
            raise unexpected("too many KeyUpdates without application data")
        self.s_ap = next_traffic_secret(suite.hash_name, self.s_ap)
        conn.read_protection = _protection(suite, self.s_ap)
        # RFC 8446 4.6.3: KeyUpdates received while we are silent get a single
        # answer; ours is still owed only if we wrote a record since the last one.
        answer = requested and not conn.local_closed
        if answer and self._answer is not None and conn.write_protection is self._answer:
            answer = self._answer.seq != 0
        if answer:
            self._answer = self.send_key_update(False)
        return State.CONNECTED, [KeyUpdated(answered=answer)]

    def send_key_update(self, request_peer: bool) -> Protection13:
        """Queue our KeyUpdate and move our write direction to the next secret (returned)."""
        conn = self.conn
        suite = conn.suite
        assert suite is not None
        message = handshake_message(HT.key_update, b"\x01" if request_peer else b"\x00")
        conn.log_message("out", HT.key_update, message)
        conn.send_handshake(message)
        self.c_ap = next_traffic_secret(suite.hash_name, self.c_ap)
        conn.write_protection = protection = _protection(suite, self.c_ap)
        return protection


_DISPATCH = dispatch_table(Handshake13, TRANSITIONS)
_NOTHING: dict[int, tuple[Handler[State], tuple[State, ...]]] = {}


def _request_schemes(cr: CertificateRequest13) -> list[int]:
    """The signature_algorithms of a CertificateRequest (checked present by the caller);
    an empty list is decode_error, as the vector is ``<2..2^16-2>`` (RFC 8446 4.2.3;
    BoGo ClientAuth-NoFallback-TLS13)."""
    schemes = parse_u16_list(find_ext(cr.extensions, Ext.signature_algorithms) or b"\x00\x00")
    if not schemes:
        raise decode_error("CertificateRequest with an empty signature_algorithms list")
    return schemes


def _authorities(cr: CertificateRequest13) -> list[bytes]:
    body = find_ext(cr.extensions, Ext.certificate_authorities)
    return parse_certificate_authorities(body) if body is not None else []


@functools.lru_cache(maxsize=64)
def _tls13_hashes(suites: tuple[int, ...]) -> frozenset[str]:
    """Hash names of the TLS 1.3 suites among ``suites`` (a resumption ticket's suite
    must share one with an offered suite)."""
    return frozenset(
        SUITES[c].hash_name for c in suites if c in SUITES and SUITES[c].version == 0x0304
    )


def _protection(suite: CipherSuite, secret: bytes) -> Protection13:
    key, iv = traffic_keys(suite.hash_name, secret, suite.key_len)
    return Protection13(suite, secret, key, iv)
