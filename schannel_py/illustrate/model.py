"""The illustrated connection: a model built from a traced connection.

:func:`from_calls` takes the :class:`~schannel_py.sspi.observe.SspiCall` events
of one connection (what :class:`Recorder` collects) and builds an
:class:`Illustration`: the SSPI calls with a sentence on what each status and
buffer meant; the records each call moved, both ways, grouped in flights;
every record dissected byte by byte (:mod:`.dissect`), protected records also
decrypted with the connection's own secrets; the handshake messages; and the
key schedule (:mod:`.keys`).  :func:`from_replay` builds the same model from a
published trace (RFC 8448, The Illustrated TLS 1.3 Connection), which has no
SSPI calls.

Only the first few application_data records of each direction are kept whole
(:data:`APP_RECORDS_SHOWN`); the rest are counted in their flight, so a long
connection's model (and page) stays small.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from .. import constants as C
from ..constants import SecStatus
from ..sspi import observe
from ..tls.messages import HRR_RANDOM
from ..tls.suites import SUITES, CipherSuite
from . import dissect as D
from . import keys as K
from .dissect import Field
from .keys import HandshakeMessage, KeyNode

#: application_data records kept whole per direction; later ones are only counted.
APP_RECORDS_SHOWN = 3

CLIENT_TO_SERVER = "out"
SERVER_TO_CLIENT = "in"


@dataclass
class View:
    """Bytes and the fields that partition them."""

    data: bytes
    fields: list[Field]


@dataclass
class Record:
    """One TLS record on the wire."""

    index: int
    direction: str
    call: int | None
    wire: View
    protected: bool = False
    #: The decrypted inner plaintext (TLS 1.3: content, content type, padding).
    plaintext: View | None = None
    #: The real content type (the inner one for a protected record).
    content_type: int = 0
    #: The traffic secret (or TLS 1.2 key) whose keys opened it.
    key: str = ""
    note: str = ""

    @property
    def title(self) -> str:
        names = [
            f.name
            for f in (self.plaintext or self.wire).fields
            if f.children and f.children[0].name == "handshake header"
        ]
        kind = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}.get(
            self.content_type, "record"
        )
        if self.content_type == 22:
            kind = ", ".join(names) or kind
        if self.protected and self.plaintext is None:
            return "protected record (not decrypted)"
        if self.content_type == 21:
            alert = [f.value for f in (self.plaintext or self.wire).fields if f.name == "alert"]
            kind += f" ({alert[0]})" if alert else ""
        return ("protected " if self.protected else "") + kind


@dataclass
class Flight:
    """The records one call moved in one direction (a replay: consecutive records one way)."""

    direction: str
    call: int | None
    records: list[int] = field(default_factory=list)
    #: application_data records not kept (beyond APP_RECORDS_SHOWN), and their bytes.
    elided: int = 0
    elided_bytes: int = 0


@dataclass
class Call:
    """One SSPI call as the page shows it."""

    index: int
    function: str
    status: SecStatus
    meaning: str
    params: list[tuple[str, str]]
    after: list[tuple[str, str]]
    notes: list[str]
    flights: list[int] = field(default_factory=list)
    failure: str = ""


@dataclass
class Illustration:
    """Everything the page shows about one connection."""

    title: str
    version: int
    suite: CipherSuite | None
    calls: list[Call]
    records: list[Record]
    flights: list[Flight]
    messages: list[HandshakeMessage]
    key_schedule: list[KeyNode]
    #: Every secret value the model holds (the page prints none without show_secrets).
    secrets: dict[str, bytes]
    facts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def record_views(self) -> Iterable[View]:
        for r in self.records:
            yield r.wire
            if r.plaintext is not None:
                yield r.plaintext


# --- what SSPI statuses and buffers mean ---------------------------------------------

_MEANINGS: dict[tuple[str, int], str] = {
    ("AcquireCredentialsHandle", C.SEC_E_OK): (
        "The credential is ready: it says which protocols, suites and certificate checks the "
        "client will accept."
    ),
    ("InitializeSecurityContext", C.SEC_I_CONTINUE_NEEDED): (
        "Send the output TOKEN to the server, then call InitializeSecurityContext again with "
        "what the server answers."
    ),
    ("InitializeSecurityContext", C.SEC_E_OK): (
        "The handshake step is done: send the output TOKEN if there is one; the context can "
        "now encrypt and decrypt."
    ),
    ("InitializeSecurityContext", C.SEC_E_INCOMPLETE_MESSAGE): (
        "The input does not hold a whole record yet: read more from the socket and call again "
        "with all the bytes."
    ),
    ("InitializeSecurityContext", C.SEC_I_INCOMPLETE_CREDENTIALS): (
        "The server asked for a client certificate: supply one (or none) and call again."
    ),
    ("InitializeSecurityContext", C.SEC_I_CONTEXT_EXPIRED): (
        "The context is shut down: the output TOKEN (a close_notify) goes to the server."
    ),
    ("DecryptMessage", C.SEC_E_OK): (
        "A record was opened: the DATA buffer now points at its plaintext."
    ),
    ("DecryptMessage", C.SEC_E_INCOMPLETE_MESSAGE): (
        "The buffer does not hold a whole record: read more bytes and call again (MISSING "
        "says how many, if known)."
    ),
    ("DecryptMessage", C.SEC_I_RENEGOTIATE): (
        "A handshake message arrived after the handshake (in TLS 1.3 a NewSessionTicket or "
        "KeyUpdate): call InitializeSecurityContext with the bytes it left."
    ),
    ("DecryptMessage", C.SEC_I_CONTEXT_EXPIRED): (
        "The server sent close_notify: it will send nothing more."
    ),
    ("EncryptMessage", C.SEC_E_OK): (
        "The plaintext was sealed in place into one record: header, data and trailer go to "
        "the server."
    ),
    ("QueryContextAttributes", C.SEC_E_OK): (
        "The attribute was filled in (the negotiated protocol, suite, certificate ...)."
    ),
    ("ApplyControlToken", C.SEC_E_OK): (
        "The token is queued: the next InitializeSecurityContext acts on it "
        "(SCHANNEL_SHUTDOWN: it produces close_notify)."
    ),
    ("FreeContextBuffer", C.SEC_E_OK): (
        "A buffer SSPI allocated (ISC_REQ_ALLOCATE_MEMORY) is released."
    ),
    ("DeleteSecurityContext", C.SEC_E_OK): ("The context and its keys are gone."),
    ("FreeCredentialsHandle", C.SEC_E_OK): ("The credential is released."),
}

_AFTER_HANDSHAKE = (
    "After the handshake: ISC took what DecryptMessage handed back (a NewSessionTicket or "
    "KeyUpdate) or a queued control token (SCHANNEL_SHUTDOWN: close_notify); send the output "
    "TOKEN if there is one."
)

_BUFFER_NOTES = {
    C.SECBUFFER_EXTRA: "SECBUFFER_EXTRA ({n} bytes): input this call did not consume; keep it and pass it first to the next call.",
    C.SECBUFFER_MISSING: "SECBUFFER_MISSING ({n}): how many more bytes the next record needs.",
    C.SECBUFFER_ALERT: "SECBUFFER_ALERT ({n} bytes): an alert record to send to the server.",
}


def meaning(function: str, status: SecStatus) -> str:
    """One sentence on what ``status`` from ``function`` asks of the caller."""
    text = _MEANINGS.get((function, int(status)))
    if text is not None:
        return text
    if status.failed:
        return f"The call failed: {status.message} The context cannot be used any more unless the status says otherwise."
    return status.message


def _buffers_text(bufs: object) -> str:
    from ..trace import buffer_type_name

    if not isinstance(bufs, tuple):
        return "NULL"
    return "[" + ", ".join(f"{buffer_type_name(b.type)}:{b.size}" for b in bufs) + "]"


def _param_text(name: str, value: object) -> str:
    from ..trace import isc_req_names, isc_ret_names

    if isinstance(value, observe.Handle):
        return f"{{0x{value.lower:x},0x{value.upper:x}}}"
    if isinstance(value, tuple):
        return _buffers_text(value)
    if isinstance(value, observe.AuthData):
        return f"{value.kind} v{value.version} flags=0x{value.flags or 0:x}"
    if name == "fContextReq" and isinstance(value, int):
        return isc_req_names(value)
    if name == "pfContextAttr" and isinstance(value, int):
        return isc_ret_names(value)
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return f"0x{value:x}" if value > 9 else str(value)
    return repr(value)


def _notes(call: observe.SspiCall) -> list[str]:
    notes = []
    for pname in ("pInput", "pOutput", "pMessage"):
        after = call.buffers(pname, after=True)
        before = call.buffers(pname) or ()
        for i, b in enumerate(after or ()):
            kind = b.type & 0x0FFFFFFF
            was = before[i].type & 0x0FFFFFFF if i < len(before) else None
            if kind == C.SECBUFFER_ALERT and b.size:  # an alert the package wrote
                notes.append(f"{pname}: " + _BUFFER_NOTES[kind].format(n=b.size))
            elif (
                kind in (C.SECBUFFER_EXTRA, C.SECBUFFER_MISSING) and kind != was
            ):  # set by the call
                notes.append(f"{pname}: " + _BUFFER_NOTES[kind].format(n=b.size))
            if pname == "pOutput" and kind == C.SECBUFFER_TOKEN and b.size:
                notes.append(
                    f"pOutput: TOKEN ({b.size} bytes): records for the caller to send to the server."
                )
    if call.received:
        notes.append(f"The package consumed {len(call.received)} bytes of the server's records.")
    return notes


# --- records ------------------------------------------------------------------------


def split_records(data: bytes) -> list[bytes]:
    """Whole records in ``data``; a trailing piece shorter than its header says is kept as one item."""
    out = []
    pos = 0
    while pos < len(data):
        n = int.from_bytes(data[pos + 3 : pos + 5], "big") if pos + 5 <= len(data) else len(data)
        out.append(data[pos : pos + 5 + n])
        pos += 5 + n
    return out


class _Keys:
    """One direction's record keys, tried in order (a KeyUpdate moves to the next)."""

    def __init__(self, suite: CipherSuite, secrets: list[tuple[str, bytes]], tls13: bool) -> None:
        self.suite, self.tls13 = suite, tls13
        self.chain = secrets
        self.at = 0
        self.seq = 0

    def _key_iv(self, secret: bytes) -> tuple[bytes, bytes]:
        if not self.tls13:  # TLS 1.2: the "secret" is key + fixed IV
            return secret[: self.suite.key_len], secret[self.suite.key_len :]
        return K.traffic_keys(self.suite, secret)

    def _open(self, secret: bytes, seq: int, record: bytes) -> bytes:
        key, iv = self._key_iv(secret)
        aead = self.suite.aead(key)
        seqb = seq.to_bytes(8, "big")
        if self.tls13:
            nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
            return aead.decrypt(nonce, record[5:], record[:5])
        if self.suite.cipher == "CHACHA20":
            nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
            body = record[5:]
        else:
            nonce, body = iv + record[5:13], record[13:]
        aad = seqb + record[:3] + (len(body) - 16).to_bytes(2, "big")
        return aead.decrypt(nonce, body, aad)

    def open(self, record: bytes) -> tuple[str, bytes] | None:
        """(key name, plaintext), or None when no key in the chain opens it."""
        for step in range(3):
            at = self.at + step
            if self.tls13 and at == len(self.chain) and "application" in self.chain[-1][0]:
                name, secret = self.chain[-1]
                base = name.rsplit("_", 1)
                nxt = (
                    f"{base[0]}_{int(base[1]) + 1}"
                    if len(base) == 2 and base[1].isdigit()
                    else name + "+1"
                )
                self.chain.append((nxt, K.next_traffic_secret(self.suite, secret)))
            if at >= len(self.chain):
                return None
            name, secret = self.chain[at]
            seq = self.seq if step == 0 else 0
            try:
                plain = self._open(secret, seq, record)
            except (InvalidTag, ValueError):
                continue
            self.at, self.seq = at, seq + 1
            return name, plain
        return None


