"""The key schedule of one connection as a tree of derivation steps.

TLS 1.3 (RFC 8446 section 7.1): each HKDF-Extract, Derive-Secret and
HKDF-Expand-Label with its label, its context (the transcript hash at that
point, and which messages it covers) and its output.  TLS 1.2 (RFC 5246
section 6.3, RFC 7627): the PRF calls for the master secret, the key block and
the two Finished messages.

Every step is recomputed here from its parent and the handshake messages;
where the TLS client reported the same secret (the observer's ``secrets``),
the two are compared (``KeyNode.check``), and each Finished is checked against
the verify_data on the wire.  The (EC)DHE shared secret, which cannot be
recomputed without a private key, is the one the client reported (a published
trace's comes from its published private key).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..tls import keyschedule as KS
from ..tls import prf as PRF
from ..tls.mac import hmac_digest
from ..tls.messages import HRR_RANDOM, msg_name
from ..tls.suites import CipherSuite


@dataclass
class HandshakeMessage:
    """One handshake message, header included, in the order the transcript takes it."""

    direction: str  # "out": client to server; "in": server to client
    type: int
    data: bytes
    #: The record (Illustration.records index) that holds its first byte, if shown.
    record: int | None = None

    @property
    def name(self) -> str:
        return msg_name(self.type)


@dataclass
class KeyNode:
    """One derivation step and its output."""

    name: str
    op: str  # "HKDF-Extract", "Derive-Secret", "HKDF-Expand-Label", "PRF", "HMAC", "input"
    formula: str
    label: str = ""
    #: What the context is ("Transcript-Hash(ClientHello..ServerHello)", "empty", a nonce ...).
    context: str = ""
    #: The context's bytes (a transcript hash is public: computable from the messages).
    context_value: bytes = b""
    #: Indexes into the messages the context's transcript covers.
    messages: list[int] = field(default_factory=list)
    value: bytes | None = None
    #: True: equals what the TLS client reported (or the Finished on the wire);
    #: False: differs; None: nothing to compare with.
    check: bool | None = None
    #: What the check compared with, in words.
    checked_against: str = ""
    #: False for values that are public anyway (a Finished's verify_data).
    secret: bool = True
    children: list[KeyNode] = field(default_factory=list)

    def walk(self) -> list[KeyNode]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


def _compare(node: KeyNode, reported: dict[str, bytes], key: str | None = None) -> KeyNode:
    expected = reported.get(key or node.name)
    if expected is not None and node.value is not None:
        node.check = expected == node.value
        node.checked_against = "the secret the TLS client derived"
    return node


def _transcript(messages: list[HandshakeMessage], upto: int, hash_name: str) -> bytes:
    """Transcript-Hash of messages[0..upto] (inclusive), RFC 8446 4.4.1 (HelloRetryRequest included)."""
    data = b""
    for m in messages[: upto + 1]:
        if m.type == 2 and m.data[6:38] == HRR_RANDOM:
            digest = hashlib.new(hash_name, data).digest()
            data = bytes([254, 0, 0, len(digest)]) + digest
        data += m.data
    return hashlib.new(hash_name, data).digest()


def _find(
    messages: list[HandshakeMessage], direction: str, msg_type: int, start: int = 0
) -> int | None:
    for i in range(start, len(messages)):
        if messages[i].direction == direction and messages[i].type == msg_type:
            return i
    return None


def _span(messages: list[HandshakeMessage], upto: int) -> str:
    first = messages[0].name if messages else "?"
    return f"{_title(first)}..{_title(messages[upto].name)}" + (
        f" ({'client' if messages[upto].direction == 'out' else 'server'})"
        if messages[upto].type == 20
        else ""
    )


def _title(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _handshake_end(messages: list[HandshakeMessage]) -> list[HandshakeMessage]:
    """The messages of the (last) handshake proper: post-handshake messages dropped."""
    return [m for m in messages if m.type not in (4, 24)]


@dataclass
class Schedule:
    """The tree and every value it holds by name (traffic secrets for decryption)."""

    roots: list[KeyNode]
    values: dict[str, bytes]


def tls13(
    suite: CipherSuite,
    all_messages: list[HandshakeMessage],
    reported: dict[str, bytes],
    shared_secret: bytes | None = None,
) -> Schedule:
    """The TLS 1.3 key schedule over ``all_messages`` (message indexes refer to it)."""
    h, hl = suite.hash_name, suite.hash_len
    empty = hashlib.new(h).digest()
    index = {id(m): i for i, m in enumerate(all_messages)}
    messages = _handshake_end(all_messages)
    values: dict[str, bytes] = {}

    def th(upto: int) -> tuple[bytes, str, list[int]]:
        return (
            _transcript(messages, upto, h),
            f"Transcript-Hash({_span(messages, upto)})",
            [index[id(m)] for m in messages[: upto + 1]],
        )

    def expand(
        parent: KeyNode,
        name: str,
        label: str,
        length: int,
        context: bytes = b"",
        ctx_text: str = '""',
    ) -> KeyNode:
        assert parent.value is not None
        value = KS.hkdf_expand_label(h, parent.value, label.encode(), context, length)
        node = KeyNode(
            name,
            "HKDF-Expand-Label",
            f'HKDF-Expand-Label({parent.name}, "{label}", {ctx_text}, {length})',
            label,
            ctx_text,
            context,
            value=value,
        )
        values[name] = value
        parent.children.append(node)
        return node

    def derive(parent: KeyNode, name: str, label: str, upto: int | None) -> KeyNode:
        assert parent.value is not None
        covered: list[int]
        if upto is None:
            ctx, ctx_text, covered = empty, '""  (hash of no messages)', []
        else:
            ctx, ctx_text, covered = th(upto)
        value = KS.derive_secret(h, parent.value, label.encode(), ctx)
        node = KeyNode(
            name,
            "Derive-Secret",
            f'Derive-Secret({parent.name}, "{label}", {ctx_text})',
            label,
            ctx_text,
            ctx,
            covered,
            value=value,
        )
        values[name] = value
        parent.children.append(_compare(node, reported))
        return node

    zeros = bytes(hl)
    early_value = KS.hkdf_extract(h, b"", zeros)
    early = KeyNode(
        "early_secret", "HKDF-Extract", "HKDF-Extract(salt=0, IKM=0: no PSK)", value=early_value
    )
    if reported.get("early_secret") not in (None, early_value):
        early = KeyNode(
            "early_secret",
            "HKDF-Extract",
            "HKDF-Extract(salt=0, IKM=PSK): a resumed or PSK handshake; the PSK is not exported, "
            "so the value is the TLS client's",
            value=reported["early_secret"],
        )
    else:
        _compare(early, reported)
    values["early_secret"] = early.value or b""
    roots = [early]
    derived = derive(early, "derived (early)", "derived", None)

    sh = _find(messages, "in", 2)
    while sh is not None and messages[sh].data[6:38] == HRR_RANDOM:
        sh = _find(messages, "in", 2, sh + 1)
    reported_hs = reported.get("handshake_secret")
    source = "from the published private key"
    if shared_secret is None and "ecdhe_shared_secret" in reported:
        shared_secret, source = reported["ecdhe_shared_secret"], "as the TLS client computed it"
    if shared_secret is not None:
        shared = KeyNode(
            "(EC)DHE shared secret",
            "input",
            f"the key exchange's output ({source})",
            value=shared_secret,
        )
        roots.append(shared)
        hs_value: bytes | None = KS.hkdf_extract(h, derived.value or b"", shared_secret)
        formula = "HKDF-Extract(salt=derived (early), IKM=(EC)DHE shared secret)"
    else:
        hs_value = reported_hs
        formula = (
            "HKDF-Extract(salt=derived (early), IKM=(EC)DHE shared secret); the shared secret never "
            "leaves the TLS client, so this value is the one it reported"
        )
    if hs_value is None or sh is None:
        return Schedule(roots, values)
    hs = KeyNode("handshake_secret", "HKDF-Extract", formula, value=hs_value)
    if shared_secret is not None:
        _compare(hs, reported)
    derived.children.append(hs)
    values["handshake_secret"] = hs_value

    key_len = suite.key_len
    traffic: dict[str, KeyNode] = {}
    for who, label in (("client", "c hs traffic"), ("server", "s hs traffic")):
        node = derive(hs, f"{who}_handshake_traffic_secret", label, sh)
        traffic[who] = node
        expand(node, f"{who}_handshake_write_key", "key", key_len)
        expand(node, f"{who}_handshake_write_iv", "iv", 12)
        expand(node, f"{who}_finished_key", "finished", hl)

    derived2 = derive(hs, "derived (handshake)", "derived", None)
    master_value = KS.hkdf_extract(h, derived2.value or b"", zeros)
    master = _compare(
        KeyNode(
            "master_secret",
            "HKDF-Extract",
            "HKDF-Extract(salt=derived (handshake), IKM=0)",
            value=master_value,
        ),
        reported,
    )
    derived2.children.append(master)
    values["master_secret"] = master_value

    # The Finished messages: HMAC(finished_key, transcript hash up to the message before).
    sfin = _find(messages, "in", 20, sh)
    cfin = _find(messages, "out", 20, sfin) if sfin is not None else None
    for who, at in (("server", sfin), ("client", cfin)):
        if at is None:
            continue
        ctx, ctx_text, covered = th(at - 1)
        fkey = values[f"{who}_finished_key"]
        verify = hmac_digest(fkey, ctx, h)
        node = KeyNode(
            f"{who} Finished verify_data",
            "HMAC",
            f"HMAC({who}_finished_key, {ctx_text})",
            "",
            ctx_text,
            ctx,
            covered,
            value=verify,
            check=verify == messages[at].data[4:],
            checked_against=f"the verify_data in the {who}'s Finished message",
            secret=False,
        )
        traffic[who].children[-1].children.append(node)
    if sfin is None:
        return Schedule(roots, values)
    for who, label in (("client", "c ap traffic"), ("server", "s ap traffic")):
        node = derive(master, f"{who}_application_traffic_secret_0", label, sfin)
        expand(node, f"{who}_application_write_key", "key", key_len)
        expand(node, f"{who}_application_write_iv", "iv", 12)
    derive(master, "exporter_master_secret", "exp master", sfin)
    if cfin is not None:
        res = derive(master, "resumption_master_secret", "res master", cfin)
        for m in all_messages:
            if m.type == 4 and m.direction == "in" and len(m.data) >= 13:
                nonce = m.data[13 : 13 + m.data[12]]
                expand(
                    res,
                    f"ticket PSK (nonce {nonce.hex() or 'empty'})",
                    "resumption",
                    hl,
                    nonce,
                    "ticket_nonce",
                )
    return Schedule(roots, values)


def traffic_keys(suite: CipherSuite, secret: bytes) -> tuple[bytes, bytes]:
    """A TLS 1.3 traffic secret's record key and IV (RFC 8446 section 7.3)."""
    return KS.traffic_keys(suite.hash_name, secret, suite.key_len)


