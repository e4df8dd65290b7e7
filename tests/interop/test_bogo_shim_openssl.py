"""The BoGo shim against ``openssl s_server`` behind a relay: exporter, virtual clock, renegotiation.

Python's ``ssl`` has no RFC 5705 exporter, cannot send a HelloRequest and does
not show a ticket's ``ticket_age_add``, so these tests put ``openssl s_server``
behind the stand-in runner (``run_shim`` of tests/support/bogo_runner.py): the runner accepts
the shim's connection, reads its id, and relays the rest to s_server, keeping
a copy of both directions.  The plaintext handshake messages in that copy give
the randoms and the ClientHello's pre_shared_key; s_server's own output gives
its exporter value (``-keymatexport``), its ``-trace`` of the NewSessionTicket,
and the application data the shim wrote.

With-context exporter values cannot come from s_server (it exports without a
context), so they are computed here from s_server's key log, by an independent
implementation of RFC 5705 / RFC 8446 section 7.5 that is first checked against
s_server's own no-context value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from pathlib import Path

import pytest

from bogo import shim as bogo_shim
from tests.support import peers
from tests.support.bogo_runner import (
    PING,
    PING_ECHO,
    Leg,
    ShimResult,
    assert_failure,
    assert_success,
    client_hello_extensions,
    echo_then_eof,
    openssl_server,
    relay,
    run_shim,
)
from tests.support.wire import plaintext_handshake_messages

# --- plaintext handshake messages in the relayed bytes ---------------------------------


def hello_random(stream: bytes, msg_type: int) -> bytes:
    """The random of the first ClientHello (1) or ServerHello (2) in ``stream``."""
    for t, body in plaintext_handshake_messages(stream):
        if t == msg_type:
            return body[2:34]
    raise AssertionError(f"no handshake message {msg_type} in the relayed bytes")


def client_hello_psk(stream: bytes) -> tuple[bytes, int]:
    """(first identity, its obfuscated_ticket_age) of the ClientHello's pre_shared_key."""
    data = client_hello_extensions(stream)[41]  # identities<7..2^16-1>, then binders
    id_len = int.from_bytes(data[2:4], "big")
    return data[4 : 4 + id_len], int.from_bytes(data[4 + id_len : 8 + id_len], "big")


# --- RFC 5705 / RFC 8446 exporter, independently of the package --------------------------


def p_hash(name: str, secret: bytes, seed: bytes, n: int) -> bytes:
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, name).digest()
        out += hmac.new(secret, a + seed, name).digest()
    return out[:n]


def tls12_exporter(
    name: str, master: bytes, label: bytes, randoms: bytes, context: bytes | None, n: int
) -> bytes:
    seed = randoms
    if context is not None:
        seed += len(context).to_bytes(2, "big") + context
    return p_hash(name, master, label + seed, n)


def hkdf_expand_label(name: str, secret: bytes, label: bytes, context: bytes, n: int) -> bytes:
    full = b"tls13 " + label
    info = n.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(secret, t + info + bytes([i]), name).digest()
        out += t
        i += 1
    return out[:n]


def tls13_exporter(
    name: str, exporter_secret: bytes, label: bytes, context: bytes | None, n: int
) -> bytes:
    empty = hashlib.new(name).digest()
    derived = hkdf_expand_label(name, exporter_secret, label, empty, len(empty))
    return hkdf_expand_label(
        name, derived, b"exporter", hashlib.new(name, context or b"").digest(), n
    )


def keylog_secret(path: Path, kind: str, client_random: bytes) -> bytes:
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == kind and parts[1].lower() == client_random.hex():
            return bytes.fromhex(parts[2])
    raise AssertionError(f"no {kind} for this connection in the key log")


def test_reference_hkdf_expand_label_matches_rfc8448() -> None:
    """The reference HKDF-Expand-Label matches RFC 8448's first derived secret ("derived")."""
    # RFC 8448, simple 1-RTT: early secret and Derive-Secret(., "derived", "").
    early = bytes.fromhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
    derived = bytes.fromhex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
    empty = hashlib.sha256().digest()
    assert hkdf_expand_label("sha256", early, b"derived", empty, 32) == derived


# --- exporter ----------------------------------------------------------------------------

SUITES = {
    ("1.3", "sha256"): {"ciphersuites": "TLS_AES_128_GCM_SHA256"},
    ("1.3", "sha384"): {"ciphersuites": "TLS_AES_256_GCM_SHA384"},
    ("1.2", "sha256"): {"cipher": "ECDHE-ECDSA-AES128-GCM-SHA256"},
    ("1.2", "sha384"): {"cipher": "ECDHE-ECDSA-AES256-GCM-SHA384"},
}


