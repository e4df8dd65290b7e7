"""The pytest plugin: inert until switched on, its fixtures, and the example project.

Each case runs pytest in a subprocess on a small project, as a user would.
The ini switch and ``--schannel-py-testing`` need the installed ``pytest11``
entry point (``pip install -e .``); without it those cases are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from schannel_py.testing import attacks
from tests.support.paths import ROOT
from tests.support.peers import in_ci

EXAMPLE = ROOT / "examples" / "testing_project"

USES_FIXTURE = """
from schannel_py.testing.plugin import every_chunking


def test_server(schannel_server, schannel_transport):
    assert schannel_transport.server is schannel_server


@every_chunking
def test_policy(schannel_chunking, schannel_transport):
    assert schannel_transport.chunking is schannel_chunking
"""

FAILS = """
def test_fails(schannel_transport):
    assert False
"""


def entry_point_installed() -> bool:
    return any(
        ep.value == "schannel_py.testing._entry" for ep in metadata.entry_points(group="pytest11")
    )


#: Outside CI an uninstalled checkout skips these; CI installs the package, so there a
#: missing entry point fails them rather than skipping silently.
needs_entry_point = pytest.mark.skipif(
    not entry_point_installed() and not in_ci(),
    reason="schannel_py is not installed (no pytest11 entry point)",
)


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def project(tmp_path: Path, body: str, ini: str = "") -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini)
    (tmp_path / "test_user").with_suffix(".py").write_text(body)  # a test module
    return tmp_path


def test_inert_unless_switched_on(tmp_path: Path) -> None:
    result = run_pytest(project(tmp_path, USES_FIXTURE))
    assert result.returncode == 1, result.stdout
    assert "fixture 'schannel_server' not found" in result.stdout


def test_switched_on_with_p(tmp_path: Path) -> None:
    result = run_pytest(project(tmp_path, USES_FIXTURE), "-p", "schannel_py.testing.plugin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout  # one plus one per chunking policy


@needs_entry_point
def test_switched_on_in_the_ini_file(tmp_path: Path) -> None:
    result = run_pytest(project(tmp_path, USES_FIXTURE, "schannel_py_testing = true\n"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


@needs_entry_point
def test_switched_on_with_the_flag_and_with_p_at_once(tmp_path: Path) -> None:
    result = run_pytest(
        project(tmp_path, USES_FIXTURE),
        "--schannel-py-testing",
        "-p",
        "schannel_py.testing.plugin",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


@needs_entry_point
def test_a_failure_names_the_transport_and_its_seed(tmp_path: Path) -> None:
    result = run_pytest(project(tmp_path, FAILS), "--schannel-py-testing", "--schannel-py-seed=9")
    assert result.returncode == 1
    assert "schannel_py transport" in result.stdout
    assert "Transport(whole, seed=9)" in result.stdout


def test_example_project() -> None:
    """examples/testing_project (16 tests, and one per catalogued attack), run as its own
    pytest invocation (its pytest.ini switches the plugin on; ``-p`` as well so the run
    works without the entry point)."""
    result = run_pytest(EXAMPLE, "-p", "schannel_py.testing.plugin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{16 + len(attacks.names())} passed" in result.stdout


def test_the_guide_shows_the_example_project_as_it_is() -> None:
    """docs/testing.md quotes each file of the example project whole."""
    guide = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    for name in (
        "test_ticket_with_data.py",
        "test_bad_certificate.py",
        "test_client_certificate.py",
        "test_attack_catalogue.py",
        "myloop.py",
    ):
        assert (EXAMPLE / name).read_text(encoding="utf-8") in guide, name
