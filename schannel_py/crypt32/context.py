"""Certificate contexts: CERT_CONTEXT and the functions that make and free them.

A CERT_CONTEXT here is a plain object over the DER bytes and the parsed
:class:`cryptography.x509.Certificate`.  There is no reference counting:
"freeing" is a no-op and "duplicating" returns the same object, which is what
a correct C program observes anyway.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from ._lasterror import SetLastError
from ._x509 import load_certificate
from .certinfo import (
    CERT_INFO,
    CERT_NAME_BLOB,
    CRYPT_DATA_BLOB,
    CRYPT_HASH_BLOB,
    CRYPT_INTEGER_BLOB,
    cert_info_from,
)
from .constants import CRYPT_E_ASN1_BADTAG, E_INVALIDARG, X509_ASN_ENCODING, X509_PKCS7_ENCODING

if TYPE_CHECKING:
    from .store import CertStore

__all__ = [
    "CERT_CONTEXT",
    "CERT_NAME_BLOB",
    "CRYPT_DATA_BLOB",
    "CRYPT_HASH_BLOB",
    "CRYPT_INTEGER_BLOB",
    "PCCERT_CONTEXT",
    "CertCreateCertificateContext",
    "CertDuplicateCertificateContext",
    "CertFreeCertificateContext",
    "cert_context_from_pem",
    "cert_contexts_from_pem",
    "pem_certificates_to_der",
]


@dataclass(eq=False)
class CERT_CONTEXT:
    """One certificate: its encoding, decoded fields, owning store and (optionally) key.

    ``pCertInfo`` is the :class:`CERT_INFO` a C caller reads (built on first
    use from the DER); ``certificate`` is the parsed
    :class:`cryptography.x509.Certificate` for Python code.  ``private_key`` is
    the key a client certificate signs with (what CERT_KEY_PROV_INFO_PROP_ID
    points to on Windows).  Compared by identity, like a pointer.
    """

    dwCertEncodingType: int
    pbCertEncoded: bytes
    cbCertEncoded: int
    certificate: x509.Certificate
    hCertStore: CertStore | None = None
    private_key: PrivateKeyTypes | None = field(default=None, repr=False)
    #: Enumeration position in ``hCertStore`` (internal; -1 when in no store).
    _seq: int = field(default=-1, init=False, repr=False, compare=False)
    #: Context properties by ID (internal; shared with the store entry behind a
    #: store's context, so every context of that certificate in the store sees them).
    _props: dict[int, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _info: CERT_INFO | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def pCertInfo(self) -> CERT_INFO:
        """The decoded certificate fields (CERT_INFO), built once."""
        if self._info is None:
            self._info = cert_info_from(self.pbCertEncoded, self.certificate)
        return self._info

    def __repr__(self) -> str:
        try:
            subject = self.certificate.subject.rfc4514_string()
        except Exception:  # a malformed name must not break repr
            subject = "?"
        return f"<CERT_CONTEXT subject={subject!r} cb={self.cbCertEncoded}>"


@dataclass(eq=False)
class PCCERT_CONTEXT:
    """Out-parameter holder for a ``PCCERT_CONTEXT*`` (``value`` is NULL = None)."""

    value: CERT_CONTEXT | None = None


@functools.lru_cache(maxsize=4096)
def _parse_der(der: bytes) -> x509.Certificate | None:
    """Parse one DER certificate, or None if it is not one (never raises).

    cryptography's deprecation warnings (e.g. a non-positive serial, common in
    old OS-bundle roots) are silenced so that ``-W error`` cannot drop a root.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = load_certificate(der)
        # Touch the fields every consumer reads, so lazily parsed garbage fails here.
        cert.subject  # noqa: B018
        cert.issuer  # noqa: B018
        cert.not_valid_before_utc  # noqa: B018
        cert.not_valid_after_utc  # noqa: B018
    except Exception:
        return None
    return cert


