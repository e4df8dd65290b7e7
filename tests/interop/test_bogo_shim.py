"""The BoGo shim (bogo/shim.py) against a stand-in for BoringSSL's runner.

The real runner is a Go program that is not available here.  These tests play
its part on loopback: listen, start the shim with ``-port``/``-shim-id``, read
the 8-byte little-endian id, act as the TLS server with Python's ``ssl``, send
the 32-byte message ``0x42 ^ j``, check the ``^ 0xFF`` echo, accept the
resumption connections and check the shim's exit code and stderr.  Every test
is bounded in time (socket timeouts, subprocess timeouts, SIGALRM).  The runner
itself (``run_shim`` and its handlers) is tests/support/bogo_runner.py.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bogo import shim as bogo_shim  # the repository root is on pytest's pythonpath
from schannel_py.testing.pki import PemPaths, make_self_signed
from tests.support.bogo_runner import (
    ECHO,
    MESSAGE,
    SHIM_ID,
    TIMEOUT,
    Handler,
    assert_failure,
    assert_success,
    client_hello_extensions,
    recv_exact,
    run_shim,
    server_context,
    splice,
    tls_echo,
)
from tests.support.paths import ROOT


class Deadline(Exception):
    pass


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """Fail (rather than hang) a test that runs longer than 60 s."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Deadline("BoGo shim test exceeded 60 s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def server_files(tmp_path_factory: pytest.TempPathFactory) -> PemPaths:
    """The runner's default: a self-signed certificate for DNS name "test"."""
    cert = make_self_signed(["test"], key_type="p256")
    return cert.write(tmp_path_factory.mktemp("bogo-server"))


@pytest.fixture(scope="module")
def client_files(tmp_path_factory: pytest.TempPathFactory) -> PemPaths:
    cert = make_self_signed(["client"], key_type="p256", eku=["clientAuth"])
    return cert.write(tmp_path_factory.mktemp("bogo-client"))


# --- process-level protocol ---------------------------------------------------------


def test_handshaker_probe_answers_no() -> None:
    for argv in (["-is-handshaker-supported"], ["-async", "-is-handshaker-supported"]):
        proc = subprocess.run(
            [sys.executable, "-m", "bogo.shim", *argv],
            cwd=ROOT,
            capture_output=True,
            timeout=TIMEOUT,
        )
        assert proc.returncode == 0
        assert proc.stdout.decode().strip() == "No"
        assert proc.stderr == b""


def test_runs_as_a_script_too() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bogo" / "shim.py"), "-is-handshaker-supported"],
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == b"No"


@pytest.mark.parametrize(
    "flags",
    [
        ["-dtls"],
        ["-quic-transport-params", "x"],
        ["-enable-early-data"],
        ["-server"],
        ["-max-version", "770"],
        ["-expect-early-data-reason", "accept"],
        ["-verify-prefs"],  # a list flag without its value
    ],
)
def test_out_of_scope_flags_exit_89(flags: list[str]) -> None:
    result = run_shim(flags, None, connections=0)
    assert result.returncode == bogo_shim.EXIT_UNIMPLEMENTED
    assert result.records == []  # nothing connected


def test_exporter_flags_are_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    flags = ["-export-keying-material", "32", "-export-label", "l", "-export-context", ""]
    assert bogo_shim.exporter_available()  # the package has SetContextAttributes
    cfgs = bogo_shim.parse_args([*flags, "-use-export-context"])
    assert cfgs["initial"].get("export-keying-material") == 32
    assert cfgs["initial"].get("export-context") == ""
    # Without SetContextAttributes in the package the flags answer 89.
    monkeypatch.setattr(bogo_shim, "exporter_available", lambda: False)
    with pytest.raises(bogo_shim.Unimplemented, match="SetContextAttributes"):
        bogo_shim.parse_args(flags)


def test_empty_exporter_label_is_implemented() -> None:
    """RFC 5705 allows an empty label and the package accepts it: no probe, no 89."""
    flags = ["-export-keying-material", "32", "-export-label", "", "-export-context", ""]
    cfgs = bogo_shim.parse_args(flags)
    assert cfgs["initial"].get("export-label") == ""


# --- flag parsing -------------------------------------------------------------------


def test_parse_repeated_list_flags_and_prefixes() -> None:
    cfgs = bogo_shim.parse_args(
        [
            "-port", "1", "-shim-id", "7",
            "-curves", "29", "-curves", "23",
            "-on-resume-verify-fail",
            "-on-initial-expect-curve-id", "29",
            "-on-resume-expect-curve-id", "23",
            "-verify-peer",
        ]
    )  # fmt: skip
    initial, resume, retry = cfgs["initial"], cfgs["resume"], cfgs["retry"]
    assert initial.get("curves") == [29, 23] == resume.get("curves")
    assert not initial.flag("verify-fail") and resume.flag("verify-fail")
    assert not retry.flag("verify-fail")
    assert initial.get("expect-curve-id") == 29 and resume.get("expect-curve-id") == 23
    assert all(c.flag("verify-peer") for c in cfgs.values())
    assert initial.get("shim-id") == 7


