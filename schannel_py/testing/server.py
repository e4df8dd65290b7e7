"""A scriptable in-memory TLS 1.3 / 1.2 server, for testing code that drives SSPI.

:class:`TlsServer` is a normal server by default: it answers a ClientHello
with TLS 1.3 (or TLS 1.2 when the client or ``versions`` says so), the
client's preferred suite and group, and a self-signed ``localhost``
certificate (or the :class:`~schannel_py.testing.pki.Issued` you give it).
Keyword arguments choose the version, suite, group, a HelloRetryRequest,
ALPN, a client-certificate request, tickets, an OCSP staple; methods send
what a test wants next (application data, NewSessionTicket, KeyUpdate,
HelloRequest, a TLS 1.3 post-handshake CertificateRequest, alerts, close with
or without close_notify).  Called before the handshake has finished, they are
queued and go out right after it, in the same flight.

States: ``CH`` (waiting for a ClientHello), ``CH2`` (after a
HelloRetryRequest), then TLS 1.3 ``CERT13`` / ``CV13`` / ``FIN13`` or TLS 1.2
``CERT12`` / ``CKE12`` / ``CV12`` / ``CCS12`` / ``FIN12`` for the client's
flight, and ``DONE``: application data, KeyUpdate, renegotiation (TLS 1.2)
and the answers to post-handshake CertificateRequests, which are checked
oldest first against each request's own copy of the transcript.

It is sans-IO: :meth:`TlsServer.receive` takes the client's bytes,
:meth:`TlsServer.take` hands back what the server sent.  A
:class:`~schannel_py.testing.transport.Transport` puts it behind ``send`` /
``recv`` callables, with faults if you like.

Built on the package's own codec, key schedule and record protection
(:mod:`schannel_py.testing.builders` holds the lower-level builders the
project's attack suite uses to misbehave on purpose).

It resumes sessions as a normal server does (``resumption=False``: never).
One TlsServer is one connection; what it can resume is in its
:class:`SessionStore` (``sessions``), which the next connection's server
shares (``TlsServer(sessions=first.sessions)``).  TLS 1.3: each
NewSessionTicket it sends is remembered with its PSK (from the
resumption_master_secret and the ticket nonce, RFC 8446 4.6.1); a
ClientHello whose pre_shared_key names one, with psk_dhe_ke and a suite of
the same hash, has its binder checked (over the ClientHello up to the
binders, after message_hash(ClientHello1) and the HelloRetryRequest if one
came: a mismatch is a decrypt_error) and gets ServerHello (pre_shared_key,
key_share), EncryptedExtensions and Finished, with the PSK in the key
schedule.  TLS 1.2: a full handshake gives a new session ID (and an RFC
5077 ticket with ``tickets=``); a ClientHello offering one of them, the
session's suite and extended master secret gets the abbreviated handshake
(ServerHello echoing its session ID, [NewSessionTicket], ChangeCipherSpec,
Finished, then the client's).  Anything else (an unknown ticket, psk_ke
alone, a suite not offered, no client certificate for a server that requires
one) is a full handshake.  It has no 0-RTT.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from ..tls import prf, sigalgs
from ..tls.alerts import AlertDescription, TLSError
from ..tls.codec import Reader
from ..tls.groups import HYBRIDS, SECP256R1, SECP384R1, X25519, ServerShare
from ..tls.keyschedule import (
    KeySchedule13,
    finished_verify_data,
    next_traffic_secret,
    resumption_psk,
    traffic_keys,
)
from ..tls.messages import (
    HRR_RANDOM,
    Certificate13,
    CertificateEntry,
    CertificateVerify,
    ClientHello,
    Ext,
    HandshakeType,
    certificate_verify_input,
    encode_extensions,
    find_ext,
    handshake_message,
    parse_alpn_list,
    parse_key_share_client,
    parse_u16_list,
)
from ..tls.record import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    HEADER_LEN,
    Protection12,
    Protection13,
    frame,
)
from ..tls.session import Transcript
from ..tls.suites import SUITES, CipherSuite
from .builders import COMPAT_CCS, certificate_status, record
from .pki import Issued, make_self_signed
from .stores import active_determinism

__all__ = [
    "MISBEHAVIOURS",
    "ClientAuth",
    "Misbehaviour",
    "ServerSession",
    "SessionStore",
    "TlsServer",
    "TlsServerError",
    "Version",
]

HT = HandshakeType
Version = Literal["1.3", "1.2"]
ClientAuth = Literal["none", "optional", "required"]
_Protection = Protection13 | Protection12

_VERSION_CODES: dict[str, int] = {"1.3": 0x0304, "1.2": 0x0303}
_SUITES13 = (0x1301, 0x1302, 0x1303)
_SUITES12_ECDSA = (0xC02B, 0xC02C, 0xCCA9)
_SUITES12_RSA = (0xC02F, 0xC030, 0xCCA8)
_GROUPS13 = (X25519, SECP256R1, SECP384R1, *HYBRIDS)
_GROUPS12 = (X25519, SECP256R1, SECP384R1)
#: Schemes the server accepts in a client's CertificateVerify.
_ACCEPTED_SCHEMES = (
    sigalgs.ECDSA_SECP256R1_SHA256,
    sigalgs.ECDSA_SECP384R1_SHA384,
    sigalgs.RSA_PSS_RSAE_SHA256,
    sigalgs.RSA_PSS_RSAE_SHA384,
    sigalgs.ED25519,
    sigalgs.RSA_PKCS1_SHA256,
    sigalgs.RSA_PKCS1_SHA384,
)
_MAX_FRAGMENT = 16384
#: The client's messages answering a post-handshake CertificateRequest.
_PHA_MESSAGES = (
    HandshakeType.certificate,
    HandshakeType.certificate_verify,
    HandshakeType.finished,
)

Misbehaviour = Literal[
    "bad_finished",
    "bad_signature",
    "unoffered_suite",
    "downgrade_sentinel",
    "no_renegotiation_info",
    "oversized_record",
]
#: What each misbehaviour does; the client's answer to each is in docs/testing.md.
MISBEHAVIOURS: dict[str, str] = {
    "bad_finished": "the server's Finished has one bit wrong",
    "bad_signature": "the server's CertificateVerify (TLS 1.3) or ServerKeyExchange (TLS 1.2) "
    "signature has one bit wrong",
    "unoffered_suite": "the ServerHello names a cipher suite the client did not offer",
    "downgrade_sentinel": "TLS 1.2 with RFC 8446's downgrade sentinel in the server random, "
    "to a client that offered TLS 1.3",
    "no_renegotiation_info": "TLS 1.2 without renegotiation_info (RFC 5746)",
    "oversized_record": "application data in records of 2^14 + 1 bytes of plaintext",
}

_hash_of: dict[int, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    sigalgs.ECDSA_SECP256R1_SHA256: hashes.SHA256,
    sigalgs.ECDSA_SECP384R1_SHA384: hashes.SHA384,
    sigalgs.ECDSA_SECP521R1_SHA512: hashes.SHA512,
    sigalgs.RSA_PSS_RSAE_SHA256: hashes.SHA256,
    sigalgs.RSA_PSS_RSAE_SHA384: hashes.SHA384,
    sigalgs.RSA_PSS_RSAE_SHA512: hashes.SHA512,
    sigalgs.RSA_PKCS1_SHA256: hashes.SHA256,
    sigalgs.RSA_PKCS1_SHA384: hashes.SHA384,
    sigalgs.RSA_PKCS1_SHA512: hashes.SHA512,
}


@dataclass
class ServerSession:
    """What a server remembers of a handshake so that a later one can resume it.

    ``version``: 0x0304 (``secret`` is the PSK a NewSessionTicket stands for,
    RFC 8446 section 4.6.1) or 0x0303 (``secret`` is the master secret; ``ems``:
    it was made with the extended master secret).  ``client_certificate``: the
    chain the client authenticated with (None if none was asked), which a
    resumed handshake inherits.
    """

    version: int
    suite: int
    secret: bytes = field(repr=False)
    ems: bool = True
    client_certificate: list[bytes] | None = None
    alpn: bytes | None = None


@dataclass
class SessionStore:
    """The sessions one or more :class:`TlsServer` connections can resume.

    ``tickets``: TLS 1.3 and RFC 5077 TLS 1.2 tickets, by the ticket's bytes;
    ``session_ids``: TLS 1.2 sessions by session ID.  A ticket stays usable
    (servers that keep tickets in a cache may accept one more than once, and
    nothing here expires).  ``resumptions``: handshakes resumed from this store.
    """

    tickets: dict[bytes, ServerSession] = field(default_factory=dict)
    session_ids: dict[bytes, ServerSession] = field(default_factory=dict)
    resumptions: int = 0


class TlsServerError(Exception):
    """The server refused what the client sent; it sent ``alert`` (a description) first."""

    def __init__(self, alert: int, message: str) -> None:
        super().__init__(message)
        self.alert = alert


def _schemes_for(key: CertificateIssuerPrivateKeyTypes, tls12: bool) -> tuple[int, ...]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {
            256: (sigalgs.ECDSA_SECP256R1_SHA256,),
            384: (sigalgs.ECDSA_SECP384R1_SHA384,),
            521: (sigalgs.ECDSA_SECP521R1_SHA512,),
        }[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        pss = (
            sigalgs.RSA_PSS_RSAE_SHA256,
            sigalgs.RSA_PSS_RSAE_SHA384,
            sigalgs.RSA_PSS_RSAE_SHA512,
        )
        pkcs1 = (sigalgs.RSA_PKCS1_SHA256, sigalgs.RSA_PKCS1_SHA384, sigalgs.RSA_PKCS1_SHA512)
        return pss + pkcs1 if tls12 else pss
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return (sigalgs.ED25519,)
    raise ValueError(f"unsupported server key {type(key).__name__}")


def _sign(
    key: CertificateIssuerPrivateKeyTypes, scheme: int, data: bytes, deterministic: bool = False
) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    h = _hash_of[scheme]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, _ecdsa(h, deterministic))
    if isinstance(key, rsa.RSAPrivateKey):
        if scheme in (sigalgs.RSA_PKCS1_SHA256, sigalgs.RSA_PKCS1_SHA384, sigalgs.RSA_PKCS1_SHA512):
            return key.sign(data, padding.PKCS1v15(), h)
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    raise ValueError(f"unsupported server key {type(key).__name__}")


def _ecdsa(h: hashes.HashAlgorithm, deterministic: bool) -> ec.ECDSA:
    """ECDSA with ``h``; with RFC 6979 nonces when ``deterministic`` and the OpenSSL
    under cryptography has them (3.2 and later), else with random ones."""
    if deterministic:
        try:
            return ec.ECDSA(h, deterministic_signing=True)
        except UnsupportedAlgorithm:
            pass
    return ec.ECDSA(h)


def _ca_names(names: Sequence[bytes]) -> bytes:
    """A DistinguishedName list (certificate_authorities, a TLS 1.2 CertificateRequest)."""
    return _vec(2, b"".join(_vec(2, n) for n in names))


def _u16(v: int) -> bytes:
    return struct.pack(">H", v)


def _vec(n: int, data: bytes) -> bytes:
    return len(data).to_bytes(n, "big") + data


_DEFAULT_IDENTITY: Issued | None = None


def _default_identity() -> Issued:
    global _DEFAULT_IDENTITY
    if _DEFAULT_IDENTITY is None:
        _DEFAULT_IDENTITY = make_self_signed(("localhost",), key_type="p256", key_label="server")
    return _DEFAULT_IDENTITY


class TlsServer:
    """A TLS server in memory: a normal one unless the test asks otherwise.

    ``identity``: the certificate (and chain up to, not including, the root) and
    key to serve; default a self-signed P-256 ``localhost``.  ``versions``: the
    versions it accepts, best first.  ``suite`` / ``group``: force one cipher
    suite / key-exchange group (default: the client's first the server has).
    ``hello_retry``: always send a HelloRetryRequest (for a group the client
    offered no share for, else with a cookie).  ``alpn``: the protocols it
    speaks (it picks its first that the client offers).  ``client_auth``:
    ``"optional"`` or ``"required"`` sends a CertificateRequest (naming
    ``client_cas``' subjects); a required certificate that does not come is
    refused with certificate_required (TLS 1.3) / handshake_failure (TLS 1.2).
    ``tickets``: NewSessionTickets after the handshake.  ``echo``: send received
    application data back.  ``renegotiation``: accept a TLS 1.2 renegotiation
    (else answer it with a no_renegotiation warning).  ``ocsp_response``: an
    OCSP response (DER, e.g. :func:`~schannel_py.testing.pki.make_ocsp_response`)
    to staple when the client asks (status_request, RFC 6066 section 8): in the
    leaf's CertificateEntry (TLS 1.3) or a CertificateStatus message (TLS 1.2);
    ``stapled`` says whether the last handshake did.  ``misbehave``: one of
    :data:`MISBEHAVIOURS`, on purpose (the two TLS 1.2 ones make it a TLS 1.2
    server).  ``random``: the server's random source (``os.urandom``).

    Created inside :func:`~schannel_py.testing.deterministic`, it draws from the
    block's seed, serves the block's seeded Ed25519 identity unless given one,
    signs ECDSA deterministically and uses classical groups only, so its bytes
    are the same on every run.

    ``resumption`` (default True): resume a session the client offers, as a
    normal server does; False makes every handshake a full one (and gives no
    TLS 1.2 session ID).  A TlsServer is one connection: the sessions it can
    resume are in ``sessions`` (a :class:`SessionStore`), so pass one server's
    ``sessions`` to the next (``TlsServer(sessions=first.sessions)``) for the
    client's second connection to resume.  TLS 1.3 resumes a ticket it issued
    (``tickets=`` or :meth:`send_ticket`) with psk_dhe_ke (a ClientHello that
    allows only psk_ke gets a full handshake): ServerHello with pre_shared_key
    and key_share, EncryptedExtensions, Finished; a wrong binder is a fatal
    decrypt_error.  TLS 1.2 resumes by session ID (each full handshake gives a
    new one) or by the RFC 5077 ticket it issued (``tickets=``), with extended
    master secret both times (RFC 7627 section 5.3), in the abbreviated
    handshake.  A resumed handshake asks for no client certificate:
    ``client_certificate`` is the one the session was made with (with
    ``client_auth="required"``, a session made without one is not resumed).
    ``resumed``: the last handshake was resumed, ``resumed_with`` how
    (``"psk"``, ``"session_id"`` or ``"ticket"``); ``session_id``: the TLS 1.2
    session ID of the last ServerHello.
    """

    def __init__(
        self,
        identity: Issued | None = None,
        *,
        versions: Sequence[Version] = ("1.3", "1.2"),
        suite: int | None = None,
        group: int | None = None,
        hello_retry: bool = False,
        alpn: Sequence[bytes] = (),
        client_auth: ClientAuth = "none",
        client_cas: Iterable[Issued] = (),
        tickets: int = 0,
        echo: bool = False,
        renegotiation: bool = True,
        misbehave: Misbehaviour | None = None,
        random: Callable[[int], bytes] | None = None,
        resumption: bool = True,
        sessions: SessionStore | None = None,
        ocsp_response: bytes | None = None,
    ) -> None:
        if misbehave is not None and misbehave not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehaviour {misbehave!r}; see MISBEHAVIOURS")
        det = active_determinism()
        #: Made inside a :func:`~schannel_py.testing.deterministic` block.
        self.deterministic = det is not None
        if identity is None:
            identity = det.identity if det is not None else _default_identity()
        if random is None:
            random = det.server_random if det is not None else os.urandom
        self.identity = identity
        self.key = self.identity.key
        self.chain = [self.identity.der, *(i.der for i in self.identity.intermediates)]
        self.versions = tuple(versions)
        self.suite_choice = suite
        self.group_choice = group
        self.hello_retry = hello_retry
        self.alpn = list(alpn)
        self.client_auth = client_auth
        self.client_ca_names = [c.cert.subject.public_bytes() for c in client_cas]
        self.tickets = tickets
        self.echo = echo
        self.renegotiation = renegotiation
        self.ocsp_response = ocsp_response
        #: The last full handshake stapled ``ocsp_response`` (the client asked for it).
        self.stapled = False
        self.misbehave = misbehave
        if misbehave in ("downgrade_sentinel", "no_renegotiation_info"):
            self.versions = ("1.2",)
        self.random = random
        self.resumption = resumption
        #: The sessions this server can resume and remembers (share it with the next one).
        self.sessions = sessions if sessions is not None else SessionStore()
        # --- what happened (read these in tests) ---
        #: The negotiated version (0x0304 / 0x0303), suite, group, ALPN protocol.
        self.version: int | None = None
        self.cipher_suite: int | None = None
        self.group: int | None = None
        self.selected_alpn: bytes | None = None
        #: The last ClientHello and how many arrived (a HelloRetryRequest makes two).
        self.client_hello: ClientHello | None = None
        self.client_hellos = 0
        self.hello_retry_sent = False
        #: Completed handshakes (a renegotiation adds one).
        self.handshakes = 0
        #: The last handshake resumed a session, and how: "psk" (TLS 1.3),
        #: "session_id" or "ticket" (TLS 1.2); the TLS 1.2 ServerHello's session ID.
        self.resumed = False
        self.resumed_with: Literal["psk", "session_id", "ticket"] | None = None
        self.session_id = b""
        #: The client's certificate chain (DER), [] for an empty Certificate, None if none asked.
        self.client_certificate: list[bytes] | None = None
        #: Application data received, all of it.
        self.received = bytearray()
        #: Alerts received: (level, description).
        self.alerts: list[tuple[int, int]] = []
        #: The client sent close_notify.
        self.client_closed = False
        #: KeyUpdates received from the client.
        self.key_updates_received = 0
        #: Post-handshake authentications (TLS 1.3, :meth:`request_certificate`) the
        #: client completed; each sets ``client_certificate``.
        self.post_handshake_auths = 0
        #: Why the connection failed (``alert``: the fatal alert the server sent, or the
        #: one it received), or None.
        self.error: TlsServerError | None = None
        #: The server has closed: after what is pending, the client reads end of file.
        self.closed = False
        # --- the connection ---
        self._in = bytearray()
        self._hs = bytearray()
        self._out = bytearray()
        self._state = "CH"
        self._queued: list[Callable[[], None]] = []
        self._read: _Protection | None = None
        self._write: _Protection | None = None
        self._ticket_nonce = 0
        # Post-handshake CertificateRequests not yet answered: (context, transcript).
        self._pha: list[tuple[bytes, Transcript]] = []
        self._pha_state = "CERT"
        self._reset_handshake()

    def _reset_handshake(self) -> None:
        self._transcript = Transcript()
        self._log = bytearray()  # TLS 1.2: the raw messages (CertificateVerify signs them)
        self._suite: CipherSuite | None = None
        self._share: ServerShare | None = None
        self._schedule: KeySchedule13 | None = None
        self._c_hs = self._s_hs = self._c_ap = self._s_ap = b""
        self._server_random = b""
        self._ems = False
        self._master = b""
        self._next_read: Protection12 | None = None
        self._next_write: Protection12 | None = None
        self._cert_requested = False
        self._send_ticket12 = False
        self._hello_message = b""  # the last ClientHello, as it came
        self._before_hello = Transcript()  # the transcript before it
        self._res_master = b""  # TLS 1.3 resumption_master_secret
        self.resumed = False
        self.resumed_with = None
        self.stapled = False
        self._client_vd = getattr(self, "_client_vd", b"")
        self._server_vd = getattr(self, "_server_vd", b"")

    # --- the transport's side -----------------------------------------------------------

    @property
    def handshake_complete(self) -> bool:
        """At least one handshake has finished."""
        return self.handshakes > 0

    def receive(self, data: bytes) -> None:
        """The client sent ``data`` (any fragment of its byte stream)."""
        if self.error is not None:
            return
        self._in += data
        try:
            while True:
                n = frame(self._in)
                if n < 0:
                    return
                rec = bytes(self._in[:n])
                del self._in[:n]
                self._record(rec)
                if self.error is not None:
                    return
        except TLSError as e:
            self._fail(e.description, str(e))
        except TlsServerError as e:
            self._fail(e.alert, str(e))

    def take(self, n: int | None = None) -> bytes:
        """Up to ``n`` (all by default) of the bytes the server has sent and nobody read."""
        if n is None or n >= len(self._out):
            data = bytes(self._out)
            self._out.clear()
        else:
            data = bytes(self._out[:n])
            del self._out[:n]
        return data

    @property
    def pending(self) -> int:
        """How many bytes wait for the client."""
        return len(self._out)

    # --- scripting ------------------------------------------------------------------------

    def _later(self, action: Callable[[], None]) -> None:
        if self._state == "DONE":
            action()
        else:
            self._queued.append(action)

    def send_data(self, data: bytes) -> None:
        """Application data (split into 16 KiB records)."""
        self._later(lambda: self._send_fragments(APPLICATION_DATA, data))

    def send_ticket(self, *, lifetime: int = 7200, ticket: bytes | None = None) -> None:
        """A TLS 1.3 NewSessionTicket (``ticket``: its bytes, default random): a
        server sharing :attr:`sessions` resumes it, unless ``resumption=False``."""

        def go() -> None:
            if self.version != 0x0304:
                raise ValueError("send_ticket after the handshake is TLS 1.3 only")
            self._ticket_nonce += 1
            nonce = self._ticket_nonce.to_bytes(8, "big")
            age_add = self.random(4)
            label = ticket if ticket is not None else self.random(32)
            body = struct.pack(">I", lifetime) + age_add + _vec(1, nonce) + _vec(2, label) + _u16(0)
            self._remember13(label, nonce)
            self._send_fragments(HANDSHAKE, handshake_message(HT.new_session_ticket, body))

        self._later(go)

    def key_update(self, *, request: bool = False) -> None:
        """A TLS 1.3 KeyUpdate (``request``: update_requested); then new write keys."""

        def go() -> None:
            if self.version != 0x0304:
                raise ValueError("KeyUpdate is TLS 1.3 only")
            self._send_key_update(request)

        self._later(go)

    def request_certificate(self, *, cas: Iterable[Issued] | None = None) -> None:
        """A TLS 1.3 post-handshake CertificateRequest (RFC 8446 4.6.2; the client
        must have offered post_handshake_auth), naming ``cas`` (default
        ``client_cas``).  The client's Certificate, CertificateVerify and Finished
        are checked as they come, between application data; then
        ``client_certificate`` is its chain and ``post_handshake_auths`` counts it."""

        def go() -> None:
            if self.version != 0x0304:
                raise ValueError("post-handshake authentication is TLS 1.3 only")
            ch = self.client_hello
            if ch is None or find_ext(ch.extensions, Ext.post_handshake_auth) is None:
                raise ValueError("the client did not offer post_handshake_auth")
            names = (
                [c.cert.subject.public_bytes() for c in cas]
                if cas is not None
                else self.client_ca_names
            )
            context = self.random(8)
            msg = handshake_message(
                HT.certificate_request, _vec(1, context) + self._request_extensions(names)
            )
            transcript = self._transcript.fork()
            transcript.add(msg)
            self._pha.append((context, transcript))
            self._send_fragments(HANDSHAKE, msg)

        self._later(go)

    def hello_request(self) -> None:
        """A TLS 1.2 HelloRequest: the client should renegotiate."""

        def go() -> None:
            if self.version != 0x0303:
                raise ValueError("HelloRequest is TLS 1.2 only")
            self._send_fragments(HANDSHAKE, handshake_message(HT.hello_request, b""))

        self._later(go)

    def send_alert(self, description: int, *, level: int = 2) -> None:
        """An alert (fatal by default); a fatal one closes the server."""

        def go() -> None:
            self._send_fragments(ALERT, bytes([level, description]))
            if level == 2:
                self.closed = True

        self._later(go)

    def close(self, *, notify: bool = True) -> None:
        """Close: with close_notify first (``notify``), or just end the stream (truncation)."""

        def go() -> None:
            if notify:
                self._send_fragments(ALERT, bytes([1, AlertDescription.close_notify]))
            self.closed = True

        self._later(go)

    def send_raw(self, data: bytes) -> None:
        """Bytes exactly as given (a hand-made record, garbage), now."""
        self._out += data

    # --- records ----------------------------------------------------------------------------

    def _fail(self, alert: int, message: str) -> None:
        self.error = TlsServerError(alert, message)
        try:
            self._send_fragments(ALERT, bytes([2, alert]))
        except Exception:  # pragma: no cover - the keys themselves are broken
            pass
        self.closed = True

    def _seal(self, ctype: int, payload: bytes) -> bytes:
        if self._write is None:
            return record(ctype, payload)
        return self._write.seal(ctype, payload)

    def _send_fragments(self, ctype: int, payload: bytes) -> None:
        if self.closed:
            return
        if not payload:
            self._out += self._seal(ctype, payload)
        size = _MAX_FRAGMENT
        if ctype == APPLICATION_DATA and self.misbehave == "oversized_record":
            size += 1
        for i in range(0, len(payload), size):
            self._out += self._seal(ctype, payload[i : i + size])

    def _record(self, rec: bytes) -> None:
        ctype = rec[0]
        if ctype == CHANGE_CIPHER_SPEC:
            if self._state == "CCS12":
                self._read, self._state = self._next_read, "FIN12"
            elif self.version == 0x0303 or rec[HEADER_LEN:] != b"\x01":
                raise TlsServerError(AlertDescription.unexpected_message, "unexpected CCS")
            return
        if self._read is not None and not (self.version == 0x0304 and ctype != APPLICATION_DATA):
            # (TLS 1.3 protects everything as application_data: anything else is plaintext,
            # e.g. an alert the client sent before it had the handshake keys.)
            ctype, payload = self._read.open(rec)
        else:
            payload = rec[HEADER_LEN:]
        if ctype == ALERT:
            if len(payload) != 2:
                raise TlsServerError(AlertDescription.decode_error, "malformed alert")
            self.alerts.append((payload[0], payload[1]))
            if payload[1] == AlertDescription.close_notify:
                self.client_closed = True
            elif payload[0] == 2:
                self.closed = True
                self.error = TlsServerError(payload[1], f"the client sent alert {payload[1]}")
            return
        if ctype == HANDSHAKE:
            self._hs += payload
            while len(self._hs) >= 4:
                n = 4 + int.from_bytes(self._hs[1:4], "big")
                if len(self._hs) < n:
                    break
                msg = bytes(self._hs[:n])
                del self._hs[:n]
                self._message(msg)
            return
        if ctype == APPLICATION_DATA and self._state == "DONE" and not self._hs:
            self.received += payload
            if self.echo and payload:
                self.send_data(payload)
            return
        raise TlsServerError(AlertDescription.unexpected_message, f"record type {ctype} now")

    def _message(self, msg: bytes) -> None:
        mtype, body = msg[0], msg[4:]
        state = self._state
        if mtype == HT.client_hello and state in ("CH", "CH2", "DONE"):
            if state == "DONE":
                if self.version != 0x0303:
                    raise TlsServerError(AlertDescription.unexpected_message, "ClientHello")
                if not self.renegotiation:
                    self._send_fragments(ALERT, bytes([1, AlertDescription.no_renegotiation]))
                    return
                self._reset_handshake()
            self._client_hello(msg)
        elif self.version is None or state in ("CH", "CH2"):
            raise self._unexpected(mtype)
        elif self.version == 0x0304:
            self._message13(mtype, body, msg)
        else:
            self._message12(mtype, body, msg)

    def _unexpected(self, mtype: int) -> TlsServerError:
        return TlsServerError(
            AlertDescription.unexpected_message, f"handshake message {mtype} in {self._state}"
        )

    # --- ClientHello ------------------------------------------------------------------------

    def _client_hello(self, msg: bytes) -> None:
        ch = ClientHello.parse(msg)
        self.client_hello = ch
        self.client_hellos += 1
        self._hello_message = msg
        self._before_hello = self._transcript.fork()  # what a PSK binder covers, with msg
        offered = [0x0303] if ch.legacy_version >= 0x0303 else []
        sv = find_ext(ch.extensions, Ext.supported_versions)
        if sv is not None:
            offered = parse_u16_list(sv, 1)
        if self._state == "CH2":
            self._transcript.add(msg)
            self._flight13()
            return
        for v in self.versions:
            if _VERSION_CODES[v] in offered:
                chosen = _VERSION_CODES[v]
                break
        else:
            raise TlsServerError(AlertDescription.protocol_version, "no common version")
        if self.version is not None and chosen != self.version:
            raise TlsServerError(AlertDescription.protocol_version, "version changed")
        self.version = chosen
        self._transcript.add(msg)
        if chosen == 0x0304:
            self._hello13(ch)
        else:
            self._log += msg
            self._hello12(ch)

    def _pick_suite(self, ch: ClientHello, allowed: Sequence[int]) -> CipherSuite:
        if self.suite_choice is not None:
            allowed = [self.suite_choice]
        for code in ch.cipher_suites:
            if code in allowed and code in SUITES:
                return SUITES[code]
        raise TlsServerError(AlertDescription.handshake_failure, "no common cipher suite")

    def _pick_scheme(self, ch: ClientHello, tls12: bool) -> int:
        sa = find_ext(ch.extensions, Ext.signature_algorithms)
        theirs = parse_u16_list(sa) if sa is not None else [sigalgs.RSA_PKCS1_SHA256]
        ours = _schemes_for(self.key, tls12)
        for s in theirs:
            if s in ours:
                return s
        raise TlsServerError(AlertDescription.handshake_failure, "no common signature scheme")

    def _pick_alpn(self, ch: ClientHello) -> list[tuple[int, bytes]]:
        ext = find_ext(ch.extensions, Ext.alpn)
        if ext is None or not self.alpn:
            return []
        theirs = parse_alpn_list(ext)
        for p in self.alpn:
            if p in theirs:
                self.selected_alpn = p
                return [(Ext.alpn, _vec(2, _vec(1, p)))]
        raise TlsServerError(AlertDescription.no_application_protocol, "no common protocol")

    def _server_hello(
        self, random: bytes, session_id: bytes, exts: Sequence[tuple[int, bytes]]
    ) -> bytes:
        assert self._suite is not None
        body = (
            _u16(0x0303)
            + random
            + _vec(1, session_id)
            + _u16(self._hello_suite(session_id))
            + b"\x00"
            + encode_extensions(list(exts))
        )
        return handshake_message(HT.server_hello, body)

    def _hello_suite(self, session_id: bytes) -> int:
        assert self._suite is not None and self.client_hello is not None
        if self.misbehave != "unoffered_suite":
            return self._suite.code
        candidates = _SUITES13 if self.version == 0x0304 else _SUITES12_ECDSA + _SUITES12_RSA
        return next(
            (c for c in candidates if c not in self.client_hello.cipher_suites),
            0x1304 if self.version == 0x0304 else 0x009C,  # AES-128-CCM; RSA key exchange
        )

    def _groups13(self) -> tuple[int, ...]:
        """TLS 1.3 groups, ML-KEM hybrids left out of deterministic runs (their
        encapsulation draws from the OS)."""
        return _GROUPS12 if self.deterministic else _GROUPS13

    def _staple(self, ch: ClientHello) -> bool:
        """Whether this full handshake staples ``ocsp_response`` (the client asked)."""
        self.stapled = (
            self.ocsp_response is not None
            and find_ext(ch.extensions, Ext.status_request) is not None
        )
        return self.stapled

    # --- TLS 1.3 ----------------------------------------------------------------------------

    def _hello13(self, ch: ClientHello) -> None:
        self._suite = self._pick_suite(ch, _SUITES13)
        self._transcript.set_hash(self._suite.hash_name)
        self.cipher_suite = self._suite.code
        ks = find_ext(ch.extensions, Ext.key_share)
        shares = dict(parse_key_share_client(ks)) if ks is not None else {}
        sg = find_ext(ch.extensions, Ext.supported_groups)
        supported = parse_u16_list(sg) if sg is not None else []
        allowed = [self.group_choice] if self.group_choice is not None else list(self._groups13())
        group = next((g for g in shares if g in allowed), None)
        retry_group = None
        if group is None or self.hello_retry:
            retry_group = next((g for g in supported if g in allowed and g not in shares), None)
            if group is None and retry_group is None:
                raise TlsServerError(AlertDescription.handshake_failure, "no common group")
        if group is None or self.hello_retry:
            exts: list[tuple[int, bytes]] = [(Ext.supported_versions, _u16(0x0304))]
            if retry_group is not None:
                exts.append((Ext.key_share, _u16(retry_group)))
                group = retry_group
            else:
                exts.append((Ext.cookie, _vec(2, self.random(16))))
            self._transcript.restart_for_hrr(self._suite.hash_name)
            hrr = self._server_hello(HRR_RANDOM, ch.session_id, exts)
            self._transcript.add(hrr)
            self._out += record(HANDSHAKE, hrr)
            if ch.session_id:
                self._out += COMPAT_CCS
            self.hello_retry_sent = True
            self.group = group
            self._state = "CH2"
            return
        self.group = group
        self._flight13()

    def _flight13(self) -> None:
        ch = self.client_hello
        assert ch is not None and self._suite is not None and self.group is not None
        ks = find_ext(ch.extensions, Ext.key_share)
        shares = dict(parse_key_share_client(ks)) if ks is not None else {}
        client_share = shares.get(self.group)
        if client_share is None:
            raise TlsServerError(AlertDescription.illegal_parameter, "no share for the group")
        h = self._suite.hash_name
        psk = self._accept_psk13()
        self._share = ServerShare(self.group, client_share, self.random)
        exts = [
            (Ext.supported_versions, _u16(0x0304)),
            (Ext.key_share, _u16(self.group) + _vec(2, self._share.public)),
        ]
        if psk is not None:
            exts.append((Ext.pre_shared_key, _u16(psk[0])))
        sh = self._server_hello(self.random(32), ch.session_id, exts)
        self._transcript.add(sh)
        self._out += record(HANDSHAKE, sh)
        if ch.session_id and not self.hello_retry_sent:
            self._out += COMPAT_CCS
        self._schedule = psk[2] if psk is not None else KeySchedule13(h)
        self._schedule.enter_handshake(self._share.exchange(client_share))
        self._c_hs, self._s_hs = self._schedule.handshake_traffic(self._transcript.digest())
        self._write = self._protection13(self._s_hs)
        self._read = self._protection13(self._c_hs)
        flight = self._add(
            handshake_message(HT.encrypted_extensions, encode_extensions(list(self._pick_alpn(ch))))
        )
        if psk is not None:
            # RFC 8446 4.3.2, 4.4: authenticated by the PSK, no CertificateRequest.
            self._resumed(psk[1], "psk")
        else:
            flight += self._authenticate13(ch)
        vd = self._tampered(
            "bad_finished", finished_verify_data(h, self._s_hs, self._transcript.digest())
        )
        flight += self._add(handshake_message(HT.finished, vd))
        self._send_fragments(HANDSHAKE, flight)
        self._schedule.enter_master()
        self._c_ap, self._s_ap = self._schedule.application_traffic(self._transcript.digest())
        self._write = self._protection13(self._s_ap)
        self._state = "CERT13" if self._cert_requested else "FIN13"

    def _request_extensions(self, names: list[bytes]) -> bytes:
        """A TLS 1.3 CertificateRequest's extensions: the schemes it accepts, the CAs."""
        exts: list[tuple[int, bytes]] = [
            (Ext.signature_algorithms, _vec(2, b"".join(_u16(s) for s in _ACCEPTED_SCHEMES)))
        ]
        if names:
            exts.append((Ext.certificate_authorities, _ca_names(names)))
        return encode_extensions(exts)

    def _authenticate13(self, ch: ClientHello) -> bytes:
        """A full handshake's [CertificateRequest], Certificate, CertificateVerify."""
        flight = b""
        if self.client_auth != "none":
            body = b"\x00" + self._request_extensions(self.client_ca_names)
            flight += self._add(handshake_message(HT.certificate_request, body))
            self._cert_requested = True
        entries = [CertificateEntry(c, []) for c in self.chain]
        if self._staple(ch):
            assert self.ocsp_response is not None
            status = (Ext.status_request, certificate_status(self.ocsp_response))
            entries[0] = CertificateEntry(self.chain[0], [status])
        flight += self._add(Certificate13(b"", entries).encode())
        scheme = self._pick_scheme(ch, tls12=False)
        signed = certificate_verify_input(self._transcript.digest(), server=True)
        signature = self._tampered(
            "bad_signature", _sign(self.key, scheme, signed, self.deterministic)
        )
        flight += self._add(CertificateVerify(scheme, signature).encode())
        return flight

    def _accept_psk13(self) -> tuple[int, ServerSession, KeySchedule13] | None:
        """The PSK of the ClientHello's pre_shared_key to resume (RFC 8446 4.2.11), as
        (selected_identity, the session, a key schedule from its PSK), or None for a
        full handshake; a binder that does not verify is a decrypt_error."""
        ch, suite = self.client_hello, self._suite
        assert ch is not None and suite is not None
        offer = find_ext(ch.extensions, Ext.pre_shared_key)
        if offer is None or not self.resumption:
            return None
        if ch.extensions[-1][0] != Ext.pre_shared_key:
            raise TlsServerError(AlertDescription.illegal_parameter, "pre_shared_key not last")
        modes = find_ext(ch.extensions, Ext.psk_key_exchange_modes)
        if modes is None:
            raise TlsServerError(
                AlertDescription.missing_extension, "pre_shared_key without psk_key_exchange_modes"
            )
        r = Reader(offer)
        identities: list[bytes] = []
        with r.sub(2, 7) as lst:
            while not lst.at_end():
                identities.append(lst.vector(2, 1))
                lst.uint32()  # obfuscated_ticket_age: only 0-RTT would need it
        binders_len = r.remaining  # the binders end the ClientHello
        binders: list[bytes] = []
        with r.sub(2, 33) as lst:
            while not lst.at_end():
                binders.append(lst.vector(1, 32))
        r.expect_end("pre_shared_key")
        if len(binders) != len(identities):
            raise TlsServerError(AlertDescription.illegal_parameter, "one binder per identity")
        if 1 not in Reader(modes).vector(1, 1):  # psk_dhe_ke: psk_ke alone gets a full one
            return None
        h = suite.hash_name
        known = [self.sessions.tickets.get(identity) for identity in identities]
        # The first PSK this suite can use (RFC 8446 4.2.11: the same hash).
        index = next(
            (
                i
                for i, s in enumerate(known)
                if s is not None
                and s.version == 0x0304
                and SUITES[s.suite].hash_name == h
                and self._may_resume(s)
            ),
            None,
        )
        if index is None:
            return None
        session = known[index]
        assert session is not None
        schedule = KeySchedule13(h, session.secret)
        msg = self._hello_message
        truncated = msg[: len(msg) - binders_len]
        # Over the transcript so far (with a HelloRetryRequest: message_hash(ClientHello1)
        # and the HelloRetryRequest) and this ClientHello up to the binders.
        expected = finished_verify_data(
            h, schedule.binder_key(), self._before_hello.digest_with(h, truncated)
        )
        if not hmac.compare_digest(expected, binders[index]):
            raise TlsServerError(AlertDescription.decrypt_error, "PSK binder does not verify")
        return index, session, schedule

    def _may_resume(self, session: ServerSession) -> bool:
        """A server that requires a client certificate resumes only a session made with one."""
        return self.client_auth != "required" or bool(session.client_certificate)

    def _resumed(self, session: ServerSession, how: Literal["psk", "session_id", "ticket"]) -> None:
        self.resumed = True
        self.resumed_with = how
        cert = session.client_certificate
        self.client_certificate = list(cert) if cert is not None else None

    def _remember13(self, ticket: bytes, nonce: bytes) -> None:
        """Remember the PSK a NewSessionTicket stands for (RFC 8446 4.6.1)."""
        if not self.resumption or not self._res_master or self._suite is None:
            return
        self.sessions.tickets[ticket] = ServerSession(
            0x0304,
            self._suite.code,
            resumption_psk(self._suite.hash_name, self._res_master, nonce),
            client_certificate=self._client_chain(),
            alpn=self.selected_alpn,
        )

    def _client_chain(self) -> list[bytes] | None:
        cert = self.client_certificate
        return list(cert) if cert is not None else None

    def _protection13(self, secret: bytes) -> Protection13:
        assert self._suite is not None
        key, iv = traffic_keys(self._suite.hash_name, secret, self._suite.key_len)
        return Protection13(self._suite, secret, key, iv)

    def _add(self, msg: bytes) -> bytes:
        self._transcript.add(msg)
        if self.version == 0x0303:
            self._log += msg
        return msg

    def _message13(self, mtype: int, body: bytes, msg: bytes) -> None:
        state = self._state
        assert self._suite is not None
        if state == "CERT13" and mtype == HT.certificate:
            cert = Certificate13.parse(body)
            self.client_certificate = [e.cert_data for e in cert.entries]
            self._add(msg)
            if not cert.entries and self.client_auth == "required":
                raise TlsServerError(AlertDescription.certificate_required, "no certificate")
            self._state = "CV13" if cert.entries else "FIN13"
        elif state == "CV13" and mtype == HT.certificate_verify:
            cv = CertificateVerify.parse(body)
            signed = certificate_verify_input(self._transcript.digest(), server=False)
            self._verify_client(cv.scheme, signed, cv.signature, tls12=False)
            self._add(msg)
            self._state = "FIN13"
        elif state == "FIN13" and mtype == HT.finished:
            expected = finished_verify_data(
                self._suite.hash_name, self._c_hs, self._transcript.digest()
            )
            if not hmac.compare_digest(body, expected):
                raise TlsServerError(AlertDescription.decrypt_error, "client Finished is wrong")
            self._add(msg)
            if self.resumption:
                assert self._schedule is not None
                self._res_master = self._schedule.resumption_master(self._transcript.digest())
            self._read = self._protection13(self._c_ap)
            self._handshake_done(tickets=self.tickets)
        elif state == "DONE" and self._pha and mtype in _PHA_MESSAGES:
            self._pha_message(mtype, body, msg)
        elif state == "DONE" and mtype == HT.key_update:
            if body not in (b"\x00", b"\x01"):
                raise TlsServerError(AlertDescription.illegal_parameter, "bad KeyUpdate")
            self.key_updates_received += 1
            self._c_ap = next_traffic_secret(self._suite.hash_name, self._c_ap)
            self._read = self._protection13(self._c_ap)
            if body == b"\x01":
                self._send_key_update(False)
        else:
            raise self._unexpected(mtype)

    def _pha_message(self, mtype: int, body: bytes, msg: bytes) -> None:
        """The client's answer to the oldest post-handshake CertificateRequest."""
        assert self._suite is not None
        context, transcript = self._pha[0]
        if self._pha_state == "CERT" and mtype == HT.certificate:
            cert = Certificate13.parse(body)
            if not hmac.compare_digest(cert.request_context, context):
                raise TlsServerError(AlertDescription.illegal_parameter, "request context")
            self.client_certificate = [e.cert_data for e in cert.entries]
            transcript.add(msg)
            self._pha_state = "CV" if cert.entries else "FIN"
        elif self._pha_state == "CV" and mtype == HT.certificate_verify:
            cv = CertificateVerify.parse(body)
            signed = certificate_verify_input(transcript.digest(), server=False)
            self._verify_client(cv.scheme, signed, cv.signature, tls12=False)
            transcript.add(msg)
            self._pha_state = "FIN"
        elif self._pha_state == "FIN" and mtype == HT.finished:
            # RFC 8446 4.4: the Finished key comes from the current client traffic secret.
            expected = finished_verify_data(self._suite.hash_name, self._c_ap, transcript.digest())
            if not hmac.compare_digest(body, expected):
                raise TlsServerError(AlertDescription.decrypt_error, "client Finished is wrong")
            self._pha.pop(0)
            self._pha_state = "CERT"
            self.post_handshake_auths += 1
        else:
            raise self._unexpected(mtype)

    def _send_key_update(self, request: bool) -> None:
        assert self._suite is not None
        self._send_fragments(HANDSHAKE, handshake_message(HT.key_update, bytes([int(request)])))
        self._s_ap = next_traffic_secret(self._suite.hash_name, self._s_ap)
        self._write = self._protection13(self._s_ap)

    def _verify_client(self, scheme: int, message: bytes, signature: bytes, tls12: bool) -> None:
        assert self.client_certificate
        cert = sigalgs.parse_certificate(self.client_certificate[0])
        sigalgs.verify(
            scheme, cert, message, signature, _ACCEPTED_SCHEMES, allow_pkcs1=tls12, tls12=tls12
        )

    def _tampered(self, misbehaviour: str, data: bytes) -> bytes:
        """``data`` with its last bit flipped if the server misbehaves that way."""
        if self.misbehave != misbehaviour:
            return data
        return data[:-1] + bytes([data[-1] ^ 1])

    def _handshake_done(self, tickets: int = 0) -> None:
        self._state = "DONE"
        self.handshakes += 1
        if self.resumed:
            self.sessions.resumptions += 1
        for _ in range(tickets):
            self.send_ticket()
        queued, self._queued = self._queued, []
        for action in queued:
            action()

    # --- TLS 1.2 ----------------------------------------------------------------------------

    def _hello12(self, ch: ClientHello) -> None:
        ri = find_ext(ch.extensions, Ext.renegotiation_info)
        if self.handshakes and ri != _vec(1, self._client_vd):
            # RFC 5746 3.7: a renegotiating ClientHello carries the last client verify_data.
            raise TlsServerError(AlertDescription.handshake_failure, "renegotiation_info")
        self._ems = find_ext(ch.extensions, Ext.extended_master_secret) is not None
        offers_ticket = find_ext(ch.extensions, Ext.session_ticket) is not None
        self._send_ticket12 = bool(self.tickets) and offers_ticket
        found = self._session12(ch)
        if found is not None:
            self._abbreviated12(ch, *found)
            return
        key = self.key
        rsa_key = isinstance(key, rsa.RSAPrivateKey)
        self._suite = self._pick_suite(ch, _SUITES12_RSA if rsa_key else _SUITES12_ECDSA)
        self._transcript.set_hash(self._suite.hash_name)
        self.cipher_suite = self._suite.code
        sg = find_ext(ch.extensions, Ext.supported_groups)
        supported = parse_u16_list(sg) if sg is not None else [SECP256R1]
        allowed = [self.group_choice] if self.group_choice is not None else list(_GROUPS12)
        group = next((g for g in supported if g in allowed), None)
        if group is None:
            raise TlsServerError(AlertDescription.handshake_failure, "no common group")
        self.group = group
        self._server_random = self._random12()
        self.session_id = self.random(32) if self.resumption else b""  # a new session
        exts = self._extensions12(ch)
        staple = self._staple(ch)
        if staple:
            exts.append((Ext.status_request, b""))
        flight = self._add(self._server_hello(self._server_random, self.session_id, exts))
        cert_body = _vec(3, b"".join(_vec(3, c) for c in self.chain))
        flight += self._add(handshake_message(HT.certificate, cert_body))
        if staple:
            assert self.ocsp_response is not None
            status = certificate_status(self.ocsp_response)
            flight += self._add(handshake_message(HT.certificate_status, status))
        self._share = ServerShare(group, b"", self.random)
        params = b"\x03" + _u16(group) + _vec(1, self._share.public)
        scheme = self._pick_scheme(ch, tls12=True)
        sig = self._tampered(
            "bad_signature",
            _sign(key, scheme, ch.random + self._server_random + params, self.deterministic),
        )
        flight += self._add(
            handshake_message(HT.server_key_exchange, params + _u16(scheme) + _vec(2, sig))
        )
        if self.client_auth != "none":
            schemes = b"".join(_u16(s) for s in _ACCEPTED_SCHEMES)
            body = _vec(1, bytes([1, 64])) + _vec(2, schemes) + _ca_names(self.client_ca_names)
            flight += self._add(handshake_message(HT.certificate_request, body))
            self._cert_requested = True
        flight += self._add(handshake_message(HT.server_hello_done, b""))
        self._send_fragments(HANDSHAKE, flight)
        self._state = "CERT12" if self._cert_requested else "CKE12"

    def _random12(self) -> bytes:
        random = self.random(32)
        if self.misbehave == "downgrade_sentinel":
            random = random[:24] + b"DOWNGRD\x01"
        return random

    def _extensions12(self, ch: ClientHello) -> list[tuple[int, bytes]]:
        """The TLS 1.2 ServerHello's extensions (full or abbreviated handshake)."""
        exts: list[tuple[int, bytes]] = []
        if self.misbehave != "no_renegotiation_info":
            exts.append((Ext.renegotiation_info, _vec(1, self._client_vd + self._server_vd)))
        if self._ems:
            exts.append((Ext.extended_master_secret, b""))
        if self._send_ticket12:
            exts.append((Ext.session_ticket, b""))
        return exts + self._pick_alpn(ch)

    def _session12(
        self, ch: ClientHello
    ) -> tuple[ServerSession, Literal["ticket", "session_id"]] | None:
        """The session the ClientHello resumes (by RFC 5077 ticket, else by session ID),
        or None for a full handshake."""
        if not self.resumption or not ch.session_id:
            return None  # (a ticket comes with a session ID: the ServerHello echoes it)
        how: Literal["ticket", "session_id"] = "ticket"
        ticket = find_ext(ch.extensions, Ext.session_ticket)
        session = self.sessions.tickets.get(ticket) if ticket else None
        if session is None:
            how, session = "session_id", self.sessions.session_ids.get(ch.session_id)
        if session is None or session.version != 0x0303 or not self._may_resume(session):
            return None
        rsa_key = isinstance(self.key, rsa.RSAPrivateKey)
        allowed: tuple[int, ...] = _SUITES12_RSA if rsa_key else _SUITES12_ECDSA
        if self.suite_choice is not None:
            allowed = (self.suite_choice,)
        if session.suite not in ch.cipher_suites or session.suite not in allowed:
            return None
        if session.ems and not self._ems:
            # RFC 7627 5.3: a session with extended master secret resumes only with it.
            raise TlsServerError(
                AlertDescription.handshake_failure, "resumption without extended master secret"
            )
        if not session.ems:
            return None  # RFC 7627 5.3: no resumption of a session without it
        return session, how

    def _abbreviated12(
        self, ch: ClientHello, session: ServerSession, how: Literal["ticket", "session_id"]
    ) -> None:
        """RFC 5246 7.3 (RFC 5077 3.1): ServerHello echoing the client's session ID,
        [NewSessionTicket], ChangeCipherSpec, Finished; the client answers with its own."""
        suite = self._suite = SUITES[session.suite]
        self._transcript.set_hash(suite.hash_name)
        self.cipher_suite = suite.code
        self.group = None  # no key exchange
        self._master = session.secret
        self._server_random = self._random12()
        self.session_id = ch.session_id
        self._resumed(session, how)
        exts = self._extensions12(ch)
        flight = self._add(self._server_hello(self._server_random, ch.session_id, exts))
        if self._send_ticket12:
            flight += self._new_ticket12(session)
        self._send_fragments(HANDSHAKE, flight)
        self._keys12()
        self._send_fragments(CHANGE_CIPHER_SPEC, b"\x01")
        self._write = self._next_write
        self._send_finished12()
        self._state = "CCS12"

    def _keys12(self) -> None:
        suite, ch = self._suite, self.client_hello
        assert suite is not None and ch is not None
        iv_len = 4 if suite.cipher == "AES" else 12
        ck, sk, civ, siv = prf.key_block(
            suite.hash_name, self._master, ch.random, self._server_random, suite.key_len, iv_len
        )
        self._next_read = Protection12(suite, ck, civ)
        self._next_write = Protection12(suite, sk, siv)

    def _new_ticket12(self, session: ServerSession) -> bytes:
        """An RFC 5077 NewSessionTicket for ``session`` (added to the transcript)."""
        ticket = self.random(32)
        if self.resumption:
            self.sessions.tickets[ticket] = session
        return self._add(
            handshake_message(HT.new_session_ticket, struct.pack(">I", 7200) + _vec(2, ticket))
        )

    def _send_finished12(self) -> None:
        suite = self._suite
        assert suite is not None
        vd = prf.finished_verify_data(
            suite.hash_name, self._master, b"server finished", self._transcript.digest()
        )
        self._server_vd = vd
        vd = self._tampered("bad_finished", vd)
        self._send_fragments(HANDSHAKE, self._add(handshake_message(HT.finished, vd)))

    def _message12(self, mtype: int, body: bytes, msg: bytes) -> None:
        state = self._state
        suite = self._suite
        ch = self.client_hello
        assert suite is not None and ch is not None
        if state == "CERT12" and mtype == HT.certificate:
            r = Reader(body)
            chain: list[bytes] = []
            with r.sub(3) as lst:
                while not lst.at_end():
                    chain.append(lst.vector(3, 1))
            self.client_certificate = chain
            self._add(msg)
            if not chain and self.client_auth == "required":
                raise TlsServerError(AlertDescription.handshake_failure, "no certificate")
            self._state = "CKE12"
        elif state == "CKE12" and mtype == HT.client_key_exchange:
            assert self._share is not None
            client_public = Reader(body).vector(1)
            premaster = self._share.exchange(client_public)
            self._add(msg)
            session_hash = self._transcript.digest() if self._ems else None
            self._master = prf.master_secret(
                suite.hash_name, premaster, ch.random, self._server_random, session_hash
            )
            self._keys12()
            self._state = "CV12" if self.client_certificate else "CCS12"
        elif state == "CV12" and mtype == HT.certificate_verify:
            r = Reader(body)
            scheme = r.uint16()
            signature = r.vector(2)
            self._verify_client(scheme, bytes(self._log), signature, tls12=True)
            self._add(msg)
            self._state = "CCS12"
        elif state == "FIN12" and mtype == HT.finished:
            expected = prf.finished_verify_data(
                suite.hash_name, self._master, b"client finished", self._transcript.digest()
            )
            if not hmac.compare_digest(body, expected):
                raise TlsServerError(AlertDescription.decrypt_error, "client Finished is wrong")
            self._add(msg)
            self._client_vd = body
            if self.resumed:  # abbreviated: the server's Finished went first
                self._handshake_done()
                return
            session = ServerSession(
                0x0303,
                suite.code,
                self._master,
                ems=self._ems,
                client_certificate=self._client_chain(),
                alpn=self.selected_alpn,
            )
            if self.resumption and self.session_id:
                self.sessions.session_ids[self.session_id] = session
            if self._send_ticket12:
                self._send_fragments(HANDSHAKE, self._new_ticket12(session))
            self._send_fragments(CHANGE_CIPHER_SPEC, b"\x01")
            self._write = self._next_write
            self._send_finished12()
            self._handshake_done()
        else:
            raise self._unexpected(mtype)
