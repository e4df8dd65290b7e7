"""Handshake messages and extensions: parse what servers send, build what we send.

Extensions are kept as ordered ``(type, body)`` pairs so a ClientHello can be
inspected or rewritten (tests, replays) and the client then derives what it
actually offered from the final bytes, not from its configuration.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .alerts import decode_error, illegal
from .codec import Reader, Writer


class HandshakeType(enum.IntEnum):
    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    certificate_status = 22
    key_update = 24
    message_hash = 254
    hello_request = 0


_CLIENT_HELLO_TYPE = bytes((HandshakeType.client_hello,))


class Ext(enum.IntEnum):
    server_name = 0
    max_fragment_length = 1
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    use_srtp = 14
    heartbeat = 15
    alpn = 16
    signed_certificate_timestamp = 18
    client_certificate_type = 19
    server_certificate_type = 20
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    record_size_limit = 28
    session_ticket = 35
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    renegotiation_info = 0xFF01


def ext_name(code: int) -> str:
    try:
        return Ext(code).name
    except ValueError:
        return f"ext_{code}"


def msg_name(code: int) -> str:
    try:
        return HandshakeType(code).name
    except ValueError:
        return f"handshake_{code}"


# SHA-256("HelloRetryRequest"), RFC 8446 section 4.1.3.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"

Extensions = list[tuple[int, bytes]]


def handshake_message(msg_type: int, body: bytes) -> bytes:
    """Wrap ``body`` in the 4-byte handshake header."""
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


_U16 = struct.Struct(">H").pack
_U16_PAIR = struct.Struct(">HH").pack


def encode_extensions(exts: Extensions) -> bytes:
    """An extension block, its 2-byte length included (struct.error if anything
    does not fit its length field)."""
    block = b"".join([_U16_PAIR(code, len(body)) + body for code, body in exts])
    return _U16(len(block)) + block


def write_extensions(w: Writer, exts: Extensions) -> None:
    w.raw(encode_extensions(exts))


def read_extensions(r: Reader, *, required: bool = False, strict: bool = False) -> Extensions:
    """An extension block; a duplicate is a decode_error (illegal_parameter if
    ``strict``: HelloRetryRequest and NewSessionTicket, as BoringSSL answers).

    Without ``required`` a missing block (the message ends) is an empty one, as
    TLS 1.2 allows; TLS 1.3 messages always carry the block (RFC 8446 4).
    One loop over the block's bytes (no nested reader per extension): every
    message with extensions comes through here.
    """
    out: Extensions = []
    if r.at_end() and not required:
        return out
    block = r.vector(2)
    seen: set[int] = set()
    pos = 0
    end = len(block)
    while pos < end:
        start = pos + 4
        if start > end:
            raise decode_error("truncated data")
        stop = start + ((block[pos + 2] << 8) | block[pos + 3])
        if stop > end:
            raise decode_error("truncated data")
        code = (block[pos] << 8) | block[pos + 1]
        if code in seen:
            why = f"duplicate extension {ext_name(code)}"
            raise illegal(why) if strict else decode_error(why)
        seen.add(code)
        out.append((code, block[start:stop]))
        pos = stop
    return out


def find_ext(exts: Extensions, code: int) -> bytes | None:
    for c, body in exts:
        if c == code:
            return body
    return None


# --- OCSP stapling (RFC 6066 section 8) ---------------------------------------

#: CertificateStatusType ocsp (RFC 6066 section 8); the only type there is.
STATUS_TYPE_OCSP = 1
#: The body of the status_request a client sends: status_type ocsp, an empty
#: responder_id_list and empty request_extensions (RFC 6066 section 8).
STATUS_REQUEST_OCSP = b"\x01\x00\x00\x00\x00"


def parse_certificate_status(body: bytes) -> bytes:
    """The OCSPResponse (DER) of a CertificateStatus structure: the body of the TLS 1.2
    CertificateStatus message and of a TLS 1.3 CertificateEntry's status_request
    (RFC 8446 section 4.4.2.1).

    ``status_type`` must be ocsp and ``OCSPResponse<1..2^24-1>`` must fill the rest:
    anything else is decode_error, as OpenSSL and BoringSSL answer (a status type
    other than ocsp included: it is a value out of the range this structure
    defines).  The response itself is not parsed here: the certificate check does.
    """
    r = Reader(body)
    if r.uint8() != STATUS_TYPE_OCSP:
        raise decode_error("CertificateStatus: status_type is not ocsp")
    response = r.vector(3, 1)
    r.expect_end("CertificateStatus")
    return response


# --- ClientHello --------------------------------------------------------------


@dataclass
class ClientHello:
    random: bytes
    session_id: bytes
    cipher_suites: list[int]
    extensions: Extensions
    legacy_version: int = 0x0303
    compression_methods: bytes = b"\x00"

    def encode(self) -> bytes:
        suites = self.cipher_suites
        session_id = self.session_id
        compression = self.compression_methods
        body = b"".join(
            (
                _U16(self.legacy_version),
                self.random,
                bytes((len(session_id),)),
                session_id,
                _U16(2 * len(suites)),
                struct.pack(f">{len(suites)}H", *suites),
                bytes((len(compression),)),
                compression,
                encode_extensions(self.extensions),
            )
        )
        return _CLIENT_HELLO_TYPE + len(body).to_bytes(3, "big") + body

    @classmethod
    def parse(cls, message: bytes) -> ClientHello:
        """Parse a whole ClientHello handshake message (header included)."""
        r = Reader(message)
        if r.uint8() != HandshakeType.client_hello:
            raise decode_error("not a ClientHello")
        with r.sub(3) as b:
            legacy_version = b.uint16()
            random = b.read(32)
            session_id = b.vector(1, 0, 32)
            suites = b.uint16_list(2, 2)
            compression = b.vector(1, 1)
            exts = read_extensions(b)
        r.expect_end("ClientHello")
        return cls(random, session_id, suites, exts, legacy_version, compression)


def ext_server_name(host: str) -> bytes:
    w = Writer()
    with w.sub(2) as lst:
        lst.uint8(0)  # host_name
        lst.vector(2, host.encode("ascii", "strict"))
    return w.getvalue()


def ext_u16_list(values: list[int] | tuple[int, ...], len_bytes: int = 2) -> bytes:
    w = Writer()
    w.uint16_list(len_bytes, list(values))
    return w.getvalue()


def ext_alpn(protocols: list[bytes]) -> bytes:
    w = Writer()
    with w.sub(2) as lst:
        for p in protocols:
            lst.vector(1, p)
    return w.getvalue()


def ext_key_share_client(shares: list[tuple[int, bytes]]) -> bytes:
    w = Writer()
    with w.sub(2) as lst:
        for group, key in shares:
            lst.uint16(group)
            lst.vector(2, key)
    return w.getvalue()


def parse_key_share_client(body: bytes) -> list[tuple[int, bytes]]:
    r = Reader(body)
    out: list[tuple[int, bytes]] = []
    with r.sub(2) as lst:
        while not lst.at_end():
            out.append((lst.uint16(), lst.vector(2, 1)))
    r.expect_end("key_share")
    return out


def parse_alpn_list(body: bytes) -> list[bytes]:
    r = Reader(body)
    out: list[bytes] = []
    with r.sub(2, 1) as lst:
        while not lst.at_end():
            out.append(lst.vector(1, 1))
    r.expect_end("alpn")
    return out


def parse_u16_list(body: bytes, len_bytes: int = 2) -> list[int]:
    r = Reader(body)
    out = r.uint16_list(len_bytes)
    r.expect_end("list")
    return out


#: Parsed uint16 lists of ClientHello extension bodies, by (code, body): the same
#: configuration sends the same supported_versions / groups / signature_algorithms
#: bytes every time.  Only successful parses are kept; callers get a fresh list.
_U16_LISTS: dict[tuple[int, bytes], tuple[int, ...]] = {}


def _parsed_u16_list(code: int, body: bytes, len_bytes: int) -> list[int]:
    key = (code, body if type(body) is bytes else bytes(body))
    cached = _U16_LISTS.get(key)
    if cached is None:
        parsed = parse_u16_list(body, len_bytes)
        if len(_U16_LISTS) < 64:
            _U16_LISTS[key] = tuple(parsed)
        return parsed
    return list(cached)


def _share_groups(body: bytes) -> list[int]:
    """The groups of a client key_share body, as parse_key_share_client finds them
    (a walk over the entries; anything it cannot take whole goes to the parser,
    which raises the decode_error)."""
    n = len(body)
    if n >= 2 and (body[0] << 8) | body[1] == n - 2:
        groups: list[int] = []
        pos = 2
        while pos + 4 <= n:
            length = (body[pos + 2] << 8) | body[pos + 3]
            if length < 1:
                break
            groups.append((body[pos] << 8) | body[pos + 1])
            pos += 4 + length
        if pos == n:
            return groups
    return [g for g, _ in parse_key_share_client(body)]


# Plain ints for the per-ClientHello loop (an IntEnum member lookup costs ~60 ns
# on Python 3.11).
_SUPPORTED_VERSIONS = int(Ext.supported_versions)
_SUPPORTED_GROUPS = int(Ext.supported_groups)
_KEY_SHARE = int(Ext.key_share)
_SIGNATURE_ALGORITHMS = int(Ext.signature_algorithms)
_ALPN = int(Ext.alpn)


#: How the Offer reads each extension it looks at (decode_error if malformed).
_OFFER_READERS: dict[int, Callable[[bytes], list[Any]]] = {
    _SUPPORTED_VERSIONS: lambda body: _parsed_u16_list(_SUPPORTED_VERSIONS, body, 1),
    _SUPPORTED_GROUPS: lambda body: _parsed_u16_list(_SUPPORTED_GROUPS, body, 2),
    _KEY_SHARE: _share_groups,
    _SIGNATURE_ALGORITHMS: lambda body: _parsed_u16_list(_SIGNATURE_ALGORITHMS, body, 2),
    _ALPN: parse_alpn_list,
}


@dataclass
class Offer:
    """What a ClientHello actually offered, derived from its bytes."""

    session_id: bytes
    cipher_suites: list[int]
    versions: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    share_groups: list[int] = field(default_factory=list)
    signature_schemes: list[int] = field(default_factory=list)
    alpn: list[bytes] = field(default_factory=list)
    extension_types: set[int] = field(default_factory=set)

    @classmethod
    def from_client_hello(cls, ch: ClientHello) -> Offer:
        bodies = dict(ch.extensions)
        if len(bodies) != len(ch.extensions):
            # Duplicates (only a customize_client_hello hook makes them): every
            # copy is read in order, so a malformed earlier one still fails; the
            # last copy is the one the fields come from.
            for code, copy in ch.extensions:
                read = _OFFER_READERS.get(code)
                if read is not None:
                    read(copy)
        parsed = {
            code: read(bodies[code]) for code, read in _OFFER_READERS.items() if code in bodies
        }
        return cls(
            ch.session_id,
            list(ch.cipher_suites),
            parsed.get(_SUPPORTED_VERSIONS) or [ch.legacy_version],
            parsed.get(_SUPPORTED_GROUPS, []),
            parsed.get(_KEY_SHARE, []),
            parsed.get(_SIGNATURE_ALGORITHMS, []),
            parsed.get(_ALPN, []),
            set(bodies),
        )


# --- Server messages ----------------------------------------------------------


@dataclass
class ServerHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression: int
    extensions: Extensions

    @property
    def is_hrr(self) -> bool:
        return self.random == HRR_RANDOM

    @classmethod
    def parse(cls, body: bytes) -> ServerHello:
        r = Reader(body)
        legacy_version = r.uint16()
        random = r.read(32)
        session_id = r.vector(1, 0, 32)
        suite = r.uint16()
        compression = r.uint8()
        hrr = random == HRR_RANDOM
        exts = read_extensions(r, required=hrr, strict=hrr)
        r.expect_end("ServerHello")
        return cls(legacy_version, random, session_id, suite, compression, exts)


def parse_extensions_only(body: bytes, what: str) -> Extensions:
    r = Reader(body)
    exts = read_extensions(r, required=True)
    r.expect_end(what)
    return exts


@dataclass
class CertificateEntry:
    cert_data: bytes
    extensions: Extensions


@dataclass
class Certificate13:
    request_context: bytes
    entries: list[CertificateEntry]

    @classmethod
    def parse(cls, body: bytes) -> Certificate13:
        r = Reader(body)
        ctx = r.vector(1)
        entries: list[CertificateEntry] = []
        with r.sub(3) as lst:
            while not lst.at_end():
                data = lst.vector(3, 1)
                exts = read_extensions(lst, required=True)
                entries.append(CertificateEntry(data, exts))
        r.expect_end("Certificate")
        return cls(ctx, entries)

    def encode(self) -> bytes:
        w = Writer()
        w.vector(1, self.request_context)
        with w.sub(3) as lst:
            for e in self.entries:
                lst.vector(3, e.cert_data)
                write_extensions(lst, e.extensions)
        return handshake_message(HandshakeType.certificate, w.getvalue())


@dataclass
class CertificateRequest13:
    request_context: bytes
    extensions: Extensions

    @classmethod
    def parse(cls, body: bytes) -> CertificateRequest13:
        r = Reader(body)
        ctx = r.vector(1)
        exts = read_extensions(r, required=True)
        r.expect_end("CertificateRequest")
        return cls(ctx, exts)


@dataclass
class CertificateVerify:
    scheme: int
    signature: bytes

    @classmethod
    def parse(cls, body: bytes) -> CertificateVerify:
        r = Reader(body)
        scheme = r.uint16()
        sig = r.vector(2, 1)
        r.expect_end("CertificateVerify")
        return cls(scheme, sig)

    def encode(self) -> bytes:
        w = Writer()
        w.uint16(self.scheme)
        w.vector(2, self.signature)
        return handshake_message(HandshakeType.certificate_verify, w.getvalue())


@dataclass
class NewSessionTicket13:
    lifetime: int
    age_add: int
    nonce: bytes
    ticket: bytes
    extensions: Extensions

    @classmethod
    def parse(cls, body: bytes) -> NewSessionTicket13:
        r = Reader(body)
        lifetime = r.uint32()
        age_add = r.uint32()
        nonce = r.vector(1)
        ticket = r.vector(2, 1)
        exts = read_extensions(r, required=True, strict=True)
        r.expect_end("NewSessionTicket")
        if lifetime > 604800:
            raise illegal("ticket lifetime over 7 days")
        return cls(lifetime, age_add, nonce, ticket, exts)


def parse_key_update(body: bytes) -> bool:
    """True when the peer requests an update in return."""
    if len(body) != 1:
        raise decode_error("KeyUpdate must be one byte")
    if body[0] not in (0, 1):
        raise illegal("bad KeyUpdate request value")
    return body[0] == 1


def certificate_verify_input(transcript_hash: bytes, server: bool) -> bytes:
    """The bytes a TLS 1.3 CertificateVerify signs (RFC 8446 section 4.4.3)."""
    who = b"server" if server else b"client"
    return b" " * 64 + b"TLS 1.3, " + who + b" CertificateVerify\x00" + transcript_hash
