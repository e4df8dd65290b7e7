"""The SSPI context machine (sspi/phases.py): the table is complete, the code follows it.

Each phase is reached the way a caller reaches it (curl's loop against the
in-memory server), and the calls the table says fail there are made: they must
return what the table says.  A source scan checks that only ``phases.move``
assigns a context's phase.
"""

from __future__ import annotations

import ast
import contextlib
import re
import ssl
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import diagram
from schannel_py.sspi import context as X
from schannel_py.sspi import handshake as H
from schannel_py.sspi.phases import CONTEXT_EXPIRED, INCOMPLETE, PHASES, IllegalMove, Phase, move
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.clientauth import server
from tests.support.paths import ROOT
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop

SSPI = ROOT / "schannel_py" / "sspi"


def test_every_phase_has_a_rule_and_an_isc_step() -> None:
    assert set(PHASES) == set(Phase)
    assert set(H.ISC_STEPS) == set(Phase) - {Phase.NEW}


def test_every_phase_is_reachable_and_only_closed_and_failed_are_final() -> None:
    seen = {Phase.NEW}
    todo = [Phase.NEW]
    while todo:
        for nxt in PHASES[todo.pop()].moves:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(Phase)
    assert {p for p, rule in PHASES.items() if not rule.moves} == {Phase.CLOSED, Phase.FAILED}


def test_only_established_encrypts_and_reads_go_on_after_our_close() -> None:
    assert {p for p, r in PHASES.items() if r.encrypt} == {Phase.ESTABLISHED}
    assert {p for p, r in PHASES.items() if r.decrypt} == {Phase.ESTABLISHED, Phase.SHUTDOWN}


def test_move_refuses_what_the_table_does_not_list() -> None:
    ctx = X.Context.__new__(X.Context)
    ctx.phase = Phase.HANDSHAKE
    with pytest.raises(IllegalMove):
        move(ctx, Phase.RENEGOTIATE)
    move(ctx, Phase.ESTABLISHED)
    assert (ctx.phase, ctx.may_encrypt, ctx.may_decrypt) == (Phase.ESTABLISHED, True, True)
    move(ctx, Phase.SHUTDOWN)
    assert (ctx.may_encrypt, ctx.may_decrypt) == (False, True)
    move(ctx, Phase.CLOSED)
    for target in Phase:
        if target is not Phase.CLOSED:
            with pytest.raises(IllegalMove):
                move(ctx, target)


def test_only_move_assigns_the_phase() -> None:
    """The one place where the phase changes: no other ``.phase = ...`` in sspi/."""
    found = []
    for path in sorted(SSPI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == "phase":
                    found.append(f"{path.name}:{node.lineno}")
    assert found == ["phases.py:" + str(_move_line())], found


def _move_line() -> int:
    tree = ast.parse((SSPI / "phases.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "phase" for t in node.targets
        ):
            return node.lineno
    raise AssertionError("phases.move assigns no phase")


# --- each phase, reached as a caller reaches it -----------------------------------------


def _established(pki: peers.ServerPki) -> CurlLoop:
    loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    return loop


def _decrypt_one(loop: CurlLoop) -> sc.SecStatus:
    desc = sc.SecBufferDesc(
        [sc.SecBuffer(len(loop.encdata), sc.SECBUFFER_DATA, loop.encdata)]
        + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
    )
    status = sc.DecryptMessage(loop.ctx, desc, 0, None)
    extra = desc.pBuffers[3]
    left = extra.cbBuffer if extra.BufferType == sc.SECBUFFER_EXTRA else 0
    desc.release()
    del loop.encdata[: len(loop.encdata) - left]
    return status


def _apply_shutdown(loop: CurlLoop) -> None:
    token = struct.pack("<I", sc.SCHANNEL_SHUTDOWN)
    assert (
        sc.ApplyControlToken(
            loop.ctx, sc.SecBufferDesc([sc.SecBuffer(4, sc.SECBUFFER_TOKEN, token)])
        )
        == sc.SEC_E_OK
    )


def reach_handshake(pki: peers.ServerPki) -> CurlLoop:
    loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), acquire_credential())
    loop.encdata += loop.server.feed(loop.first_call())
    return loop


def reach_need_credential(pki: peers.ServerPki) -> CurlLoop:
    srv = server(pki, ssl.TLSVersion.TLSv1_3, required=False)
    flags = CURL_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS
    loop = CurlLoop(srv, acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS), flags=flags)
    loop.encdata += srv.feed(loop.first_call())
    assert loop.step()[0] == sc.SEC_I_INCOMPLETE_CREDENTIALS
    return loop


def reach_established(pki: peers.ServerPki) -> CurlLoop:
    return _established(pki)


def reach_renegotiate(pki: peers.ServerPki) -> CurlLoop:
    loop = _established(pki)
    assert loop.encdata, "the server's NewSessionTickets"
    assert _decrypt_one(loop) == sc.SEC_I_RENEGOTIATE
    return loop


def reach_shutdown(pki: peers.ServerPki) -> CurlLoop:
    loop = _established(pki)
    loop.shutdown()
    return loop


