"""Builders for TLS 1.3 / TLS 1.2 server messages and records, on the package's own
codec, key schedule and record protection.

Nothing here runs a state machine: a script calls the builders in any order,
with any overrides (the attack suite uses them to misbehave on purpose), and
decides which, possibly malformed, records go to the client.
:class:`schannel_py.testing.server.TlsServer` uses the same pieces to behave
like a normal server.  :class:`Server13` / :class:`Server12` hold one
connection's keys: after :meth:`Server13.derive_handshake` records can be
protected under the server handshake secret and the client's opened under the
client's.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ..tls import prf
from ..tls.codec import Reader, Writer
from ..tls.groups import X25519, KeyShare
from ..tls.keyschedule import (
    KeySchedule13,
    finished_verify_data,
    next_traffic_secret,
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
    find_ext,
    handshake_message,
    parse_key_share_client,
    write_extensions,
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
from ..tls.suites import SUITES
from .pki import make_self_signed

__all__ = [
    "COMPAT_CCS",
    "ECDSA_P256_SHA256",
    "TLS12_ECDHE_ECDSA_AES128",
    "TLS13_AES128",
    "Exts",
    "Identity",
    "Server12",
    "Server13",
    "certificate_status",
    "ext_block",
    "handshake_messages",
    "identity",
    "record",
    "split_records",
    "u16",
]

HT = HandshakeType
ECDSA_P256_SHA256 = 0x0403
TLS13_AES128 = 0x1301
TLS12_ECDHE_ECDSA_AES128 = 0xC02B

Exts = list[tuple[int, bytes]]
#: The TLS 1.3 middlebox-compatibility change_cipher_spec record (RFC 8446 D.4).
COMPAT_CCS = bytes([CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1])

# --- records ---------------------------------------------------------------------------------


def record(ctype: int, payload: bytes, version: int = 0x0303, length: int | None = None) -> bytes:
    """One unprotected record; ``length`` may lie about the payload size."""
    n = len(payload) if length is None else length
    return struct.pack(">BHH", ctype, version, n) + payload


def split_records(data: bytes) -> list[bytes]:
    """Whole records in ``data`` (a trailing partial record is dropped)."""
    out = []
    off = 0
    while off < len(data):
        n = frame(data, off)
        if n < 0:
            break
        out.append(data[off : off + n])
        off += n
    return out


def handshake_messages(payload: bytes) -> list[bytes]:
    out = []
    r = Reader(payload)
    while not r.at_end():
        t = r.uint8()
        body = r.vector(3)
        out.append(handshake_message(t, body))
    return out


def ext_block(exts: Exts) -> bytes:
    w = Writer()
    write_extensions(w, exts)
    return w.getvalue()


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def certificate_status(response: bytes, status_type: int = 1) -> bytes:
    """A CertificateStatus structure: status_type (1 = ocsp), OCSPResponse<1..2^24-1>."""
    return bytes([status_type]) + len(response).to_bytes(3, "big") + response


# --- identities ------------------------------------------------------------------------------


@dataclass
class Identity:
    """A server certificate chain (DER, leaf first) and its ECDSA P-256 key."""

    chain: list[bytes]
    key: ec.EllipticCurvePrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


_IDENTITY: Identity | None = None


def identity() -> Identity:
    """A self-signed ECDSA localhost certificate (cached: key generation is slow-ish)."""
    global _IDENTITY
    if _IDENTITY is None:
        issued = make_self_signed(("localhost",), key_type="p256", key_label="hostile")
        key = issued.key
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        _IDENTITY = Identity([issued.der], key)
    return _IDENTITY


# --- TLS 1.3 -----------------------------------------------------------------------------------


class Server13:
    """Builders for a TLS 1.3 server flight; nothing happens unless a script asks."""

    def __init__(self, ident: Identity | None = None, suite: int = TLS13_AES128) -> None:
        self.ident = ident or identity()
        self.suite = SUITES[suite]
        self.transcript = Transcript()
        self.transcript.set_hash(self.suite.hash_name)
        self.ch: ClientHello | None = None
        self.ch_count = 0
        self.share: KeyShare | None = None
        self.schedule: KeySchedule13 | None = None
        self.s_hs = self.c_hs = self.s_ap = self.c_ap = b""
        self.write: Protection13 | None = None  # server -> client
        self.client_hs: Protection13 | None = None  # client -> server, handshake keys
        self.client_ap: Protection13 | None = None

    # ClientHello in
    def read_client_hello(self, data: bytes) -> ClientHello:
        """Take the ClientHello out of the client's bytes (CCS records are skipped)."""
        for rec in split_records(data):
            if rec[0] == HANDSHAKE:
                msgs = handshake_messages(rec[HEADER_LEN:])
                assert msgs and msgs[0][0] == HT.client_hello
                self.ch = ClientHello.parse(msgs[0])
                self.transcript.add(msgs[0])
                self.ch_count += 1
                return self.ch
        raise AssertionError("no ClientHello in the client's bytes")

    def client_share(self, group: int) -> bytes | None:
        assert self.ch is not None
        ks = find_ext(self.ch.extensions, Ext.key_share)
        if ks is None:
            return None
        return dict(parse_key_share_client(ks)).get(group)

    # ServerHello / HRR
    def server_hello(
        self,
        *,
        group: int = X25519,
        share: bytes | None = None,
        random: bytes | None = None,
        session_id: bytes | None = None,
        suite: int | None = None,
        legacy_version: int = 0x0303,
        compression: int = 0,
        extensions: Exts | None = None,
        extra: Exts = (),  # type: ignore[assignment]
        add: bool = True,
    ) -> bytes:
        """A ServerHello message (correct by default); its key share is a fresh one."""
        assert self.ch is not None
        if share is None:
            self.share = KeyShare(group, os.urandom)
            share = self.share.public
        if extensions is None:
            extensions = [
                (Ext.supported_versions, u16(0x0304)),
                (Ext.key_share, u16(group) + u16(len(share)) + share),
            ]
        extensions = list(extensions) + list(extra)
        w = Writer()
        w.uint16(legacy_version)
        w.raw(random if random is not None else os.urandom(32))
        w.vector(1, self.ch.session_id if session_id is None else session_id)
        w.uint16(self.suite.code if suite is None else suite)
        w.uint8(compression)
        w.raw(ext_block(extensions))
        msg = handshake_message(HT.server_hello, w.getvalue())
        if add:
            self.transcript.add(msg)
        return msg

    def hello_retry_request(
        self,
        *,
        group: int | None = None,
        cookie: bytes | None = None,
        extra: Exts = (),  # type: ignore[assignment]
    ) -> bytes:
        """An HRR; the transcript is restarted with message_hash as RFC 8446 4.4.1 says."""
        exts: Exts = [(Ext.supported_versions, u16(0x0304))]
        if group is not None:
            exts.append((Ext.key_share, u16(group)))
        if cookie is not None:
            exts.append((Ext.cookie, u16(len(cookie)) + cookie))
        exts += list(extra)
        msg = self.server_hello(random=HRR_RANDOM, extensions=exts, share=b"", add=False)
        self.transcript.restart_for_hrr(self.suite.hash_name)
        self.transcript.add(msg)
        return msg

    def derive_handshake(self, group: int = X25519) -> None:
        """ECDHE with the client's share, handshake traffic secrets for both directions."""
        assert self.share is not None
        peer = self.client_share(group)
        assert peer is not None, "client sent no share for that group"
        shared = self.share.exchange(peer)
        self.schedule = KeySchedule13(self.suite.hash_name)
        self.schedule.enter_handshake(shared)
        self.c_hs, self.s_hs = self.schedule.handshake_traffic(self.transcript.digest())
        self.write = self._prot(self.s_hs)
        self.client_hs = self._prot(self.c_hs)

    def derive_application(self) -> None:
        assert self.schedule is not None
        self.schedule.enter_master()
        self.c_ap, self.s_ap = self.schedule.application_traffic(self.transcript.digest())
        self.client_ap = self._prot(self.c_ap)

    def switch_to_application_keys(self) -> None:
        self.write = self._prot(self.s_ap)

    def key_update_write(self) -> None:
        self.s_ap = next_traffic_secret(self.suite.hash_name, self.s_ap)
        self.write = self._prot(self.s_ap)

    def _prot(self, secret: bytes) -> Protection13:
        key, iv = traffic_keys(self.suite.hash_name, secret, self.suite.key_len)
        return Protection13(self.suite, secret, key, iv)

    # encrypted flight
    def encrypted_extensions(self, exts: Exts = ()) -> bytes:  # type: ignore[assignment]
        return self.add(handshake_message(HT.encrypted_extensions, ext_block(list(exts))))

    def certificate(
        self,
        chain: list[bytes] | None = None,
        context: bytes = b"",
        entry_extensions: list[Exts] | None = None,
    ) -> bytes:
        """The server's Certificate; ``entry_extensions[i]`` goes into entry i (e.g. a
        stapled OCSP response: ``[(Ext.status_request, certificate_status(der))]``)."""
        chain = self.ident.chain if chain is None else chain
        extras = list(entry_extensions or [])
        entries = [
            CertificateEntry(c, list(extras[i]) if i < len(extras) else [])
            for i, c in enumerate(chain)
        ]
        return self.add(Certificate13(context, entries).encode())

    def certificate_verify(
        self, *, scheme: int = ECDSA_P256_SHA256, signature: bytes | None = None
    ) -> bytes:
        if signature is None:
            signed = certificate_verify_input(self.transcript.digest(), server=True)
            signature = self.ident.sign(signed)
        return self.add(CertificateVerify(scheme, signature).encode())

    def finished(self, *, tamper: bool = False) -> bytes:
        vd = finished_verify_data(self.suite.hash_name, self.s_hs, self.transcript.digest())
        if tamper:
            vd = bytes([vd[0] ^ 1]) + vd[1:]
        return self.add(handshake_message(HT.finished, vd))

    def add(self, msg: bytes) -> bytes:
        self.transcript.add(msg)
        return msg

    def auth_messages(self) -> bytes:
        """Certificate, CertificateVerify, Finished (all correct)."""
        return self.certificate() + self.certificate_verify() + self.finished()

    # records
    def plain(self, payload: bytes, ctype: int = HANDSHAKE, version: int = 0x0303) -> bytes:
        return record(ctype, payload, version)

    def prot(self, payload: bytes, ctype: int = HANDSHAKE, padding: int = 0) -> bytes:
        assert self.write is not None
        return self.write.seal(ctype, payload, padding)

    def sh_flight(self, **kw: object) -> bytes:
        """ServerHello record; handshake keys derived."""
        sh = self.server_hello(**kw)  # type: ignore[arg-type]
        self.derive_handshake()
        return self.plain(sh)

    def full_flight(self, ee: Exts = ()) -> bytes:  # type: ignore[assignment]
        """A correct server flight: ServerHello, then EE..Finished in one protected record."""
        out = self.sh_flight()
        out += self.prot(self.encrypted_extensions(ee) + self.auth_messages())
        self.derive_application()
        return out

    # the client's alert
    def open_alert(self, alert: bytes) -> tuple[int, int]:
        """(level, description) of the client's alert record, decrypting it if needed."""
        assert alert, "the client sent no alert"
        if alert.startswith(COMPAT_CCS):
            # RFC 8446 D.4: the compatibility CCS precedes the first protected record.
            alert = alert[len(COMPAT_CCS) :]
            assert alert[:1] == bytes([APPLICATION_DATA]), "a CCS before a plaintext alert"
        n = frame(alert)
        assert n == len(alert), "alert buffer is not exactly one record"
        if alert[0] == ALERT:
            body = alert[HEADER_LEN:]
        else:
            assert alert[0] == APPLICATION_DATA
            # Handshake keys, fresh sequence: the client sent nothing encrypted before.
            assert self.c_hs, "encrypted alert but no handshake keys"
            ctype, body = self._prot(self.c_hs).open(alert)
            assert ctype == ALERT
        assert len(body) == 2
        return body[0], body[1]


