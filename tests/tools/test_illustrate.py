"""The illustrated connection (issue 26): the model behind the page, and the page.

Checked against data the renderer does not produce: the TLS client's own
message log and secrets (the observer's events), the server's key log
(OpenSSL's, through Python's ssl), the bytes the test itself sent and
received, RFC 8448's published values and the Illustrated TLS 1.3 key log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from schannel_py import CredHandle, cli, illustrate
from schannel_py.illustrate import dissect as D
from schannel_py.illustrate.model import APP_RECORDS_SHOWN, Illustration, connections
from schannel_py.sspi import functions as F
from schannel_py.sspi import observe
from schannel_py.stream import SChannelStream, acquire_default_credential
from tests.support import peers, vectors
from tests.support.vectors import KEYLOG_NAMES, RFC8448_SECRETS


def _keylog(text: str) -> dict[str, bytes]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = bytes.fromhex(parts[2])
    return out


def _nodes(ill: Illustration) -> dict[str, bytes]:
    return {
        n.name: n.value for root in ill.key_schedule for n in root.walk() if n.value is not None
    }


def _all_checks(ill: Illustration) -> list[tuple[str, bool | None]]:
    return [
        (n.name, n.check) for root in ill.key_schedule for n in root.walk() if n.check is not None
    ]


def _assert_partitioned(ill: Illustration) -> None:
    """Every byte of every record (and decrypted plaintext) is in exactly one named leaf."""
    assert ill.records
    for r in ill.records:
        for view in (r.wire, r.plaintext):
            if view is None:
                continue
            assert D.covers(view.fields, 0, len(view.data)), (r.index, r.title)
            owners = [0] * len(view.data)
            for leaf in D.leaves(view.fields):
                assert leaf.name
                for i in range(leaf.start, leaf.end):
                    owners[i] += 1
            assert owners == [1] * len(view.data), r.index
            # Every message these connections carry is one the dissector reads in full.
            names = {leaf.name for leaf in D.leaves(view.fields)}
            assert not names & {"body (not parsed)", "unparsed rest", "partial record"}, r.index


def _handshake_bytes(ill: Illustration, direction: str) -> bytes:
    """The handshake content of every record one way, as the page decrypted (or read) it."""
    out = b""
    for r in ill.records:
        if r.direction != direction or r.content_type != 22:
            continue
        view = r.plaintext if r.plaintext is not None else r.wire
        for f in view.fields:
            if f.name not in ("record header", "inner content type", "padding (zeros)"):
                out += view.data[f.start : f.end]
    return out


def _app_data(ill: Illustration, direction: str) -> bytes:
    out = b""
    for r in ill.records:
        if r.direction == direction and r.content_type == 23 and r.plaintext is not None:
            for f in r.plaintext.fields:
                if f.name == "application data":
                    out += r.plaintext.data[f.start : f.end]
    return out


class Run:
    """One connection through SSPI to a Python ssl echo server, recorded."""

    def __init__(
        self, calls: list[observe.SspiCall], received: bytes, keylog: dict[str, bytes]
    ) -> None:
        self.calls = calls
        self.received = received
        self.keylog = keylog

    def logged(self, direction: str) -> bytes:
        return b"".join(m.data for c in self.calls for m in c.messages if m.direction == direction)


def _run(
    pki: peers.ServerPki,
    tmp_path: Path,
    payload: bytes,
    max_version: ssl.TLSVersion,
    key_update: bool = False,
    connections: int = 1,
    **server_options: Any,
) -> Run:
    """``connections`` connections one after the other on one credential (the later ones
    resume), each echoing ``payload``; ``received`` is the last one's echo."""
    keylog = tmp_path / "server-keys.log"
    with peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(),
        max_version=max_version,
        keylog=keylog,
        max_connections=connections,
        **server_options,
    ) as server:
        with illustrate.Recorder() as rec:
            cred = acquire_default_credential()
            try:
                for _ in range(connections):
                    got = _echo(server.port, cred, payload, key_update)
            finally:
                F.FreeCredentialsHandle(cred)
        server.wait_connections(connections)
    return Run(rec.calls, got, _keylog(keylog.read_text()))