def test_parse_raw_alpn_and_empty_values() -> None:
    cfgs = bogo_shim.parse_args(["-advertise-alpn", "\x03foo\x03bar", "-host-name", ""])
    wire = cfgs["initial"].get("advertise-alpn")
    assert wire == b"\x03foo\x03bar"
    assert bogo_shim.parse_alpn_wire(wire) == [b"foo", b"bar"]
    assert cfgs["initial"].get("host-name") == ""
    with pytest.raises(bogo_shim.Unimplemented):
        bogo_shim.parse_alpn_wire(b"\x05ab")


def test_parse_raw_alpn_with_non_utf8_bytes() -> None:
    """argv holds bytes; Python decodes them with surrogateescape, os.fsencode restores them."""
    wire = b"\x03\xff\xfe\x80\x02h2\x01\x00"
    cfgs = bogo_shim.parse_args(
        ["-advertise-alpn", os.fsdecode(wire), "-expect-alpn", os.fsdecode(b"\xff\xfe\x80")]
    )
    assert cfgs["initial"].get("advertise-alpn") == wire
    assert cfgs["resume"].get("expect-alpn") == b"\xff\xfe\x80"
    assert bogo_shim.parse_alpn_wire(wire) == [b"\xff\xfe\x80", b"h2", b"\x00"]
    with pytest.raises(bogo_shim.Unimplemented):
        bogo_shim.parse_alpn_wire(b"\x00")  # empty protocol name


def test_parse_prefixed_list_flags_and_last_value_wins() -> None:
    cfgs = bogo_shim.parse_args(
        [
            "-on-initial-curves", "29",
            "-curves", "23",
            "-on-resume-curves", "24",
            "-read-size", "1", "-read-size", "7",
            "-on-retry-host-name", "retry",
        ]
    )  # fmt: skip
    assert cfgs["initial"].get("curves") == [29, 23]
    assert cfgs["resume"].get("curves") == [23, 24]
    assert cfgs["retry"].get("curves") == [23]
    assert all(c.get("read-size") == 7 for c in cfgs.values())
    assert cfgs["retry"].get("host-name") == "retry" and not cfgs["initial"].has("host-name")


def test_parse_values_may_look_like_flags() -> None:
    cfgs = bogo_shim.parse_args(["-host-name", "-verify-peer", "-export-label", "-"])
    assert cfgs["initial"].get("host-name") == "-verify-peer"
    assert not cfgs["initial"].flag("verify-peer")


def test_parse_bad_values_are_unimplemented() -> None:
    for argv in (
        ["-port", "x"],
        ["-curves", "0x1d"],  # decimal only
        ["-read-size", "0"],
        ["-max-version", "770"],
        ["-expect-version", "769"],
        ["-resumption-delay", "-1"],
        ["-port"],  # value missing
    ):
        with pytest.raises(bogo_shim.Unimplemented):
            bogo_shim.parse_args(argv)


def test_parse_newly_implemented_flags() -> None:
    cfgs = bogo_shim.parse_args(["-resumption-delay", "10", "-key-update"])
    assert cfgs["resume"].get("resumption-delay") == 10
    assert cfgs["initial"].flag("key-update")
    cfgs = bogo_shim.parse_args(["-verify-prefs", "1027", "-verify-prefs", "2052"])
    assert cfgs["initial"].get("verify-prefs") == [1027, 2052]
    cfgs = bogo_shim.parse_args(["-renegotiate-ignore", "-renegotiate-explicit"])
    assert cfgs["initial"].flag("renegotiate-ignore") and cfgs["initial"].flag(
        "renegotiate-explicit"
    )


@pytest.mark.parametrize(
    ("flags", "mode"),
    [
        ([], "never"),
        (["-renegotiate-once"], "once"),
        (["-renegotiate-once", "-renegotiate-freely"], "freely"),
        (["-renegotiate-freely", "-renegotiate-ignore"], "ignore"),
        (["-renegotiate-ignore", "-renegotiate-explicit"], "explicit"),
        (["-renegotiate-explicit", "-renegotiate-once"], "explicit"),  # the order of the
        # ifs in test_config.cc, not of the arguments
        (["-renegotiate-ignore", "-forbid-renegotiation-after-handshake"], "never"),
        (["-renegotiate-explicit", "-forbid-renegotiation-after-handshake"], "never"),
    ],
)
def test_renegotiation_mode(flags: list[str], mode: str) -> None:
    cfgs = bogo_shim.parse_args(flags)
    assert bogo_shim.renegotiation_mode(cfgs["initial"]) == mode


def test_on_resume_renegotiation_flags_apply_to_resumptions_only() -> None:
    cfgs = bogo_shim.parse_args(["-on-resume-renegotiate-ignore", "-renegotiate-once"])
    assert bogo_shim.renegotiation_mode(cfgs["initial"]) == "once"
    assert bogo_shim.renegotiation_mode(cfgs["resume"]) == "ignore"


