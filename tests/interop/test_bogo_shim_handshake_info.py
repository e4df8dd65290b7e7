"""BoGo shim checks that need openssl s_server: HRR, the CertificateRequest, KeyUpdate.

Python's ``ssl`` can neither force a HelloRetryRequest nor choose the signature
schemes of its CertificateRequest, so these put ``openssl s_server`` behind the
stand-in runner's relay (tests/support/bogo_runner.py): ``-groups`` for a group the
client supports but sends no key share for, ``-client_sigalgs`` for the
CertificateRequest.  The shim reads both through SECPKG_ATTR_PY_HANDSHAKE_INFO.
``-msg`` shows the shim's KeyUpdates (``-key-update``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schannel_py.testing.pki import PemPaths, make_self_signed
from tests.support import peers
from tests.support.bogo_runner import (
    PING_ECHO,
    Leg,
    assert_failure,
    assert_success,
    client_hello_extensions,
    echo_then_eof,
    openssl_server,
    relay,
    run_shim,
)

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def client_files(tmp_path_factory: pytest.TempPathFactory) -> PemPaths:
    cert = make_self_signed(["client"], key_type="p256", eku=["clientAuth"])
    return cert.write(tmp_path_factory.mktemp("bogo-hi-client"))


def key_share_groups(stream: bytes) -> list[int]:
    """The groups of the key shares in the first ClientHello of ``stream``."""
    body = client_hello_extensions(stream)[51]  # key_share
    out, i = [], 2
    while i + 4 <= len(body):
        out.append(int.from_bytes(body[i : i + 2], "big"))
        i += 4 + int.from_bytes(body[i + 2 : i + 4], "big")
    return out


@pytest.mark.parametrize(("flag", "ok"), [("-expect-hrr", True), ("-expect-no-hrr", False)])
def test_hello_retry_request(pki: peers.ServerPki, flag: str, ok: bool) -> None:
    """s_server accepts only P-384, for which the first ClientHello has no key share."""
    legs: list[Leg] = []
    with openssl_server(pki, "1.3", [], groups="P-384") as srv:
        script = echo_then_eof if ok else lambda leg: None
        result = run_shim([flag, "-expect-curve-id", "24"], relay(srv, script, legs))
    (leg,) = legs
    assert 24 not in key_share_groups(bytes(leg.to_server))  # so HRR was the only way
    if ok:
        assert_success(result)
    else:
        assert_failure(result, "reason=:HRR_MISMATCH: ")


@pytest.mark.parametrize(
    ("expected", "ok"),
    [([0x0403, 0x0804], True), ([0x0804, 0x0403], False), ([0x0403], False)],
)
def test_expect_peer_verify_pref(
    pki: peers.ServerPki,
    client_files: PemPaths,
    tmp_path: Path,
    expected: list[int],
    ok: bool,
) -> None:
    """The CertificateRequest's schemes must be exactly the listed ones, in order."""
    legs: list[Leg] = []
    flags = ["-cert-file", str(client_files.cert), "-key-file", str(client_files.key)]
    for scheme in expected:
        flags += ["-expect-peer-verify-pref", str(scheme)]
    with openssl_server(
        pki,
        "1.3",
        ["-client_sigalgs", "ECDSA+SHA256:rsa_pss_rsae_sha256"],
        verify_client=True,
        client_ca_file=client_files.root,
    ) as srv:
        script = echo_then_eof if ok else lambda leg: None
        result = run_shim(flags, relay(srv, script, legs))
    if ok:
        assert_success(result)
    else:
        assert_failure(result, "reason=:PEER_VERIFY_PREFS_MISMATCH: ")
        assert "peer verify preferences 0403,0804, wanted" in result.stderr


def test_key_update_reaches_the_server(pki: peers.ServerPki) -> None:
    """-key-update: after each read a KeyUpdate(update_not_requested), then the echo."""
    legs: list[Leg] = []

    def two_rounds(leg: Leg) -> None:
        leg.wait(rb"CIPHER is")
        for n in (1, 2):
            leg.srv.send_line("ping")
            leg.wait(rb"(?s)" + (re.escape(PING_ECHO) + rb".*") * (n - 1) + re.escape(PING_ECHO))
        leg.srv.end_connection()

    with openssl_server(pki, "1.3", ["-msg"]) as srv:
        result = run_shim(["-key-update"], relay(srv, two_rounds, legs))
    assert_success(result)
    (leg,) = legs
    out = leg.output().decode(errors="replace")
    updates = re.findall(r"<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate", out)
    assert len(updates) == 2
    assert ">>> TLS 1.3, Handshake [length 0005], KeyUpdate" not in out  # not requested
