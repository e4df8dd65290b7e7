"""Replay a published TLS 1.3 handshake step by step, as a teaching aid.

``schannel-py replay rfc8448`` walks RFC 8448 section 3 ("Simple 1-RTT
Handshake"); ``schannel-py replay illustrated13`` walks "The Illustrated TLS
1.3 Connection" (https://tls13.xargs.org).  Both traces publish every record
on the wire and the client's ephemeral x25519 private key, which is all it
takes to recompute the whole key schedule: each step prints a record, a
decrypted handshake message with its decoded fields, or a secret with the
HKDF-Extract / Derive-Secret / HKDF-Expand-Label call (and its label) that
produced it.  The computation uses the same key schedule functions as the
client (:mod:`schannel_py.tls.keyschedule`); each Finished is checked, and
every record must decrypt, so a replay that finishes is a proof that the code
agrees with the published trace.

The trace data ships inside the package (``schannel_py/data/``, copies of
``vectors/rfc8448.json`` and ``vectors/illustrated_tls13.json``; their
``_source`` and ``_licence`` fields name the origin: Botan's RFC 8448 data,
BSD-2-Clause; syncsynchalt/illustrated-tls13, MIT).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from .tls.keyschedule import (
    derive_secret,
    finished_verify_data,
    hkdf_expand_label,
    hkdf_extract,
    resumption_psk,
    traffic_keys,
)
from .tls.messages import Ext, HandshakeType, ServerHello, find_ext, msg_name
from .tls.record import CONTENT_TYPE_NAMES, Protection13
from .tls.suites import SUITES, CipherSuite
from .trace import decode_handshake, ladder_line, ladder_note

TRACES = ("rfc8448", "illustrated13")
HT = HandshakeType


@dataclass
class Step:
    """One step of a replay."""

    kind: str  # "record", "message", "secret", "check", "data", "note"
    direction: str = ""  # "out" (client to server), "in", or "" (computation)
    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    name: str = ""  # secrets: the secret's name (client.secrets key where there is one)
    how: str = ""  # secrets: the HKDF call and its label
    value: bytes = b""


@dataclass
class Trace:
    """A published handshake: wire records in order and the client's x25519 key."""

    title: str
    records: list[tuple[str, bytes]]
    client_private: bytes
    expected: dict[str, Any] = field(default_factory=dict)