def exporter_run(
    pki: peers.ServerPki,
    tmp_path: Path,
    version: str,
    hash_name: str,
    label: str,
    length: int,
    flags: list[str],
    connections: int = 1,
) -> tuple[ShimResult, list[Leg], Path]:
    keylog = tmp_path / "keylog.txt"
    legs: list[Leg] = []
    extra = ["-keymatexport", label, "-keymatexportlen", str(length)]
    with openssl_server(pki, version, extra, keylog=keylog, **SUITES[version, hash_name]) as srv:
        result = run_shim(flags, relay(srv, echo_then_eof, legs), connections=connections)
    return result, legs, keylog


def openssl_keying_material(leg: Leg) -> bytes:
    m = re.search(rb"Keying material: ([0-9A-F]+)\r?\n", leg.output())
    assert m is not None, leg.output()[-2000:]
    return bytes.fromhex(m.group(1).decode())


def written_before_echo(leg: Leg, n: int) -> bytes:
    """The ``n`` bytes the shim wrote right before its echo, as s_server printed them."""
    out = leg.output()
    end = out.index(PING_ECHO)
    assert end >= n
    return out[end - n : end]


@pytest.mark.interop
@pytest.mark.parametrize(
    ("version", "hash_name", "context"),
    [
        ("1.3", "sha256", None),
        ("1.3", "sha256", ""),
        ("1.3", "sha256", "context"),
        ("1.3", "sha384", "context"),
        ("1.2", "sha256", None),
        ("1.2", "sha256", ""),
        ("1.2", "sha256", "context"),
        ("1.2", "sha384", None),
    ],
)
def test_exporter_matches_the_server(
    pki: peers.ServerPki, tmp_path: Path, version: str, hash_name: str, context: str | None
) -> None:
    label, n = "EXPORTER-bogo-test", 64
    flags = ["-export-keying-material", str(n), "-export-label", label]
    flags += ["-export-context", context if context is not None else "ignored-without-flag"]
    if context is not None:
        flags.append("-use-export-context")
    result, legs, keylog = exporter_run(pki, tmp_path, version, hash_name, label, n, flags)
    assert_success(result)
    (leg,) = legs
    server_value = openssl_keying_material(leg)  # s_server exports without a context
    got = written_before_echo(leg, n)
    assert len(server_value) == n

    client_random = hello_random(bytes(leg.to_server), 1)
    ctx_bytes = None if context is None else context.encode()
    if version == "1.3":
        secret = keylog_secret(keylog, "EXPORTER_SECRET", client_random)
        reference = tls13_exporter(hash_name, secret, label.encode(), None, n)
        expected = tls13_exporter(hash_name, secret, label.encode(), ctx_bytes, n)
    else:
        master = keylog_secret(keylog, "CLIENT_RANDOM", client_random)
        randoms = client_random + hello_random(bytes(leg.to_client), 2)
        reference = tls12_exporter(hash_name, master, label.encode(), randoms, None, n)
        expected = tls12_exporter(hash_name, master, label.encode(), randoms, ctx_bytes, n)
    assert reference == server_value  # the reference implementation agrees with OpenSSL
    assert got == expected
    if context is None:
        assert got == server_value
    elif context == "" and version == "1.3":
        assert got == server_value  # RFC 8446 7.5: no context is the empty context
    else:
        # RFC 5705: an empty context differs from no context; any other context differs.
        assert got != server_value


@pytest.mark.interop
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_exporter_empty_label(pki: peers.ServerPki, tmp_path: Path, version: str) -> None:
    n = 32
    flags = ["-export-keying-material", str(n), "-export-label", "", "-export-context", ""]
    result, legs, _ = exporter_run(pki, tmp_path, version, "sha256", "", n, flags)
    assert_success(result)
    (leg,) = legs
    assert written_before_echo(leg, n) == openssl_keying_material(leg)


@pytest.mark.interop
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_on_resume_export_keying_material(
    pki: peers.ServerPki, tmp_path: Path, version: str
) -> None:
    label, n = "EXPORTER-resume", 32
    flags = ["-resume-count", "1", "-on-resume-export-keying-material", str(n)]
    flags += ["-export-label", label, "-export-context", ""]
    result, legs, _ = exporter_run(pki, tmp_path, version, "sha256", label, n, flags, 2)
    assert_success(result)  # the shim checked that the second connection resumed
    first, second = legs
    assert b"Reused session-id" in second.output()
    # Initial connection: no exporter bytes, the echo is the first thing the shim wrote.
    before_echo = first.output()[: first.output().index(PING_ECHO)]
    assert before_echo.isascii()  # only s_server's own messages
    assert openssl_keying_material(first) not in first.output()
    # Resumption: the exporter bytes, equal to the server's for this connection.
    value = openssl_keying_material(second)
    assert written_before_echo(second, n) == value
    assert value != openssl_keying_material(first)


