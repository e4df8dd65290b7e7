"""The attack catalogue: hostile servers by name, each with the answer SChannel must give,
played against my loop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from myloop import MyClient

import schannel_py as S
from schannel_py.testing import attacks

ILLEGAL_PARAMETER = 47  # TLS alert description (RFC 8446 6.2)


def test_a_case_documents_its_outcome() -> None:
    case = attacks.get("downgrade_sentinel_tls12")
    assert case.version == "1.3"  # the client offers 1.3; the server answers 1.2 with the sentinel
    assert case.status == S.SEC_E_DOWNGRADE_DETECTED
    assert case.alert == ILLEGAL_PARAMETER and case.via == "isc"
    assert "DOWNGRD" in case.why


@pytest.mark.parametrize("name", ["downgrade_sentinel_tls12", "finished_wrong", "finished12_wrong"])
def test_picked_by_name(name: str) -> None:
    attacks.run(name)  # the package's own calls: AssertionError unless the outcome is documented


def my_loop(
    send: Callable[[bytes], object], recv: Callable[[int], bytes], cred: S.CredHandle
) -> MyClient:
    return MyClient(send, recv, cred, "localhost")


@pytest.mark.parametrize("name", attacks.names())
def test_my_loop_against_every_case(name: str) -> None:
    # My loop runs in a thread; the case checks the status my loop got from each call,
    # that it sent SChannel's alert, and that the context stays failed.
    attacks.run_loop(name, my_loop, connect="connect", read="recv")