def reach_closed(pki: peers.ServerPki) -> CurlLoop:
    """The peer's close_notify (DecryptMessage says SEC_I_CONTEXT_EXPIRED)."""
    loop = _established(pki)
    with contextlib.suppress(ssl.SSLWantReadError):
        loop.server.tls.unwrap()  # its close_notify goes out; ours has not come
    loop.encdata += loop.server.pending_output()
    while loop.encdata:
        status = _decrypt_one(loop)
        if status == sc.SEC_I_RENEGOTIATE:  # a NewSessionTicket before it
            assert loop.step()[0] == sc.SEC_E_OK
            continue
        assert status == sc.SEC_I_CONTEXT_EXPIRED, status
        break
    return loop


def reach_closed_by_abandoned_handshake(pki: peers.ServerPki) -> CurlLoop:
    loop = reach_handshake(pki)
    loop.shutdown()
    return loop


def reach_failed(pki: peers.ServerPki) -> CurlLoop:
    loop = CurlLoop(
        MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), acquire_credential(), target="other"
    )
    assert loop.handshake() == sc.SEC_E_WRONG_PRINCIPAL
    return loop


REACH: list[tuple[Phase, Callable[[peers.ServerPki], CurlLoop]]] = [
    (Phase.HANDSHAKE, reach_handshake),
    (Phase.NEED_CREDENTIAL, reach_need_credential),
    (Phase.ESTABLISHED, reach_established),
    (Phase.RENEGOTIATE, reach_renegotiate),
    (Phase.SHUTDOWN, reach_shutdown),
    (Phase.CLOSED, reach_closed),
    (Phase.CLOSED, reach_closed_by_abandoned_handshake),
    (Phase.FAILED, reach_failed),
]


def test_every_phase_but_new_is_reached_here() -> None:
    assert {p for p, _ in REACH} == set(Phase) - {Phase.NEW}


def _encrypt(loop: CurlLoop) -> sc.SecStatus:
    buf = bytearray(5 + 4 + 17)
    mv = memoryview(buf)
    desc = sc.SecBufferDesc(
        [
            sc.SecBuffer(5, sc.SECBUFFER_STREAM_HEADER, mv[:5]),
            sc.SecBuffer(4, sc.SECBUFFER_DATA, mv[5:9]),
            sc.SecBuffer(17, sc.SECBUFFER_STREAM_TRAILER, mv[9:]),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
    )
    return sc.EncryptMessage(loop.ctx, 0, desc, 0)


def _isc_no_input(loop: CurlLoop) -> sc.SecStatus:
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
    return sc.InitializeSecurityContext(
        loop.cred, loop.ctx, loop.target, loop.flags, 0, 0, None, 0, None, out, loop.attrs, None
    )


@pytest.mark.parametrize(("phase", "reach"), REACH, ids=[f.__name__ for _, f in REACH])
def test_calls_in_each_phase_do_what_the_table_says(
    pki: peers.ServerPki,
    root_certs_env: Path,
    phase: Phase,
    reach: Callable[[peers.ServerPki], CurlLoop],
) -> None:
    loop = reach(pki)
    ctx = X.CONTEXTS.get(loop.ctx)
    assert ctx is not None and ctx.phase is phase
    rule = PHASES[phase]
    assert (ctx.may_encrypt, ctx.may_decrypt) == (rule.encrypt, rule.decrypt)
    encrypted = _encrypt(loop)
    if rule.encrypt:
        assert encrypted == sc.SEC_E_OK
    else:
        assert encrypted.name == CONTEXT_EXPIRED
    if not rule.decrypt:
        record = b"\x17\x03\x03\x00\x20" + bytes(32)
        loop.encdata = bytearray(record)
        assert _decrypt_one(loop).name == CONTEXT_EXPIRED
    no_input = _isc_no_input(loop)
    if rule.isc_no_input == INCOMPLETE:
        assert no_input.name == INCOMPLETE
    elif phase in (Phase.RENEGOTIATE, Phase.NEED_CREDENTIAL):
        # The context holds what it answers: a ticket (nothing to send), the paused flight.
        assert no_input == sc.SEC_E_OK
    if rule.isc == INCOMPLETE:
        loop.encdata = bytearray(b"\x17\x03\x03\x00\x20" + bytes(32))
        assert loop.step()[0].name == INCOMPLETE
    if phase is Phase.FAILED:
        loop.encdata = bytearray(b"\x16\x03\x03\x00\x01\x00")
        assert loop.step()[0] == sc.SEC_E_WRONG_PRINCIPAL  # the failure's status again
    assert sc.DeleteSecurityContext(loop.ctx) == sc.SEC_E_OK


def test_the_diagram_draws_every_move_of_the_table() -> None:
    text = diagram.mermaid()
    for phase, rule in PHASES.items():
        assert f'state "{phase.name}" as S_{phase.name}' in text
        for target in rule.moves:
            assert f"S_{phase.name} --> S_{target.name}: " in text
    drawn = re.findall(r"S_(\w+) --> S_(\w+):", text)
    assert len(drawn) == sum(len(r.moves) for r in PHASES.values())