# --- virtual clock: obfuscated ticket age ------------------------------------------------


def new_session_tickets(trace: bytes) -> dict[bytes, int]:
    """ticket -> ticket_age_add, from s_server's -trace of the NewSessionTickets it sent."""
    rx = re.compile(
        rb"NewSessionTicket, Length=\d+\s+ticket_lifetime_hint=\d+\s+"
        rb"ticket_age_add=(\d+)\s+ticket_nonce[^\n]*\n\s+ticket \(len=\d+\): ([0-9A-F]+)"
    )
    return {bytes.fromhex(m.group(2).decode()): int(m.group(1)) for m in rx.finditer(trace)}


@pytest.mark.interop
@pytest.mark.parametrize("delay", [10, 0])
def test_resumption_delay_sets_the_ticket_age(pki: peers.ServerPki, delay: int) -> None:
    """TLS13-TestValidTicketAge-Client: the obfuscated age says exactly ``delay`` s."""
    legs: list[Leg] = []
    with openssl_server(pki, "1.3", ["-trace"]) as srv:
        flags = ["-resume-count", "1", "-resumption-delay", str(delay)]
        result = run_shim(flags, relay(srv, echo_then_eof, legs), connections=2)
        trace = srv.output_bytes()
    assert_success(result)  # the second connection resumed
    tickets = new_session_tickets(trace)
    assert len(tickets) >= 2  # s_server sends two per connection
    identity, obfuscated = client_hello_psk(bytes(legs[1].to_server))
    assert identity in tickets, "the offered ticket is one s_server issued"
    assert (obfuscated - tickets[identity]) % 2**32 == delay * 1000


def test_fake_clock_starts_at_1234_and_moves_only_by_the_delay() -> None:
    clock = bogo_shim.BoringSSLClock()
    assert clock() == 1234.0
    time.sleep(0.01)
    assert clock() == 1234.0  # real time does not leak in
    clock.advance(10)
    assert clock() == 1244.0
    clock.advance(0)
    assert clock() == 1244.0


def test_install_clock_replaces_the_package_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from schannel_py.sspi import context

    monkeypatch.setattr(context, "clock", context.clock)  # restored after the test
    clock = bogo_shim.BoringSSLClock()
    bogo_shim.install_clock(clock)
    assert context.clock is clock


def test_resumption_delay_parsing() -> None:
    cfgs = bogo_shim.parse_args(["-resumption-delay", "10", "-on-resume-resumption-delay", "3"])
    assert cfgs["initial"].get("resumption-delay") == 10
    assert cfgs["resume"].get("resumption-delay") == 3
    with pytest.raises(bogo_shim.Unimplemented):
        bogo_shim.parse_args(["-resumption-delay", "-1"])


# --- -renegotiate-ignore -------------------------------------------------------------------


def hello_request_then_echo(leg: Leg) -> None:
    leg.wait(rb"CIPHER is")
    leg.srv.send_line("r")  # HelloRequest
    leg.wait(rb"SSL_do_handshake -> 1")
    time.sleep(0.3)  # as in test_interop_tls12: let s_server finish the command
    leg.srv.send_line(PING.decode().strip())
    try:
        leg.wait(re.escape(PING_ECHO), timeout=5.0)
    except peers.PeerError:
        pass  # no echo: the test looks at the shim's verdict
    try:
        leg.srv.end_connection()
    except peers.PeerError:
        pass  # the shim already hung up


def client_hellos(leg: Leg) -> int:
    """How many ClientHellos s_server's -trace shows for this connection (renegotiations + 1)."""
    return leg.output().count(b"ClientHello, Length=")


@pytest.mark.interop
def test_renegotiate_ignore(pki: peers.ServerPki) -> None:
    """-renegotiate-ignore: s_server sends a HelloRequest, the shim drops it (the
    package's SECPKG_ATTR_PY_RENEGOTIATION_POLICY IGNORE) and echoes; no second
    ClientHello, no renegotiation counted."""
    legs: list[Leg] = []
    flags = ["-renegotiate-ignore", "-expect-total-renegotiations", "0"]
    with openssl_server(pki, "1.2", ["-trace"]) as srv:
        result = run_shim(flags, relay(srv, hello_request_then_echo, legs))
    assert_success(result)
    (leg,) = legs
    assert b"HelloRequest" in leg.output()
    assert client_hellos(leg) == 1
    assert PING_ECHO in leg.output()


