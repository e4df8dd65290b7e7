"""Client authentication decisions shared by the TLS 1.3 and TLS 1.2 handshakes.

When a server sends CertificateRequest and the configuration holds no client
credential, the client asks ``ClientConfig.choose_credential``.  That callback
may answer with a credential, with None (send an empty Certificate), or with
:data:`PAUSE`: the handshake then stops in WAIT_CLIENT_CREDENTIAL until the
driver calls :meth:`TLSClient.provide_credential` -- the hook SChannel's
SEC_I_INCOMPLETE_CREDENTIALS needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from .codec import Reader
from .sigalgs import PKCS1_SCHEMES

if TYPE_CHECKING:
    from .client import ClientCredential


class _Pause:
    def __repr__(self) -> str:
        return "PAUSE"


PAUSE: Final = _Pause()


@dataclass(frozen=True)
class CertificateRequestInfo:
    """What the server asked for: signature schemes and acceptable CA names (DER)."""

    schemes: list[int]
    authorities: list[bytes] = field(default_factory=list)
    context: bytes = b""
    post_handshake: bool = False


def parse_certificate_authorities(body: bytes) -> list[bytes]:
    """The DistinguishedName list of a certificate_authorities extension (RFC 8446 4.2.4)."""
    r = Reader(body)
    names: list[bytes] = []
    with r.sub(2, 3) as lst:
        while not lst.at_end():
            names.append(lst.vector(2, 1))
    r.expect_end("certificate_authorities")
    return names


def pick_scheme(cred: ClientCredential | None, server_schemes: list[int], tls13: bool) -> int:
    """The first of the credential's schemes the server accepts (no PKCS#1 in TLS 1.3), or 0."""
    if cred is None:
        return 0
    for scheme in cred.schemes:
        if scheme in server_schemes and not (tls13 and scheme in PKCS1_SCHEMES):
            return scheme
    return 0
