"""My loop survives a ticket arriving in the same read as the first application data,
and the same bytes arriving one at a time (and every other way of cutting them)."""

from __future__ import annotations

from myloop import MyClient

import schannel_py as S
from schannel_py.testing import TlsServer, Transport
from schannel_py.testing.plugin import every_chunking


@every_chunking
def test_ticket_then_data(
    schannel_server: TlsServer, schannel_transport: Transport, schannel_credential: S.CredHandle
) -> None:
    # Queued before the handshake, these go out right after it, as one flight.
    schannel_server.send_ticket()
    schannel_server.send_data(b"welcome")

    client = MyClient(
        schannel_transport.send, schannel_transport.recv, schannel_credential, "localhost"
    )
    client.connect()
    assert client.recv() == b"welcome"
    # The ticket surfaced as SEC_I_RENEGOTIATE, which the loop answered with ISC.
    assert S.SEC_I_RENEGOTIATE in client.statuses

    client.send(b"thanks")
    schannel_server.close()
    assert client.recv() == b""
    assert schannel_server.received == b"thanks"


def test_ticket_and_data_in_one_read(
    schannel_server: TlsServer, schannel_transport: Transport, schannel_credential: S.CredHandle
) -> None:
    schannel_server.send_ticket()
    schannel_server.send_data(b"welcome")
    client = MyClient(
        schannel_transport.send, schannel_transport.recv, schannel_credential, "localhost"
    )
    client.connect()
    reads_before = len(schannel_transport.reads)
    assert client.recv() == b"welcome"
    # One read held both records (the default policy hands over all that is pending).
    assert len(schannel_transport.reads) == reads_before + 1
