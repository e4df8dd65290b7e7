"""Byte-exact dissection of TLS records and handshake messages into named fields.

A :class:`Field` covers ``data[start:end]`` of the bytes it was cut from; a
group's children cover its span exactly, in order, so the leaves of a
dissection partition the bytes: every byte belongs to exactly one named leaf
(:func:`leaves`).  Whatever the dissector cannot read (a truncated vector, an
unknown extension) becomes one opaque leaf rather than a gap.

This reads bytes only; it never touches the TLS core's state.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..tls.alerts import AlertDescription
from ..tls.groups import GROUP_NAMES
from ..tls.messages import HRR_RANDOM, ext_name, msg_name
from ..tls.record import CONTENT_TYPE_NAMES
from ..tls.sigalgs import scheme_name
from ..tls.suites import SUITES

VERSION_NAMES = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}


def alert_name(code: int) -> str:
    """The name of an alert description (the TLS core's table), or its number."""
    try:
        return AlertDescription(code).name
    except ValueError:
        return str(code)


@dataclass
class Field:
    """A named span ``[start, end)`` of some bytes; ``children`` partition it."""

    name: str
    start: int
    end: int
    value: str = ""
    children: list[Field] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.end - self.start


def leaves(fields: list[Field]) -> Iterator[Field]:
    """The leaves of ``fields``, in byte order."""
    for f in fields:
        if f.children:
            yield from leaves(f.children)
        else:
            yield f


def walk(fields: list[Field]) -> Iterator[Field]:
    """Every field, groups before their children."""
    for f in fields:
        yield f
        yield from walk(f.children)


def covers(fields: list[Field], start: int, end: int) -> bool:
    """True when the leaves of ``fields`` partition ``[start, end)`` exactly."""
    pos = start
    for leaf in leaves(fields):
        if leaf.start != pos or leaf.end <= leaf.start:
            return False
        pos = leaf.end
    return pos == end and _groups_consistent(fields)


def _groups_consistent(fields: list[Field]) -> bool:
    for f in fields:
        if f.children:
            if f.children[0].start != f.start or f.children[-1].end != f.end:
                return False
            if not _groups_consistent(f.children):
                return False
    return True


class _Short(Exception):
    """The bytes end before a length says they should."""


class _Cut:
    """Cuts named fields off ``data`` from ``pos`` up to ``end``."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def take(self, n: int, name: str, value: str | Callable[[bytes], str] = "") -> Field:
        if n < 0 or self.pos + n > self.end:
            raise _Short(name)
        raw = self.data[self.pos : self.pos + n]
        text = value(raw) if callable(value) else value
        f = Field(name, self.pos, self.pos + n, text)
        self.pos += n
        return f

    def number(
        self, n: int, name: str, names: Callable[[int], str] | None = None
    ) -> tuple[Field, int]:
        if self.pos + n > self.end:
            raise _Short(name)
        v = int.from_bytes(self.data[self.pos : self.pos + n], "big")
        text = names(v) if names else str(v)
        return self.take(n, name, text), v

    def at_end(self) -> bool:
        return self.pos >= self.end


def group(name: str, children: list[Field], value: str = "") -> Field:
    return Field(name, children[0].start, children[-1].end, value, children)


def _hex(raw: bytes, limit: int = 24) -> str:
    text = raw.hex()
    return text if len(raw) <= limit else f"{raw[:limit].hex()}... ({len(raw)} bytes)"


def _named(table: dict[int, str]) -> Callable[[int], str]:
    return lambda v: table.get(v, f"0x{v:04x}")


def version_name(v: int) -> str:
    return VERSION_NAMES.get(v, f"0x{v:04x}")


def suite_name(v: int) -> str:
    s = SUITES.get(v)
    if s is not None:
        return s.name
    if v & 0x0F0F == 0x0A0A:
        return f"GREASE 0x{v:04x}"
    if v == 0x00FF:
        return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    return f"0x{v:04x}"


#: Groups the TLS client does not implement but peers name (RFC 8422, RFC 7919).
OTHER_GROUPS = {
    0x0019: "secp521r1",
    0x001E: "x448",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
}


def group_name(v: int) -> str:
    name = GROUP_NAMES.get(v) or OTHER_GROUPS.get(v)
    if name is None and v & 0x0F0F == 0x0A0A:
        return f"GREASE 0x{v:04x}"
    return name or f"0x{v:04x}"


def _vector(
    cut: _Cut,
    len_bytes: int,
    name: str,
    item: Callable[[_Cut], Field] | None = None,
    value: str = "",
) -> Field:
    """A vector: its length field, then its items (or one leaf of its contents)."""
    length_f, n = cut.number(len_bytes, f"{name} length")
    if n == 0:
        return group(name, [length_f], "empty")
    end = cut.pos + n
    if end > cut.end:
        raise _Short(name)
    parts = [length_f]
    if item is None:
        parts.append(cut.take(n, f"{name} data", value or (lambda b: _hex(b))))
    else:
        inner = _Cut(cut.data, cut.pos, end)
        while not inner.at_end():
            parts.append(item(inner))
        cut.pos = end
    return group(name, parts, value)


def _u16_item(label: str, names: Callable[[int], str]) -> Callable[[_Cut], Field]:
    return lambda c: c.number(2, label, names)[0]


# --- extensions -------------------------------------------------------------------


def _ext_body(code: int, cut: _Cut, msg_type: int) -> list[Field]:
    """The fields of one extension's data (``cut`` spans exactly that data)."""
    if code == 0:  # server_name
        if cut.at_end():
            return []

        def entry(c: _Cut) -> Field:
            t, _ = c.number(1, "name type", lambda v: "host_name" if v == 0 else str(v))
            name = _vector(c, 2, "host name", value="")
            host = c.data[name.children[-1].start : name.end] if len(name.children) > 1 else b""
            name.value = host.decode("ascii", "replace")
            return group("server name entry", [t, name], name.value)

        return [_vector(cut, 2, "server name list", entry)]
    if code in (10, 13, 50):  # supported_groups, signature_algorithms(_cert)
        label, names = ("group", group_name) if code == 10 else ("signature scheme", scheme_name)
        return [_vector(cut, 2, f"{label}s", _u16_item(label, names))]
    if code == 16:  # alpn

        def proto(c: _Cut) -> Field:
            f = _vector(c, 1, "protocol")
            f.value = c.data[f.start + 1 : f.end].decode("ascii", "replace")
            return f

        return [_vector(cut, 2, "protocol name list", proto)]
    if code == 43:  # supported_versions
        if msg_type == 1:
            return [_vector(cut, 1, "versions", _u16_item("version", version_name))]
        return [cut.number(2, "selected version", version_name)[0]]
    if code == 51:  # key_share

        def share(c: _Cut) -> Field:
            g, gv = c.number(2, "group", group_name)
            key = _vector(c, 2, "key_exchange (public key)")
            return group("key share entry", [g, key], group_name(gv))

        if msg_type == 1:
            return [_vector(cut, 2, "client shares", share)]
        if cut.end - cut.pos == 2:  # HelloRetryRequest: the group the server wants
            return [cut.number(2, "selected group", group_name)[0]]
        return [share(cut)]
    if code in (11, 45):  # ec_point_formats, psk_key_exchange_modes
        table = {0: "uncompressed"} if code == 11 else {0: "psk_ke", 1: "psk_dhe_ke"}
        return [_vector(cut, 1, "list", lambda c: c.number(1, "item", _named(table))[0])]
    if code == 0xFF01:  # renegotiation_info
        return [_vector(cut, 1, "renegotiated connection")]
    if code == 21:  # padding
        return (
            [cut.take(cut.end - cut.pos, "padding (zeros)", lambda b: f"{len(b)} bytes")]
            if not cut.at_end()
            else []
        )
    if code == 28:  # record_size_limit
        return [cut.number(2, "record size limit")[0]]
    if code == 44:  # cookie
        return [_vector(cut, 2, "cookie")]
    if code == 41 and msg_type == 2:  # pre_shared_key (server)
        return [cut.number(2, "selected identity")[0]]
    if code == 41 and msg_type == 1:  # pre_shared_key (client): identities, then binders

        def identity(c: _Cut) -> Field:
            ticket = _vector(c, 2, "identity (ticket)")
            age = c.take(4, "obfuscated_ticket_age", lambda b: b.hex())
            return group("PSK identity", [ticket, age])

        return [
            _vector(cut, 2, "identities", identity),
            _vector(cut, 2, "binders", lambda c: _vector(c, 1, "binder")),
        ]
    if cut.at_end():
        return []
    return [cut.take(cut.end - cut.pos, "extension data", _hex)]


def _extension(msg_type: int) -> Callable[[_Cut], Field]:
    def one(cut: _Cut) -> Field:
        t, code = cut.number(2, "extension type", lambda v: f"{ext_name(v)} ({v})")
        n_f, n = cut.number(2, "extension length")
        end = cut.pos + n
        if end > cut.end:
            raise _Short("extension")
        inner = _Cut(cut.data, cut.pos, end)
        try:
            body = _ext_body(code, inner, msg_type)
            if inner.pos != end:
                raise _Short("extension data left over")
        except _Short:
            inner = _Cut(cut.data, cut.pos, end)
            body = [inner.take(n, "extension data", _hex)]
        cut.pos = end
        parts = [t, n_f, *body]
        return group(f"extension: {ext_name(code)}", parts, _ext_summary(code, body, cut.data))

    return one


def _ext_summary(code: int, body: list[Field], data: bytes) -> str:
    values = [f.value for f in leaves(body) if f.value and "length" not in f.name]
    if code == 0:
        values = [f.value for f in walk(body) if f.name == "server name entry"]
    if code == 16:
        values = [f.value for f in walk(body) if f.name == "protocol"]
    if code == 51:
        values = [f.value for f in walk(body) if f.name == "key share entry"] or values
    text = ", ".join(values)
    return text if len(text) <= 120 else text[:117] + "..."


def _extensions(cut: _Cut, msg_type: int) -> Field:
    return _vector(cut, 2, "extensions", _extension(msg_type))


# --- handshake messages -----------------------------------------------------------


def _certificate_subject(der: bytes) -> str:
    try:
        from cryptography import x509
        from cryptography.utils import CryptographyDeprecationWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return "subject " + x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except Exception:
        return f"{len(der)} bytes"


def _body(msg_type: int, cut: _Cut, tls13: bool) -> list[Field]:
    """The fields of a handshake message body (``cut`` spans exactly that body)."""
    out: list[Field] = []
    take = out.append
    if msg_type == 1:  # client_hello
        take(cut.number(2, "legacy_version", version_name)[0])
        take(cut.take(32, "random", lambda b: b.hex()))
        take(_vector(cut, 1, "legacy_session_id"))
        take(_vector(cut, 2, "cipher_suites", _u16_item("cipher suite", suite_name)))
        take(
            _vector(
                cut,
                1,
                "legacy_compression_methods",
                lambda c: c.number(1, "method", _named({0: "null"}))[0],
            )
        )
        if not cut.at_end():
            take(_extensions(cut, 1))
        return out
    if msg_type == 2:  # server_hello
        take(cut.number(2, "legacy_version", version_name)[0])
        take(cut.take(32, "random", lambda b: "HelloRetryRequest" if b == HRR_RANDOM else b.hex()))
        take(_vector(cut, 1, "legacy_session_id_echo"))
        take(cut.number(2, "cipher_suite", suite_name)[0])
        take(cut.number(1, "legacy_compression_method", _named({0: "null"}))[0])
        if not cut.at_end():
            take(_extensions(cut, 2))
        return out
    if msg_type == 8:  # encrypted_extensions
        return [_extensions(cut, 8)]
    if msg_type == 11:  # certificate
        if tls13:
            take(_vector(cut, 1, "certificate_request_context"))

        def entry(c: _Cut) -> Field:
            der_f = _vector(c, 3, "cert_data")
            der = c.data[der_f.start + 3 : der_f.end]
            der_f.value = _certificate_subject(der)
            parts = [der_f]
            if tls13:
                parts.append(_extensions(c, 11))
            return group("certificate entry", parts, der_f.value)

        take(_vector(cut, 3, "certificate_list", entry))
        return out
    if msg_type == 15:  # certificate_verify
        take(cut.number(2, "signature scheme", scheme_name)[0])
        take(_vector(cut, 2, "signature"))
        return out
    if msg_type == 20:  # finished
        return [cut.take(cut.end - cut.pos, "verify_data", lambda b: b.hex())]
    if msg_type == 4:  # new_session_ticket
        take(cut.number(4, "ticket_lifetime (s)")[0])
        if tls13:
            take(cut.take(4, "ticket_age_add", lambda b: b.hex()))
            take(_vector(cut, 1, "ticket_nonce"))
        take(_vector(cut, 2, "ticket"))
        if tls13:
            take(_extensions(cut, 4))
        return out
    if msg_type == 24:  # key_update
        return [
            cut.number(
                1, "request_update", _named({0: "update_not_requested", 1: "update_requested"})
            )[0]
        ]
    if msg_type == 13 and tls13:  # certificate_request
        take(_vector(cut, 1, "certificate_request_context"))
        take(_extensions(cut, 13))
        return out
    if msg_type == 12:  # server_key_exchange (ECDHE)
        take(cut.number(1, "curve_type", _named({3: "named_curve"}))[0])
        take(cut.number(2, "named_curve", group_name)[0])
        take(_vector(cut, 1, "public key"))
        take(cut.number(2, "signature scheme", scheme_name)[0])
        take(_vector(cut, 2, "signature"))
        return out
    if msg_type == 16:  # client_key_exchange (ECDHE)
        return [_vector(cut, 1, "public key")]
    if cut.at_end():
        return []
    return [cut.take(cut.end - cut.pos, "body", _hex)]


def handshake_messages(
    data: bytes, base: int = 0, end: int | None = None, tls13: bool = True
) -> list[Field]:
    """The handshake messages in ``data[base:end]``; a message cut short by the
    end becomes a "handshake fragment" leaf."""
    end = len(data) if end is None else end
    out: list[Field] = []
    pos = base
    while pos < end:
        if end - pos < 4 or pos + 4 + int.from_bytes(data[pos + 1 : pos + 4], "big") > end:
            out.append(
                Field(
                    "handshake fragment (continues in another record)",
                    pos,
                    end,
                    f"{end - pos} bytes",
                )
            )
            break
        out.append(handshake_message(data, pos, tls13))
        pos = out[-1].end
    return out


def handshake_message(data: bytes, pos: int, tls13: bool = True) -> Field:
    """One whole handshake message starting at ``data[pos]``."""
    msg_type = data[pos]
    n = int.from_bytes(data[pos + 1 : pos + 4], "big")
    cut = _Cut(data, pos, pos + 4 + n)
    t = cut.number(1, "handshake type", lambda v: f"{msg_name(v)} ({v})")[0]
    length = cut.number(3, "handshake length")[0]
    header = group("handshake header", [t, length])
    body_cut = _Cut(data, cut.pos, cut.end)
    try:
        body = _body(msg_type, body_cut, tls13)
        if body_cut.pos != cut.end:
            body.append(
                Field("unparsed rest", body_cut.pos, cut.end, f"{cut.end - body_cut.pos} bytes")
            )
    except _Short:
        body = [Field("body (not parsed)", cut.pos, cut.end, f"{n} bytes")] if n else []
    return group(msg_name(msg_type), [header, *body], f"{4 + n} bytes")


def content(
    content_type: int, data: bytes, start: int, end: int, tls13: bool = True
) -> list[Field]:
    """The fields of a record's (or inner plaintext's) content of ``content_type``."""
    if start >= end:
        return []
    if content_type == 22:
        return handshake_messages(data, start, end, tls13)
    if content_type == 21 and end - start == 2:
        level = Field(
            "alert level",
            start,
            start + 1,
            {1: "warning", 2: "fatal"}.get(data[start], str(data[start])),
        )
        desc = Field(
            "alert description",
            start + 1,
            end,
            alert_name(data[start + 1]),
        )
        return [group("alert", [level, desc], desc.value)]
    if content_type == 20:
        return [
            Field(
                "change_cipher_spec",
                start,
                end,
                "middlebox compatibility, ignored" if tls13 else "",
            )
        ]
    if content_type == 23:
        return [Field("application data", start, end, f"{end - start} bytes")]
    return [Field("content", start, end, f"{end - start} bytes")]


def record_header(data: bytes, start: int = 0) -> Field:
    ct = data[start]
    version = int.from_bytes(data[start + 1 : start + 3], "big")
    length = int.from_bytes(data[start + 3 : start + 5], "big")
    return group(
        "record header",
        [
            Field(
                "content type", start, start + 1, f"{CONTENT_TYPE_NAMES.get(ct, str(ct))} ({ct})"
            ),
            Field("legacy record version", start + 1, start + 3, version_name(version)),
            Field("record length", start + 3, start + 5, str(length)),
        ],
    )


def plain_record(record: bytes, tls13: bool = True) -> list[Field]:
    """An unprotected record: header, then its content."""
    return [record_header(record), *content(record[0], record, 5, len(record), tls13)]


def protected_record(record: bytes, explicit_nonce: int = 0) -> list[Field]:
    """A protected record as seen on the wire: header, (explicit nonce), ciphertext, tag."""
    out = [record_header(record)]
    pos = 5
    if explicit_nonce and len(record) >= 5 + explicit_nonce + 16:
        out.append(
            Field(
                "explicit nonce",
                pos,
                pos + explicit_nonce,
                record[pos : pos + explicit_nonce].hex(),
            )
        )
        pos += explicit_nonce
    if len(record) - pos >= 16:
        if len(record) - 16 > pos:
            out.append(
                Field("encrypted data", pos, len(record) - 16, f"{len(record) - 16 - pos} bytes")
            )
        out.append(Field("authentication tag", len(record) - 16, len(record), record[-16:].hex()))
    elif len(record) > pos:
        out.append(Field("encrypted data", pos, len(record), f"{len(record) - pos} bytes"))
    return out


def inner_plaintext(
    plain: bytes, inner_type: int, content_len: int, tls13: bool = True
) -> list[Field]:
    """A decrypted record: its content, then (TLS 1.3) the real content type and the zero padding."""
    out = content(inner_type, plain, 0, content_len, tls13)
    if tls13:
        out.append(
            Field(
                "inner content type",
                content_len,
                content_len + 1,
                f"{CONTENT_TYPE_NAMES.get(inner_type, str(inner_type))} ({inner_type})",
            )
        )
        if len(plain) > content_len + 1:
            out.append(
                Field(
                    "padding (zeros)",
                    content_len + 1,
                    len(plain),
                    f"{len(plain) - content_len - 1} bytes",
                )
            )
    return out
