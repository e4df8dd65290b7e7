"""Client certificates for the SSPI tests: a clientAuth certificate from the session's
test CA with its ``CERT_CONTEXT``, and an in-memory OpenSSL server (Python's ``ssl``)
that asks for one."""

from __future__ import annotations

import ssl

from schannel_py import crypt32
from schannel_py.testing import client_certificate_context
from schannel_py.testing.memserver import MemoryServer, server_context
from schannel_py.testing.pki import Issued, KeyType, make_leaf
from tests.support import peers


def client_certificate(
    pki: peers.ServerPki, key_type: KeyType
) -> tuple[Issued, crypt32.CERT_CONTEXT]:
    """A clientAuth certificate from the test CA (``client-<key_type>``) and its
    ``CERT_CONTEXT`` with the private key."""
    issued = make_leaf(
        pki.intermediate,
        dns_names=(),
        common_name=f"client-{key_type}",
        key_type=key_type,
        eku=("clientAuth",),
    )
    return issued, client_certificate_context(issued)


def server(
    pki: peers.ServerPki,
    version: ssl.TLSVersion,
    *,
    required: bool = True,
    post_handshake: bool = False,
) -> MemoryServer:
    """The server with the ECDSA certificate at ``version`` only, asking for a client
    certificate from the test root (``required``: CERT_REQUIRED, else CERT_OPTIONAL)."""
    ctx = server_context(
        pki.ecdsa.fullchain, pki.ecdsa.key, min_version=version, max_version=version
    )
    ctx.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
    if post_handshake:
        ctx.post_handshake_auth = True
    ctx.load_verify_locations(pki.root_ca)
    return MemoryServer.for_context(ctx)
