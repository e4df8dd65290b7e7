"""bogo/run.py (the BoGo driver CI runs) and bogo/config.json, without the Go runner.

The real run is CI's BoGo job; these check the parts that decide its verdict:
reading the runner's JSON, the counts and the one-line summary, the failure
reports cut from the runner's output, and that the config is well formed.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from bogo import run, shim

CONFIG = Path(run.__file__).with_name("config.json")


def runner_json(tests: dict[str, str]) -> dict[str, object]:
    """The runner's -json-output shape (testresult.Results), nested one level as it may be."""
    return {
        "version": 3,
        "interrupted": False,
        "path_delimiter": ".",
        "tests": {
            name: {"actual": actual, "expected": "PASS", "is_unexpected": actual == "FAIL"}
            for name, actual in tests.items()
        },
    }


def test_results_are_read_from_the_runners_json(tmp_path: Path) -> None:
    path = tmp_path / "out"
    data = runner_json({"Basic-Client-Sync": "PASS", "LargeMessage": "FAIL"})
    data["tests"]["Group"] = {"Inner": {"actual": "SKIP"}}  # type: ignore[index]
    path.write_text(json.dumps(data))
    assert run.load_results(path) == {
        "Basic-Client-Sync": "PASS",
        "LargeMessage": "FAIL",
        "Group/Inner": "SKIP",
    }
    assert run.load_results(tmp_path / "missing") == {}
    (tmp_path / "bad").write_text("{not json")
    assert run.load_results(tmp_path / "bad") == {}


def test_summary_line_and_table_count_each_outcome() -> None:
    results = {"Basic-Client-Sync": "PASS", "KeyUpdate-ToServer": "PASS", "Shutdown-Shim-X": "FAIL"}
    results["Basic-Server-Sync"] = "SKIP"  # the shim's exit 89
    summary = run.Summary(results, {"TLS-TLS1-A-client", "TLS-TLS11-B-client"}, 1)
    assert summary.passed == 2 and summary.failed == ["Shutdown-Shim-X"]
    assert summary.unimplemented == 1
    assert summary.line() == (
        "BoGo (BoringSSL 88a537fe): 2 pass, 1 fail, 2 skip (disabled by bogo/config.json), "
        "1 unimplemented (shim exit 89); runner exit status 1"
    )
    table = summary.table().splitlines()
    assert table[-1] == "| **all** | 2 | 1 | 2 | 1 |"
    assert "| KeyUpdate | 1 | 0 | 0 | 0 |" in table
    assert "| cipher suites | 0 | 0 | 2 | 0 |" in table


def test_failure_reports_come_from_the_runner_output() -> None:
    log = (
        "0/0/0/1/3\r0/0/1/2/3\rFAILED (LargeMessage)\nunexpected failure: local error 'x'\n"
        "stderr:\nTLSERR reason=SEC_E_CERT_UNKNOWN\n   1/0/2/3/3\r1/0/3/3/3\n"
    )
    (report,) = run.failure_reports(log, ["LargeMessage"])
    assert report.startswith("FAILED LargeMessage\nunexpected failure: local error 'x'")
    assert "TLSERR reason=SEC_E_CERT_UNKNOWN" in report
    assert "1/0/2/3/3" not in report
    (missing,) = run.failure_reports("", ["Other"])
    assert "no report" in missing


def test_unimplemented_reasons_are_counted_without_values() -> None:
    assert run.normalise_reason("bad value for -port: 'x'") == "bad value for -port"
    assert run.normalise_reason(" unknown flag -dtls\n") == "unknown flag -dtls"


def test_families_put_each_name_in_one_row() -> None:
    assert run.family_of("Basic-Client-Sync") == run.FAMILIES[0][0]
    assert run.family_of("Renegotiate-Client-Forbidden-1") == "renegotiation"
    assert run.family_of("Zzz") == run.OTHER_FAMILY


def test_config_is_the_runners_format_with_a_reason_for_each_test() -> None:
    config = json.loads(CONFIG.read_text())
    assert set(config) == {"DisabledTests"}
    disabled = config["DisabledTests"]
    assert len(disabled) > 50
    for pattern, reason in disabled.items():
        assert isinstance(reason, str) and len(reason) > 20, pattern
        fnmatch.translate(pattern)  # a glob the runner's filepath.Match also reads
        assert ";" not in pattern  # the census joins the patterns with ';'
    # The tests that check that a TLS 1.2+ client refuses older versions stay enabled.
    for kept in ("MinimumVersion-Client-TLS12-TLS1-TLS", "NoSSL3-Client", "Basic-Client-Sync"):
        assert not any(fnmatch.fnmatchcase(kept, p) for p in disabled), kept


def test_shim_answers_89_for_accepting_an_unoffered_alpn_protocol() -> None:
    with pytest.raises(shim.Unimplemented, match="ALPN"):
        shim.parse_args(["-port", "1", "-allow-unknown-alpn-protos"])


def test_shim_logs_the_reason_of_each_exit_89(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "reasons.txt"
    monkeypatch.setenv(shim.UNIMPLEMENTED_LOG_ENV, str(log))
    assert shim.main(["-port", "1", "-dtls"]) == shim.EXIT_UNIMPLEMENTED
    assert shim.main(["-server", "-port", "1"]) == shim.EXIT_UNIMPLEMENTED
    assert log.read_text().splitlines() == ["unknown flag -dtls", "unknown flag -server"]
    capsys.readouterr()