# --- TLS 1.2 -----------------------------------------------------------------------------------


class Server12:
    """Builders for a TLS 1.2 ECDHE-ECDSA-AES128-GCM server."""

    def __init__(self, ident: Identity | None = None, suite: int = TLS12_ECDHE_ECDSA_AES128):
        self.ident = ident or identity()
        self.suite = SUITES[suite]
        self.transcript = Transcript()
        self.transcript.set_hash(self.suite.hash_name)
        self.ch: ClientHello | None = None
        self.server_random = b""
        self.share: KeyShare | None = None
        self.group = X25519
        self.ems = True
        self.master = b""
        self.write: Protection12 | None = None
        self.read: Protection12 | None = None
        self.client_verify_data = b""
        self.server_verify_data = b""

    def read_client_hello(self, data: bytes) -> ClientHello:
        for rec in split_records(data):
            if rec[0] == HANDSHAKE:
                msgs = handshake_messages(rec[HEADER_LEN:])
                self.ch = ClientHello.parse(msgs[0])
                self.transcript.add(msgs[0])
                return self.ch
        raise AssertionError("no ClientHello")

    def add(self, msg: bytes) -> bytes:
        self.transcript.add(msg)
        return msg

    def server_hello(
        self,
        *,
        random: bytes | None = None,
        suite: int | None = None,
        legacy_version: int = 0x0303,
        compression: int = 0,
        ems: bool = True,
        reneg: bytes | None = b"\x00",
        extra: Exts = (),  # type: ignore[assignment]
        session_id: bytes = b"",
    ) -> bytes:
        self.ems = ems
        self.server_random = random if random is not None else os.urandom(32)
        exts: Exts = []
        if reneg is not None:
            exts.append((Ext.renegotiation_info, reneg))
        if ems:
            exts.append((Ext.extended_master_secret, b""))
        exts += list(extra)
        w = Writer()
        w.uint16(legacy_version)
        w.raw(self.server_random)
        w.vector(1, session_id)
        w.uint16(self.suite.code if suite is None else suite)
        w.uint8(compression)
        w.raw(ext_block(exts))
        return self.add(handshake_message(HT.server_hello, w.getvalue()))

    def certificate(self, chain: list[bytes] | None = None) -> bytes:
        chain = self.ident.chain if chain is None else chain
        w = Writer()
        with w.sub(3) as lst:
            for c in chain:
                lst.vector(3, c)
        return self.add(handshake_message(HT.certificate, w.getvalue()))

    def certificate_status(self, response: bytes = b"", *, body: bytes | None = None) -> bytes:
        """A CertificateStatus message (RFC 6066 section 8) stapling ``response``, or
        with ``body`` as its raw (possibly malformed) body."""
        return self.add(
            handshake_message(
                HT.certificate_status, certificate_status(response) if body is None else body
            )
        )

    def server_key_exchange(
        self,
        *,
        group: int = X25519,
        public: bytes | None = None,
        scheme: int = ECDSA_P256_SHA256,
        signature: bytes | None = None,
        tamper: bool = False,
    ) -> bytes:
        assert self.ch is not None
        self.group = group
        if public is None:
            self.share = KeyShare(group, os.urandom)
            public = self.share.public
        params = bytes([3]) + u16(group) + bytes([len(public)]) + public
        if signature is None:
            signature = self.ident.sign(self.ch.random + self.server_random + params)
            if tamper:
                signature = signature[:-1] + bytes([signature[-1] ^ 1])
        body = params + u16(scheme) + u16(len(signature)) + signature
        return self.add(handshake_message(HT.server_key_exchange, body))

    def server_hello_done(self) -> bytes:
        return self.add(handshake_message(HT.server_hello_done, b""))

    def first_flight(self, **sh: object) -> bytes:
        msgs = self.server_hello(**sh)  # type: ignore[arg-type]
        msgs += self.certificate() + self.server_key_exchange() + self.server_hello_done()
        return record(HANDSHAKE, msgs)

    def read_client_flight(self, data: bytes) -> None:
        """ClientKeyExchange, CCS, Finished: derive the keys and check the client Finished."""
        assert self.share is not None
        recs = split_records(data)
        assert recs[0][0] == HANDSHAKE and recs[1][0] == CHANGE_CIPHER_SPEC, recs
        cke = handshake_messages(recs[0][HEADER_LEN:])[0]
        client_pub = Reader(cke[4:]).vector(1)
        premaster = self.share.exchange(client_pub)
        self.add(cke)
        session_hash = self.transcript.digest() if self.ems else None
        cr = self.ch.random if self.ch else b""
        self.master = prf.master_secret(
            self.suite.hash_name, premaster, cr, self.server_random, session_hash
        )
        ck, sk, civ, siv = prf.key_block(
            self.suite.hash_name, self.master, cr, self.server_random, self.suite.key_len, 4
        )
        self.read = Protection12(self.suite, ck, civ)
        self.write = Protection12(self.suite, sk, siv)
        ctype, fin = self.read.open(recs[2])
        assert ctype == HANDSHAKE
        expected = prf.finished_verify_data(
            self.suite.hash_name, self.master, b"client finished", self.transcript.digest()
        )
        assert fin[4:] == expected, "client Finished does not verify"
        self.client_verify_data = fin[4:]
        self.add(fin)

    def finished(self, *, tamper: bool = False) -> bytes:
        vd = prf.finished_verify_data(
            self.suite.hash_name, self.master, b"server finished", self.transcript.digest()
        )
        if tamper:
            vd = bytes([vd[0] ^ 1]) + vd[1:]
        self.server_verify_data = vd
        return self.add(handshake_message(HT.finished, vd))

    def prot(self, payload: bytes, ctype: int = HANDSHAKE) -> bytes:
        assert self.write is not None
        return self.write.seal(ctype, payload)

    def ccs(self) -> bytes:
        return record(CHANGE_CIPHER_SPEC, b"\x01")

    def open_alert(self, alert: bytes) -> tuple[int, int]:
        """(level, description): plaintext before the client's CCS, else under its write keys."""
        assert alert, "the client sent no alert"
        assert frame(alert) == len(alert)
        if self.read is None:
            assert alert[0] == ALERT
            body = alert[HEADER_LEN:]
        else:
            ctype, body = self.read.open(alert)
            assert ctype == ALERT
        return body[0], body[1]
