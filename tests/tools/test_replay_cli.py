"""`schannel-py replay`, the shipped trace data, the docs and the curl example."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from schannel_py import cli, replay
from schannel_py.sspi import functions as F
from tests.support import peers, vectors
from tests.support.paths import ROOT
from tests.support.vectors import KEYLOG_NAMES, RFC8448_SECRETS

#: The secrets the replay derives (RFC 8448 section 3 prints the early secret and the
#: record keys too).
REPLAYED = [name for name in RFC8448_SECRETS if name.endswith("_secret") or "secret_" in name]


def test_rfc8448_replay_derives_the_published_secrets() -> None:
    steps = replay.replay("rfc8448")
    secrets = replay.secrets_of(steps)
    for name in REPLAYED:
        assert secrets[name].hex() == RFC8448_SECRETS[name], name
    checks = [s for s in steps if s.kind == "check"]
    assert len(checks) == 4 and all(s.fields["ok"] == "True" for s in checks)
    names = [s.title.split(" (")[0] for s in steps if s.kind == "message"]
    assert names == [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate",
        "certificate_verify",
        "finished",
        "finished",
        "new_session_ticket",
    ]
    labels = {s.name: s.how for s in steps if s.kind == "secret"}
    assert '"c hs traffic"' in labels["client_handshake_traffic_secret"]
    assert '"exp master"' in labels["exporter_master_secret"]


def test_illustrated13_replay_matches_its_keylog() -> None:
    secrets = replay.secrets_of(replay.replay("illustrated13"))
    trace = vectors.illustrated13()
    cr = bytes.fromhex(trace.facts["client_random"])
    for label, name in KEYLOG_NAMES.items():
        assert secrets[name] == trace.keylog[label][cr], label


def test_replay_command_prints_messages_and_labelled_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["replay", "illustrated13"]) == 0
    out = capsys.readouterr().out
    assert "Illustrated TLS 1.3" in out
    assert "client | client_hello (" in out
    assert "HKDF-Extract" in out and '"s ap traffic"' in out
    assert "FAILED" not in out and out.count(": OK") == 4
    assert cli.main(["replay"]) == 0  # default: rfc8448
    assert "RFC 8448" in capsys.readouterr().out


def test_package_data_is_the_vectors() -> None:
    for name in ("rfc8448.json", "illustrated_tls13.json"):
        assert (ROOT / "schannel_py" / "data" / name).read_bytes() == (
            ROOT / "vectors" / name
        ).read_bytes()
    assert '"data/*.json"' in (ROOT / "pyproject.toml").read_text()


WINDOWS_PARAMETERS = {
    "AcquireCredentialsHandle": [
        "pszPrincipal",
        "pszPackage",
        "fCredentialUse",
        "pvLogonId",
        "pAuthData",
        "pGetKeyFn",
        "pvGetKeyArgument",
        "phCredential",
        "ptsExpiry",
    ],
    "InitializeSecurityContext": [
        "phCredential",
        "phContext",
        "pszTargetName",
        "fContextReq",
        "Reserved1",
        "TargetDataRep",
        "pInput",
        "Reserved2",
        "phNewContext",
        "pOutput",
        "pfContextAttr",
        "ptsExpiry",
    ],
    "EncryptMessage": ["phContext", "fQOP", "pMessage", "MessageSeqNo"],
    "DecryptMessage": ["phContext", "pMessage", "MessageSeqNo", "pfQOP"],
    "QueryContextAttributes": ["phContext", "ulAttribute", "pBuffer"],
    "QueryCredentialsAttributes": ["phCredential", "ulAttribute", "pBuffer"],
    "ApplyControlToken": ["phContext", "pInput"],
    "DeleteSecurityContext": ["phContext"],
    "FreeCredentialsHandle": ["phCredential"],
    "FreeContextBuffer": ["pvContextBuffer"],
}


@pytest.mark.parametrize("name", sorted(WINDOWS_PARAMETERS))
def test_sspi_functions_have_windows_parameters_and_docstrings(name: str) -> None:
    fn = getattr(F, name)
    assert list(inspect.signature(fn).parameters) == WINDOWS_PARAMETERS[name]
    assert fn.__doc__ and fn.__doc__.strip()


def test_docs_cover_every_call_and_the_example() -> None:
    porting = (ROOT / "docs" / "porting-from-windows.md").read_text()
    for name in WINDOWS_PARAMETERS:
        assert f"`{name}`" in porting, name
    for struct in ("SecBufferDesc", "SecBuffer", "SCH_CREDENTIALS", "CtxtHandle", "CredHandle"):
        assert struct in porting
    assert "examples/curl_loop.py" in porting
    guide = (ROOT / "docs" / "demo-guide.md").read_text()
    assert "schannel-py demo" in guide and "--trace" in guide


@pytest.mark.interop
def test_curl_loop_example_fetches_over_tls(pki: peers.ServerPki, root_ca_pem: Path) -> None:
    def handler(conn: object, record: peers.ConnectionRecord) -> None:
        data = conn.recv(65536)  # type: ignore[attr-defined]
        record.received += data
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")  # type: ignore[attr-defined]

    env = {"SCHANNEL_PY_ROOT_CERTS": str(root_ca_pem), "PATH": "/usr/bin:/bin"}
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), handler=handler) as server:
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "curl_loop.py"),
                f"127.0.0.1:{server.port}",
                "--servername",
                "localhost",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "* SSL connection using TLS_AES_" in proc.stdout
    assert "HTTP/1.1 200 OK" in proc.stdout and "hello" in proc.stdout
