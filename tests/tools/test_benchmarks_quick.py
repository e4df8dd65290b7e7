"""The benchmark harness runs in its quick mode and prints every table row (no timing checks)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import ROOT

EXPECTED_ROWS = [
    "SSPI full TLS 1.3 handshake",
    "SSPI full TLS 1.2 handshake",
    "SSPI resumed TLS 1.3 handshake",
    "floor TLS 1.3 full (sum), tight loop",
    "floor TLS 1.3 full (sum), in situ",
    "floor TLS 1.2 full (sum), tight loop",
    "floor TLS 1.2 full (sum), in situ",
    "floor TLS 1.3 resumed (sum), tight loop",
    "floor TLS 1.3 resumed (sum), in situ",
    "Python ssl client full TLS 1.3 handshake",
    "Python ssl client full TLS 1.2 handshake",
    "Python ssl client resumed TLS 1.3 handshake",
    "EncryptMessage TLS 1.3 AES-128-GCM",
    "DecryptMessage TLS 1.3 AES-256-GCM",
    "DecryptMessage TLS 1.3 ChaCha20-Poly1305",
    "raw TLS 1.3 ChaCha20-Poly1305 encrypt",
    "bare call shape, encrypt (nothing checked)",
    "bare call shape, decrypt (nothing checked)",
    "per idle context, certificates excluded",
    "cache lookup, 20,000 entries, any entry",
    "cache memory, 20,000 entries",
    "SSPI / floor in situ, full TLS 1.3",
    "SSPI / floor tight loop, full TLS 1.3",
    "ClientHello size, hybrid (X25519MLKEM768 + x25519 shares)",
    "ClientHello size, x25519 only",
    "key share + exchange, X25519MLKEM768",
]

TARGETS = [
    "full TLS 1.3 handshake <= 2.0x floor in situ",
    "full TLS 1.3 handshake <= 2.0x floor tight loop",
    "resumed TLS 1.3 handshake <= 2.0x floor in situ",
    "resumed TLS 1.3 handshake <= 2.0x floor tight loop",
    "EncryptMessage TLS 1.3 AES-256-GCM >= 50% raw",
    "idle context <= 64 KiB",
    "cache lookup independent of size",
]


def test_quick_benchmark_prints_the_table() -> None:
    env = dict(os.environ)
    env.pop("SCHANNEL_PY_ROOT_CERTS", None)  # the harness trusts its own root via ROOT
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    for name in EXPECTED_ROWS:
        assert any(name in line for line in rows), f"missing row {name!r}\n{out}"
    verdicts = [line for line in rows if line.startswith(("| PASS |", "| FAIL |"))]
    for name in TARGETS:
        assert any(name in line for line in verdicts), f"missing target {name!r}\n{out}"
    assert "machine:" in out and "quick" in out