def test_unknown_flag_exits_89_before_connecting() -> None:
    for flags in (["-nope"], ["-on-resume-nope", "1"], ["-trust-cert", "x", "-quic"]):
        result = run_shim(flags, None, connections=0)
        assert result.returncode == bogo_shim.EXIT_UNIMPLEMENTED, result.stderr
        assert result.stdout == "" and result.records == []


def test_parse_rejects_unknown_and_prefixed_unknown() -> None:
    for argv in (["-nope"], ["-on-resume-nope"], ["-on-shim-async"], ["stray"]):
        with pytest.raises(bogo_shim.Unimplemented):
            bogo_shim.parse_args(argv)


def test_failure_line_format() -> None:
    line = bogo_shim.Failure(":X:", status=0x80090326, alert_sent=40, alert_received=None).line()
    assert (
        line
        == "TLSERR reason=:X: status=0x80090326 alert_sent=handshake_failure alert_received=none"
    )
    # One line, but the spaces the runner greps for survive.
    line = bogo_shim.Failure(":U:", detail="Unexpected SSL_shutdown result: -1 != 1\nx").line()
    assert "\n" not in line and "Unexpected SSL_shutdown result: -1 != 1 x" in line


def test_unexpected_exception_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(configs: object) -> None:
        raise ValueError("multi\nline")

    monkeypatch.setattr(bogo_shim, "run", broken)
    assert bogo_shim.main(["-port", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("TLSERR reason=:SHIM_INTERNAL_ERROR: ")
    assert "ValueError: multi line" in err


def test_stderr_noise_is_silenced() -> None:
    """Warnings, the package's loggers and finalizer errors never reach stderr."""
    code = """if True:
        import gc, logging, warnings
        from bogo import shim
        shim.silence_stderr_noise()
        warnings.warn("w", DeprecationWarning)
        logging.getLogger("schannel_py.sspi").error("unexpected")
        class Bad:
            def __del__(self):
                raise RuntimeError("in a finalizer")
        Bad()
        gc.collect()
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="error", PYTHONDEVMODE="1")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    # Without it each of them writes to stderr (the check above is not vacuous).
    noisy = code.replace("shim.silence_stderr_noise()", "pass")
    env["PYTHONWARNINGS"] = "always"
    proc = subprocess.run(
        [sys.executable, "-c", noisy], cwd=ROOT, env=env, capture_output=True, timeout=TIMEOUT
    )
    assert b"DeprecationWarning" in proc.stderr and b"unexpected" in proc.stderr
    assert b"in a finalizer" in proc.stderr


def test_connect_sets_nodelay_and_sends_the_id_first() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(TIMEOUT)
        cfg = bogo_shim.Config()
        sock = bogo_shim.connect(cfg, listener.getsockname()[1], SHIM_ID)
        try:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            peer, _ = listener.accept()
            with peer:
                peer.settimeout(TIMEOUT)
                assert recv_exact(peer, 8) == struct.pack("<Q", SHIM_ID)
        finally:
            sock.close()


def test_close_socket_half_closes_and_drains() -> None:
    """The shim sends FIN, keeps reading what the runner still writes, closes at its EOF."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(TIMEOUT)
        shim_side = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
        runner, _ = listener.accept()
        runner.settimeout(TIMEOUT)
        shim_side.sendall(b"last words")  # e.g. a fatal alert
        done = threading.Event()

        def close() -> None:
            bogo_shim.close_socket(shim_side)
            done.set()

        closer = threading.Thread(target=close, daemon=True)
        closer.start()
        with runner:
            assert recv_exact(runner, 64) == b"last words"  # then EOF: the half-close
            for _ in range(20):  # the runner may still write: no reset
                runner.sendall(b"x" * 4096)
            time.sleep(0.2)
            assert not done.is_set()  # still draining until the runner's EOF
            runner.shutdown(socket.SHUT_WR)
            closer.join(TIMEOUT)
            assert done.is_set()
            assert runner.recv(10) == b""  # orderly close, no RST


# --- connections --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("async_io", [False, True])
def test_echo(server_files: PemPaths, version: str, async_io: bool) -> None:
    ctx = server_context(server_files, version)
    flags = ["-trust-cert", str(server_files.root)]
    flags += ["-expect-version", "771" if version == "1.2" else "772"]
    if async_io:
        flags.append("-async")
    result = run_shim(flags, tls_echo(lambda i: ctx))
    assert_success(result)
    (rec,) = result.records
    assert rec["echo"] == ECHO
    assert rec["version"] == f"TLSv{version}"
    assert rec["resumed"] is False


def test_echo_reads_at_most_512_bytes(server_files: PemPaths) -> None:
    """A 3000-byte record comes back in full (the shim reads 512 bytes per call)."""
    ctx = server_context(server_files)
    big = bytes(0x42 ^ (j & 0xFF) for j in range(3000))
    result = run_shim([], tls_echo(lambda i: ctx, message=big))
    assert_success(result)
    assert result.records[0]["echo"] == bytes(b ^ 0xFF for b in big)


def test_ipv6(server_files: PemPaths) -> None:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    ctx = server_context(server_files)
    result = run_shim([], tls_echo(lambda i: ctx), ipv6=True)
    assert_success(result)
    assert result.records[0]["echo"] == ECHO


@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("async_io", [False, True])
def test_resume_count(server_files: PemPaths, version: str, async_io: bool) -> None:
    """Each later connection resumes through the cache of the same credential + target."""
    ctx = server_context(server_files, version)
    flags = ["-resume-count", "2"] + (["-async"] if async_io else [])
    result = run_shim(flags, tls_echo(lambda i: ctx), connections=3)
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, True, True]
    assert all(r["echo"] == ECHO for r in result.records)


def test_resume_with_host_name(server_files: PemPaths) -> None:
    ctx = server_context(server_files)
    result = run_shim(
        ["-host-name", "test", "-resume-count", "1"], tls_echo(lambda i: ctx), connections=2
    )
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, True]


