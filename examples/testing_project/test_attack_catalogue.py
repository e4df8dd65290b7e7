"""The attack catalogue: hostile servers by name, each with the answer SChannel must give."""

from __future__ import annotations

import pytest

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
    attacks.run(name)  # AssertionError unless the status and the alert are the documented ones


class Recording(attacks.Harness):
    """The client side, call by call: override isc / decrypt / encrypt to put your
    own SSPI calls in their place; this one only records each ISC status."""

    def isc(self, data: bytes) -> tuple[S.SecStatus, bytes]:
        status, token = super().isc(data)
        STATUSES.append(status)
        return status, token


STATUSES: list[S.SecStatus] = []


def test_through_a_harness_of_ones_own() -> None:
    STATUSES.clear()
    case = attacks.get("finished_wrong")
    attacks.run(case, Recording(cred=attacks.credential()))
    assert STATUSES[-1] == case.status


@pytest.mark.parametrize("name", attacks.names())
def test_every_case(name: str) -> None:
    attacks.run(name)