@dataclass
class _Wire:
    direction: str
    call: int | None
    data: bytes
    note: str = ""


def _extensions(message: bytes) -> dict[int, bytes]:
    """A hello's extensions by type, read with the dissector (empty if it cannot)."""
    out: dict[int, bytes] = {}
    for f in D.walk([D.handshake_message(message, 0)]):
        if f.name.startswith("extension: ") and len(f.children) >= 2:
            code = int.from_bytes(message[f.start : f.start + 2], "big")
            out[code] = message[f.start + 4 : f.end]
    return out


def _hello_info(
    messages: list[HandshakeMessage],
) -> tuple[int, CipherSuite | None, bytes, bytes, bool, bytes]:
    """(version, suite, client_random, server_random, extended master secret, server key share)."""
    version, suite, cr, sr, ems, share = 0, None, b"", b"", False, b""
    ch_ems = False
    for m in messages:
        if m.type == 1 and m.direction == "out" and len(m.data) >= 38:
            cr = m.data[6:38]
            ch_ems = 23 in _extensions(m.data)
        elif (
            m.type == 2 and m.direction == "in" and len(m.data) >= 39 and m.data[6:38] != HRR_RANDOM
        ):
            sr = m.data[6:38]
            sid = m.data[38]
            code = int.from_bytes(m.data[39 + sid : 41 + sid], "big")
            suite = SUITES.get(code)
            exts = _extensions(m.data)
            sv = exts.get(43, b"")
            version = (
                int.from_bytes(sv, "big") if len(sv) == 2 else int.from_bytes(m.data[4:6], "big")
            )
            ems = ch_ems and 23 in exts
            ks = exts.get(51, b"")
            share = ks[4:] if len(ks) > 4 else b""
    return version, suite, cr, sr, ems, share


