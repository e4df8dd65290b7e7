"""The command line: `schannel-py demo` (the README's main job) and `connect`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from schannel_py import cli
from tests.support import peers


def test_demo_runs_the_sspi_loop_end_to_end() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "schannel_py.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    # Every ISC leg is printed with its status by Windows name.
    assert "=> SEC_I_CONTINUE_NEEDED" in out
    assert "=> SEC_E_OK" in out
    # The TLS messages of the ladder, both directions.
    for name in (
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate_verify",
        "finished",
    ):
        assert name in out
    assert "TLS_AES_" in out
    assert "b'server echoes: hello over SSPI'" in out
    assert "SEC_I_CONTEXT_EXPIRED" in out
    assert out.rstrip().endswith("demo finished: OK")


def test_flag_names_decodes_curl_request() -> None:
    assert (
        cli.flag_names(0x819C)
        == "REPLAY_DETECT|SEQUENCE_DETECT|CONFIDENTIALITY|USE_SUPPLIED_CREDS|ALLOCATE_MEMORY|STREAM"
    )


@pytest.mark.interop
def test_connect_against_python_server(
    pki: peers.ServerPki, root_certs_env: object, capsys: pytest.CaptureFixture[str]
) -> None:
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), alpn=["http/1.1"]) as server:
        rc = cli.main(
            [
                "connect",
                f"127.0.0.1:{server.port}",
                "--servername",
                "localhost",
                "--alpn",
                "http/1.1",
                "--send",
                "ping\\n",
            ]
        )
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "TLS_AES_" in out and "ALPN b'http/1.1'" in out
    assert "ping" in out


@pytest.mark.interop
def test_connect_reports_untrusted_root(
    pki: peers.ServerPki, capsys: pytest.CaptureFixture[str]
) -> None:
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs()) as server:
        rc = cli.main(["connect", f"127.0.0.1:{server.port}", "--servername", "localhost"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "SEC_E_UNTRUSTED_ROOT" in err


@pytest.mark.interop
def test_connect_insecure_skips_validation(
    pki: peers.ServerPki, capsys: pytest.CaptureFixture[str]
) -> None:
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs()) as server:
        rc = cli.main(["connect", f"127.0.0.1:{server.port}", "--insecure"])
    assert rc == 0, capsys.readouterr()