def next_traffic_secret(suite: CipherSuite, secret: bytes) -> bytes:
    """The KeyUpdate successor of a traffic secret."""
    return KS.next_traffic_secret(suite.hash_name, secret)


def tls12(
    suite: CipherSuite,
    messages: list[HandshakeMessage],
    reported: dict[str, bytes],
    client_random: bytes,
    server_random: bytes,
    extended_master_secret: bool,
) -> Schedule:
    """The TLS 1.2 PRF steps; the master secret is the TLS client's (the premaster never leaves it)."""
    h = suite.hash_name
    values: dict[str, bytes] = {}
    master_value = reported.get("master_secret")
    index = {id(m): i for i, m in enumerate(messages)}
    # TLS 1.2's NewSessionTicket is part of the handshake; only HelloRequest is not.
    messages = [m for m in messages if m.type != 0]

    def covered_upto(upto: int) -> list[int]:
        return [index[id(m)] for m in messages[: upto + 1]]

    ckx = _find(messages, "out", 16)
    if extended_master_secret:
        ctx_text = "session_hash = Hash(ClientHello..ClientKeyExchange)"
        ctx = _transcript(messages, ckx, h) if ckx is not None else b""
        formula = 'PRF(pre_master_secret, "extended master secret", session_hash, 48)'
        label = "extended master secret"
        covered = covered_upto(ckx) if ckx is not None else []
    else:
        ctx_text, ctx = "client_random + server_random", client_random + server_random
        formula = 'PRF(pre_master_secret, "master secret", client_random + server_random, 48)'
        label, covered = "master secret", []
    master = KeyNode(
        "master_secret",
        "PRF",
        formula
        + "; the pre-master secret never leaves the TLS client, so this value is the one it reported",
        label,
        ctx_text,
        ctx,
        covered,
        value=master_value,
    )
    roots = [master]
    if master_value is None:
        return Schedule(roots, values)
    values["master_secret"] = master_value
    key_len, iv_len = suite.key_len, (12 if suite.cipher == "CHACHA20" else 4)
    length = 2 * (key_len + iv_len)
    block = PRF.prf(h, master_value, b"key expansion", server_random + client_random, length)
    kb = KeyNode(
        "key_block",
        "PRF",
        f'PRF(master_secret, "key expansion", server_random + client_random, {length})',
        "key expansion",
        "server_random + client_random",
        server_random + client_random,
        value=block,
    )
    master.children.append(kb)
    parts = [
        ("client_write_key", key_len),
        ("server_write_key", key_len),
        ("client_write_IV", iv_len),
        ("server_write_IV", iv_len),
    ]
    pos = 0
    for name, n in parts:
        value = block[pos : pos + n]
        kb.children.append(KeyNode(name, "slice", f"key_block[{pos}:{pos + n}]", value=value))
        values[name] = value
        pos += n
    for who, direction in (("client", "out"), ("server", "in")):
        at = _find(messages, direction, 20)
        if at is None:
            continue
        ctx = _transcript(messages, at - 1, h)
        verify = PRF.prf(h, master_value, f"{who} finished".encode(), ctx, 12)
        master.children.append(
            KeyNode(
                f"{who} Finished verify_data",
                "PRF",
                f'PRF(master_secret, "{who} finished", Hash({_span(messages, at - 1)}), 12)',
                f"{who} finished",
                f"Hash({_span(messages, at - 1)})",
                ctx,
                covered_upto(at - 1),
                value=verify,
                check=verify == messages[at].data[4:],
                checked_against=f"the verify_data in the {who}'s Finished message",
                secret=False,
            )
        )
    return Schedule(roots, values)