def _messages_from(records: list[tuple[str, int, bytes]]) -> list[HandshakeMessage]:
    """Handshake messages reassembled from (direction, content type, content) in order."""
    out: list[HandshakeMessage] = []
    pending = {"out": b"", "in": b""}
    for direction, ctype, data in records:
        if ctype != 22:
            continue
        buf = pending[direction] + data
        while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[1:4], "big"):
            n = 4 + int.from_bytes(buf[1:4], "big")
            out.append(HandshakeMessage(direction, buf[0], buf[:n]))
            buf = buf[n:]
        pending[direction] = buf
    return out


def _decrypt(
    pieces: list[tuple[_Wire, bytes]], chains: dict[str, _Keys], tls13: bool
) -> tuple[list[_Opened | None], list[bool], list[tuple[str, int, bytes]]]:
    """Each record opened (or None), whether it is protected, and every record's
    (direction, real type, content) known."""
    opened_all: list[_Opened | None] = []
    protected_all: list[bool] = []
    clear: list[tuple[str, int, bytes]] = []
    ccs_seen = {"out": False, "in": False}
    for w, rec in pieces:
        opened = None
        protected = False
        if len(rec) >= 5:
            protected = (tls13 and rec[0] == 23) or (
                not tls13 and ccs_seen[w.direction] and rec[0] != 20
            )
            keys = chains.get(w.direction)
            if not protected:
                clear.append((w.direction, rec[0], rec[5:]))
            elif keys is not None:
                got = keys.open(rec)
                if got is not None:
                    name, plain = got
                    if tls13:
                        body = plain.rstrip(b"\0")
                        ctype, n = (body[-1], len(body) - 1) if body else (0, 0)
                    else:
                        ctype, n = rec[0], len(plain)
                    opened = _Opened(name, plain, ctype, n)
                    clear.append((w.direction, ctype, plain[:n]))
            if rec[0] == 20:
                ccs_seen[w.direction] = True
        opened_all.append(opened)
        protected_all.append(protected)
    return opened_all, protected_all, clear