def _load(name: str) -> dict[str, Any]:
    text = resources.files("schannel_py").joinpath("data").joinpath(name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_trace(name: str) -> Trace:
    """The named published trace (``rfc8448`` or ``illustrated13``)."""
    if name == "rfc8448":
        d = _load("rfc8448.json")["Simple_1RTT_Handshake"]
        h = bytes.fromhex
        order = [
            ("out", "Record_ClientHello_1"),
            ("in", "Record_ServerHello"),
            ("in", "Record_ServerHandshakeMessages"),
            ("out", "Record_ClientFinished"),
            ("in", "Record_NewSessionTicket"),
            ("out", "Record_Client_AppData"),
            ("in", "Record_Server_AppData"),
            ("out", "Record_Client_CloseNotify"),
            ("in", "Record_Server_CloseNotify"),
        ]
        return Trace(
            "RFC 8448 section 3: Simple 1-RTT Handshake (TLS_AES_128_GCM_SHA256, x25519)",
            [(direction, h(d[key])) for direction, key in order],
            h(d["Client_X25519_PrivateKey"]),
            {"client_data": h(d["Client_AppData"]), "server_data": h(d["Server_AppData"])},
        )
    if name == "illustrated13":
        d = _load("illustrated_tls13.json")
        caps = {k: bytes.fromhex(v) for k, v in d["captures"].items()}
        order = [
            ("out", "clienthello"),
            ("in", "serverhello"),
            ("in", "serverccs"),
            ("in", "serverencextensions"),
            ("in", "serverenccert"),
            ("in", "serverenccertverify"),
            ("in", "serverencfinished"),
            ("out", "clientccs"),
            ("out", "clientencfinished"),
            ("out", "clientencdata"),
            ("in", "serverencticket1"),
            ("in", "serverencticket2"),
            ("in", "serverencdata"),
        ]
        return Trace(
            "The Illustrated TLS 1.3 Connection (TLS_AES_256_GCM_SHA384, x25519)",
            [(direction, caps[key]) for direction, key in order],
            bytes.fromhex(d["keys"]["client_ephemeral_private"]),
            {"client_data": caps["clientdata"][:-1], "server_data": caps["serverdata"][:-1]},
        )
    raise KeyError(f"unknown trace {name!r}; one of {TRACES}")


def _protection(suite: CipherSuite, secret: bytes) -> Protection13:
    """The record protection for one direction's traffic secret (the record layer's own)."""
    key, iv = traffic_keys(suite.hash_name, secret, suite.key_len)
    return Protection13(suite, secret, key, iv)


class _Replayer:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.steps: list[Step] = []
        self.transcript = b""
        self.suite: CipherSuite | None = None
        self.keys: dict[str, Protection13] = {}
        self.secrets: dict[str, bytes] = {}
        self.pending_in: Protection13 | None = None
        self.app_data: dict[str, bytes] = {"out": b"", "in": b""}

    # -- helpers --
    @property
    def h(self) -> str:
        assert self.suite is not None
        return self.suite.hash_name

    def th(self) -> bytes:
        return hashlib.new(self.h, self.transcript).digest()

    def secret(self, name: str, how: str, value: bytes) -> bytes:
        self.secrets[name] = value
        self.steps.append(Step("secret", name=name, how=how, value=value))
        return value

    def keys_for(self, direction: str, name: str, secret: bytes) -> None:
        assert self.suite is not None
        key, iv = traffic_keys(self.h, secret, self.suite.key_len)
        who = "client" if direction == "out" else "server"
        self.secret(
            f"{who}_write_key ({name})", f'HKDF-Expand-Label({name}, "key", "", {len(key)})', key
        )
        self.secret(f"{who}_write_iv ({name})", f'HKDF-Expand-Label({name}, "iv", "", 12)', iv)
        self.keys[direction] = _protection(self.suite, secret)

    # -- the walk --
    def run(self) -> list[Step]:
        self.steps.append(Step("note", title=self.trace.title))
        for direction, record in self.trace.records:
            off = 0
            while off < len(record):
                n = int.from_bytes(record[off + 3 : off + 5], "big")
                self.record(direction, record[off : off + 5 + n])
                off += 5 + n
        for direction, key in (("out", "client_data"), ("in", "server_data")):
            expected = self.trace.expected.get(key)
            if expected is not None:
                ok = self.app_data[direction] == expected
                self.steps.append(
                    Step(
                        "check",
                        title=f"{key} equals the published plaintext",
                        fields={"ok": str(ok)},
                    )
                )
                if not ok:
                    raise ValueError(f"{key} does not match the published trace")
        return self.steps

    def record(self, direction: str, record: bytes) -> None:
        ct = record[0]
        kind = CONTENT_TYPE_NAMES.get(ct, str(ct))
        self.steps.append(
            Step(
                "record",
                direction,
                f"record {kind}, {len(record) - 5} bytes",
                {"header": record[:5].hex()},
            )
        )
        if ct == 20:
            self.steps.append(
                Step("note", direction, "change_cipher_spec (middlebox compatibility, ignored)")
            )
            return
        if ct == 22:
            self.handshake_bytes(direction, record[5:])
            return
        keys = self.keys.get(direction)
        if keys is None:
            raise ValueError(f"encrypted {direction} record before keys exist")
        inner_type, payload = keys.open(record)
        inner = CONTENT_TYPE_NAMES.get(inner_type, str(inner_type))
        self.steps.append(
            Step("note", direction, f"decrypted: inner content type {inner}, {len(payload)} bytes")
        )
        if inner_type == 22:
            self.handshake_bytes(direction, payload)
        elif inner_type == 23:
            self.app_data[direction] += payload
            self.steps.append(Step("data", direction, "application_data", {"data": repr(payload)}))
        elif inner_type == 21:
            self.steps.append(Step("data", direction, "alert", {"alert": payload.hex()}))

    def handshake_bytes(self, direction: str, data: bytes) -> None:
        off = 0
        while off + 4 <= len(data):
            n = int.from_bytes(data[off + 1 : off + 4], "big")
            self.message(direction, data[off : off + 4 + n])
            off += 4 + n

    def message(self, direction: str, msg: bytes) -> None:
        t = msg[0]
        self.steps.append(
            Step(
                "message", direction, f"{msg_name(t)} ({len(msg)} bytes)", decode_handshake(t, msg)
            )
        )
        if t == HT.new_session_ticket:
            self.ticket(msg)
            return
        if t == HT.finished:
            self.finished(direction, msg)
            return
        self.transcript += msg
        if t == HT.server_hello:
            self.server_hello(msg)

    def server_hello(self, msg: bytes) -> None:
        sh = ServerHello.parse(msg[4:])
        self.suite = SUITES[sh.cipher_suite]
        ks = find_ext(sh.extensions, Ext.key_share)
        if ks is None:
            raise ValueError("ServerHello without key_share")
        server_pub = ks[4:]
        shared = X25519PrivateKey.from_private_bytes(self.trace.client_private).exchange(
            X25519PublicKey.from_public_bytes(server_pub)
        )
        hl = self.suite.hash_len
        zeros = bytes(hl)
        empty = hashlib.new(self.h).digest()
        self.secret("ecdhe_shared_secret", "X25519(client private key, server key_share)", shared)
        early = self.secret(
            "early_secret", "HKDF-Extract(salt=0, IKM=0 (no PSK))", hkdf_extract(self.h, b"", zeros)
        )
        derived = self.secret(
            "derived (early)",
            'Derive-Secret(early_secret, "derived", "")',
            derive_secret(self.h, early, b"derived", empty),
        )
        hs = self.secret(
            "handshake_secret",
            "HKDF-Extract(salt=derived, IKM=ecdhe_shared_secret)",
            hkdf_extract(self.h, derived, shared),
        )
        th = self.th()
        c = self.secret(
            "client_handshake_traffic_secret",
            'Derive-Secret(handshake_secret, "c hs traffic", ClientHello..ServerHello)',
            derive_secret(self.h, hs, b"c hs traffic", th),
        )
        s = self.secret(
            "server_handshake_traffic_secret",
            'Derive-Secret(handshake_secret, "s hs traffic", ClientHello..ServerHello)',
            derive_secret(self.h, hs, b"s hs traffic", th),
        )
        self.keys_for("out", "client_handshake_traffic_secret", c)
        self.keys_for("in", "server_handshake_traffic_secret", s)

    def finished(self, direction: str, msg: bytes) -> None:
        who = "client" if direction == "out" else "server"
        base = self.secrets[f"{who}_handshake_traffic_secret"]
        expected = finished_verify_data(self.h, base, self.th())
        self.secret(
            f"{who}_finished_key",
            f'HKDF-Expand-Label({who}_handshake_traffic_secret, "finished", "", {len(base)})',
            hkdf_expand_label(self.h, base, b"finished", b"", len(base)),
        )
        ok = expected == msg[4:]
        self.steps.append(
            Step(
                "check",
                direction,
                f"{who} Finished = HMAC(finished_key, transcript hash)",
                {"ok": str(ok)},
            )
        )
        if not ok:
            raise ValueError(f"{who} Finished does not verify")
        self.transcript += msg
        th = self.th()
        if who == "server":
            hs = self.secrets["handshake_secret"]
            empty = hashlib.new(self.h).digest()
            derived = self.secret(
                "derived (handshake)",
                'Derive-Secret(handshake_secret, "derived", "")',
                derive_secret(self.h, hs, b"derived", empty),
            )
            master = self.secret(
                "master_secret",
                "HKDF-Extract(salt=derived, IKM=0)",
                hkdf_extract(self.h, derived, bytes(len(hs))),
            )
            span = "ClientHello..server Finished"
            c = self.secret(
                "client_application_traffic_secret_0",
                f'Derive-Secret(master_secret, "c ap traffic", {span})',
                derive_secret(self.h, master, b"c ap traffic", th),
            )
            s = self.secret(
                "server_application_traffic_secret_0",
                f'Derive-Secret(master_secret, "s ap traffic", {span})',
                derive_secret(self.h, master, b"s ap traffic", th),
            )
            self.secret(
                "exporter_master_secret",
                f'Derive-Secret(master_secret, "exp master", {span})',
                derive_secret(self.h, master, b"exp master", th),
            )
            self.keys_for("in", "server_application_traffic_secret_0", s)
            self.pending_out = c
        else:
            self.secret(
                "resumption_master_secret",
                'Derive-Secret(master_secret, "res master", ClientHello..client Finished)',
                derive_secret(self.h, self.secrets["master_secret"], b"res master", th),
            )
            self.keys_for("out", "client_application_traffic_secret_0", self.pending_out)

    def ticket(self, msg: bytes) -> None:
        body = msg[4:]
        nonce_len = body[8]
        nonce = body[9 : 9 + nonce_len]
        rms = self.secrets["resumption_master_secret"]
        self.secret(
            f"ticket PSK (nonce {nonce.hex() or 'empty'})",
            'HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)',
            resumption_psk(self.h, rms, nonce),
        )

    pending_out: bytes = b""


def replay(name: str) -> list[Step]:
    """Every step of the named trace; raises ValueError if the trace does not check out."""
    return _Replayer(load_trace(name)).run()


def secrets_of(steps: list[Step]) -> dict[str, bytes]:
    """name -> value of every secret step."""
    return {s.name: s.value for s in steps if s.kind == "secret"}


def format_steps(steps: list[Step]) -> str:
    out: list[str] = []
    n = 0
    for s in steps:
        if s.kind == "note" and not s.direction:
            out.append(f"== {s.title} ==")
            out.append("client " + " " * 72 + " server")
        elif s.kind in ("record", "message"):
            n += 1 if s.kind == "message" else 0
            out.append(ladder_line(s.direction, s.title))
            for k, v in s.fields.items():
                text = f"{k}={v}"
                out.append(ladder_note(s.direction, text if len(text) <= 67 else text[:64] + "..."))
        elif s.kind in ("note", "data"):
            extra = ", ".join(f"{k}={v}" for k, v in s.fields.items())
            out.append(ladder_note(s.direction, f"[{s.title}{': ' + extra if extra else ''}]"[:67]))
        elif s.kind == "check":
            out.append(f"  check: {s.title}: {'OK' if s.fields.get('ok') == 'True' else 'FAILED'}")
        elif s.kind == "secret":
            out.append(f"  secret {s.name}")
            out.append(f"      = {s.how}")
            out.append(f"      = {s.value.hex()}")
    return "\n".join(out) + "\n"


def print_replay(name: str, stream: TextIO) -> None:
    """``schannel-py replay NAME``."""
    stream.write(format_steps(replay(name)))
