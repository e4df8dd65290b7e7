"""Structured trace: SSPI calls through logging, the TLS ladder, and `--trace`."""

from __future__ import annotations

import io
import logging

import pytest

import schannel_py
from schannel_py import cli, trace
from schannel_py import constants as C
from schannel_py.sspi import functions as F
from schannel_py.sspi import observe
from schannel_py.sspi.types import CredHandle, TimeStamp
from tests.support import vectors


def test_install_observes_without_replacing_functions(caplog: pytest.LogCaptureFixture) -> None:
    """Tracing is an observer: no function is replaced, and a name bound before
    install (``from schannel_py import ...``) is traced as well."""
    original = F.InitializeSecurityContext
    bound_early = schannel_py.FreeCredentialsHandle
    assert schannel_py.InitializeSecurityContextW is original
    assert not observe.OBSERVERS  # untraced path: no observer at all
    with caplog.at_level(logging.DEBUG, logger="schannel_py.trace"), trace.tracing():
        assert trace.installed()
        assert len(observe.OBSERVERS) == 1
        assert F.InitializeSecurityContext is original
        assert schannel_py.InitializeSecurityContext is original
        assert schannel_py.InitializeSecurityContextW is original
        assert bound_early(None) == C.SEC_E_INVALID_HANDLE
    assert F.InitializeSecurityContext is original
    assert schannel_py.InitializeSecurityContextA is original
    assert not trace.installed()
    assert not observe.OBSERVERS
    calls = [r.sspi for r in caplog.records if hasattr(r, "sspi")]  # type: ignore[attr-defined]
    assert [c["function"] for c in calls] == ["FreeCredentialsHandle"]


def test_sspi_calls_are_logged_with_names(caplog: pytest.LogCaptureFixture) -> None:
    cred = CredHandle()
    with caplog.at_level(logging.DEBUG, logger="schannel_py.trace"), trace.tracing():
        status = schannel_py.AcquireCredentialsHandle(
            None, C.UNISP_NAME, C.SECPKG_CRED_OUTBOUND, None, None, None, None, cred, TimeStamp()
        )
        assert status == C.SEC_E_OK
        assert schannel_py.FreeCredentialsHandle(cred) == C.SEC_E_OK
        assert schannel_py.FreeCredentialsHandle(cred) == C.SEC_E_INVALID_HANDLE
    calls = [r.sspi for r in caplog.records if hasattr(r, "sspi")]  # type: ignore[attr-defined]
    assert [c["function"] for c in calls] == [
        "AcquireCredentialsHandle",
        "FreeCredentialsHandle",
        "FreeCredentialsHandle",
    ]
    assert calls[0]["args"]["fCredentialUse"] == "SECPKG_CRED_OUTBOUND"
    assert calls[0]["status"] == "SEC_E_OK"
    assert calls[2]["status"] == "SEC_E_INVALID_HANDLE"
    assert all(r.name == "schannel_py.trace.sspi" for r in caplog.records if hasattr(r, "sspi"))


def test_flag_decoding() -> None:
    assert (
        trace.isc_req_names(C.ISC_REQ_STREAM | C.ISC_REQ_CONFIDENTIALITY)
        == "CONFIDENTIALITY|STREAM"
    )
    assert trace.isc_ret_names(C.ISC_RET_STREAM) == "STREAM"
    assert trace.buffer_type_name(C.SECBUFFER_EXTRA) == "EXTRA"
    assert trace.status_name(C.SEC_I_CONTINUE_NEEDED) == "SEC_I_CONTINUE_NEEDED"


def test_decode_client_hello_from_rfc8448() -> None:
    msg = vectors.rfc8448_bytes("Simple_1RTT_Handshake", "Message_ClientHello_1")
    fields = trace.decode_handshake(1, msg)
    assert fields["server_name"] == "server"
    assert fields["cipher_suites"].startswith("TLS_AES_128_GCM_SHA256")
    assert fields["key_share"] == "x25519"
    assert fields["supported_versions"] == "TLS1.3"
    assert "decode_error" in trace.decode_handshake(2, b"\x02\x00\x00\x01\x00")


def test_ladder_sides() -> None:
    out = trace.ladder_line("out", "client_hello")
    back = trace.ladder_line("in", "server_hello")
    assert out.startswith("client | client_hello ") and out.endswith(">| server")
    assert back.startswith("client |<") and back.endswith(" server_hello | server")
    assert len(out) == len(back)


def test_demo_trace_prints_calls_and_ladder(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--trace"]) == 0
    out = capsys.readouterr().out
    assert "InitializeSecurityContext(phCredential=" in out
    assert "fContextReq=REPLAY_DETECT|SEQUENCE_DETECT|CONFIDENTIALITY" in out
    assert "pInput=[APPLICATION_PROTOCOLS:" in out and "pOutput=[TOKEN:" in out
    assert "=> SEC_I_CONTINUE_NEEDED" in out and "=> SEC_E_OK" in out
    assert "dwTokenType=SCHANNEL_SHUTDOWN" in out
    assert "EncryptMessage(" in out and "DecryptMessage(" in out
    assert "SEC_I_CONTEXT_EXPIRED" in out
    lines = out.splitlines()
    assert any(line.startswith("client | client_hello (") for line in lines)
    assert any(line.startswith("client |<") and "server_hello (" in line for line in lines)
    assert any("record handshake" in line for line in lines)
    assert any("cipher_suite=TLS_AES_" in line for line in lines)
    assert any("key schedule: client_handshake_traffic_secret" in line for line in lines)
    assert out.rstrip().endswith("demo finished: OK")
    assert not trace.installed()


def test_tracing_to_a_stream() -> None:
    buf = io.StringIO()
    with trace.tracing(buf):
        schannel_py.FreeCredentialsHandle(None)
    assert "FreeCredentialsHandle(phCredential=NULL) => SEC_E_INVALID_HANDLE" in buf.getvalue()
