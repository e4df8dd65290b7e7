"""The state diagram: generated from TRANSITIONS; docs/architecture.md carries exactly that text."""

from __future__ import annotations

import re

import pytest

from schannel_py import cli, diagram
from schannel_py.tls import handshake12, handshake13
from schannel_py.tls.messages import msg_name
from tests.support.paths import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"


def architecture_block() -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## State diagram", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```mermaid\n(.*?)```", section, re.S)
    assert m, "docs/architecture.md has no mermaid block under '## State diagram'"
    return m.group(1)


def test_architecture_diagram_equals_command_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagram"]) == 0
    out = capsys.readouterr().out
    assert out == diagram.mermaid()
    assert architecture_block() == out, (
        "docs/architecture.md's state diagram is stale: replace the block under '## State diagram' "
        "with the output of `schannel-py diagram`"
    )


@pytest.mark.parametrize(
    ("prefix", "table"),
    [("T13", handshake13.TRANSITIONS), ("T12", handshake12.TRANSITIONS)],
)
def test_every_table_edge_is_drawn(prefix: str, table: dict) -> None:  # type: ignore[type-arg]
    text = diagram.mermaid()
    for state, accepts in table.items():
        for msg_type, (handler, targets) in accepts.items():
            for target in targets:
                edge = f"{prefix}_{state.name} --> {prefix}_{target.name}: {msg_name(msg_type)} ({handler})"
                assert edge in text


def test_diagram_is_mermaid_state_diagram() -> None:
    text = diagram.mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert "T12_WAIT_CCS --> T12_WAIT_FINISHED: change_cipher_spec" in text
    assert text.count("{") == text.count("}") == 3  # the SSPI context, TLS 1.3, TLS 1.2
