"""Building the ClientHello: what the TLS 1.3 and TLS 1.2 handshakes share.

The first ClientHello of a connection may offer TLS 1.3 and TLS 1.2 at once;
:class:`~.handshake13.Handshake13` sends it (adding a TLS 1.3 PSK when it
resumes) and hands the connection over to :class:`~.handshake12.Handshake12`
through the client facade when the server picks TLS 1.2.  A renegotiation
ClientHello is TLS 1.2 only and built by ``Handshake12``.  Both build theirs
from the functions here, so neither handshake module imports the other.

Every random byte comes from the injected ``rnd``, in a fixed order (client
random, legacy session ID, key shares, then a session ID for a TLS 1.2
ticket), so that a handshake replays byte for byte.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from .groups import HYBRIDS, KeyShare
from .messages import (
    STATUS_REQUEST_OCSP,
    ClientHello,
    Ext,
    Offer,
    ext_alpn,
    ext_key_share_client,
    ext_server_name,
    ext_u16_list,
)
from .suites import SUITES

if TYPE_CHECKING:
    from .client import ClientConfig

TLS12 = 0x0303
TLS13 = 0x0304


def offered_suites(suites: tuple[int, ...], versions: tuple[int, ...]) -> list[int]:
    """The configured suites that belong to an offered version, in order (a new list)."""
    return list(_offered_suites(tuple(suites), tuple(versions)))


@functools.lru_cache(maxsize=64)
def _offered_suites(suites: tuple[int, ...], versions: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(c for c in suites if c in SUITES and SUITES[c].version in versions)


def client_hello_extensions(
    cfg: ClientConfig, shares: list[tuple[int, bytes]], versions: tuple[int, ...]
) -> list[tuple[int, bytes]]:
    """ClientHello extensions for ``versions`` (TLS 1.2 ones only if 1.2 is offered)."""
    exts = list(
        _configured_extensions(
            cfg.server_name,
            tuple(cfg.alpn),
            tuple(cfg.groups),
            tuple(cfg.signature_schemes),
            tuple(versions),
            cfg.post_handshake_auth,
            cfg.ocsp_stapling,
        )
    )
    if TLS13 in versions:
        exts.append((Ext.key_share, ext_key_share_client(shares)))
    return exts


@functools.lru_cache(maxsize=128)
def _configured_extensions(
    server_name: str | None,
    alpn: tuple[bytes, ...],
    groups: tuple[int, ...],
    signature_schemes: tuple[int, ...],
    versions: tuple[int, ...],
    post_handshake_auth: bool,
    ocsp_stapling: bool = False,
) -> tuple[tuple[int, bytes], ...]:
    """The extensions before key_share: a pure function of the configuration,
    so a client connecting again with the same settings reuses their encoding.

    ``ocsp_stapling`` adds status_request (RFC 6066 section 8: ocsp, no responder
    IDs, no request extensions) right after server_name (code-point order, as the
    extensions before it); the same extension asks for a staple in TLS 1.2 and
    TLS 1.3 (RFC 8446 section 4.4.2.1)."""
    tls13 = TLS13 in versions
    tls12 = TLS12 in versions
    exts: list[tuple[int, bytes]] = []
    if server_name:
        exts.append((Ext.server_name, ext_server_name(server_name)))
    if ocsp_stapling:
        exts.append((Ext.status_request, STATUS_REQUEST_OCSP))
    if tls12:
        exts.append((Ext.ec_point_formats, b"\x01\x00"))
    # The hybrids are TLS 1.3 groups: a ClientHello offering only TLS 1.2 leaves them out.
    offered = groups if tls13 else tuple(g for g in groups if g not in HYBRIDS)
    exts.append((Ext.supported_groups, ext_u16_list(offered)))
    exts.append((Ext.signature_algorithms, ext_u16_list(signature_schemes)))
    if alpn:
        exts.append((Ext.alpn, ext_alpn(list(alpn))))
    if tls12:
        exts.append((Ext.extended_master_secret, b""))
        exts.append((Ext.session_ticket, b""))
        exts.append((Ext.renegotiation_info, b"\x00"))
    if tls13 and post_handshake_auth:
        exts.append((Ext.post_handshake_auth, b""))
    if tls13:
        listed: list[int] = [v for v in (TLS13, TLS12) if v in versions]
        exts.append((Ext.supported_versions, ext_u16_list(listed, 1)))
        exts.append((Ext.psk_key_exchange_modes, b"\x01\x01"))
    return tuple(exts)


@functools.lru_cache(maxsize=128)
def _offered_lists(
    alpn: tuple[bytes, ...],
    groups: tuple[int, ...],
    signature_schemes: tuple[int, ...],
    versions: tuple[int, ...],
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[bytes, ...]]:
    """(versions, groups, signature schemes, ALPN) as the configured extensions
    encode them, and as Offer.from_client_hello would read them back."""
    tls13 = TLS13 in versions
    listed = tuple(v for v in (TLS13, TLS12) if v in versions) if tls13 else (TLS12,)
    offered = groups if tls13 else tuple(g for g in groups if g not in HYBRIDS)
    return listed, offered, signature_schemes, alpn


def first_offer(cfg: ClientConfig, ch: ClientHello, shares: dict[int, KeyShare]) -> Offer:
    """What :func:`first_client_hello` offered (with any extension added after it,
    such as the PSK), from the values it encoded rather than by parsing them back:
    the same Offer as ``Offer.from_client_hello(ch)``, for a ClientHello no hook
    has rewritten (tests/tls/test_fast_paths.py checks the two agree)."""
    listed, offered, schemes, alpn = _offered_lists(
        tuple(cfg.alpn), tuple(cfg.groups), tuple(cfg.signature_schemes), tuple(cfg.versions)
    )
    return Offer(
        ch.session_id,
        list(ch.cipher_suites),
        list(listed),
        list(offered),
        list(shares),
        list(schemes),
        list(alpn),
        {code for code, _ in ch.extensions},
    )


def key_shares(groups: tuple[int, ...], rnd: Callable[[int], bytes]) -> dict[int, KeyShare]:
    """A fresh key share for each group, in order (the private keys stay here)."""
    return {g: KeyShare(g, rnd) for g in groups}


def first_client_hello(
    cfg: ClientConfig, rnd: Callable[[int], bytes]
) -> tuple[ClientHello, dict[int, KeyShare]]:
    """The connection's first ClientHello and the key shares it carries.

    Offers every configured version, and ``cfg.resume_session12`` (by session ID,
    or by ticket alongside a fresh ID) when TLS 1.2 is among them.  A TLS 1.3 PSK
    is not included: it must come last and be bound to the transcript, which is
    the TLS 1.3 handshake's business.
    """
    versions = cfg.versions
    tls13 = TLS13 in versions
    client_random = rnd(32)
    session_id = rnd(32) if cfg.middlebox_compat and tls13 else b""
    shares = key_shares(cfg.key_share_groups, rnd) if tls13 else {}
    suites = offered_suites(cfg.cipher_suites, versions)
    exts = client_hello_extensions(cfg, [(g, s.public) for g, s in shares.items()], versions)
    session12 = cfg.resume_session12 if TLS12 in versions else None
    if session12 is not None:
        session_id = session12.session_id or session_id or rnd(32)
        if session12.ticket:
            exts = [(c, session12.ticket if c == Ext.session_ticket else b) for c, b in exts]
    return ClientHello(client_random, session_id, suites, exts), shares


def renegotiation_client_hello(
    cfg: ClientConfig, rnd: Callable[[int], bytes], client_verify_data: bytes
) -> ClientHello:
    """A TLS 1.2 renegotiation ClientHello; renegotiation_info carries our last
    Finished (RFC 5746 section 3.5)."""
    versions = (TLS12,)
    client_random = rnd(32)
    suites = offered_suites(cfg.cipher_suites, versions)
    exts: list[tuple[int, bytes]] = []
    for code, body in client_hello_extensions(cfg, [], versions):
        if code == Ext.renegotiation_info:
            body = bytes([len(client_verify_data)]) + client_verify_data
        exts.append((code, body))
    return ClientHello(client_random, b"", suites, exts)
