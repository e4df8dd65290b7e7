"""The TLS 1.2 client handshake (RFC 5246, ECDHE + AEAD only) as an explicit state table.

Theory of operation
-------------------
Handshake13 sends the ClientHello (built by :mod:`client_hello`, which the
renegotiation ClientHello here shares); when the ServerHello carries no
supported_versions extension and TLS 1.2 was offered, the client facade hands
the connection to :class:`Handshake12` (``TLSClient.hand_over_to_tls12`` calls
``take_over``), which then processes that ServerHello.  Neither handshake
module imports the other.  Like the TLS 1.3 machine, ``TRANSITIONS`` lists
what each state accepts, the handler, and where it may go::

    WAIT_SH --ServerHello--> WAIT_CERT --Certificate--> WAIT_SKE
    WAIT_CERT --Certificate--> WAIT_CERT_STATUS   (the server acked status_request)
    WAIT_CERT_STATUS --CertificateStatus--> WAIT_SKE
    WAIT_CERT_STATUS --ServerKeyExchange--> WAIT_CR_SHD   (no staple after all)
    WAIT_SKE --ServerKeyExchange--> WAIT_CR_SHD
    WAIT_CR_SHD --CertificateRequest--> WAIT_SHD --ServerHelloDone--> WAIT_CCS
    WAIT_CR_SHD --ServerHelloDone--> WAIT_CCS   (client flight queued)
    WAIT_CCS --NewSessionTicket--> WAIT_CCS;  ChangeCipherSpec --> WAIT_FINISHED
    WAIT_FINISHED --Finished--> CONNECTED
    CONNECTED --HelloRequest--> CONNECTED (renegotiation requested, or dropped if
                                           config.ignore_hello_request)

The certificate check (``config.verify_certificate``) runs when the
Certificate arrives, or, when the server acknowledged status_request (OCSP
stapling, RFC 6066 section 8), once the optional CertificateStatus has
arrived or the next message shows that it will not, so that the check can
read the staple (``TLSClient.ocsp_staple``), as BoringSSL verifies after its
read_certificate_status state.

ChangeCipherSpec is not a handshake message; the facade calls ``on_ccs``,
which is allowed only in WAIT_CCS.  Renegotiation (RFC 5746) is a new
Handshake12 started on an established connection: its records travel under
the current keys until the new ChangeCipherSpec, and renegotiation_info
carries the previous Finished values.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, cast

from cryptography import x509

from . import prf
from .alerts import AlertDescription, TLSError, decode_error, illegal, unexpected
from .client_hello import renegotiation_client_hello
from .clientauth import PAUSE, CertificateRequestInfo, pick_scheme
from .codec import Reader, Writer
from .events import (
    CredentialNeeded,
    Event,
    HandshakeComplete,
    Ignored,
    RenegotiationRequested,
)
from .groups import HYBRIDS, SECP256R1, SECP384R1, KeyShare
from .handshake_base import Handler, StateEnum, dispatch_table
from .messages import (
    ClientHello,
    Ext,
    HandshakeType,
    Offer,
    ServerHello,
    find_ext,
    handshake_message,
    parse_alpn_list,
    parse_certificate_status,
)
from .record import Protection12
from .session import Session12, Transcript
from .sigalgs import check_signing_usage, leaf_certificate, parse_certificate, public_key_of, verify
from .suites import SUITES, CipherSuite

if TYPE_CHECKING:
    from .client import ClientCredential, TLSClient


class State12(StateEnum):
    START = "START"
    WAIT_SH = "WAIT_SH"
    WAIT_CERT = "WAIT_CERT"
    WAIT_CERT_STATUS = "WAIT_CERT_STATUS"  # status_request acked: a CertificateStatus may come
    WAIT_SKE = "WAIT_SKE"
    WAIT_CR_SHD = "WAIT_CR_SHD"
    WAIT_SHD = "WAIT_SHD"
    WAIT_CLIENT_CREDENTIAL = "WAIT_CLIENT_CREDENTIAL"  # paused: the driver picks a certificate
    WAIT_CCS = "WAIT_CCS"
    WAIT_FINISHED = "WAIT_FINISHED"
    CONNECTED = "CONNECTED"


HT = HandshakeType
S = State12
TRANSITIONS: dict[State12, dict[int, tuple[str, tuple[State12, ...]]]] = {
    S.WAIT_SH: {HT.server_hello: ("_on_server_hello", (S.WAIT_CERT, S.WAIT_CCS))},
    S.WAIT_CERT: {HT.certificate: ("_on_certificate", (S.WAIT_SKE, S.WAIT_CERT_STATUS))},
    S.WAIT_CERT_STATUS: {
        HT.certificate_status: ("_on_certificate_status", (S.WAIT_SKE,)),
        HT.server_key_exchange: ("_on_server_key_exchange_unstapled", (S.WAIT_CR_SHD,)),
    },
    S.WAIT_SKE: {HT.server_key_exchange: ("_on_server_key_exchange", (S.WAIT_CR_SHD,))},
    S.WAIT_CR_SHD: {
        HT.certificate_request: ("_on_certificate_request", (S.WAIT_SHD,)),
        HT.server_hello_done: ("_on_server_hello_done", (S.WAIT_CCS, S.WAIT_CLIENT_CREDENTIAL)),
    },
    S.WAIT_SHD: {
        HT.server_hello_done: ("_on_server_hello_done", (S.WAIT_CCS, S.WAIT_CLIENT_CREDENTIAL))
    },
    S.WAIT_CCS: {HT.new_session_ticket: ("_on_new_session_ticket", (S.WAIT_CCS,))},
    S.WAIT_FINISHED: {HT.finished: ("_on_finished", (S.CONNECTED,))},
    S.CONNECTED: {HT.hello_request: ("_on_hello_request", (S.CONNECTED,))},
}

#: TLS 1.2 ECDSA leaf curves that are also groups: an offer without the group
#: refuses the certificate (RFC 8422 section 5.3; see _on_server_key_exchange).
_LEAF_CURVES: dict[str, int] = {
    "secp256r1": SECP256R1,
    "secp384r1": SECP384R1,
}

ALLOWED_SH12 = frozenset(
    {
        Ext.server_name,
        Ext.ec_point_formats,
        Ext.alpn,
        Ext.extended_master_secret,
        Ext.session_ticket,
        Ext.renegotiation_info,
        Ext.max_fragment_length,
        Ext.status_request,
        Ext.signed_certificate_timestamp,
        Ext.encrypt_then_mac,
        Ext.record_size_limit,
        # Not defined for a TLS 1.2 ServerHello, but we offered it and some servers
        # echo it: tolerated and ignored (as BoringSSL, NSS and OpenSSL do).
        Ext.supported_groups,
    }
)
NAMED_CURVE = 3


class Handshake12:
    """Client side of a TLS 1.2 handshake (first or renegotiation)."""

    # Immutable starting values on the class, as in TLSClient.
    state = S.START
    client_hello: ClientHello | None = None
    offer: Offer | None = None
    suite: CipherSuite | None = None
    client_random = b""
    server_random = b""
    ems = False
    leaf: x509.Certificate | None = None
    group = 0
    server_public = b""
    cert_request: tuple[list[int], list[bytes]] | None = None
    master = b""
    pending_read: Protection12 | None = None
    ticket = b""
    ticket_lifetime = 0
    session_id = b""
    client_verify_data = b""
    client_scheme = 0
    abbreviated = False
    pending_write: Protection12 | None = None
    resumed_session: Session12 | None = None
    ticket_renewed = False
    scheme = 0  # the server's ServerKeyExchange signature scheme
    #: The server acknowledged status_request: a CertificateStatus may follow its Certificate.
    status_expected = False
    #: (message, its parse) of a ServerHello Handshake13 handed over.
    _parsed_server_hello: tuple[bytes, ServerHello] | None = None

    def __init__(self, conn: TLSClient, renegotiation: bool = False) -> None:
        self.conn = conn
        self.renegotiation = renegotiation
        self.transcript = Transcript()
        self.raw: list[bytes] = []  # the messages themselves, for a client CertificateVerify
        self.chain: list[bytes] = []

    # --- facade protocol ----------------------------------------------------------

    def awaiting_server_hello(self) -> bool:
        return self.state == S.WAIT_SH

    def in_progress(self) -> bool:
        return self.renegotiation and self.state != S.CONNECTED

    def ccs_allowed(self) -> bool:
        return self.state == S.WAIT_CCS

    def on_ccs(self) -> None:
        self.conn.require_no_partial_message()
        if self.pending_read is None:
            raise unexpected("change_cipher_spec before keys were computed")
        self.conn.read_protection = self.pending_read
        self.pending_read = None
        self.state = S.WAIT_FINISHED

    def handle(self, msg_type: int, message: bytes) -> list[Event]:
        entry = _DISPATCH.get(self.state, _NOTHING).get(msg_type)
        if entry is None:
            if msg_type == HT.hello_request:
                # Ignored while a handshake (first or renegotiation) is under way
                # (RFC 5246 7.4.1.1); not part of the transcript.
                return []
            raise unexpected(
                f"handshake message {msg_type} not expected in TLS 1.2 state {self.state.value}"
            )
        handler, targets = entry
        next_state, events = handler(self, message)
        if next_state not in targets:  # pragma: no cover - table and code disagree
            raise TLSError(AlertDescription.internal_error, "state table violation")
        self.state = next_state
        return events

    def _add(self, message: bytes) -> None:
        self.transcript.add(message)
        self.raw.append(message)

    # --- ClientHello ------------------------------------------------------------------

    def take_over(
        self,
        client_hello: ClientHello,
        client_hello_message: bytes,
        offer: Offer,
        transcript: Transcript,
        server_hello: tuple[bytes, ServerHello] | None = None,
    ) -> None:
        """Continue the handshake Handshake13 started (the server chose TLS 1.2).

        ``client_hello_message`` is the ClientHello as sent; ``server_hello`` the
        ServerHello message Handshake13 already parsed, with its parse, so that
        neither is encoded or parsed twice.
        """
        self.client_hello = client_hello
        self.offer = offer
        self.client_random = client_hello.random
        self.transcript = transcript
        self.raw = [client_hello_message]
        self._parsed_server_hello = server_hello
        self.state = S.WAIT_SH

    def start(self) -> None:
        """Send a ClientHello for a renegotiation (TLS 1.2 only, under the current keys)."""
        cfg = self.conn.config
        ch = renegotiation_client_hello(cfg, self.conn.random, self.conn.client_verify_data)
        self.client_random = ch.random
        hook = cfg.customize_client_hello
        if hook is not None:
            ch = hook(ch)
        self.client_hello = ch
        self.offer = Offer.from_client_hello(ch)
        message = ch.encode()
        self._add(message)
        self.conn.log_message("out", HT.client_hello, message)
        self.conn.send_handshake(message)
        self.state = S.WAIT_SH

    # --- server flight ------------------------------------------------------------------

    def _on_server_hello(self, message: bytes) -> tuple[State12, list[Event]]:
        assert self.offer is not None
        conn = self.conn
        handed, self._parsed_server_hello = self._parsed_server_hello, None
        if handed is not None and handed[0] is message:
            sh = handed[1]
        else:
            sh = ServerHello.parse(message[4:])
        conn.server_hello_seen = True  # alerts from here on: record version 0x0303
        if sh.is_hrr:
            raise unexpected("HelloRetryRequest in TLS 1.2")
        if sh.legacy_version != 0x0303:
            raise TLSError(
                AlertDescription.protocol_version, "server chose a version below TLS 1.2"
            )
        if 0x0303 not in self.offer.versions:
            raise TLSError(AlertDescription.protocol_version, "TLS 1.2 was not offered")
        suite = SUITES.get(sh.cipher_suite)
        if (
            sh.cipher_suite not in self.offer.cipher_suites
            or suite is None
            or suite.version != 0x0303
        ):
            raise illegal("server chose a cipher suite we did not offer")
        if sh.compression != 0:
            raise illegal("non-null compression")
        for code, body in sh.extensions:
            if code not in self.offer.extension_types or code not in ALLOWED_SH12:
                raise TLSError(
                    AlertDescription.unsupported_extension, f"unsolicited extension {code}"
                )
            if code == Ext.ec_point_formats:
                r = Reader(body)
                formats = r.vector(1, 1)
                r.expect_end("ec_point_formats")
                if 0 not in formats:
                    raise illegal("server does not accept uncompressed points")
            elif code == Ext.extended_master_secret and body:
                raise decode_error("extended_master_secret must be empty")
            elif code == Ext.session_ticket and body:
                raise decode_error("session_ticket in ServerHello must be empty")
            elif code == Ext.status_request:
                # RFC 6066 section 8: the server's acknowledgement is empty.  On an
                # abbreviated handshake it promises nothing (no Certificate follows).
                if body:
                    raise decode_error("status_request in ServerHello must be empty")
                self.status_expected = True
            elif code == Ext.alpn:
                protos = parse_alpn_list(body)
                if len(protos) != 1 or protos[0] not in self.offer.alpn:
                    raise illegal("server ALPN must be one protocol we offered")
                conn.alpn = protos[0]
        reneg = find_ext(sh.extensions, Ext.renegotiation_info)
        expected = b""
        if self.renegotiation:
            expected = conn.client_verify_data + conn.server_verify_data
        if reneg is None:
            raise TLSError(
                AlertDescription.handshake_failure, "server does not support secure renegotiation"
            )
        if reneg[:1] != bytes([len(expected)]) or not hmac.compare_digest(reneg[1:], expected):
            raise TLSError(AlertDescription.handshake_failure, "renegotiation_info mismatch")
        conn.secure_renegotiation = True
        self.ems = find_ext(sh.extensions, Ext.extended_master_secret) is not None
        if self.renegotiation and conn.extended_master_secret and not self.ems:
            raise TLSError(
                AlertDescription.handshake_failure,
                "extended master secret dropped on renegotiation",
            )
        self.suite = suite
        self.server_random = sh.random
        self.session_id = sh.session_id
        self.transcript.set_hash(suite.hash_name)
        self._add(message)
        if not self.renegotiation:
            conn.version = 0x0303
            conn.suite = suite
            conn.client_random = self.client_random
            conn.server_random = sh.random
            conn.session_id = sh.session_id
        session = conn.config.resume_session12 if not self.renegotiation else None
        if sh.session_id and sh.session_id == self.offer.session_id:
            if session is None:
                # The ClientHello's session ID resumes nothing (TLS 1.3 compatibility
                # mode sends a random one): echoing it claims a resumption we never
                # offered.
                raise illegal("server echoed a session ID that resumes no session")
            return self._resume(session, suite), []
        return S.WAIT_CERT, []

    def _resume(self, session: Session12, suite: CipherSuite) -> State12:
        """The server accepted our session: abbreviated handshake (RFC 5246 section 7.3)."""
        if session.suite != suite.code:
            raise illegal("resumed session with a different cipher suite")
        if not self.ems:
            # RFC 7627 section 5.3: a session with EMS must be resumed with EMS.
            raise TLSError(
                AlertDescription.handshake_failure, "resumption without extended master secret"
            )
        conn = self.conn
        self.abbreviated = True
        self.master = session.master_secret
        self.chain = list(session.peer_chain)
        conn.resumed = True
        conn.peer_chain = list(session.peer_chain)
        self.leaf = conn.peer_certificate = leaf_certificate(conn.peer_chain)
        self.resumed_session = session
        if session.ocsp_staple is not None:
            conn.ocsp_staple = session.ocsp_staple
        reverify = conn.config.verify_resumed_certificate
        if reverify is not None:
            reverify(list(conn.peer_chain))
        ck, sk, civ, siv = self._key_block()
        self.pending_read = Protection12(suite, sk, siv)
        self.pending_write = Protection12(suite, ck, civ)
        return S.WAIT_CCS

    def _key_block(self) -> tuple[bytes, bytes, bytes, bytes]:
        suite = self.suite
        assert suite is not None
        iv_len = 4 if suite.cipher == "AES" else 12
        return prf.key_block(
            suite.hash_name,
            self.master,
            self.client_random,
            self.server_random,
            suite.key_len,
            iv_len,
        )

    def _on_certificate(self, message: bytes) -> tuple[State12, list[Event]]:
        assert self.suite is not None
        r = Reader(message[4:])
        chain: list[bytes] = []
        with r.sub(3) as lst:
            while not lst.at_end():
                chain.append(lst.vector(3, 1))
        r.expect_end("Certificate")
        if not chain:
            raise decode_error("server sent an empty certificate list")
        if len(chain) > self.conn.config.max_chain_length:
            raise TLSError(AlertDescription.bad_certificate, "certificate chain too long")
        try:
            leaf = parse_certificate(chain[0])
            key = public_key_of(leaf)
        except Exception:
            raise TLSError(
                AlertDescription.bad_certificate, "cannot parse the server certificate"
            ) from None
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        fits = (
            isinstance(key, rsa.RSAPublicKey)
            if self.suite.auth == "RSA"
            else isinstance(key, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey))
        )
        if not fits:
            raise TLSError(
                AlertDescription.unsupported_certificate, "certificate key does not match the suite"
            )
        check_signing_usage(leaf)
        if not self.renegotiation:
            # Before the check, so that it can read REMOTE_CERT_CONTEXT (as in TLS 1.3).
            self.conn.peer_chain = chain
            self.conn.peer_certificate = leaf
        self.chain = chain
        self.leaf = leaf
        if self.status_expected:
            self._add(message)
            return S.WAIT_CERT_STATUS, []  # the check waits for the staple
        self._check_certificate(None)
        self._add(message)
        return S.WAIT_SKE, []

    def _check_certificate(self, staple: bytes | None) -> None:
        """Publish the staple (if any) and run config.verify_certificate on the chain."""
        conn = self.conn
        if staple is not None or self.renegotiation:
            conn.ocsp_staple = staple
        verifier = conn.config.verify_certificate
        if verifier is not None:
            verifier(self.chain)

    def _on_certificate_status(self, message: bytes) -> tuple[State12, list[Event]]:
        """The stapled OCSP response (RFC 6066 section 8); then the certificate check."""
        self._check_certificate(parse_certificate_status(message[4:]))
        self._add(message)
        return S.WAIT_SKE, []

    def _on_server_key_exchange_unstapled(self, message: bytes) -> tuple[State12, list[Event]]:
        """The server acked status_request but sent no CertificateStatus, which RFC 6066
        section 8 allows ("a server MAY also choose not to send" it): the certificate is
        checked without a staple, then the ServerKeyExchange is processed."""
        self._check_certificate(None)
        return self._on_server_key_exchange(message)

    def _on_server_key_exchange(self, message: bytes) -> tuple[State12, list[Event]]:
        assert self.offer is not None and self.leaf is not None
        body = message[4:]
        r = Reader(body)
        if r.uint8() != NAMED_CURVE:
            raise illegal("only named curves are supported")
        group = r.uint16()
        public = r.vector(1, 1)
        params_len = len(body) - r.remaining
        scheme = r.uint16()
        signature = r.vector(2, 1)
        r.expect_end("ServerKeyExchange")
        if group not in self.offer.groups or group not in self.conn.config.groups:
            raise illegal("server chose a curve we did not offer")
        if group in HYBRIDS:
            raise illegal("server chose a TLS 1.3-only hybrid group for TLS 1.2")
        curve = getattr(getattr(public_key_of(self.leaf), "curve", None), "name", None)
        leaf_group = _LEAF_CURVES.get(curve) if curve is not None else None
        if leaf_group is not None and leaf_group not in self.offer.groups:
            # RFC 8422 5.3: an ECDSA certificate's curve is one the client offered.  A
            # curve we never have as a group (secp521r1) is left to the signature check.
            raise illegal("server certificate on a curve we did not offer")
        signed = self.client_random + self.server_random + body[:params_len]
        verify(
            scheme,
            self.leaf,
            signed,
            signature,
            self.offer.signature_schemes,
            allow_pkcs1=True,
            tls12=True,
        )
        self.group = group
        self.server_public = public
        self.scheme = scheme
        if not self.renegotiation:
            self.conn.group = group
            self.conn.peer_signature_scheme = scheme
        self._add(message)
        return S.WAIT_CR_SHD, []

    def _on_certificate_request(self, message: bytes) -> tuple[State12, list[Event]]:
        r = Reader(message[4:])
        certificate_types = r.vector(1, 1)
        schemes = r.uint16_list(2, 2)
        authorities: list[bytes] = []
        with r.sub(2) as lst:
            while not lst.at_end():
                authorities.append(lst.vector(2, 1))
        r.expect_end("CertificateRequest")
        self.cert_request = (schemes, authorities)
        self.conn.certificate_requested = True
        self.conn.certificate_authorities = authorities
        self.conn.peer_verify_schemes = list(schemes)
        self.conn.certificate_types = list(certificate_types)
        self._add(message)
        return S.WAIT_SHD, []

    def _on_server_hello_done(self, message: bytes) -> tuple[State12, list[Event]]:
        assert self.suite is not None
        if len(message) != 4:
            raise decode_error("ServerHelloDone must be empty")
        # The server's flight ends here; it must wait for ours (BoringSSL's
        # EXCESS_HANDSHAKE_DATA): nothing may follow in its record.
        self.conn.require_no_partial_message("handshake data after ServerHelloDone")
        self._add(message)
        cfg = self.conn.config
        if (
            self.cert_request is not None
            and cfg.client_credential is None
            and cfg.choose_credential
        ):
            schemes, authorities = self.cert_request
            choice = cfg.choose_credential(CertificateRequestInfo(schemes, authorities))
            if choice is PAUSE:

                def resume() -> list[Event]:
                    self.state, events = self._client_flight()
                    return events

                self.conn.pause_for_credential(resume)
                return S.WAIT_CLIENT_CREDENTIAL, [CredentialNeeded()]
            cfg.client_credential = cast("ClientCredential | None", choice)
        return self._client_flight()

    def _client_flight(self) -> tuple[State12, list[Event]]:
        """[Certificate], ClientKeyExchange, [CertificateVerify], CCS, Finished."""
        assert self.suite is not None
        conn = self.conn
        suite = self.suite
        share = KeyShare(self.group, conn.random)
        premaster = share.exchange(self.server_public)
        flight = b""
        if self.cert_request is not None:
            flight += self._client_certificate()
        w = Writer()
        w.vector(1, share.public)
        cke = handshake_message(HT.client_key_exchange, w.getvalue())
        self._add(cke)
        conn.log_message("out", HT.client_key_exchange, cke)
        flight += cke
        session_hash = self.transcript.digest() if self.ems else None
        self.master = prf.master_secret(
            suite.hash_name, premaster, self.client_random, self.server_random, session_hash
        )
        if self.cert_request is not None and conn.client_certificate_sent:
            flight += self._client_certificate_verify()
        ck, sk, civ, siv = self._key_block()
        conn.send_handshake(flight)
        conn.queue_ccs()
        conn.write_protection = Protection12(suite, ck, civ)
        self.pending_read = Protection12(suite, sk, siv)
        verify_data = prf.finished_verify_data(
            suite.hash_name, self.master, b"client finished", self.transcript.digest()
        )
        fin = handshake_message(HT.finished, verify_data)
        self._add(fin)
        conn.log_message("out", HT.finished, fin)
        conn.send_handshake(fin)
        self.client_verify_data = verify_data
        return S.WAIT_CCS, []

    def _client_certificate(self) -> bytes:
        """Certificate for a CertificateRequest: the credential's chain if a scheme fits, else empty."""
        assert self.cert_request is not None
        cred = self.conn.config.client_credential
        schemes, _ = self.cert_request
        self.client_scheme = 0
        chain: list[bytes] = []
        self.client_scheme = pick_scheme(cred, schemes, tls13=False)
        if cred is not None and self.client_scheme:
            chain = cred.chain
        w = Writer()
        with w.sub(3) as lst:
            for c in chain:
                lst.vector(3, c)
        msg = handshake_message(HT.certificate, w.getvalue())
        self._add(msg)
        self.conn.log_message("out", HT.certificate, msg)
        self.conn.client_certificate_sent = bool(chain)
        return msg

    def _client_certificate_verify(self) -> bytes:
        cred = self.conn.config.client_credential
        assert cred is not None
        signature = cred.sign(self.client_scheme, b"".join(self.raw))
        w = Writer()
        w.uint16(self.client_scheme)
        w.vector(2, signature)
        msg = handshake_message(HT.certificate_verify, w.getvalue())
        self._add(msg)
        self.conn.log_message("out", HT.certificate_verify, msg)
        return msg

    def _on_new_session_ticket(self, message: bytes) -> tuple[State12, list[Event]]:
        assert self.offer is not None
        r = Reader(message[4:])
        lifetime = r.uint32()
        ticket = r.vector(2)
        r.expect_end("NewSessionTicket")
        self.ticket, self.ticket_lifetime = ticket, lifetime
        self.ticket_renewed = True
        self.conn.tickets_received += 1
        self._add(message)
        return S.WAIT_CCS, []

    def _on_finished(self, message: bytes) -> tuple[State12, list[Event]]:
        assert self.suite is not None
        expected = prf.finished_verify_data(
            self.suite.hash_name, self.master, b"server finished", self.transcript.digest()
        )
        if not hmac.compare_digest(expected, message[4:]):
            raise TLSError(AlertDescription.decrypt_error, "server Finished does not verify")
        self._add(message)
        conn = self.conn
        conn.require_no_partial_message()
        first_finished = self.client_verify_data
        if self.abbreviated:
            # Abbreviated handshake: the server spoke first; now our CCS and Finished.
            first_finished = bytes(message[4:])
            assert self.pending_write is not None
            conn.queue_ccs()
            conn.write_protection = self.pending_write
            verify_data = prf.finished_verify_data(
                self.suite.hash_name, self.master, b"client finished", self.transcript.digest()
            )
            fin = handshake_message(HT.finished, verify_data)
            self._add(fin)
            conn.log_message("out", HT.finished, fin)
            conn.send_handshake(fin)
            self.client_verify_data = verify_data
        conn.client_verify_data = self.client_verify_data
        conn.server_verify_data = bytes(message[4:])
        conn.first_finished = first_finished  # tls-unique: first Finished of this handshake
        conn.extended_master_secret = self.ems
        conn.secrets = {"master_secret": self.master}
        if self.renegotiation:
            conn.suite = self.suite
            conn.group = self.group
            conn.peer_chain = self.chain
            conn.peer_certificate = self.leaf
            conn.peer_signature_scheme = self.scheme
        self.raw.clear()
        self._remember_session()
        conn.complete_handshake()
        return S.CONNECTED, [HandshakeComplete()]

    def _remember_session(self) -> None:
        """Keep a resumable session: only with extended master secret (RFC 7627)."""
        assert self.suite is not None
        conn = self.conn
        old = self.resumed_session
        ticket = self.ticket or (old.ticket if old is not None and not self.ticket_renewed else b"")
        if not self.ems or not (self.session_id or ticket):
            conn.session12 = None
            conn.session12_is_new = False
            return
        # A resumption yields nothing new unless the server renewed the ticket.
        conn.session12_is_new = not self.abbreviated or self.ticket_renewed
        conn.session12 = Session12(
            session_id=self.session_id,
            master_secret=self.master,
            suite=self.suite.code,
            ticket=ticket,
            ticket_lifetime=self.ticket_lifetime or (old.ticket_lifetime if old else 0),
            created_at=old.created_at if old is not None else conn.now(),
            peer_chain=list(self.chain),
            alpn=conn.alpn,
            ocsp_staple=conn.ocsp_staple,
        )

    def _on_hello_request(self, message: bytes) -> tuple[State12, list[Event]]:
        if len(message) != 4:
            raise decode_error("HelloRequest must be empty")
        if self.conn.config.ignore_hello_request:
            return S.CONNECTED, [Ignored()]
        self.conn.renegotiation_requested = True
        return S.CONNECTED, [RenegotiationRequested()]


_DISPATCH = dispatch_table(Handshake12, TRANSITIONS)
_NOTHING: dict[int, tuple[Handler[State12], tuple[State12, ...]]] = {}
