"""The RFC 5280 structure of a certificate path, checked the way CryptoAPI reports it.

Per element of a path (leaf first, anchor last): basic constraints and path
length of the issuers, an issuer's key usage without keyCertSign, name
constraints over the DNS and IP names below, and critical extensions nobody
here understands, as CERT_TRUST_* error bits.  CertGetCertificateChain reports
them when cryptography's RFC 5280 validation rejects a path; the chain check
uses them instead of that validation for a path cryptography cannot judge
(a non-positive serial number, which it refuses and CryptoAPI accepts).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cryptography import x509

from ._x509 import extensions_of
from .constants import (
    CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT,
    CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT,
    CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT,
    CERT_TRUST_INVALID_BASIC_CONSTRAINTS,
    CERT_TRUST_INVALID_EXTENSION,
)

Cert = x509.Certificate

_KNOWN_EXTENSIONS = (x509.UnrecognizedExtension,)


def structure_bits(path: list[Cert]) -> list[int]:
    """Basic constraints, CA key usage, name constraints and unknown critical
    extensions, per element (what RFC 5280 validation may have rejected)."""
    bits = [0] * len(path)
    for i, cert in enumerate(path):
        try:
            exts = extensions_of(cert)
        except Exception:
            bits[i] |= CERT_TRUST_INVALID_EXTENSION
            continue
        if any(e.critical and isinstance(e.value, _KNOWN_EXTENSIONS) for e in exts):
            bits[i] |= CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT
        if i == 0:
            continue
        try:
            bc: x509.BasicConstraints | None = exts.get_extension_for_class(
                x509.BasicConstraints
            ).value
        except x509.ExtensionNotFound:
            bc = None
        is_anchor_v1 = i == len(path) - 1 and cert.version == x509.Version.v1
        if (bc is None and not is_anchor_v1) or (bc is not None and not bc.ca):
            bits[i] |= CERT_TRUST_INVALID_BASIC_CONSTRAINTS
        elif bc is not None and bc.path_length is not None and i - 1 > bc.path_length:
            bits[i] |= CERT_TRUST_INVALID_BASIC_CONSTRAINTS
        try:
            ku = exts.get_extension_for_class(x509.KeyUsage).value
            if not ku.key_cert_sign:
                bits[i] |= CERT_TRUST_INVALID_EXTENSION
        except x509.ExtensionNotFound:
            pass
        try:
            nc = exts.get_extension_for_class(x509.NameConstraints).value
        except x509.ExtensionNotFound:
            continue
        for j in range(i):
            bits[j] |= _name_constraint_bits(nc, path[j])
    return bits


def _dns_within(name: str, base: str) -> bool:
    name, base = name.lower().rstrip("."), base.lower().rstrip(".")
    if base.startswith("."):
        return name.endswith(base)
    return name == base or name.endswith("." + base)


def _ip_within(ip: Any, subtree: x509.GeneralName) -> bool:
    if not isinstance(subtree, x509.IPAddress):
        return False
    net = subtree.value
    if isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return ip.version == net.version and ip in net
    return bool(ip == net)


def _name_constraint_bits(nc: x509.NameConstraints, cert: Cert) -> int:
    """HAS_NOT_PERMITTED / HAS_EXCLUDED for the DNS and IP names of ``cert``'s SAN."""
    try:
        san = extensions_of(cert).get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return 0
    out = 0
    dns = san.get_values_for_type(x509.DNSName)
    ips = san.get_values_for_type(x509.IPAddress)
    permitted = list(nc.permitted_subtrees or [])
    excluded = list(nc.excluded_subtrees or [])
    for name in dns:
        if any(isinstance(e, x509.DNSName) and _dns_within(name, e.value) for e in excluded):
            out |= CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT
        allowed = [p for p in permitted if isinstance(p, x509.DNSName)]
        if allowed and not any(_dns_within(name, p.value) for p in allowed):
            out |= CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT
    for ip in ips:
        if any(_ip_within(ip, e) for e in excluded):
            out |= CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT
        nets = [p for p in permitted if isinstance(p, x509.IPAddress)]
        if nets and not any(_ip_within(ip, p) for p in nets):
            out |= CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT
    return out