@dataclass
class _Opened:
    key: str
    plain: bytes
    content_type: int
    content_len: int


def _build(
    title: str,
    wires: list[_Wire],
    calls: list[Call],
    reported: dict[str, bytes],
    logged: list[HandshakeMessage] | None,
    client_private: bytes | None = None,
    version_hint: int = 0,
) -> Illustration:
    pieces = [(w, rec) for w in wires for rec in split_records(w.data)]
    known: dict[str, bytes] = {}
    messages: list[HandshakeMessage] = (
        list(logged) if logged is not None else _plain_messages(pieces)
    )
    schedule = K.Schedule([], {})
    chains: dict[str, _Keys] = {}
    opened: list[_Opened | None] = [None] * len(pieces)
    protected = [False] * len(pieces)
    version, suite = version_hint, None
    # Decrypt with what is known, derive what that allows, and again until nothing is new
    # (a published trace starts from the private key alone; a traced connection from its secrets).
    for _ in range(6):
        version, suite, cr, sr, ems, share = _hello_info(messages)
        version = version or version_hint
        if suite is None:
            break
        tls13 = version == 0x0304
        chains = _chains(suite, known, tls13, reported)
        opened, protected, clear = _decrypt(pieces, chains, tls13)
        if logged is None:
            messages = _messages_from(clear)
        shared = None
        if tls13 and client_private is not None and len(share) == 32:
            shared = X25519PrivateKey.from_private_bytes(client_private).exchange(
                X25519PublicKey.from_public_bytes(share)
            )
        if tls13:
            schedule = K.tls13(suite, messages, reported, shared)
        else:
            schedule = K.tls12(suite, messages, reported, cr, sr, ems)
        if all(known.get(k) == v for k, v in schedule.values.items()):
            break
        known = dict(schedule.values)
    if suite is not None and version == 0x0304:
        _key_updates(schedule, chains, suite)
    return _assemble(
        title, pieces, opened, protected, calls, messages, schedule, version, suite, reported
    )


