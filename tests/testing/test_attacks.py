"""The public attack catalogue: list, look up, run, and run through a harness of one's own."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import pytest

import schannel_py as sc
from schannel_py.driver import CURL_REQ_FLAGS, SspiDriver, SspiError
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


# --- run_loop: the catalogue against a loop of one's own --------------------------------------


def driver_loop(**options: object) -> attacks.LoopFactory:
    """The package's reference loop (SspiDriver, curl's calls) as the loop under test."""

    def make(send: object, recv: object, cred: sc.CredHandle) -> SspiDriver:
        return SspiDriver(send, recv, cred, "localhost", CURL_REQ_FLAGS, **options)  # type: ignore[arg-type]

    return make


@pytest.mark.parametrize("name", attacks.names())
def test_every_case_against_a_loop_in_a_thread(name: str) -> None:
    attacks.run_loop(name, driver_loop(), connect="handshake")


def test_a_loop_that_keeps_the_alert_to_itself_fails() -> None:
    with pytest.raises(AssertionError):
        attacks.run_loop("sh_unoffered_suite", driver_loop(send_alerts=False), connect="handshake")
    # A case whose answer is no alert at all (the server's alert ended it) does not mind.
    attacks.run_loop("server_fatal_alert", driver_loop(send_alerts=False), connect="handshake")


class IgnoresRenegotiate(SspiDriver):
    """A loop bug: SEC_I_RENEGOTIATE is taken for data, no ISC answers it."""

    def recv(self, max_bytes: int | None = None, *, block: bool = True) -> bytes:
        while True:
            if not self.encdata:
                self._read(truncated=False)
            status, data = self.decrypt_record()
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                self._read()
                continue
            if status not in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE):
                raise SspiError("DecryptMessage", status)
            if data:
                return data


def test_a_loop_that_ignores_renegotiate_fails_the_post_handshake_cases() -> None:
    def make(send: object, recv: object, cred: sc.CredHandle) -> SspiDriver:
        return IgnoresRenegotiate(send, recv, cred, "localhost", CURL_REQ_FLAGS)  # type: ignore[arg-type]

    attacks.run_loop("sh_unoffered_suite", make, connect="handshake")  # the handshake is fine
    with pytest.raises(AssertionError):
        attacks.run_loop("renegotiation_info_missing_on_renegotiation", make, connect="handshake")
    with pytest.raises(AssertionError):
        attacks.run_loop("key_update_flood", make, connect="handshake")


def test_a_loop_that_hangs_is_reported_within_the_timeout() -> None:
    release = threading.Event()

    class Hangs:
        def __init__(self, send: Callable[[bytes], object]) -> None:
            self.send = send

        def connect(self) -> None:
            self.send(b"\x16\x03\x01\x00\x00")
            release.wait(30)  # neither reads nor returns

    try:
        with pytest.raises(
            AssertionError, match="neither stopped nor waited for input within 0.3 s"
        ):
            attacks.run_loop(
                "sh_unoffered_suite", lambda send, recv, cred: Hangs(send), timeout=0.3
            )
    finally:
        release.set()


def test_a_loop_that_fails_at_once_is_named() -> None:
    class Broken:
        def connect(self) -> None:
            raise RuntimeError("no socket")

    with pytest.raises(AssertionError, match="sent no ClientHello.*no socket"):
        attacks.run_loop("sh_unoffered_suite", lambda send, recv, cred: Broken())
