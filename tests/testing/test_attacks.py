"""The public attack catalogue: list, look up, run, and run through a harness of one's own."""

from __future__ import annotations

import dataclasses

import pytest

import schannel_py as sc
from schannel_py.testing import Attack, attacks
from schannel_py.tls.alerts import AlertDescription as A


def test_names_are_unique_and_cover_both_versions() -> None:
    names = attacks.names()
    assert len(names) == len(set(names)) >= 150
    assert len(attacks.names("1.3")) + len(attacks.names("1.2")) == len(names)
    assert {a.version for a in attacks.cases("1.2")} == {"1.2"}


def test_every_case_documents_its_outcome() -> None:
    for case in attacks.cases():
        assert case.why, case.name
        assert case.via in ("isc", "decrypt"), case.name
        assert isinstance(case.status, sc.SecStatus), case.name


def test_get_by_name() -> None:
    case = attacks.get("sh_unoffered_suite")
    assert isinstance(case, Attack)
    assert (case.status, case.alert, case.version) == (
        sc.SEC_E_ILLEGAL_MESSAGE,
        A.illegal_parameter,
        "1.3",
    )
    assert "illegal_parameter" in case.why


def test_an_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(KeyError, match="sh_unoffered_suite"):
        attacks.get("sh_unoffered_suit")


@pytest.mark.parametrize("name", ["sh_unoffered_suite", "sh12_unoffered_suite"])
def test_run_by_name(name: str) -> None:
    attacks.run(name)


def test_a_wrong_expectation_fails() -> None:
    case = dataclasses.replace(attacks.get("sh_unoffered_suite"), status=sc.SEC_E_OK)
    with pytest.raises(AssertionError, match="sh_unoffered_suite"):
        attacks.run(case)


def test_an_own_harness_sees_every_call() -> None:
    """A Harness subclass is where a user's own SSPI calls go; the case runs through it."""
    calls: list[int] = []

    class Counting(attacks.Harness):
        def isc(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
            calls.append(len(data))
            return super().isc(data)

    case = attacks.get("sh_compression")
    attacks.run(case, Counting(cred=attacks.credential()))
    assert calls