def _key_updates(schedule: K.Schedule, chains: dict[str, _Keys], suite: CipherSuite) -> None:
    """Add the traffic secrets a KeyUpdate moved to (the ones that opened records) to the tree."""
    nodes = {n.name: n for root in schedule.roots for n in root.walk()}
    for keys in chains.values():
        for (prev, _), (name, value) in zip(keys.chain[1:], keys.chain[2:], strict=False):
            parent = nodes.get(prev)
            if parent is None or keys.at < keys.chain.index((name, value)):
                continue
            node = KeyNode(
                name,
                "HKDF-Expand-Label",
                f'HKDF-Expand-Label({prev}, "traffic upd", "", {suite.hash_len}): after a KeyUpdate',
                "traffic upd",
                '""',
                value=value,
            )
            parent.children.append(node)
            nodes[name] = node
            schedule.values[name] = value


def _facts(messages: list[HandshakeMessage]) -> list[tuple[str, str]]:
    """Server name, key exchange group and ALPN, read from the hellos."""
    facts = []
    for m in messages:
        exts = _extensions(m.data) if m.type in (1, 2, 8) else {}
        if m.type == 1 and 0 in exts and len(exts[0]) > 5:
            facts.append(("server name (SNI)", exts[0][5:].decode("ascii", "replace")))
        if m.type == 2 and 51 in exts and len(exts[51]) >= 2:
            facts.append(("key exchange group", D.group_name(int.from_bytes(exts[51][:2], "big"))))
        if m.type == 12 and len(m.data) >= 7 and m.data[4] == 3:
            facts.append(("key exchange group", D.group_name(int.from_bytes(m.data[5:7], "big"))))
        if m.type in (2, 8) and 16 in exts and len(exts[16]) > 3:
            facts.append(("ALPN", exts[16][3:].decode("ascii", "replace")))
    first: dict[str, str] = {}
    for name, value in facts:
        first.setdefault(name, value)
    return list(first.items())


def _plain_messages(pieces: list[tuple[_Wire, bytes]]) -> list[HandshakeMessage]:
    return _messages_from(
        [(w.direction, rec[0], rec[5:]) for w, rec in pieces if rec[:1] == b"\x16"]
    )


def _chains(
    suite: CipherSuite, known: dict[str, bytes], tls13: bool, reported: dict[str, bytes]
) -> dict[str, _Keys]:
    out = {}
    for direction, who in (("out", "client"), ("in", "server")):
        if tls13:
            names = [f"{who}_handshake_traffic_secret", f"{who}_application_traffic_secret_0"]
            chain = [(n, known.get(n) or reported.get(n, b"")) for n in names]
            chain = [(n, v) for n, v in chain if v]
        else:
            key, iv = known.get(f"{who}_write_key"), known.get(f"{who}_write_IV")
            chain = [(f"{who}_write_key", key + iv)] if key and iv else []
        if chain:
            out[direction] = _Keys(suite, chain, tls13)
    return out


