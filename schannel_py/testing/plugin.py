"""pytest fixtures for testing code that drives SSPI (schannel_py's testing toolkit).

Off unless enabled: ``pytest -p schannel_py.testing.plugin``, or in the ini
file ``schannel_py_testing = true`` (the ``pytest11`` entry point only reads
that switch), or ``pytest_plugins = ["schannel_py.testing.plugin"]`` in your
top-level conftest.py.

Fixtures (function scope unless said):

* ``schannel_pki`` (session): root, intermediate and a ``localhost`` /
  ``127.0.0.1`` leaf (:class:`~schannel_py.testing.pki.Pki`).
* ``schannel_trusted_ca``: the PKI's root in "ROOT" for the test (the root).
* ``schannel_client_certificate`` (session): a clientAuth leaf of the same PKI.
* ``schannel_server_factory``: ``make(**options) -> TlsServer`` serving the PKI's
  leaf unless ``identity`` is given; ``schannel_server``: ``make()``.
* ``schannel_chunking``: the transport policy, ``Chunking.whole()`` unless the
  test is parametrised (:data:`every_chunking`).
* ``schannel_seed``: ``--schannel-py-seed`` (0 by default).
* ``schannel_transport``: a :class:`~schannel_py.testing.Transport` to
  ``schannel_server`` with that policy and seed; a failing test's report
  names it (policy, seed, faults), which is all a replay needs.
* ``schannel_credential``: a validating credential, the PKI's root trusted.

:data:`every_chunking` runs one test under every policy of
:data:`~schannel_py.testing.CHUNKINGS`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from ..sspi.types import CredHandle
from .pki import Issued, Pki, make_leaf, make_pki
from .server import TlsServer
from .stores import acquire_credential, trusted_root
from .transport import CHUNKINGS, Chunking, Transport

__all__ = ["every_chunking"]

#: Run a test once per chunking policy (it sets the ``schannel_chunking`` fixture).
every_chunking = pytest.mark.parametrize(
    "schannel_chunking", CHUNKINGS, ids=[str(c) for c in CHUNKINGS]
)

_TRANSPORTS = pytest.StashKey[list[Transport]]()


@pytest.fixture(scope="session")
def schannel_pki() -> Pki:
    """Root, intermediate and a localhost / 127.0.0.1 server leaf."""
    return make_pki(dns_names=["localhost"], ip_addresses=["127.0.0.1"])


@pytest.fixture(scope="session")
def schannel_client_certificate(schannel_pki: Pki) -> Issued:
    """A clientAuth certificate issued by the PKI's intermediate."""
    return make_leaf(
        schannel_pki.intermediate,
        common_name="schannel_py test client",
        dns_names=(),
        eku=("clientAuth",),
    )


@pytest.fixture
def schannel_trusted_ca(schannel_pki: Pki) -> Iterator[Issued]:
    """The PKI's root, trusted in "ROOT" for the duration of the test."""
    with trusted_root(schannel_pki.root):
        yield schannel_pki.root


@pytest.fixture
def schannel_server_factory(schannel_pki: Pki) -> Callable[..., TlsServer]:
    """``make(**options)``: a :class:`TlsServer` serving the PKI's leaf by default."""

    def make(**options: Any) -> TlsServer:
        options.setdefault("identity", schannel_pki.leaf)
        return TlsServer(**options)

    return make


@pytest.fixture
def schannel_server(schannel_server_factory: Callable[..., TlsServer]) -> TlsServer:
    """A normal TLS 1.3 / 1.2 server with the PKI's leaf."""
    return schannel_server_factory()


@pytest.fixture
def schannel_chunking() -> Chunking:
    """The transport policy (override by parametrising, e.g. with ``every_chunking``)."""
    return Chunking.whole()


@pytest.fixture
def schannel_seed(request: pytest.FixtureRequest) -> int:
    """The transports' seed: ``--schannel-py-seed`` (0 by default)."""
    return int(request.config.getoption("schannel_py_seed", 0) or 0)


@pytest.fixture
def schannel_transport(
    request: pytest.FixtureRequest,
    schannel_server: TlsServer,
    schannel_chunking: Chunking,
    schannel_seed: int,
) -> Transport:
    """``send`` / ``recv`` to ``schannel_server``, cut by ``schannel_chunking``."""
    transport = Transport(schannel_server, schannel_chunking, seed=schannel_seed)
    request.node.stash.setdefault(_TRANSPORTS, []).append(transport)
    return transport


@pytest.fixture
def schannel_credential(schannel_trusted_ca: Issued) -> Iterator[CredHandle]:
    """A credential that validates the server (the PKI's root is trusted)."""
    from ..sspi.functions import FreeCredentialsHandle

    cred = acquire_credential()
    yield cred
    FreeCredentialsHandle(cred)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    transports = item.stash.get(_TRANSPORTS, [])
    if report.failed and transports:
        report.sections.append(("schannel_py transport", "\n".join(repr(t) for t in transports)))
