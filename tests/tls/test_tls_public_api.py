"""``schannel_py.tls`` on its own: a TLS client built only from ``__all__`` (issue 19).

The server is Python's ssl over ``ssl.MemoryBIO``; the certificate check is
``cryptography``'s X.509 verifier, plugged in through ``verify_certificate``.
The test module itself is checked to import nothing from ``schannel_py`` but
the names ``schannel_py.tls.__all__`` lists.
"""

from __future__ import annotations

import ast
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import DNSName
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

import schannel_py.tls
from schannel_py.tls import (
    TLS1_2,
    TLS1_3,
    X25519,
    AlertDescription,
    ApplicationData,
    ClientConfig,
    CloseNotify,
    Event,
    HandshakeComplete,
    HandshakeResult,
    TLSClient,
    TLSError,
    frame,
)
from tests.support import peers

Check = Callable[[list[bytes]], None]


def chain_checker(root_pem: Path, name: str) -> tuple[list[list[bytes]], Check]:
    """A verify_certificate callback that validates the chain to ``root_pem`` for
    ``name``, and the list of chains it was called with."""
    roots = x509.load_pem_x509_certificates(root_pem.read_bytes())
    verifier = PolicyBuilder().store(Store(roots)).build_server_verifier(DNSName(name))
    seen: list[list[bytes]] = []

    def check(chain: list[bytes]) -> None:
        seen.append(chain)
        leaf, *rest = (x509.load_der_x509_certificate(der) for der in chain)
        try:
            verifier.verify(leaf, rest)
        except VerificationError as e:
            raise TLSError(AlertDescription.bad_certificate, str(e)) from None

    return seen, check


@dataclass
class Peer:
    """Python's ssl server over memory BIOs, and our client, exchanging bytes."""

    client: TLSClient
    server: ssl.SSLObject
    to_server: ssl.MemoryBIO
    from_server: ssl.MemoryBIO
    pending: bytearray = field(default_factory=bytearray)
    server_done: bool = False

    def deliver(self) -> list[Event]:
        """Move the client's bytes to the server, let it go on with its handshake,
        and hand what it sent to the client, one whole record at a time."""
        self.to_server.write(self.client.data_to_send())
        if not self.server_done:
            try:
                self.server.do_handshake()
                self.server_done = True
            except ssl.SSLWantReadError:
                pass
        self.pending += self.from_server.read()
        events: list[Event] = []
        while (n := frame(self.pending)) > 0:
            events += self.client.receive_record(bytes(self.pending[:n]))
            del self.pending[:n]
        return events

    def server_read(self) -> bytes:
        """What the server reads of the client's bytes so far."""
        self.to_server.write(self.client.data_to_send())
        try:
            return self.server.read(1 << 16)
        except ssl.SSLWantReadError:
            return b""


def connect(pki: peers.ServerPki, version: ssl.TLSVersion, check: Check) -> Peer:
    """Python's ssl server at ``version``; our client offers TLS 1.3 and 1.2."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    ctx.set_alpn_protocols(["http/1.1"])
    to_server, from_server = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = ctx.wrap_bio(to_server, from_server, server_side=True)
    config = ClientConfig(
        server_name="localhost",
        versions=(TLS1_3, TLS1_2),
        alpn=[b"http/1.1"],
        verify_certificate=check,
    )
    peer = Peer(TLSClient(config, os.urandom), server, to_server, from_server)
    peer.client.start()
    events: list[Event] = []
    for _ in range(4):  # two round trips at most; bounded in case of a bug
        events += peer.deliver()
        if peer.server_done:
            break
    assert HandshakeComplete() in events and peer.client.handshake_complete
    assert peer.server_done
    return peer


def talk_and_close(peer: Peer) -> None:
    """Application data both ways, then close_notify both ways."""
    client, server = peer.client, peer.server
    client.send_application_data(b"ping")
    assert peer.server_read() == b"ping"
    server.write(b"pong")
    received = [e.data for e in peer.deliver() if isinstance(e, ApplicationData)]
    assert received == [b"pong"]
    peer.to_server.write(client.close())
    assert server.read(1) == b""  # the end of the stream: our close_notify arrived
    server.unwrap()  # its own close_notify (ours already came)
    assert CloseNotify() in peer.deliver()
    assert client.peer_closed and client.local_closed


@pytest.mark.parametrize(
    ("version", "number", "server_name"),
    [(ssl.TLSVersion.TLSv1_3, TLS1_3, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, TLS1_2, "TLSv1.2")],
)
def test_a_handshake_data_and_close_with_only_the_public_api(
    pki: peers.ServerPki, version: ssl.TLSVersion, number: int, server_name: str
) -> None:
    seen, check = chain_checker(pki.root_ca, "localhost")
    peer = connect(pki, version, check)
    result = peer.client.result
    assert isinstance(result, HandshakeResult)
    assert (result.version, peer.server.version()) == (number, server_name)
    assert result.alpn == b"http/1.1" == (peer.server.selected_alpn_protocol() or "").encode()
    assert result.group == X25519
    assert seen == [list(result.peer_chain)]  # validated once, the chain that was used
    talk_and_close(peer)


def test_the_certificate_callback_can_refuse(pki: peers.ServerPki) -> None:
    _, check = chain_checker(pki.root_ca, "wrong.example")
    with pytest.raises(TLSError) as err:
        connect(pki, ssl.TLSVersion.TLSv1_3, check)
    assert err.value.description == AlertDescription.bad_certificate


def test_every_name_in_all_exists_once() -> None:
    names = schannel_py.tls.__all__
    assert len(names) == len(set(names))
    missing = [n for n in names if not hasattr(schannel_py.tls, n)]
    assert missing == []
    for needed in ("TLSClient", "ClientConfig", "HandshakeResult", "TLSError", "frame"):
        assert needed in names


def test_this_module_uses_only_the_public_names() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("schannel_py"):
            assert node.module == "schannel_py.tls", node.module
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("schannel_py"):
                    assert alias.name == "schannel_py.tls"
    assert used and used <= set(schannel_py.tls.__all__)