def _as_bytes(data: Any, count: Any) -> bytes | None:
    """``count`` bytes of a C buffer argument, or None when the pair is invalid."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return None
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return None
    try:
        view = memoryview(data).cast("B")
    except (TypeError, ValueError):
        return None
    if count > len(view):
        return None
    return bytes(view[:count])


def _make_context(
    der: bytes,
    cert: x509.Certificate,
    store: CertStore | None = None,
    private_key: PrivateKeyTypes | None = None,
) -> CERT_CONTEXT:
    return CERT_CONTEXT(
        dwCertEncodingType=X509_PKCS7_ENCODING,
        pbCertEncoded=der,
        cbCertEncoded=len(der),
        certificate=cert,
        hCertStore=store,
        private_key=private_key,
    )


def CertCreateCertificateContext(
    dwCertEncodingType: int, pbCertEncoded: Any, cbCertEncoded: int
) -> CERT_CONTEXT | None:
    """Decode ``cbCertEncoded`` bytes of DER into a context not in any store.

    Returns None (NULL) on anything that is not one DER certificate, with
    ``GetLastError()`` set: ``E_INVALIDARG`` for a bad encoding type or buffer,
    ``CRYPT_E_ASN1_BADTAG`` for bytes that do not decode.  Never raises.
    PEM is not accepted (Windows does not either); see :func:`cert_context_from_pem`.
    """
    if not isinstance(dwCertEncodingType, int) or not dwCertEncodingType & X509_ASN_ENCODING:
        SetLastError(E_INVALIDARG)
        return None
    der = _as_bytes(pbCertEncoded, cbCertEncoded)
    if der is None:
        SetLastError(E_INVALIDARG)
        return None
    cert = _parse_der(der)
    if cert is None:
        SetLastError(CRYPT_E_ASN1_BADTAG)
        return None
    return _make_context(der, cert)


def CertFreeCertificateContext(pCertContext: CERT_CONTEXT | None) -> bool:
    """Release a context: nothing to do without reference counts; always TRUE."""
    return True


def CertDuplicateCertificateContext(pCertContext: CERT_CONTEXT | None) -> CERT_CONTEXT | None:
    """Add a reference: returns the same context (NULL stays NULL)."""
    return pCertContext


_PEM_RE = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----\s*(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
    re.DOTALL,
)


def pem_certificates_to_der(data: bytes | str) -> list[bytes]:
    """DER of every certificate PEM block in ``data`` that decodes; others are skipped.

    Lenient on purpose (OS bundles carry the odd broken entry): a block whose
    base64 or DER is bad is dropped instead of failing the whole file.
    ``TRUSTED CERTIFICATE`` blocks keep only their leading certificate.
    """
    raw = data.encode("latin-1", "replace") if isinstance(data, str) else bytes(data)
    out: list[bytes] = []
    for match in _PEM_RE.finditer(raw):
        body = b"".join(match.group(1).split())
        try:
            decoded = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue
        der = _leading_der_element(decoded)
        if der is not None and _parse_der(der) is not None:
            out.append(der)
    return out


def _leading_der_element(data: bytes) -> bytes | None:
    """The first DER TLV of ``data`` (drops OpenSSL's trailing aux data)."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    length = data[1]
    offset = 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or len(data) < 2 + n:
            return None
        length = int.from_bytes(data[2 : 2 + n], "big")
        offset = 2 + n
    end = offset + length
    return data[:end] if end <= len(data) else None


def cert_contexts_from_pem(data: bytes | str) -> list[CERT_CONTEXT]:
    """Contexts (in no store) for every certificate in a PEM text."""
    out: list[CERT_CONTEXT] = []
    for der in pem_certificates_to_der(data):
        cert = _parse_der(der)
        if cert is not None:
            out.append(_make_context(der, cert))
    return out


def cert_context_from_pem(data: bytes | str) -> CERT_CONTEXT | None:
    """Python helper: a context for the first certificate of a PEM text, or None."""
    contexts = cert_contexts_from_pem(data)
    return contexts[0] if contexts else None
