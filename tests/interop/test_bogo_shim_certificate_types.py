"""The BoGo shim's -expect-certificate-types (BoringSSL's CheckCertificateRequest).

The stand-in runner is Python's ``ssl`` over memory BIOs, so it keeps every byte
it sends: the certificate_types the test expects are read from the
CertificateRequest on the wire, not from the package.  BoGo passes the list in
base64; the check applies only when a CertificateRequest arrived, and a TLS 1.3
CertificateRequest has no certificate_types (an empty list, as
SSL_get0_certificate_types reports it).
"""

from __future__ import annotations

import base64
import socket
import ssl
from typing import Any

import pytest

from bogo import shim as bogo_shim
from schannel_py.testing.pki import PemPaths, make_self_signed
from tests.support.bogo_runner import (
    ECHO,
    MESSAGE,
    TIMEOUT,
    Handler,
    assert_failure,
    assert_success,
    run_shim,
    server_context,
)
from tests.support.wire import certificate_request_types


@pytest.fixture(scope="module")
def server_files(tmp_path_factory: pytest.TempPathFactory) -> PemPaths:
    cert = make_self_signed(["test"], key_type="p256")
    return cert.write(tmp_path_factory.mktemp("bogo-cert-types"))


def requesting_context(files: PemPaths, version: str) -> ssl.SSLContext:
    """A server that asks for a client certificate but accepts none."""
    ctx = server_context(files, version)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.load_verify_locations(files.root)
    return ctx


def recording_echo(ctx: ssl.SSLContext) -> Handler:
    """The runner's exchange over memory BIOs, keeping what the server sent."""

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_side=True)
        sent = bytearray()
        rec["to_client"] = sent

        def flush() -> None:
            data = outgoing.read()
            sent.extend(data)
            sock.sendall(data)

        def pump() -> None:
            flush()
            data = sock.recv(65536)
            if not data:
                raise ConnectionAbortedError("the shim hung up")  # an OSError: run_shim ignores it
            incoming.write(data)

        sock.settimeout(TIMEOUT)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pump()
        tls.write(MESSAGE)
        echo = b""
        while len(echo) < len(MESSAGE):
            try:
                echo += tls.read(len(MESSAGE) - len(echo))
            except ssl.SSLWantReadError:
                pump()
        rec["echo"] = echo
        flush()  # then EOF: the shim stops on it as on close_notify

    return handler


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_parse_is_base64() -> None:
    cfgs = bogo_shim.parse_args(["-expect-certificate-types", b64(b"\x02\x01\x40")])
    assert cfgs["initial"].get("expect-certificate-types") == b"\x02\x01\x40"
    with pytest.raises(bogo_shim.Unimplemented, match="bad value"):
        bogo_shim.parse_args(["-expect-certificate-types", "not base64!"])


def test_tls12_certificate_types(server_files: PemPaths) -> None:
    ctx = requesting_context(server_files, "1.2")
    # A list the server does not send: the check fails after the handshake.
    result = run_shim(["-expect-certificate-types", b64(b"\x63")], recording_echo(ctx))
    assert_failure(result, "reason=:CERTIFICATE_TYPES_MISMATCH:")
    assert "certificate types mismatch." in result.stderr
    wire = certificate_request_types(bytes(result.records[0]["to_client"]))
    assert wire and f"got {wire.hex()}, wanted 63" in result.stderr
    # Exactly the server's list, in its order: success.
    result = run_shim(["-expect-certificate-types", b64(wire)], recording_echo(ctx))
    assert_success(result)
    assert result.records[0]["echo"] == ECHO
    # The same types in another order differ (BoringSSL compares the bytes).
    if len(set(wire)) > 1:
        result = run_shim(["-expect-certificate-types", b64(wire[::-1])], recording_echo(ctx))
        assert_failure(result, "reason=:CERTIFICATE_TYPES_MISMATCH:")


def test_no_certificate_request_no_check(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")  # asks for no certificate
    result = run_shim(["-expect-certificate-types", b64(b"\x40")], recording_echo(ctx))
    assert_success(result)


def test_tls13_certificate_request_has_no_types(server_files: PemPaths) -> None:
    """TLS 1.3: a CertificateRequest arrived, its type list is empty, so any expectation fails."""
    ctx = requesting_context(server_files, "1.3")
    result = run_shim(["-expect-certificate-types", b64(b"\x40")], recording_echo(ctx))
    assert_failure(result, "reason=:CERTIFICATE_TYPES_MISMATCH:")
    assert "got , wanted 40" in result.stderr
    result = run_shim(["-expect-certificate-types", ""], recording_echo(ctx))  # empty: no check
    assert_success(result)
