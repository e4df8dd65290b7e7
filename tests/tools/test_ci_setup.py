"""CI installs the way users do (issue 18): the README's quick start is what CI
runs, and the oldest-releases constraints are pyproject's floors."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.support.paths import ROOT

CI = ROOT / ".ci"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, CI / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


quickstart = load("quickstart")
check_deps = load("check_deps")


def test_the_readme_quick_start_is_two_commands_main_job_first() -> None:
    commands = quickstart.quickstart_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert quickstart.check(commands) is None, quickstart.check(commands)
    main, tests = commands
    assert main.startswith("pip install -e '.[test]'") and main.endswith("&& schannel-py demo")
    assert tests.startswith("pip install -e '.[test]'") and tests.endswith("&& pytest")


def test_the_quick_start_check_refuses_other_shapes() -> None:
    text = "# x\n\n## Quick start\n\n    {}\n\nprose\n\n    {}\n\n## Next\n\n    later\n"
    ok = ["pip install . && schannel-py demo", "pip install . && pytest"]
    assert quickstart.quickstart_commands(text.format(*ok)) == ok
    assert quickstart.check(ok) is None
    assert quickstart.check(ok[::-1]) is not None
    assert quickstart.check(ok + ["schannel-py connect example.com:443"]) is not None
    assert quickstart.check(ok[:1]) is not None
    assert quickstart.quickstart_commands("## Elsewhere\n\n    pytest\n") == []


def test_quickstart_script_prints_the_two_commands() -> None:
    out = subprocess.run(
        [sys.executable, str(CI / "quickstart.py")], check=True, capture_output=True, text=True
    ).stdout
    assert out.splitlines() == quickstart.quickstart_commands(
        (ROOT / "README.md").read_text(encoding="utf-8")
    )


def test_ci_runs_the_readme_commands_not_a_copy() -> None:
    run = (CI / "run").read_text(encoding="utf-8")
    assert ".ci/quickstart.py" in run
    assert 'bash -c "$MAIN_CMD"' in run and 'bash -c "$TEST_CMD"' in run
    # Every install is one of the README's commands, but for the testing toolkit's, which
    # installs the package as a user of the toolkit does (not editable, the extra).
    installs = [line.strip() for line in run.splitlines() if "pip install" in line]
    assert installs == [
        '"$venv/bin/python" -m pip install -q "$CLONE[testing]" </dev/null # the toolkit\'s install'
    ]
    assert "-m venv" in run and 'rm -rf "$venv"' in run  # a new environment per job
    assert "oldest-constraints.txt" in run


def floors() -> dict[str, str]:
    """{name: version} of every ``name>=version`` requirement of the project (runtime
    and extras; the build system's are not the project's dependencies)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text = text[text.index("[project]") : text.index("[project.scripts]")]
    return {
        check_deps.normalise(name): version
        for name, version in re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9][^",;\s]*)', text)
    }


def padded(version: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in version.split("."))
    return parts + (0,) * (3 - len(parts))


def test_oldest_constraints_pin_exactly_pyprojects_floors() -> None:
    pins = check_deps.pins(CI / "oldest-constraints.txt")
    want = floors()
    assert "cryptography" in want and "pytest" in want
    assert set(pins) == set(want)
    for name, version in pins.items():
        assert padded(version) == padded(want[name]), (name, version, want[name])


def test_check_deps_reads_pins_and_refuses_a_mismatch(tmp_path: Path) -> None:
    constraints = tmp_path / "c.txt"
    constraints.write_text("# comment\nPyTest == 1.0.0  # old\nnot-a-pin>=2\n")
    assert check_deps.pins(constraints) == {"pytest": "1.0.0"}
    assert check_deps.main(["oldest", str(constraints)]) == 1  # pytest 1.0.0 is not what runs
    assert check_deps.main(["sideways", str(constraints)]) == 2