def test_resumption_refused_needs_expect_session_miss(server_files: PemPaths) -> None:
    fresh = [server_context(server_files), server_context(server_files)]
    result = run_shim(["-resume-count", "1"], tls_echo(lambda i: fresh[i]), connections=2)
    assert_failure(result, "session unexpectedly was not reused")
    fresh = [server_context(server_files), server_context(server_files)]
    result = run_shim(
        ["-resume-count", "1", "-expect-session-miss"],
        tls_echo(lambda i: fresh[i]),
        connections=2,
    )
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, False]


def test_shim_writes_first(server_files: PemPaths) -> None:
    ctx = server_context(server_files)
    result = run_shim(["-shim-writes-first"], tls_echo(lambda i: ctx, writes_first=True))
    assert_success(result)
    assert result.records[0]["first"] == b"hello"
    assert result.records[0]["echo"] == ECHO


def test_on_resume_prefix_applies_to_resumption_only(server_files: PemPaths) -> None:
    ctx = server_context(server_files)
    writes = {0: False, 1: True}
    handlers = {i: tls_echo(lambda i: ctx, writes_first=writes[i]) for i in writes}
    result = run_shim(
        ["-resume-count", "1", "-on-resume-shim-writes-first"],
        lambda sock, i, rec: handlers[i](sock, i, rec),
        connections=2,
    )
    assert_success(result)
    assert "first" not in result.records[0]
    assert result.records[1]["first"] == b"hello"


def shuts_down_handler(ctx: ssl.SSLContext, *, reply_close_notify: bool) -> Handler:
    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        tls = ctx.wrap_socket(sock, server_side=True, suppress_ragged_eofs=False)
        try:
            rec["data"] = tls.recv(100)  # b"": the shim's close_notify
        except ssl.SSLZeroReturnError:
            rec["data"] = b""
        if reply_close_notify:
            tls.unwrap()
        rec["done"] = True

    return handler


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_shim_shuts_down_check_close_notify(server_files: PemPaths, version: str) -> None:
    ctx = server_context(server_files, version)
    result = run_shim(
        ["-shim-shuts-down", "-check-close-notify"],
        shuts_down_handler(ctx, reply_close_notify=True),
    )
    assert_success(result)
    assert result.records[0]["data"] == b""