@pytest.mark.interop
def test_on_resume_renegotiate_ignore(pki: peers.ServerPki) -> None:
    """With the -on-resume- prefix the resumption connection ignores its HelloRequest."""
    legs: list[Leg] = []
    flags = ["-resume-count", "1", "-on-resume-renegotiate-ignore"]

    def script(leg: Leg) -> None:
        (echo_then_eof if leg.index == 0 else hello_request_then_echo)(leg)

    with openssl_server(pki, "1.2", ["-trace"]) as srv:
        result = run_shim(flags, relay(srv, script, legs), connections=2)
    assert_success(result)
    first, second = legs
    assert b"Reused session-id" in second.output()
    assert b"HelloRequest" in second.output() and client_hellos(second) == 1
    assert PING_ECHO in second.output()


@pytest.mark.interop
def test_renegotiate_ignore_counts_nothing(pki: peers.ServerPki) -> None:
    """An ignored HelloRequest is no renegotiation: expecting one fails the count check."""
    legs: list[Leg] = []
    flags = ["-renegotiate-ignore", "-expect-total-renegotiations", "1"]
    with openssl_server(pki, "1.2", ["-trace"]) as srv:
        result = run_shim(flags, relay(srv, hello_request_then_echo, legs))
    assert result.returncode == 1
    assert "reason=:RENEGOTIATION_COUNT:" in result.stderr
    (leg,) = legs
    assert client_hellos(leg) == 1 and PING_ECHO in leg.output()


@pytest.mark.interop
@pytest.mark.parametrize("mode", ["-renegotiate-explicit", "-renegotiate-freely"])
def test_accepted_hello_request_shows_in_the_server_trace(pki: peers.ServerPki, mode: str) -> None:
    """The counterpart of test_renegotiate_ignore: an accepted HelloRequest is a second
    ClientHello.  Under -renegotiate-explicit SEC_I_RENEGOTIATE is the "want
    renegotiate" signal and the shim's ISC the explicit renegotiation (BoGo's
    Renegotiate-Client-Explicit)."""
    legs: list[Leg] = []
    flags = [mode, "-expect-total-renegotiations", "1"]
    with openssl_server(pki, "1.2", ["-trace"]) as srv:
        result = run_shim(flags, relay(srv, hello_request_then_echo, legs))
    assert_success(result)
    (leg,) = legs
    assert client_hellos(leg) == 2
    assert PING_ECHO in leg.output()


@pytest.mark.interop
@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_ocsp_stapling_flags(pki: peers.ServerPki, tmp_path: Path, version: str) -> None:
    """OCSPStapling-Client-*: -enable-ocsp-stapling asks (a revocation flag on the
    credential), s_server -status_file staples, and -expect-ocsp-response finds the bytes as
    the certificate's property 70, on the resumed connection too."""
    staple = bytes.fromhex("30030a0101")  # an OCSPResponse: malformedRequest
    (tmp_path / "staple.der").write_bytes(staple)
    flags = ["-enable-ocsp-stapling", "-expect-ocsp-response", base64.b64encode(staple).decode()]
    legs: list[Leg] = []
    with openssl_server(pki, version, ["-status_file", str(tmp_path / "staple.der")]) as srv:
        result = run_shim(
            [*flags, "-resume-count", "1"], relay(srv, echo_then_eof, legs), connections=2
        )
    assert_success(result)


@pytest.mark.interop
def test_ocsp_response_mismatch_fails(pki: peers.ServerPki, tmp_path: Path) -> None:
    """-expect-ocsp-response with other bytes than the staple: :OCSP_RESPONSE_MISMATCH:."""
    (tmp_path / "staple.der").write_bytes(bytes.fromhex("30030a0101"))
    flags = ["-enable-ocsp-stapling", "-expect-ocsp-response"]
    flags.append(base64.b64encode(bytes.fromhex("30030a0102")).decode())
    legs: list[Leg] = []
    with openssl_server(pki, "1.3", ["-status_file", str(tmp_path / "staple.der")]) as srv:
        result = run_shim(flags, relay(srv, lambda leg: leg.wait(rb"CIPHER is"), legs))
    assert_failure(result, ":OCSP_RESPONSE_MISMATCH:")
