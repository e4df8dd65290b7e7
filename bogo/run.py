"""Run BoringSSL's conformance runner (BoGo) against the shim and sum up the result.

    python -m bogo.run --runner PATH/runner.test [--config bogo/config.json]
                       [--workers N] [--test 'Glob;Glob'] [--json OUT] [--min-pass N]
                       [--table]

The runner (BoringSSL's ``ssl/test/runner`` at commit 88a537fe, built with Go
1.19: see bogo/README.md) starts ``bogo/shim.py`` once per test, through a
wrapper script written here for this interpreter.  Three runs of the runner:

1. the census: the tests ``bogo/config.json`` disables, listed by running just
   them (``-include-disabled``) against a stand-in that exits 89 at once, so
   that "skip" is a count of tests, not of patterns;
2. the real run: every test the config leaves, with ``-allow-unimplemented``
   (the shim's exit 89 becomes SKIP) and ``-loose-errors`` (the shim prints
   SSPI statuses, not BoringSSL's error strings; the runner still checks the
   alerts it receives);
3. nothing else: the shim appends the reason for each exit 89 to a file
   (``SCHANNEL_PY_BOGO_UNIMPLEMENTED_LOG``), which the summary counts.

It prints one line (pass / fail / skip / unimplemented and the runner's exit
status), the runner's own report of each failure, the unimplemented reasons,
and with ``--table`` the counts by family in Markdown (docs/bogo.md).  The exit
status is 1 when the runner failed, when any test failed, or when fewer than
``--min-pass`` tests passed (a shim that answers 89 to everything must not
look green).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bogo.shim import UNIMPLEMENTED_LOG_ENV

HERE = Path(__file__).resolve().parent
SHIM = HERE / "shim.py"
DEFAULT_CONFIG = HERE / "config.json"
#: The runner revision the config and the docs describe.
RUNNER_COMMIT = "88a537fe"

#: Families for the docs table: the first pattern that matches a test's name wins.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("basic handshakes", ("Basic-*",)),
    ("certificate verification, the verify callback", ("CertificateVerification*", "*Verify*")),
    ("signature schemes, client certificates", ("*Sign*", "*ClientAuth*", "*CertReq*", "*Cert*")),
    ("cipher suites", ("TLS-TLS1*-*", "*Cipher*")),
    ("versions, downgrade protection", ("*Version*", "Downgrade*", "NoSSL3*", "*TLS13-Only*")),
    ("groups, key shares", ("CurveTest-*", "*Curve*", "*KeyShare*", "*Kyber*", "*Group*")),
    ("HelloRetryRequest", ("*HelloRetryRequest*", "*HRR*")),
    ("resumption, tickets, session IDs", ("Resume-*", "*Resum*", "*Ticket*", "*Session*")),
    ("renegotiation", ("Renegotiate-*", "*Renego*")),
    ("KeyUpdate", ("*KeyUpdate*",)),
    (
        "extended master secret, tls-unique, exporters",
        ("*ExtendedMasterSecret*", "TLSUnique*", "*Export*"),
    ),
    ("ALPN, SNI, other extensions", ("*ALPN*", "*ServerName*", "*Extension*", "*Padding*")),
    ("OCSP stapling, SCTs", ("*OCSP*", "*SignedCertificateTimestamp*", "*SCT*")),
    ("alerts, shutdown, close_notify", ("*Alert*", "Shutdown*", "*CloseNotify*", "*Close*")),
    (
        "records, message limits, malformed input",
        (
            "*Record*",
            "*Large*",
            "*Empty*",
            "*Trailing*",
            "*Partial*",
            "*Fragment*",
            "*Message*",
            "*Pack*",
            "*Split*",
        ),
    ),
    ("early data (0-RTT)", ("*EarlyData*", "*0RTT*", "*ZeroRTT*")),
    (
        "ECH, QUIC, DTLS and other features the client lacks",
        (
            "*ECH*",
            "*QUIC*",
            "*DTLS*",
            "*ChannelID*",
            "*NPN*",
            "*ALPS*",
            "*Compress*",
            "*SRTP*",
            "*GREASE*",
            "*Grease*",
        ),
    ),
)
OTHER_FAMILY = "other"


def family_of(name: str) -> str:
    """The docs-table family of a test name."""
    for family, patterns in FAMILIES:
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return family
    return OTHER_FAMILY


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def flatten(tests: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(name, actual) for every test of the runner's JSON ``tests`` tree."""
    for key, value in tests.items():
        if not isinstance(value, Mapping):
            continue
        if "actual" in value:
            yield prefix + key, str(value["actual"])
        else:
            yield from flatten(value, prefix + key + "/")