def test_missing_close_notify_is_unclean_shutdown(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")
    result = run_shim(
        ["-shim-shuts-down", "-check-close-notify"],
        shuts_down_handler(ctx, reply_close_notify=False),
    )
    assert_failure(result, "Unexpected SSL_shutdown result: -1 != 1")


def test_data_after_the_shims_close_notify_fails_as_ssl_shutdown(
    server_files: PemPaths,
) -> None:
    """BoringSSL's SSL_shutdown, waiting for the peer's close_notify, fails on application
    data (BoGo Shutdown-Shim-ApplicationData-*); the shim applies that rule itself."""
    ctx = server_context(server_files, "1.2")

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        tls = ctx.wrap_socket(sock, server_side=True, suppress_ragged_eofs=True)
        rec["data"] = tls.recv(100)  # b"": the shim's close_notify
        tls.sendall(b"late data")
        rec["done"] = True

    result = run_shim(["-shim-shuts-down", "-check-close-notify"], handler)
    assert_failure(result, ":APPLICATION_DATA_ON_SHUTDOWN:")


def test_shim_shuts_down_without_check(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")
    result = run_shim(["-shim-shuts-down"], shuts_down_handler(ctx, reply_close_notify=False))
    assert_success(result)


def alert_handler(ctx: ssl.SSLContext) -> Handler:
    """Handshake and read once, recording the alert the shim sent."""

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        try:
            tls = ctx.wrap_socket(sock, server_side=True)
            rec["resumed"] = tls.session_reused
            rec["data"] = tls.recv(100)
            tls.sendall(MESSAGE)
            rec["echo"] = recv_exact(tls, 32)
            tls.unwrap()
        except ssl.SSLError as e:
            rec["error"] = str(e)

    return handler


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize(
    ("flags", "alert"),
    [
        (["-verify-peer", "-verify-fail"], "handshake_failure"),
        (["-verify-peer", "-verify-fail", "-use-custom-verify-callback"], "certificate_unknown"),
    ],
)
def test_verify_fail_sends_the_alert(
    server_files: PemPaths, version: str, flags: list[str], alert: str
) -> None:
    """The verify callback rejects before the client's Finished; the server reads the alert.

    TLS 1.3: under the client handshake traffic key (impossible with an alert
    token after ISC returned); TLS 1.2: in plaintext.
    """
    ctx = server_context(server_files, version)
    result = run_shim(flags, alert_handler(ctx))
    assert_failure(result, "reason=:CERTIFICATE_VERIFY_FAILED: status=0x80090327")
    assert f"alert_sent={alert} " in result.stderr
    rec = result.records[0]
    assert "ALERT_" + alert.upper() in rec["error"].upper(), rec
    assert "data" not in rec and "echo" not in rec  # the handshake never completed


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_soft_verify_failure_is_recorded(server_files: PemPaths, version: str) -> None:
    ctx = server_context(server_files, version)
    result = run_shim(["-verify-fail", "-expect-verify-result"], tls_echo(lambda i: ctx))
    assert_success(result)
    assert result.records[0]["echo"] == ECHO
    result = run_shim(["-verify-peer", "-expect-verify-result"], tls_echo(lambda i: ctx))
    assert_success(result)


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_on_resume_verify_fail_with_reverify(server_files: PemPaths, version: str) -> None:
    """-reverify-on-resume: the callback runs on the resumption and aborts it."""
    ctx = server_context(server_files, version, tickets=version == "1.3")
    handlers = {0: tls_echo(lambda i: ctx), 1: alert_handler(ctx)}
    flags = ["-resume-count", "1", "-verify-peer", "-reverify-on-resume", "-on-resume-verify-fail"]
    result = run_shim(flags, lambda s, i, r: handlers[i](s, i, r), connections=2)
    assert_failure(result, ":CERTIFICATE_VERIFY_FAILED:")
    assert "alert_sent=handshake_failure " in result.stderr
    assert result.records[0]["echo"] == ECHO
    rec = result.records[1]
    assert "ALERT_HANDSHAKE_FAILURE" in rec["error"].upper(), rec
    assert "data" not in rec  # the resumption never completed
    # Without -reverify-on-resume the hook does not run again: resumption succeeds,
    # and the resumed connection reports the session's (successful) verify result.
    ctx = server_context(server_files, version, tickets=version == "1.3")
    flags = ["-resume-count", "1", "-verify-peer", "-on-resume-verify-fail"]
    flags += ["-on-resume-expect-verify-result"]
    result = run_shim(flags, tls_echo(lambda i: ctx), connections=2)
    # BoringSSL: a resumed session keeps the initial verify result (OK), which
    # -expect-verify-result with -verify-fail calls a mismatch.
    assert_failure(result, ":VERIFY_RESULT_MISMATCH:")
    flags = ["-resume-count", "1", "-verify-peer", "-on-resume-verify-fail"]
    ctx = server_context(server_files, version, tickets=version == "1.3")
    result = run_shim(flags, tls_echo(lambda i: ctx), connections=2)
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, True]


def test_reverify_on_resume_success_runs_the_callback(server_files: PemPaths) -> None:
    """-reverify-on-resume with a good verdict: the resumption completes."""
    ctx = server_context(server_files, "1.3")
    flags = ["-resume-count", "1", "-verify-peer", "-reverify-on-resume", "-expect-verify-result"]
    flags += ["-expect-peer-cert-file", str(server_files.fullchain)]
    result = run_shim(flags, tls_echo(lambda i: ctx), connections=2)
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, True]


def test_expect_peer_cert_file(server_files: PemPaths, client_files: PemPaths) -> None:
    ctx = server_context(server_files)
    result = run_shim(
        ["-expect-peer-cert-file", str(server_files.fullchain)], tls_echo(lambda i: ctx)
    )
    assert_success(result)
    result = run_shim(["-expect-peer-cert-file", str(client_files.cert)], alert_handler(ctx))
    assert_failure(result, "peer certificate mismatch")


