"""Shared fixtures: the session's test PKI and the ``interop`` marker.

``pki`` (session): a :class:`peers.ServerPki` written as PEM files in a
temporary directory -- root CA, intermediate, and server certificates
(``ecdsa``, ``rsa``, ``ecdsa_direct``, ``expired``, ``wrong_name``,
``untrusted``), each with ``cert``/``key``/``chain``/``fullchain`` paths.

``clock`` (function): a :class:`schannel_py.testing.ManualClock` that new contexts read, with an
empty session cache before and after.

``package_warnings`` (function, autouse): the warnings the package's own code
raised during the test; any left in it at the end fail the test.

``root_ca_pem`` (session): path of the root CA PEM.
``root_certs_env`` (function): sets ``SCHANNEL_PY_ROOT_CERTS`` to that path for
one test and returns it.
"""

from __future__ import annotations

import signal
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from schannel_py.sspi import cache, context
from schannel_py.testing import ManualClock
from tests.support import peers
from tests.support.package import is_package_file

ROOT_CERTS_ENV = "SCHANNEL_PY_ROOT_CERTS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "interop: needs external TLS peers (openssl s_server, gnutls-serv) on loopback; "
        "skipped when a tool is missing, but failed when CI is set",
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManualClock]:
    """New contexts read this clock; the session cache starts and ends empty."""
    manual = ManualClock()
    monkeypatch.setattr(context, "clock", manual)
    cache.CACHE.flush()
    yield manual
    cache.CACHE.flush()


@pytest.fixture(autouse=True)
def package_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning raised during the test; the test fails if the package's own
    code raised any, above all a dependency's deprecation of something we call
    (cryptography attributes those to our line).  pyproject's ``filterwarnings``
    turns such warnings into errors, which is what happens outside a test's body
    (imports, session fixtures); inside it they are recorded instead and fail the
    test afterwards, because an error raised inside one of the package's
    ``except Exception`` blocks would pass for an ordinary failure and be hidden.
    The other warnings are handed back to pytest."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", module="schannel_py")
        warnings.filterwarnings("ignore", category=ResourceWarning)  # as in pyproject
        yield caught
    ours = [w for w in caught if is_package_file(w.filename)]
    for w in caught:
        if w not in ours:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if ours:
        pytest.fail(
            "the package raised warnings (a dependency deprecating something it calls?):\n"
            + "\n".join(
                f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}" for w in ours
            )
        )


INTEROP_DEADLINE = 60.0


class DeadlineExceeded(Exception):
    """Raised (by SIGALRM) inside an interop test that ran longer than INTEROP_DEADLINE."""


@pytest.fixture(autouse=True)
def _interop_deadline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Abort any ``interop`` test after INTEROP_DEADLINE seconds: a peer must never hang CI."""
    if request.node.get_closest_marker("interop") is None or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise DeadlineExceeded(f"interop test still running after {INTEROP_DEADLINE:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, INTEROP_DEADLINE)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def isolated_my_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the persistent "MY" store at an empty per-test directory (never the user's own)."""
    directory = tmp_path_factory.mktemp("my-store")
    monkeypatch.setenv("SCHANNEL_PY_MY_STORE", str(directory))
    return directory


@pytest.fixture(autouse=True)
def fresh_revocation_state() -> Iterator[None]:
    """An empty revocation cache, the HTTP fetcher and the default timeout, before and after."""
    from schannel_py import crypt32

    crypt32.clear_revocation_cache()
    yield
    crypt32.clear_revocation_cache()
    crypt32.set_fetcher(None)
    crypt32.set_default_timeout(None)


@pytest.fixture
def isolated_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Empty in-process system stores and no env root file, before and after the test."""
    from schannel_py import crypt32
    from schannel_py.crypt32 import store

    monkeypatch.delenv(crypt32.ROOT_CERTS_ENV, raising=False)
    store._reset_system_stores()
    yield
    store._reset_system_stores()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> peers.ServerPki:
    """The session's test PKI, as PEM files."""
    return peers.build_server_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def root_ca_pem(pki: peers.ServerPki) -> Path:
    """Path of the trusted root CA certificate (PEM)."""
    return pki.root_ca


@pytest.fixture
def root_certs_env(root_ca_pem: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``SCHANNEL_PY_ROOT_CERTS`` at the test root CA for one test."""
    monkeypatch.setenv(ROOT_CERTS_ENV, str(root_ca_pem))
    return root_ca_pem