def _echo(port: int, cred: CredHandle, payload: bytes, key_update: bool) -> bytes:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    stream = SChannelStream(sock, "localhost", cred)
    try:
        stream.handshake()
        got = b""
        for _ in range(2 if key_update else 1):
            stream.send(payload)
            want = len(got) + len(payload)
            while len(got) < want:
                data = stream.recv()
                assert data, "the echo server closed early"
                got += data
            if key_update:  # a KeyUpdate after each round, asking for the server's
                stream.key_update(requested=True)
        stream.shutdown()
        while stream.recv():  # up to the server's close_notify
            pass
        return got
    finally:
        stream.close()
        sock.close()


def _trusted_run(pki: peers.ServerPki, tmp: Path, message: bytes, version: ssl.TLSVersion) -> Run:
    """:func:`_run` with the test root trusted for its duration."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SCHANNEL_PY_ROOT_CERTS", str(pki.root_ca))
    try:
        return _run(pki, tmp, message, version)
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def tls13_run(pki: peers.ServerPki, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("tls13")
    return _trusted_run(pki, tmp, b"hello, illustrated", ssl.TLSVersion.TLSv1_3)


@pytest.fixture(scope="module")
def tls12_run(pki: peers.ServerPki, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("tls12")
    return _trusted_run(pki, tmp, b"hello, TLS 1.2", ssl.TLSVersion.TLSv1_2)


# --- TLS 1.3, a live connection ---------------------------------------------------------


@pytest.mark.interop
def test_tls13_records_are_partitioned_and_decrypted_as_the_trace_says(tls13_run: Run) -> None:
    ill = illustrate.from_calls(tls13_run.calls)
    assert ill.version == 0x0304
    _assert_partitioned(ill)
    # The handshake messages the page decrypted are the ones the TLS client logged.
    assert _handshake_bytes(ill, "out") == tls13_run.logged("out")
    assert _handshake_bytes(ill, "in") == tls13_run.logged("in")
    assert _app_data(ill, "out") == b"hello, illustrated"
    assert _app_data(ill, "in") == tls13_run.received == b"hello, illustrated"
    # Every protected record was opened; both close_notify alerts are on the page.
    assert all(r.plaintext is not None for r in ill.records if r.protected)
    alerts = [r.direction for r in ill.records if r.content_type == 21]
    assert sorted(alerts) == ["in", "out"]
    # The records are exactly the bytes the calls moved, in order, each way.
    for direction, attr in (("out", "sent"), ("in", "received")):
        wire = b"".join(r.wire.data for r in ill.records if r.direction == direction)
        assert wire == b"".join(getattr(c, attr) for c in tls13_run.calls)


@pytest.mark.interop
def test_tls13_key_schedule_equals_the_servers_key_log(tls13_run: Run) -> None:
    ill = illustrate.from_calls(tls13_run.calls)
    nodes = _nodes(ill)
    for label, name in KEYLOG_NAMES.items():
        assert nodes[name] == tls13_run.keylog[label], name
    checks = _all_checks(ill)
    assert ("server Finished verify_data", True) in checks
    assert ("client Finished verify_data", True) in checks
    assert all(ok for _, ok in checks), checks
    # The handshake secret is recomputed from the (EC)DHE output, HKDF-Extract over the
    # "derived" secret of an empty early secret (RFC 8446 7.1), and checked.
    h = hashlib.sha256 if len(nodes["handshake_secret"]) == 32 else hashlib.sha384
    zeros = bytes(h().digest_size)
    early = hmac.new(zeros, zeros, h).digest()
    derived = _expand_label_with(h, early, b"derived", h(b"").digest(), h().digest_size)
    extract = hmac.new(derived, nodes["(EC)DHE shared secret"], h).digest()
    assert extract == nodes["handshake_secret"]
    assert ("handshake_secret", True) in checks


def _expand_label_with(h: Any, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 7.1) for one block of output."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return hmac.new(secret, info + b"\x01", h).digest()[:length]


@pytest.mark.interop
def test_without_the_message_log_the_records_tell_the_same(tls13_run: Run) -> None:
    """Events without their message log: the messages come from the decrypted records."""
    bare = [dataclasses.replace(c, messages=()) for c in tls13_run.calls]
    ill = illustrate.from_calls(bare)
    assert b"".join(m.data for m in ill.messages if m.direction == "in") == tls13_run.logged("in")
    assert b"".join(m.data for m in ill.messages if m.direction == "out") == tls13_run.logged("out")
    assert _nodes(ill) == _nodes(illustrate.from_calls(tls13_run.calls))
    assert all(ok for _, ok in _all_checks(ill))


@pytest.mark.interop
def test_tls13_ladder_names_every_call_and_what_it_meant(tls13_run: Run) -> None:
    ill = illustrate.from_calls(tls13_run.calls)
    functions = [c.function for c in ill.calls]
    assert functions[0] == "AcquireCredentialsHandle"
    isc = [c for c in ill.calls if c.function == "InitializeSecurityContext"]
    assert str(isc[0].status) == "SEC_I_CONTINUE_NEEDED"
    assert "call InitializeSecurityContext again" in isc[0].meaning
    # The first ISC's flight is the ClientHello, client to server.
    first = ill.flights[isc[0].flights[0]]
    assert first.direction == "out"
    assert ill.records[first.records[0]].title == "client_hello"
    assert any(n.startswith("pOutput: TOKEN") for n in isc[0].notes)
    # Later ISC calls (the tickets DecryptMessage handed back, the shutdown) say so.
    assert isc[-1].meaning.startswith("After the handshake")
    last = [c for c in ill.calls if c.function == "DecryptMessage"][-1]
    assert str(last.status) == "SEC_I_CONTEXT_EXPIRED" and "close_notify" in last.meaning
    renegotiate = [c for c in ill.calls if str(c.status) == "SEC_I_RENEGOTIATE"]
    assert renegotiate and all("NewSessionTicket" in c.meaning for c in renegotiate)


@pytest.mark.interop
def test_page_hides_secrets_unless_asked(tls13_run: Run) -> None:
    ill = illustrate.from_calls(tls13_run.calls)
    page = illustrate.render_html(ill)
    secrets = [v for v in ill.secrets.values() if v] + list(tls13_run.keylog.values())
    secrets += [n.value for root in ill.key_schedule for n in root.walk() if n.secret and n.value]
    assert len(secrets) > 10
    for value in secrets:
        assert value.hex() not in page
        assert " ".join(f"{b:02x}" for b in value) not in page
    assert 'class="banner hidden"' in page
    shown = illustrate.render_html(ill, show_secrets=True)
    assert 'class="banner shown"' in shown
    for value in tls13_run.keylog.values():
        assert value.hex() in shown


@pytest.mark.interop
def test_page_is_self_contained(tls13_run: Run) -> None:
    page = illustrate.render_html(illustrate.from_calls(tls13_run.calls))
    assert page.startswith("<!DOCTYPE html>")
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page)
    assert "<script src" not in page


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    """RFC 8446 HKDF-Expand-Label with an empty context, written out from RFC 5869 (SHA-256,
    SHA-384: the output fits one HMAC block)."""
    name = {32: "sha256", 48: "sha384"}[len(secret)]
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return hmac.new(secret, info + b"\x01", name).digest()[:length]


@pytest.mark.interop
def test_key_update_moves_to_the_next_traffic_secret(
    pki: peers.ServerPki, tmp_path: Path, root_certs_env: Path
) -> None:
    run = _run(pki, tmp_path, b"before and after", ssl.TLSVersion.TLSv1_3, key_update=True)
    assert run.received == b"before and after" * 2
    ill = illustrate.from_calls(run.calls)
    _assert_partitioned(ill)
    assert _app_data(ill, "out") == b"before and after" * 2
    assert _app_data(ill, "in") == b"before and after" * 2
    # The client's two KeyUpdates (update_requested, RFC 8446 section 4.6.3) end its
    # logged messages; the server's answer (update_not_requested) is logged too.
    assert _handshake_bytes(ill, "out") == run.logged("out")
    assert run.logged("out").endswith(bytes.fromhex("1800000101") * 2)
    assert _handshake_bytes(ill, "in") == run.logged("in")
    assert run.logged("in").endswith(bytes.fromhex("1800000100"))
    nodes = _nodes(ill)
    for who, label in (
        ("client", "CLIENT_TRAFFIC_SECRET_0"),
        ("server", "SERVER_TRAFFIC_SECRET_0"),
    ):
        updated = _expand_label(run.keylog[label], b"traffic upd", len(run.keylog[label]))
        assert nodes[f"{who}_application_traffic_secret_1"] == updated, who
    client_1 = nodes["client_application_traffic_secret_1"]
    twice = _expand_label(client_1, b"traffic upd", len(client_1))
    assert nodes["client_application_traffic_secret_2"] == twice

    def keys(direction: str) -> list[tuple[str, str]]:
        return [(r.title, r.key) for r in ill.records if r.direction == direction]

    assert keys("out")[-4:] == [
        ("protected key_update", "client_application_traffic_secret_0"),
        ("protected application_data", "client_application_traffic_secret_1"),
        ("protected key_update", "client_application_traffic_secret_1"),
        ("protected alert (close_notify)", "client_application_traffic_secret_2"),
    ]
    # The server's answer, then its echo under its next secret (its close_notify may
    # follow one more KeyUpdate, or not: the server's choice).
    server = keys("in")
    at = server.index(("protected key_update", "server_application_traffic_secret_0"))
    assert server[at + 1] == ("protected application_data", "server_application_traffic_secret_1")
    assert server[-1][0] == "protected alert (close_notify)"


# --- TLS 1.2 --------------------------------------------------------------------------


@pytest.mark.interop
def test_tls12_records_decrypt_and_prf_steps_check(tls12_run: Run) -> None:
    ill = illustrate.from_calls(tls12_run.calls)
    assert ill.version == 0x0303
    _assert_partitioned(ill)
    assert _handshake_bytes(ill, "out") == tls12_run.logged("out")
    assert _handshake_bytes(ill, "in") == tls12_run.logged("in")
    assert _app_data(ill, "out") == b"hello, TLS 1.2"
    assert _app_data(ill, "in") == b"hello, TLS 1.2"
    nodes = _nodes(ill)
    assert nodes["master_secret"] == tls12_run.keylog["CLIENT_RANDOM"]
    checks = dict(_all_checks(ill))
    assert checks == {"client Finished verify_data": True, "server Finished verify_data": True}


@pytest.mark.interop
def test_tls12_chacha20_records_decrypt(
    pki: peers.ServerPki, tmp_path: Path, root_certs_env: Path
) -> None:
    """ChaCha20-Poly1305 in TLS 1.2: no explicit nonce, the IV XORed with the sequence number."""
    run = _run(
        pki,
        tmp_path,
        b"chacha",
        ssl.TLSVersion.TLSv1_2,
        ciphers="ECDHE-ECDSA-CHACHA20-POLY1305",
    )
    ill = illustrate.from_calls(run.calls)
    assert ill.suite is not None and ill.suite.cipher == "CHACHA20"
    _assert_partitioned(ill)
    assert _handshake_bytes(ill, "in") == run.logged("in")
    assert _app_data(ill, "out") == _app_data(ill, "in") == b"chacha"
    assert all(r.plaintext is not None for r in ill.records if r.protected)
    names = {leaf.name for r in ill.records for leaf in D.leaves(r.wire.fields)}
    assert "explicit nonce" not in names


@pytest.mark.interop
def test_hello_retry_request_transcript(
    pki: peers.ServerPki, tmp_path: Path, root_certs_env: Path
) -> None:
    """The server wants secp384r1, which the client offers without a key share: a
    HelloRetryRequest, whose transcript starts with message_hash (RFC 8446 4.4.1)."""
    run = _run(pki, tmp_path, b"retry", ssl.TLSVersion.TLSv1_3, ecdh_curve="secp384r1")
    ill = illustrate.from_calls(run.calls)
    _assert_partitioned(ill)
    hellos = [r for r in ill.records if r.title in ("client_hello", "server_hello")]
    assert [r.direction for r in hellos] == ["out", "in", "out", "in"]
    hrr = hellos[1].wire
    randoms = {f.value for f in D.walk(hrr.fields) if f.name == "random"}
    assert randoms == {"HelloRetryRequest"}
    assert "secp384r1" in {f.value for f in D.walk(hrr.fields) if f.name == "selected group"}
    nodes = _nodes(ill)
    for label, name in KEYLOG_NAMES.items():
        assert nodes[name] == run.keylog[label], name
    assert all(ok for _, ok in _all_checks(ill))
    assert ("key exchange group", "secp384r1") in ill.facts


@pytest.mark.interop
def test_resumed_connection_is_the_second_page(
    pki: peers.ServerPki, tmp_path: Path, root_certs_env: Path
) -> None:
    """Two connections on one credential: the second resumes with a ticket (a PSK), so its
    early secret is not the no-PSK one; each connection is its own page."""
    run = _run(pki, tmp_path, b"again", ssl.TLSVersion.TLSv1_3, connections=2)
    assert len(connections(run.calls)) == 2
    first = illustrate.from_calls(run.calls)
    second = illustrate.from_calls(run.calls, connection=1)
    names = [f.name for f in D.walk(second.records[0].wire.fields)]
    assert "extension: pre_shared_key" in names
    assert {"PSK identity", "obfuscated_ticket_age", "binder"} <= set(names)
    assert "extension: pre_shared_key" not in [f.name for f in D.walk(first.records[0].wire.fields)]
    _assert_partitioned(second)
    early = {n.name: n for root in second.key_schedule for n in root.walk()}["early_secret"]
    assert "PSK" in early.formula
    nodes = _nodes(second)
    for label, name in KEYLOG_NAMES.items():  # the key log's last lines: the second connection
        assert nodes[name] == run.keylog[label], name
    assert all(ok for _, ok in _all_checks(second))
    assert _app_data(second, "in") == b"again"
    assert all(r.plaintext is not None for r in second.records if r.protected)


# --- the page of a long connection ------------------------------------------------------


@pytest.mark.interop
def test_a_1mib_connection_page_stays_small(
    pki: peers.ServerPki, tmp_path: Path, root_certs_env: Path
) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    run = _run(pki, tmp_path, payload, ssl.TLSVersion.TLSv1_3)
    assert run.received == payload
    ill = illustrate.from_calls(run.calls)
    page = illustrate.render_html(ill, show_secrets=True)
    assert len(page.encode()) < 2_000_000
    for direction in ("out", "in"):
        shown = [r for r in ill.records if r.direction == direction and r.content_type == 23]
        assert len(shown) == APP_RECORDS_SHOWN
        elided = sum(f.elided_bytes for f in ill.flights if f.direction == direction)
        assert elided > 900_000
    # The record calls beyond the first few are folded into summary rows of the ladder.
    assert page.count('class="call"') < 40
    assert re.search(
        r"\d+ application_data records \(\d+ bytes\), client \u2192 server, not drawn", page
    )
    # The close_notify after the long transfer is still decrypted and shown.
    assert [r.direction for r in ill.records if r.content_type == 21] == ["out", "in"]


# --- published traces -----------------------------------------------------------------


def test_rfc8448_page_values_are_the_rfcs() -> None:
    d = vectors.load_json("rfc8448")["Simple_1RTT_Handshake"]
    ill = illustrate.from_replay("rfc8448")
    _assert_partitioned(ill)
    nodes = _nodes(ill)
    for name, value in RFC8448_SECRETS.items():
        assert nodes[name].hex() == value, name
    assert all(ok for _, ok in _all_checks(ill))
    # The decrypted messages and application data are the RFC's.
    server = _handshake_bytes(ill, "in")
    expected = (
        d["Message_ServerHello"]
        + d["Message_EncryptedExtensions"]
        + d["Message_Server_Certificate"]
        + d["Message_Server_CertificateVerify"]
        + d["Message_Server_Finished"]
    )
    assert server.hex().startswith(expected)
    assert _app_data(ill, "out").hex() == d["Client_AppData"]
    assert _app_data(ill, "in").hex() == d["Server_AppData"]
    # On the page (secrets asked for), each value is printed.
    page = illustrate.render_html(ill, show_secrets=True)
    for value in RFC8448_SECRETS.values():
        assert value in page
    assert d["Client_Random"] in page.replace(" ", "").replace("</span><span", "")


def test_rfc8448_page_hides_the_rfcs_secrets_unless_asked() -> None:
    ill = illustrate.from_replay("rfc8448")
    page = illustrate.render_html(ill)
    for name, value in RFC8448_SECRETS.items():
        assert value not in page, name
    shared = bytes.fromhex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
    assert shared.hex() not in page  # RFC 8448's x25519 shared secret
    assert shared.hex() in illustrate.render_html(ill, show_secrets=True)


@pytest.mark.interop
def test_tls12_page_hides_the_master_secret_and_keys(tls12_run: Run) -> None:
    ill = illustrate.from_calls(tls12_run.calls)
    page = illustrate.render_html(ill)
    hidden = [tls12_run.keylog["CLIENT_RANDOM"]]
    hidden += [v for k, v in _nodes(ill).items() if "write" in k or k == "key_block"]
    assert len(hidden) == 6
    for value in hidden:
        assert value.hex() not in page
        assert " ".join(f"{b:02x}" for b in value) not in page


def test_rfc8448_client_hello_extensions_are_named_with_their_bytes() -> None:
    d = vectors.load_json("rfc8448")["Simple_1RTT_Handshake"]
    ill = illustrate.from_replay("rfc8448")
    ch = ill.records[0]
    assert ch.wire.data.hex() == d["Record_ClientHello_1"]
    exts = [f for f in D.walk(ch.wire.fields) if f.name.startswith("extension: ")]
    names = [f.name.removeprefix("extension: ") for f in exts]
    assert names == [
        "server_name",
        "renegotiation_info",
        "supported_groups",
        "session_ticket",
        "key_share",
        "supported_versions",
        "signature_algorithms",
        "psk_key_exchange_modes",
        "record_size_limit",
    ]
    sni = exts[0]
    # RFC 8448: server_name "server": type 00 00, length 00 0b, list length 00 09,
    # host_name 00, name length 00 06, "server".
    assert ch.wire.data[sni.start : sni.end].hex() == "0000000b000900000673657276657200"[:30]
    assert sni.value == "server"
    key_share = exts[4]
    x25519 = d["Message_ClientHello_1"]
    public = ch.wire.data[key_share.end - 32 : key_share.end].hex()
    assert public in x25519 and "x25519" in key_share.value


def test_illustrated13_page_matches_its_key_log() -> None:
    data = vectors.load_json("illustrated_tls13")
    keylog = _keylog(data["keylog_text"])
    ill = illustrate.from_replay("illustrated13")
    _assert_partitioned(ill)
    nodes = _nodes(ill)
    for label, name in KEYLOG_NAMES.items():
        assert nodes[name] == keylog[label], name
    assert _app_data(ill, "out") == bytes.fromhex(data["captures"]["clientdata"])[:-1]
    assert _app_data(ill, "in") == bytes.fromhex(data["captures"]["serverdata"])[:-1]


# --- the command line ---------------------------------------------------------------------


def test_replay_html_writes_one_page(tmp_path: Path) -> None:
    target = tmp_path / "rfc8448.html"
    proc = subprocess.run(
        [sys.executable, "-m", "schannel_py.cli", "replay", "rfc8448", "--html", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    page = target.read_text(encoding="utf-8")
    assert "RFC 8448" in page and 'class="banner hidden"' in page
    assert RFC8448_SECRETS["master_secret"] not in page
    assert f"illustrated connection written to {target}" in proc.stdout


def test_show_secrets_needs_html(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["replay", "rfc8448", "--show-secrets"])
    assert "--show-secrets only applies to the page" in capsys.readouterr().err


def test_demo_html_writes_the_connection(tmp_path: Path) -> None:
    target = tmp_path / "demo.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "schannel_py.cli",
            "demo",
            "--html",
            str(target),
            "--show-secrets",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = target.read_text(encoding="utf-8")
    for text in (
        "InitializeSecurityContext",
        "SEC_I_CONTINUE_NEEDED",
        "client_hello",
        "\u2713 checked",
    ):
        assert text in page
    assert 'class="banner shown"' in page
    assert "\u2717 differs" not in page


@pytest.mark.interop
def test_connect_html_writes_the_page(
    pki: peers.ServerPki, tmp_path: Path, root_certs_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "connect.html"
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), alpn=["http/1.1"]) as server:
        argv = ["connect", f"127.0.0.1:{server.port}", "--servername", "localhost"]
        rc = cli.main([*argv, "--alpn", "http/1.1", "--send", "ping\\n", "--html", str(target)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"illustrated connection written to {target}" in out
    page = target.read_text(encoding="utf-8")
    assert f"schannel-py connect 127.0.0.1:{server.port}" in page
    assert "<dt>ALPN</dt><dd>http/1.1</dd>" in page
    assert "\u2717 differs" not in page and "\u2713 checked" in page


@pytest.mark.interop
def test_connect_html_shows_a_failed_handshake(
    pki: peers.ServerPki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The root is not trusted: the page still shows the calls, the failure and the alert."""
    target = tmp_path / "failed.html"
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs()) as server:
        argv = ["connect", f"127.0.0.1:{server.port}", "--servername", "localhost"]
        rc = cli.main([*argv, "--html", str(target)])
    assert rc == 1
    assert "SEC_E_UNTRUSTED_ROOT" in capsys.readouterr().err
    page = target.read_text(encoding="utf-8")
    assert 'class="status failed">SEC_E_UNTRUSTED_ROOT' in page
    assert "SEC_E_UNTRUSTED_ROOT: the client&#x27;s unknown_ca alert" in page
    # The rejected Certificate is on the page, decrypted, and so is the client's alert.
    assert "protected certificate (" in page
    assert "protected alert (unknown_ca)" in page