def test_send_alert(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")
    result = run_shim(["-send-alert"], alert_handler(ctx))
    assert_success(result)
    assert "DECOMPRESSION_FAILURE" in result.records[0]["error"].upper()


def test_expect_version_mismatch_fails(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")
    result = run_shim(["-expect-version", "772"], alert_handler(ctx))
    assert_failure(result, "reason=:WRONG_VERSION:")


def test_min_version_rejects_older_server(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")
    result = run_shim(["-min-version", "772"], alert_handler(ctx))
    assert result.returncode == 1
    assert result.stderr.startswith("TLSERR reason=SEC_E_") and result.stderr.count("\n") == 1


def test_no_tls13_negotiates_tls12(server_files: PemPaths) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(server_files.fullchain, server_files.key)
    result = run_shim(["-no-tls13", "-expect-version", "771"], tls_echo(lambda i: ctx))
    assert_success(result)
    assert result.records[0]["version"] == "TLSv1.2"


def test_alpn(server_files: PemPaths) -> None:
    ctx = server_context(server_files)
    ctx.set_alpn_protocols(["bar"])
    result = run_shim(
        ["-advertise-alpn", "\x03foo\x03bar", "-expect-alpn", "bar"], tls_echo(lambda i: ctx)
    )
    assert_success(result)
    assert result.records[0]["alpn"] == "bar"
    result = run_shim(
        ["-advertise-alpn", "\x03foo\x03bar", "-expect-alpn", "foo"], alert_handler(ctx)
    )
    assert_failure(result, ":ALPN_MISMATCH:")


def grab_client_hello(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
    """Keep the first ClientHello in rec["hello"], then hang up (the shim fails)."""
    data = b""
    while True:  # until the whole ClientHello is in
        try:
            client_hello_extensions(data)
            break
        except AssertionError:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    rec["hello"] = data


def test_raw_alpn_bytes_reach_the_wire() -> None:
    """Non-UTF-8 ALPN wire bytes in argv come out unchanged in the ClientHello."""
    wire = b"\x03\xff\xfe\x80\x02h2"
    result = run_shim(["-advertise-alpn", os.fsdecode(wire)], grab_client_hello)
    assert result.returncode == 1  # EOF during the handshake, not 89
    ext = client_hello_extensions(result.records[0]["hello"])
    assert ext[16] == struct.pack(">H", len(wire)) + wire  # application_layer_protocol_negotiation


def test_stderr_stays_empty_with_noisy_python_settings(server_files: PemPaths) -> None:
    ctx = server_context(server_files)
    noisy = {"PYTHONDEVMODE": "1", "PYTHONWARNINGS": "always"}
    result = run_shim(["-resume-count", "1"], tls_echo(lambda i: ctx), connections=2, env=noisy)
    assert_success(result)
    assert [r["echo"] for r in result.records] == [ECHO, ECHO]


@pytest.mark.parametrize("group", [23, 29])
def test_curves_and_expect_curve_id(server_files: PemPaths, group: int) -> None:
    ctx = server_context(server_files)
    result = run_shim(
        ["-curves", str(group), "-expect-curve-id", str(group)], tls_echo(lambda i: ctx)
    )
    assert_success(result)
    other = 29 if group == 23 else 23
    result = run_shim(["-curves", str(group), "-expect-curve-id", str(other)], alert_handler(ctx))
    assert_failure(result, ":CURVE_MISMATCH:")


def test_tls_unique(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        tls = ctx.wrap_socket(sock, server_side=True)
        rec["from_shim"] = recv_exact(tls, 12)
        rec["server"] = tls.get_channel_binding("tls-unique")
        tls.sendall(MESSAGE)
        rec["echo"] = recv_exact(tls, 32)
        tls.unwrap()

    result = run_shim(["-tls-unique"], handler)
    assert_success(result)
    rec = result.records[0]
    assert rec["from_shim"] == rec["server"] and len(rec["server"]) == 12
    assert rec["echo"] == ECHO


@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("old_callback", [False, True])
def test_client_certificate(
    server_files: PemPaths,
    client_files: PemPaths,
    version: str,
    old_callback: bool,
) -> None:
    ctx = server_context(server_files, version)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(client_files.root)
    flags = ["-cert-file", str(client_files.cert), "-key-file", str(client_files.key)]
    if old_callback:
        flags.append("-use-old-client-cert-callback")
    result = run_shim(flags, tls_echo(lambda i: ctx))
    assert_success(result)
    assert result.records[0]["peercert"] == client_files.cert.read_bytes() or result.records[0][
        "peercert"
    ] == ssl.PEM_cert_to_DER_cert(client_files.cert.read_text())


def test_untrusted_server_is_accepted_like_boringssl(client_files: PemPaths) -> None:
    """-trust-cert is parsed but unused; -verify-peer only enforces the verify hook."""
    ctx = server_context(client_files)  # a certificate nobody trusts, wrong name and EKU
    result = run_shim(
        ["-trust-cert", str(client_files.root), "-verify-peer", "-expect-verify-result"],
        tls_echo(lambda i: ctx),
    )
    assert_success(result)
    assert result.records[0]["echo"] == ECHO


def test_eof_during_handshake_is_one_error_line() -> None:
    def hang_up(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        sock.recv(10)  # part of the ClientHello, then EOF

    result = run_shim([], hang_up)
    assert_failure(result, "reason=:UNEXPECTED_EOF:")


def test_server_alert_is_reported(server_files: PemPaths) -> None:
    """A server that wants a client certificate the shim lacks: the shim fails cleanly."""
    ctx = server_context(server_files, "1.3")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(server_files.root)
    result = run_shim([], alert_handler(ctx))
    assert result.returncode == 1
    assert result.stderr.startswith("TLSERR reason=") and result.stderr.count("\n") == 1


# --- renegotiation (openssl s_server behind a relay; Python's ssl cannot send HelloRequest) ---


def relay_to_openssl(srv: Any, commands: Callable[[], None]) -> Handler:  # srv: peers.OpenSSLServer
    """Relay the shim's connection (after its id) to s_server and run ``commands``."""

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        splice(sock, ("127.0.0.1", srv.port), commands)

    return handler


@pytest.mark.interop
@pytest.mark.parametrize(
    ("flags", "ok"),
    [
        (["-renegotiate-freely", "-expect-total-renegotiations", "1"], True),
        (["-renegotiate-once", "-expect-total-renegotiations", "1"], True),
        (["-renegotiate-explicit", "-expect-total-renegotiations", "1"], True),
        (["-renegotiate-freely"], False),  # count 1 != expected 0
        ([], False),  # default: refused with no_renegotiation
        (["-renegotiate-ignore", "-forbid-renegotiation-after-handshake"], False),
        (["-renegotiate-explicit", "-forbid-renegotiation-after-handshake"], False),
    ],
)
def test_server_initiated_renegotiation(pki: Any, flags: list[str], ok: bool) -> None:
    from tests.support import peers

    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False) as srv:

        def commands() -> None:
            srv.wait_for_output("CIPHER is", TIMEOUT)
            srv.send_line("r")  # HelloRequest
            srv.wait_for_output("SSL_do_handshake -> 1", TIMEOUT)
            time.sleep(0.3)  # as in test_interop_tls12: let s_server finish the command
            srv.send_line("ping")
            if ok:
                srv.wait_for_output("\ufffd", TIMEOUT)  # the XOR echo (non-UTF-8 bytes)
                srv.end_connection()  # EOF, no close_notify: the shim stops cleanly
            else:
                time.sleep(0.5)
                try:
                    srv.end_connection()
                except peers.PeerError:
                    pass  # the shim already hung up

        result = run_shim(flags, relay_to_openssl(srv, commands))
    if ok:
        assert_success(result)
    elif "-renegotiate-freely" in flags:
        assert_failure(result, ":RENEGOTIATION_COUNT:")
    else:
        assert_failure(result, "reason=:NO_RENEGOTIATION: alert_sent=no_renegotiation")


# --- handshake facts (SECPKG_ATTR_PY_HANDSHAKE_INFO) ----------------------------------

ECDSA_P256_SHA256 = 0x0403


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_expect_peer_signature_algorithm(server_files: PemPaths, version: str) -> None:
    """The P-256 server signs with ecdsa_secp256r1_sha256; resumptions report the session's."""
    ctx = server_context(server_files, version)
    flags = ["-resume-count", "1", "-expect-peer-signature-algorithm", str(ECDSA_P256_SHA256)]
    result = run_shim(flags, tls_echo(lambda i: ctx), connections=2)
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, True]
    result = run_shim(["-expect-peer-signature-algorithm", "2052"], alert_handler(ctx))
    assert_failure(result, "reason=:PEER_SIGNATURE_ALGORITHM_MISMATCH:")
    assert "Peer signature algorithm was 0403, wanted 0804." in result.stderr


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_expect_extended_master_secret_and_secure_renegotiation(
    server_files: PemPaths, version: str
) -> None:
    ctx = server_context(server_files, version)
    flags = ["-expect-extended-master-secret", "-expect-secure-renegotiation", "-expect-no-hrr"]
    result = run_shim(flags, tls_echo(lambda i: ctx))
    assert_success(result)
    # RI is negotiated in TLS 1.2 (the package requires it) and implied by TLS 1.3.
    result = run_shim(["-expect-no-secure-renegotiation"], alert_handler(ctx))
    assert_failure(result, "reason=:RENEGOTIATION_MISMATCH:")
    result = run_shim(["-expect-hrr"], alert_handler(ctx))  # Python's server sends none
    assert_failure(result, "reason=:HRR_MISMATCH:")


def test_tls13_client_must_receive_a_ticket(server_files: PemPaths) -> None:
    """BoringSSL's post-loop check, through cTicketsReceived."""
    no_tickets = server_context(server_files, "1.3")
    no_tickets.num_tickets = 0
    result = run_shim([], tls_echo(lambda i: no_tickets))
    assert_failure(result, "reason=:NO_NEW_SESSION:")
    assert result.records[0]["echo"] == ECHO  # the check runs after the echo loop
    assert_success(run_shim(["-expect-no-session"], tls_echo(lambda i: no_tickets)))
    handler = shuts_down_handler(no_tickets, reply_close_notify=True)
    assert_success(run_shim(["-shim-shuts-down"], handler))
    tickets = server_context(server_files, "1.3")
    result = run_shim(["-expect-no-session"], tls_echo(lambda i: tickets))
    assert_failure(result, "reason=:UNEXPECTED_NEW_SESSION:")


def test_tls12_new_session_checks(server_files: PemPaths) -> None:
    """TLS 1.2: a full handshake caches a session, a plain resumption does not."""
    ctx = server_context(server_files, "1.2")
    result = run_shim(["-expect-no-session"], alert_handler(ctx))
    assert_failure(result, "reason=:NEW_SESSION_MISMATCH:")
    assert "new session was cached, but we expected the opposite" in result.stderr
    # OpenSSL does not renew a ticket on resumption: -expect-ticket-renewal fails there.
    ctx = server_context(server_files, "1.2")
    handlers = {0: tls_echo(lambda i: ctx), 1: alert_handler(ctx)}
    flags = ["-resume-count", "1", "-on-resume-expect-ticket-renewal"]
    result = run_shim(flags, lambda s, i, r: handlers[i](s, i, r), connections=2)
    assert_failure(result, "reason=:NEW_SESSION_MISMATCH:")
    assert "new session was not cached" in result.stderr


def test_tls13_ticket_renewal(server_files: PemPaths) -> None:
    """TLS 1.3: a resumption that receives tickets satisfies -expect-ticket-renewal."""
    ctx = server_context(server_files, "1.3")
    flags = ["-resume-count", "1", "-on-resume-expect-ticket-renewal"]
    result = run_shim(flags, tls_echo(lambda i: ctx), connections=2)
    assert_success(result)
    assert [r["resumed"] for r in result.records] == [False, True]


# --- -verify-prefs / -signing-prefs (CRYPTO_SETTINGS signature entries) ---------------


def advertised_schemes(hello: bytes) -> list[int]:
    body = client_hello_extensions(hello)[13]  # signature_algorithms
    return [int.from_bytes(body[i : i + 2], "big") for i in range(2, len(body), 2)]


@pytest.mark.parametrize(
    "flags",
    [
        ["-verify-prefs", "2053", "-verify-prefs", "1027", "-verify-prefs", "65535"],
        ["-verify-prefs", "1027", "-verify-prefs", "2053"]
        + ["-signing-prefs", "2053", "-signing-prefs", "1027"],
    ],
)
def test_verify_prefs_restrict_signature_algorithms(flags: list[str]) -> None:
    """Only the listed schemes are advertised, in the package's order; unknown ones drop out."""
    result = run_shim(flags, grab_client_hello)
    assert result.returncode == 1  # the runner hung up
    assert advertised_schemes(result.records[0]["hello"]) == [0x0403, 0x0805]
    result = run_shim([], grab_client_hello)
    default = advertised_schemes(result.records[0]["hello"])
    assert {0x0403, 0x0805, 0x0804, 0x0401} <= set(default)


@pytest.mark.parametrize(("version", "scheme"), [("1.3", 0x0805), ("1.2", 0x0401)])
def test_verify_prefs_decide_the_server_signature(
    tmp_path: Path, version: str, scheme: int
) -> None:
    """An RSA server must sign with the one scheme left (seen through the handshake info)."""
    files = make_self_signed(["test"], key_type="rsa2048").write(tmp_path)
    ctx = server_context(files, version)
    flags = ["-verify-prefs", str(scheme), "-expect-peer-signature-algorithm", str(scheme)]
    result = run_shim(flags, tls_echo(lambda i: ctx))
    assert_success(result)
    # Only ECDSA left: the RSA server cannot sign, the handshake fails.
    result = run_shim(["-verify-prefs", "1027"], alert_handler(ctx))
    assert result.returncode == 1 and result.stderr.startswith("TLSERR reason=SEC_E_")


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["-verify-prefs", "1027", "-signing-prefs", "2052"], "differ"),
        (["-signing-prefs", "1027"], "-signing-prefs alone"),
        (["-verify-prefs", "1027", "-cert-file", "c", "-key-file", "k"], "client certificate"),
        (["-verify-prefs", "1027", "-on-resume-verify-prefs", "2052", "-resume-count", "1"], ""),
    ],
)
def test_signature_prefs_that_need_two_sets_exit_89(flags: list[str], needle: str) -> None:
    result = run_shim(flags, None, connections=0)
    assert result.returncode == bogo_shim.EXIT_UNIMPLEMENTED, result.stderr
    assert needle in result.stderr and "UNIMPLEMENTED" in result.stderr


# --- -key-update -------------------------------------------------------------------------


def test_key_update_after_every_read(server_files: PemPaths) -> None:
    """The echo keeps working across the KeyUpdates (Python's server follows each one)."""
    ctx = server_context(server_files, "1.3")

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        tls = ctx.wrap_socket(sock, server_side=True)
        rec["echoes"] = []
        for k in range(5):
            msg = bytes((0x10 * k + j) & 0xFF for j in range(32))
            tls.sendall(msg)
            got = recv_exact(tls, 32)
            rec["echoes"].append(got == bytes(b ^ 0xFF for b in msg))
        tls.unwrap()

    result = run_shim(["-key-update"], handler)
    assert_success(result)
    assert result.records[0]["echoes"] == [True] * 5


def test_key_update_is_a_failure_in_tls12(server_files: PemPaths) -> None:
    ctx = server_context(server_files, "1.2")
    result = run_shim(["-key-update"], tls_echo(lambda i: ctx))
    assert_failure(result, "reason=SEC_E_UNSUPPORTED_FUNCTION")
    assert "ApplyControlToken(PY_KEY_UPDATE)" in result.stderr