def _assemble(
    title: str,
    pieces: list[tuple[_Wire, bytes]],
    decrypted: list[_Opened | None],
    protected_flags: list[bool],
    calls: list[Call],
    messages: list[HandshakeMessage],
    schedule: K.Schedule,
    version: int,
    suite: CipherSuite | None,
    reported: dict[str, bytes],
) -> Illustration:
    tls13 = version == 0x0304
    records: list[Record] = []
    flights: list[Flight] = []
    app_shown = {"out": 0, "in": 0}
    current: Flight | None = None
    last_wire: _Wire | None = None
    for (w, rec), opened, protected in zip(pieces, decrypted, protected_flags, strict=True):
        if (
            current is None
            or w is not last_wire
            and (w.call is not None or w.direction != current.direction)
        ):
            current = Flight(w.direction, w.call)
            flights.append(current)
            if w.call is not None and w.call < len(calls):
                calls[w.call].flights.append(len(flights) - 1)
        last_wire = w
        ctype = rec[0] if rec else 0
        plain_view = None
        key = ""
        if opened is not None:
            key, plain, ctype = opened.key, opened.plain, opened.content_type
            if tls13:
                plain_view = View(plain, D.inner_plaintext(plain, ctype, opened.content_len, True))
            else:
                plain_view = View(plain, D.content(ctype, plain, 0, len(plain), False))
        if ctype == 23:
            app_shown[w.direction] += 1
            if app_shown[w.direction] > APP_RECORDS_SHOWN:
                current.elided += 1
                current.elided_bytes += len(rec)
                continue
        explicit = 8 if (not tls13 and suite is not None and suite.cipher != "CHACHA20") else 0
        if len(rec) < 5:
            wire = View(rec, [Field("partial record", 0, len(rec), f"{len(rec)} bytes")])
        elif protected:
            wire = View(rec, D.protected_record(rec, explicit))
        else:
            wire = View(rec, D.plain_record(rec, tls13 or version == 0))
        record = Record(len(records), w.direction, w.call, wire, protected, plain_view, ctype, key)
        record.note = w.note
        if protected and opened is None:
            record.note = "not decrypted: the keys for this record are unknown"
        current.records.append(record.index)
        records.append(record)
    # Link each handshake message to the record that holds its first byte.
    _link(messages, records)
    secrets = {
        n.name: n.value for root in schedule.roots for n in root.walk() if n.secret and n.value
    }
    secrets.update(reported)
    facts = []
    if version:
        facts.append(("protocol", D.version_name(version)))
    if suite is not None:
        facts.append(("cipher suite", suite.name))
    facts += _facts(messages)
    return Illustration(
        title, version, suite, calls, records, flights, messages, schedule.roots, secrets, facts
    )


def _link(messages: list[HandshakeMessage], records: list[Record]) -> None:
    want = list(messages)
    for r in records:
        view = r.plaintext if r.plaintext is not None else r.wire
        for f in view.fields:
            if not want:
                return
            if f.children and f.children[0].name == "handshake header":
                data = view.data[f.start : f.end]
                for m in want:
                    if m.direction == r.direction and m.data == data:
                        m.record = r.index
                        want.remove(m)
                        break


# --- entry points -------------------------------------------------------------------


def _unconsumed(call: observe.SspiCall) -> bytes:
    """The whole records of a failed InitializeSecurityContext's input TOKEN after the
    ones it consumed (the record that failed it, such as a rejected Certificate)."""
    token = next(
        (b for b in call.buffers("pInput") or () if b.type & 0x0FFFFFFF == C.SECBUFFER_TOKEN),
        None,
    )
    if token is None:
        return b""
    data = token.data
    start = data.find(call.received) if call.received else 0
    if start < 0:
        return b""
    pos = end = start + len(call.received)
    while pos + 5 <= len(data) and pos + 5 + int.from_bytes(data[pos + 3 : pos + 5], "big") <= len(
        data
    ):
        pos += 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
    return data[end:pos]


