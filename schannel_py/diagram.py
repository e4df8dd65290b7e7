"""The client's state machines as a Mermaid ``stateDiagram-v2``.

Generated from the state tables the code dispatches through (the SSPI
context's ``PHASES`` in :mod:`schannel_py.sspi.phases`, and ``TRANSITIONS`` in
:mod:`schannel_py.tls.handshake13` and :mod:`schannel_py.tls.handshake12`), so
the picture cannot drift from the code: ``schannel-py diagram`` prints it and a
test checks that docs/architecture.md carries exactly that text.  Each edge is labelled with the handshake message
that causes it and the handler that processes it.  Three moves do not come
from a handshake message and are added here, marked as such: sending the
ClientHello (START), the TLS 1.3 machine handing a TLS 1.2 ServerHello over
to the TLS 1.2 machine, and ChangeCipherSpec (a record type of its own, which
the record layer passes to ``Handshake12.on_ccs``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from .sspi.phases import PHASES, Phase
from .tls import handshake12, handshake13
from .tls.messages import msg_name

Table = Mapping[Any, Mapping[int, tuple[str, tuple[Any, ...]]]]


def _edges(prefix: str, table: Table) -> list[str]:
    lines = []
    for state, accepts in table.items():
        for msg_type, (handler, targets) in accepts.items():
            for target in targets:
                lines.append(
                    f"        {prefix}_{state.name} --> {prefix}_{target.name}: "
                    f"{msg_name(msg_type)} ({handler})"
                )
    return lines


def _states(prefix: str, table: Table, extra: tuple[enum.Enum, ...]) -> list[str]:
    seen: list[enum.Enum] = list(extra)
    for state, accepts in table.items():
        if state not in seen:
            seen.append(state)
        for _, targets in accepts.values():
            for t in targets:
                if t not in seen:
                    seen.append(t)
    return [f'        state "{s.name}" as {prefix}_{s.name}' for s in seen]


def _sspi() -> list[str]:
    """The SSPI context's phases, each move labelled with the call and outcome."""
    lines = ['    state "SSPI context (sspi.phases.PHASES)" as SSPI {']
    lines += [f'        state "{p.name}" as S_{p.name}' for p in PHASES]
    lines.append(f"        [*] --> S_{Phase.NEW.name}")
    for phase, rule in PHASES.items():
        for target, why in rule.moves.items():
            lines.append(f"        S_{phase.name} --> S_{target.name}: {why.replace(':', ' ->')}")
    lines.append("    }")
    return lines


def mermaid() -> str:
    """The Mermaid text (no code fence), ending with a newline."""
    S13 = handshake13.State
    S12 = handshake12.State12
    t13: Table = handshake13.TRANSITIONS
    t12: Table = handshake12.TRANSITIONS
    lines = ["stateDiagram-v2"]
    lines += _sspi()
    lines.append('    state "TLS 1.3 client (handshake13.TRANSITIONS)" as TLS13 {')
    lines += _states("T13", t13, (S13.START,))
    lines.append(f"        [*] --> T13_{S13.START.name}")
    lines.append(f"        T13_{S13.START.name} --> T13_{S13.WAIT_SH.name}: send client_hello")
    lines += _edges("T13", t13)
    lines.append("    }")
    lines.append('    state "TLS 1.2 client (handshake12.TRANSITIONS)" as TLS12 {')
    lines += _states("T12", t12, (S12.START,))
    lines.append(f"        [*] --> T12_{S12.START.name}")
    lines.append(
        f"        T12_{S12.START.name} --> T12_{S12.WAIT_SH.name}: send client_hello (renegotiation)"
    )
    lines += _edges("T12", t12)
    lines.append(
        f"        T12_{S12.WAIT_CCS.name} --> T12_{S12.WAIT_FINISHED.name}: "
        "change_cipher_spec (on_ccs, a record type)"
    )
    lines.append("    }")
    lines.append(
        f"    T13_{S13.TLS12.name} --> T12_{S12.WAIT_SH.name}: "
        "server_hello chose TLS 1.2 (Handshake12.take_over)"
    )
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The diagram inside a ```mermaid fence, as docs/architecture.md carries it."""
    return "```mermaid\n" + mermaid() + "```\n"
