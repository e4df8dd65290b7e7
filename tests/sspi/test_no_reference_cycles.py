"""No reference cycles per connection (issue 19, item 6): after DeleteSecurityContext
and FreeCredentialsHandle, reference counting alone frees everything a connection
held (its TLS client, handshake, key schedule, record protection and secrets), so
key material does not outlive the call and no cyclic collection is needed under
load.  Checked with the cyclic collector off: whatever it finds afterwards of the
package's own classes was kept alive only by a cycle."""

from __future__ import annotations

import gc
import ssl
from collections.abc import Callable
from pathlib import Path

import schannel_py as sc
from schannel_py.sspi import cache as K
from schannel_py.sspi import context as X
from schannel_py.testing import ManualClock, acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sessions import connect, reconnected, schannel_cred, server_context
from tests.support.sspi_driver import CurlLoop


def package_garbage(run: Callable[[], None]) -> list[str]:
    """The package's objects that only the cyclic collector would free after ``run``."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = sorted(
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if type(o).__module__.startswith("schannel_py")
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    return found


def test_collector_sees_a_cycle_the_test_makes() -> None:
    """The check itself: a context whose release is skipped is found."""

    def leak() -> None:
        ctx = X.Context.__new__(X.Context)
        ctx.client = ctx  # type: ignore[assignment]  # a cycle through a package object

    assert package_garbage(leak) == ["schannel_py.sspi.context.Context"]


def test_full_tls13_connections_leave_no_cycles(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    def run() -> None:
        for _ in range(3):
            loop_cred = acquire_credential()
            loop = connect(server_context(pki), loop_cred)
            assert sc.DeleteSecurityContext(loop.ctx) == sc.SEC_E_OK
            assert sc.FreeCredentialsHandle(loop_cred) == sc.SEC_E_OK
        K.CACHE.flush()

    assert package_garbage(run) == []


def test_tls12_and_resumed_connections_leave_no_cycles(
    pki: peers.ServerPki, root_certs_env: Path, clock: ManualClock
) -> None:
    def run() -> None:
        for server, cred in (
            (server_context(pki, ssl.TLSVersion.TLSv1_2), schannel_cred()),
            (server_context(pki), acquire_credential()),
        ):
            first = connect(server, cred)
            second = connect(server, cred)
            assert reconnected(second)
            for loop in (first, second):
                assert sc.DeleteSecurityContext(loop.ctx) == sc.SEC_E_OK
            assert sc.FreeCredentialsHandle(cred) == sc.SEC_E_OK
        K.CACHE.flush()

    assert package_garbage(run) == []


def test_failed_connections_leave_no_cycles(pki: peers.ServerPki, root_certs_env: Path) -> None:
    def run() -> None:
        # The server's certificate does not match the target: validation fails in ISC.
        cred = acquire_credential()
        loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), cred, target="other")
        assert loop.handshake() == sc.SEC_E_WRONG_PRINCIPAL
        assert sc.DeleteSecurityContext(loop.ctx) == sc.SEC_E_OK
        # A server that answers with garbage: the handshake fails on the record layer.
        loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), cred)
        loop.first_call()
        loop.encdata += b"\x16\x03\x03\x00\x02\xff\xff"
        assert loop.step()[0] != sc.SEC_E_OK
        assert sc.DeleteSecurityContext(loop.ctx) == sc.SEC_E_OK
        assert sc.FreeCredentialsHandle(cred) == sc.SEC_E_OK

    assert package_garbage(run) == []
