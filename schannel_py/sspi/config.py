"""Credential to TLS configuration: what a credential and a target name mean for the ClientHello."""

from __future__ import annotations

import functools
import ipaddress

from .. import constants as C
from ..tls import groups as G
from ..tls.client import ClientConfig
from .credentials import Credential


def server_name_for(target: str | None) -> str | None:
    """SNI for a target name: none for an empty name or an IP literal."""
    if not target:
        return None
    if type(target) is not str:  # e.g. a str subclass: not cached
        return _server_name_for(target)
    return _cached_server_name_for(target)


def _server_name_for(target: str) -> str | None:
    host = target.strip("[]")
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


#: A pure function of the name; applications connect to the same few hosts.
_cached_server_name_for = functools.lru_cache(maxsize=256)(_server_name_for)


#: The dwFlags that ask for a revocation check; any of them makes the ClientHello ask
#: for an OCSP staple (docs/windows-behaviour.md rule 9.4.1).
REVOCATION_CHECK_FLAGS = (
    C.SCH_CRED_REVOCATION_CHECK_END_CERT
    | C.SCH_CRED_REVOCATION_CHECK_CHAIN
    | C.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
)


def client_config(cred: Credential, target: str | None, alpn: list[bytes]) -> ClientConfig:
    """Groups and key shares: hybrids only when TLS 1.3 is offered (SCHANNEL_CRED never
    is); shares for the first hybrid and the preferred classical group (x25519 if
    enabled), so a classical-only server needs no HelloRetryRequest.  A revocation
    check flag asks for an OCSP staple (status_request), with or without manual
    validation (.NET validates manually and reads the staple from the certificate)."""
    versions = cred.versions
    groups, shares = _groups_and_shares(cred.groups, 0x0304 in versions)
    return ClientConfig(
        server_name=server_name_for(target),
        alpn=alpn,
        versions=versions,
        cipher_suites=cred.cipher_suites,
        groups=groups,
        key_share_groups=shares,
        signature_schemes=cred.signature_schemes,
        ocsp_stapling=bool(cred.flags & REVOCATION_CHECK_FLAGS),
        log_messages=False,  # observe.py asks for the messages of the calls it watches
    )


@functools.lru_cache(maxsize=64)
def _groups_and_shares(
    groups: tuple[int, ...], tls13: bool
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(groups offered, groups given a key share): a pure function of the credential."""
    if not tls13:
        groups = tuple(g for g in groups if g not in G.HYBRIDS)
    classical = [g for g in groups if g not in G.HYBRIDS]
    hybrids = [g for g in groups if g in G.HYBRIDS]
    shares = tuple(hybrids[:1]) + ((G.X25519,) if G.X25519 in classical else tuple(classical[:1]))
    return groups, shares