def load_results(path: Path) -> dict[str, str]:
    """Test name -> PASS / FAIL / SKIP from the runner's ``-json-output`` file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    tests = data.get("tests") if isinstance(data, Mapping) else None
    return dict(flatten(tests)) if isinstance(tests, Mapping) else {}


def normalise_reason(reason: str) -> str:
    """An exit-89 reason without the per-test values (``bad value for -x: '7'``)."""
    reason = reason.strip()
    return re.sub(r"(bad value for -\S+):.*", r"\1", reason)


@dataclass
class Summary:
    """What one run gave."""

    results: dict[str, str]
    disabled: set[str]
    runner_status: int
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def passed(self) -> int:
        return sum(1 for v in self.results.values() if v == "PASS")

    @property
    def failed(self) -> list[str]:
        return sorted(k for k, v in self.results.items() if v == "FAIL")

    @property
    def unimplemented(self) -> int:
        return sum(1 for v in self.results.values() if v == "SKIP")

    def line(self) -> str:
        return (
            f"BoGo (BoringSSL {RUNNER_COMMIT}): {self.passed} pass, {len(self.failed)} fail, "
            f"{len(self.disabled)} skip (disabled by bogo/config.json), "
            f"{self.unimplemented} unimplemented (shim exit 89); "
            f"runner exit status {self.runner_status}"
        )

    def table(self) -> str:
        """Counts by family, Markdown."""
        rows: dict[str, Counter[str]] = {}
        for name, actual in self.results.items():
            rows.setdefault(family_of(name), Counter())[actual] += 1
        for name in self.disabled:
            rows.setdefault(family_of(name), Counter())["DISABLED"] += 1
        order = [f for f, _ in FAMILIES] + [OTHER_FAMILY]
        out = [
            "| family | pass | fail | skip (config) | unimplemented |",
            "|---|---:|---:|---:|---:|",
        ]
        total: Counter[str] = Counter()
        for fam in order:
            c = rows.get(fam)
            if not c:
                continue
            total += c
            out.append(f"| {fam} | {c['PASS']} | {c['FAIL']} | {c['DISABLED']} | {c['SKIP']} |")
        out.append(
            f"| **all** | {total['PASS']} | {total['FAIL']} | {total['DISABLED']} | {total['SKIP']} |"
        )
        return "\n".join(out)


def failure_reports(log: str, names: Iterable[str], limit: int = 1500) -> list[str]:
    """The runner's own text for each failed test (from its stdout), shortened."""
    text = re.sub(r"[ \t]*\d+/\d+/\d+/\d+/\d+[ \t]*", "", log.replace("\r", "\n"))
    blocks: dict[str, str] = {}
    for part in re.split(r"(?=FAILED \()", text):
        m = re.match(r"FAILED \((.*?)\)", part)
        if m:
            body = re.sub(r"\n\s*\n+", "\n", part[m.end() :]).strip()
            blocks[m.group(1)] = body[:limit]
    return [f"FAILED {n}\n{blocks.get(n, '(no report in the runner output)')}" for n in names]


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def write_script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def load_config(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("DisabledTests", {}), dict):
        raise SystemExit(f"{path}: not a runner config (DisabledTests must map glob -> reason)")
    return data


def run_runner(runner: Path, args: list[str], log: Path, env: dict[str, str]) -> int:
    """The runner's exit status; its stdout and stderr go to ``log``."""
    with log.open("w") as out:
        proc = subprocess.run(
            [str(runner), *args],
            cwd=log.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    return proc.returncode


def census(runner: Path, patterns: list[str], test: str | None, work: Path) -> set[str]:
    """The names of the tests ``patterns`` disable (within ``test`` when given)."""
    if not patterns:
        return set()
    # The runner first asks whether split handshakes are supported: "No".
    stub = write_script(
        work / "exit89.sh",
        'if [ "$1" = -is-handshaker-supported ]; then echo No; exit 0; fi\nexit 89',
    )
    out = work / "census-results"
    args = [
        "-shim-path", str(stub), "-include-disabled", "-allow-unimplemented",
        "-num-workers", "4", "-test", ";".join(patterns), "-json-output", str(out),
    ]  # fmt: skip
    run_runner(runner, args, work / "census.log", dict(os.environ))
    names = set(load_results(out))
    if test:
        wanted = test.split(";")
        names = {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in wanted)}
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", type=Path, required=True, help="the built runner.test")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--python", default=sys.executable, help="the interpreter for the shim")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--test", help="the runner's -test globs (';'-separated)")
    parser.add_argument(
        "--json", type=Path, dest="json_out", help="keep the runner's JSON output here"
    )
    parser.add_argument("--min-pass", type=int, default=0)
    parser.add_argument("--table", action="store_true", help="print the counts by family")
    args = parser.parse_args(argv)

    runner = args.runner.resolve()
    config = args.config.resolve()
    patterns = sorted(load_config(config).get("DisabledTests", {}))
    with tempfile.TemporaryDirectory(prefix="bogo-") as tmp:
        work = Path(tmp)
        disabled = census(runner, patterns, args.test, work)
        shim = write_script(work / "shim.sh", f'exec "{args.python}" "{SHIM}" "$@"')
        out = args.json_out.resolve() if args.json_out else work / "results"
        reasons_file = work / "unimplemented.txt"
        env = dict(os.environ, **{UNIMPLEMENTED_LOG_ENV: str(reasons_file)})
        run_args = [
            "-shim-path", str(shim), "-shim-config", str(config), "-allow-unimplemented",
            "-loose-errors", "-num-workers", str(args.workers), "-json-output", str(out),
        ]  # fmt: skip
        if args.test:
            run_args += ["-test", args.test]
        log = work / "runner.log"
        status = run_runner(runner, run_args, log, env)
        summary = Summary(load_results(out), disabled, status)
        if reasons_file.exists():
            summary.reasons.update(
                normalise_reason(r) for r in reasons_file.read_text().splitlines() if r.strip()
            )
        log_text = log.read_text(errors="replace")
    if not summary.results:
        print(log_text[-4000:])
    for report in failure_reports(log_text, summary.failed):
        print(report)
    if summary.reasons:
        print("unimplemented (shim exit 89), by reason:")
        for reason, count in summary.reasons.most_common():
            print(f"  {count:5d}  {reason}")
    if args.table:
        print(summary.table())
    print(summary.line())
    ok = status == 0 and not summary.failed and summary.results
    if summary.passed < args.min_pass:
        print(f"FAILED: {summary.passed} tests passed, fewer than {args.min_pass}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
