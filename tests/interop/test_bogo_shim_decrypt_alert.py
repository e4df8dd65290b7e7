"""The BoGo shim sends the right fatal alert when DecryptMessage fails.

The stand-in runner is Python's ``ssl`` over memory BIOs, so the test decides
what reaches the shim: after the handshake it corrupts the record carrying the
runner's message (or sends a record the connection does not allow).  The shim
must fail, put the alert the package names (SECPKG_ATTR_PY_HANDSHAKE_INFO) on
the wire protected under the current write key (SCHANNEL_ALERT_TOKEN + ISC),
and report it in the TLSERR line; the server's own read must then fail with
that alert, which it can only do if the record decrypts under the keys it reads
with.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest

from schannel_py.testing.pki import PemPaths, make_self_signed
from tests.support.bogo_runner import (
    MESSAGE,
    TIMEOUT,
    Handler,
    assert_failure,
    run_shim,
    server_context,
)


@pytest.fixture(scope="module")
def server_files(tmp_path_factory: pytest.TempPathFactory) -> PemPaths:
    cert = make_self_signed(["test"], key_type="p256")
    return cert.write(tmp_path_factory.mktemp("bogo-decrypt-alert"))


def tamper_last_byte(wire: bytes) -> bytes:
    """Flip a bit of the AEAD tag: the record no longer authenticates."""
    return wire[:-1] + bytes([wire[-1] ^ 1])


def unprotected_alert(wire: bytes) -> bytes:
    """Replace the record by an unprotected fatal alert (TLS 1.3 protects every record
    after the handshake: unexpected_message)."""
    return b"\x15\x03\x03\x00\x02\x02\x28"


def corrupting_server(ctx: ssl.SSLContext, corrupt: Callable[[bytes], bytes]) -> Handler:
    """Handshake over memory BIOs, then the message with its record corrupted; whatever
    the shim sends back is fed to the server, whose read outcome is recorded."""

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                data = sock.recv(65536)
                assert data, "the shim hung up during the handshake"
                incoming.write(data)
        sock.sendall(outgoing.read())  # Finished, and TLS 1.3 tickets
        tls.write(MESSAGE)
        sock.sendall(corrupt(outgoing.read()))
        sock.settimeout(TIMEOUT)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        rec["reply"] = reply
        incoming.write(reply)
        try:
            rec["read"] = tls.read(1024)
        except ssl.SSLError as e:
            rec["error"] = str(e)

    return handler


CASES = [
    ("1.3", tamper_last_byte, "SEC_E_MESSAGE_ALTERED", "bad_record_mac", "bad.record.mac"),
    ("1.2", tamper_last_byte, "SEC_E_MESSAGE_ALTERED", "bad_record_mac", "bad.record.mac"),
    (
        "1.3",
        unprotected_alert,
        "SEC_E_ILLEGAL_MESSAGE",
        "unexpected_message",
        "unexpected.message",
    ),
]


@pytest.mark.parametrize(
    ("version", "corrupt", "reason", "alert", "server_sees"),
    CASES,
    ids=[f"{c[0]}-{c[3]}" for c in CASES],
)
def test_decrypt_failure_sends_the_alert(
    server_files: PemPaths,
    version: str,
    corrupt: Callable[[bytes], bytes],
    reason: str,
    alert: str,
    server_sees: str,
) -> None:
    ctx = server_context(server_files, version)
    result = run_shim([], corrupting_server(ctx, corrupt))
    assert_failure(result, f"reason={reason} ")
    assert f"alert_sent={alert} " in result.stderr
    (rec,) = result.records
    # Protected: TLS 1.3 hides the alert behind application_data, TLS 1.2 seals its body.
    assert rec["reply"][:1] == (b"\x17" if version == "1.3" else b"\x15")
    assert len(rec["reply"]) > 7
    assert "read" not in rec, rec
    assert re.search(f"(?i){server_sees}", rec["error"]), rec["error"]
