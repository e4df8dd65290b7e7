"""CRLs (RFC 5280 section 5): loading and judging one for one certificate.

:func:`evaluate_crl` accepts a CRL (DER, or PEM as some servers publish it)
only when its issuer is the certificate's issuer by name, its signature
verifies with that issuer's key (which, if it has a key usage extension, must
allow cRLSign), it is current (thisUpdate not in the future, nextUpdate not
past) and it is a complete CRL (delta CRLs are not supported).  Then the
certificate's serial number decides.  Bad bytes never raise.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from cryptography import x509

from ._time import as_utc
from ._x509 import extensions_of, serial_number
from .ocsp import CLOCK_SKEW

__all__ = ["CrlResult", "evaluate_crl", "load_crl"]

CrlStatus = Literal["good", "revoked", "invalid"]


@dataclass(frozen=True)
class CrlResult:
    """The verdict of one CRL on one certificate."""

    status: CrlStatus
    next_update: datetime.datetime | None = None
    reason: str = ""


def load_crl(data: bytes) -> x509.CertificateRevocationList | None:
    """A CRL from DER or PEM bytes; None if they are neither."""
    try:
        raw = bytes(data)
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(raw.strip())
        return x509.load_der_x509_crl(raw)
    except Exception:
        return None


def crl_usable(
    crl: x509.CertificateRevocationList, issuer: x509.Certificate, now: datetime.datetime
) -> str | None:
    """Why ``crl`` cannot speak for ``issuer``'s certificates at ``now``; None when it can."""
    if crl.issuer != issuer.subject:
        return "the CRL's issuer is another CA"
    try:
        ku = extensions_of(issuer).get_extension_for_class(x509.KeyUsage).value
        if not ku.crl_sign:
            return "the issuer may not sign CRLs"
    except x509.ExtensionNotFound:
        pass
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
        return "delta CRLs are not supported"
    except x509.ExtensionNotFound:
        pass
    try:
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return "the CRL's signature does not verify"
    except Exception:
        return "the CRL's signature does not verify"
    if crl.last_update_utc - CLOCK_SKEW > now:
        return "thisUpdate is in the future"
    next_update = crl.next_update_utc
    if next_update is not None and next_update < now:
        return "expired: nextUpdate has passed"
    return None


def evaluate_crl(
    data: bytes | x509.CertificateRevocationList,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    now: datetime.datetime,
) -> CrlResult:
    """Judge ``cert`` (issued by ``issuer``) by the CRL ``data`` at ``now``.  Never raises."""
    try:
        crl = data if isinstance(data, x509.CertificateRevocationList) else load_crl(data)
        if crl is None:
            return CrlResult("invalid", None, "not a CRL (DER or PEM)")
        when = as_utc(now)
        why = crl_usable(crl, issuer, when)
        if why is not None:
            return CrlResult("invalid", crl.next_update_utc, why)
        entry = crl.get_revoked_certificate_by_serial_number(serial_number(cert))
        if entry is not None:
            return CrlResult("revoked", crl.next_update_utc, "revoked (listed in the CRL)")
        return CrlResult("good", crl.next_update_utc, "not listed in the CRL")
    except Exception as e:
        return CrlResult("invalid", None, f"unusable CRL: {type(e).__name__}")