def connections(calls: list[observe.SspiCall]) -> list[list[observe.SspiCall]]:
    """The calls of each connection in ``calls``, in the order the connections began.

    A connection begins with the InitializeSecurityContext that created its context
    (phContext NULL) and ends with that context's DeleteSecurityContext (a handle
    may be reused after it); calls without a context (credentials, FreeContextBuffer)
    go to the connection whose window they fall in: after the previous one ended.
    """
    owner: list[int | None] = []
    live: dict[observe.Handle, int] = {}
    ends: list[int] = []
    count = 0
    for i, c in enumerate(calls):
        handle = c.context
        k: int | None = None
        if c.function == "InitializeSecurityContext" and c.params.get("phContext") is None:
            if handle is not None:
                live[handle] = k = count
                count += 1
                ends.append(len(calls))
        elif handle is not None:
            k = live.get(handle)
            if c.function == "DeleteSecurityContext" and k is not None:
                del live[handle]
                ends[k] = i
        owner.append(k)
    out: list[list[observe.SspiCall]] = [[] for _ in range(count)]
    for i, (c, k) in enumerate(zip(calls, owner, strict=True)):
        if k is not None:
            out[k].append(c)
        elif c.context is None:
            for n in range(count):
                if i <= ends[n] and (n == 0 or i > ends[n - 1]):
                    out[n].append(c)
                    break
    return out


def from_calls(
    calls: Iterable[observe.SspiCall], title: str = "TLS connection", connection: int = 0
) -> Illustration:
    """The illustration of one connection in ``calls``: the first by default, or the
    ``connection``-th one begun (see :func:`connections`), with the calls around it."""
    found = connections(list(calls))
    if not found:
        raise ValueError("no InitializeSecurityContext created a context in these calls")
    chosen = found[connection]
    views: list[Call] = []
    wires: list[_Wire] = []
    reported: dict[str, bytes] = {}
    logged: list[HandshakeMessage] = []
    failures = []
    established = False
    for i, c in enumerate(chosen):
        text = meaning(c.function, c.status)
        if c.function == "InitializeSecurityContext" and c.status == C.SEC_E_OK:
            if established:
                text = _AFTER_HANDSHAKE
            established = True
        view = Call(
            i,
            c.function,
            c.status,
            text,
            [(k, _param_text(k, v)) for k, v in c.params.items()],
            [(k, _param_text(k, v)) for k, v in c.after.items()],
            _notes(c),
        )
        if c.failure is not None:
            f = c.failure
            who = "the server's" if f.remote else "the client's"
            alert = D.alert_name(f.alert) if f.alert is not None else "no"
            view.failure = f"{f.status}: {who} {alert} alert. {f.message}".strip()
            failures.append(view.failure)
        views.append(view)
        if c.received:
            wires.append(_Wire("in", i, c.received))
        if c.failure is not None and c.function == "InitializeSecurityContext":
            rest = _unconsumed(c)
            if rest:
                note = (
                    "in the call's input; the call failed before counting this record as consumed"
                )
                wires.append(_Wire("in", i, rest, note))
        if c.sent:
            wires.append(_Wire("out", i, c.sent))
        for s in c.secrets:
            reported[s.label] = s.value
        logged.extend(HandshakeMessage(m.direction, m.type, m.data) for m in c.messages)
    version = next((c.version for c in reversed(chosen) if c.version), 0)
    # Without a message log (an observer that missed it) the messages come from the records.
    ill = _build(title, wires, views, reported, logged or None, version_hint=version)
    ill.notes.extend(failures)
    return ill


def from_replay(name: str) -> Illustration:
    """The illustration of a published trace: ``rfc8448`` or ``illustrated13``."""
    from ..replay import load_trace

    trace = load_trace(name)
    wires = []
    for direction, data in trace.records:
        wires.append(_Wire(direction, None, data))
    ill = _build(trace.title, wires, [], {}, None, trace.client_private, 0x0304)
    ill.notes.append(
        "A published trace: there are no SSPI calls; flights are the records sent one way in a row. "
        "The client's x25519 private key is published, so every secret is recomputed from it."
    )
    return ill
