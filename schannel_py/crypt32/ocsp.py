"""OCSP (RFC 6960, with RFC 5019's lightweight profile): requests and response checks.

:func:`evaluate_response` is the one judge of an OCSP response, whether it was
stapled by the server or fetched from the responder named in the certificate's
AIA extension: the response must be successful, carry a single response for
exactly this certificate (its CertID: serial, issuer name hash and issuer key
hash), be signed by the issuer itself or by a responder certificate the issuer
signed and gave the OCSP-signing EKU, and be current (thisUpdate not in the
future, nextUpdate not past).  A nonce is neither sent nor required (RFC 5019).
Bad bytes never raise: they give status "invalid".
"""

from __future__ import annotations

import base64
import datetime
import urllib.parse
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from ._time import as_utc
from ._x509 import extensions_of, serial_number

__all__ = ["CLOCK_SKEW", "OcspResult", "build_request", "evaluate_response", "request_url"]

OcspStatus = Literal["good", "revoked", "unknown", "invalid"]

#: How far in the future a thisUpdate (or before it a responder certificate) may be.
CLOCK_SKEW = datetime.timedelta(minutes=5)
#: RFC 5019 section 5: GET when the encoded request keeps the URL under 255 bytes.
MAX_GET_URL = 255


@dataclass(frozen=True)
class OcspResult:
    """The verdict on one OCSP response for one certificate."""

    status: OcspStatus
    next_update: datetime.datetime | None = None
    reason: str = ""


def build_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """A DER OCSPRequest for ``cert`` (SHA-1 CertID, no nonce: RFC 5019)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    return builder.build().public_bytes(serialization.Encoding.DER)


def request_url(base: str, request: bytes) -> str | None:
    """The RFC 5019 GET URL for ``request`` at responder ``base``; None when too long."""
    encoded = urllib.parse.quote(base64.b64encode(request).decode("ascii"), safe="")
    url = base + ("" if base.endswith("/") else "/") + encoded
    return url if len(url) <= MAX_GET_URL else None


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    key = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The hash covers the subjectPublicKey BIT STRING's value, not the whole SPKI.
    bits = _spki_bit_string(key)
    digest = hashes.Hash(algorithm)
    digest.update(bits)
    return digest.finalize()


def _spki_bit_string(spki: bytes) -> bytes:
    """The subjectPublicKey bits of a DER SubjectPublicKeyInfo (without the unused-bits byte)."""

    def header(data: bytes, pos: int) -> tuple[int, int]:
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(data[pos : pos + n], "big")
            pos += n
        return pos, length

    pos, _ = header(spki, 0)  # SEQUENCE
    alg_start, alg_len = header(spki, pos)  # AlgorithmIdentifier
    pos = alg_start + alg_len
    bits_start, bits_len = header(spki, pos)  # BIT STRING
    return spki[bits_start + 1 : bits_start + bits_len]


def _name_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(cert.subject.public_bytes())
    return digest.finalize()


def verify_signature(
    key: object,
    signature: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm | None,
    oid: x509.ObjectIdentifier,
) -> bool:
    """Whether ``key`` verifies ``signature`` over ``data`` (RSA PKCS#1 / PSS, ECDSA, EdDSA)."""
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            pad: padding.AsymmetricPadding
            if oid == SignatureAlgorithmOID.RSASSA_PSS:
                pad = padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO)
            else:
                pad = padding.PKCS1v15()
            key.verify(signature, data, pad, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        else:
            return False
    except Exception:
        return False
    return True


def _signed_by(resp: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    return verify_signature(
        signer.public_key(),
        resp.signature,
        resp.tbs_response_bytes,
        resp.signature_hash_algorithm,
        resp.signature_algorithm_oid,
    )


def _names_signer(resp: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    """Does the ResponderID (byName or byKey) name ``cert``?"""
    if resp.responder_name is not None:
        return resp.responder_name == cert.subject
    if resp.responder_key_hash is not None:
        return resp.responder_key_hash == _key_hash(cert, hashes.SHA1())
    return False


def _delegate_ok(
    responder: x509.Certificate, issuer: x509.Certificate, now: datetime.datetime
) -> str | None:
    """Why a delegated responder certificate is unacceptable; None when it is fine."""
    if responder.issuer != issuer.subject:
        return "the responder certificate was not issued by the certificate's issuer"
    try:
        responder.verify_directly_issued_by(issuer)
    except Exception:
        return "the responder certificate's signature does not verify with the issuer"
    try:
        eku = extensions_of(responder).get_extension_for_class(x509.ExtendedKeyUsage).value
    except Exception:
        return "the responder certificate has no OCSP-signing EKU"
    if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
        return "the responder certificate has no OCSP-signing EKU"
    if not (responder.not_valid_before_utc - CLOCK_SKEW <= now <= responder.not_valid_after_utc):
        return "the responder certificate is not time valid"
    return None


def evaluate_response(
    der: bytes, cert: x509.Certificate, issuer: x509.Certificate, now: datetime.datetime
) -> OcspResult:
    """Judge the DER OCSP response ``der`` for ``cert`` issued by ``issuer`` at ``now``.

    "good" / "revoked" / "unknown" as the responder said, once the response is
    verified; "invalid" (with the reason) for anything unusable.  Never raises.
    """
    try:
        return _evaluate(bytes(der), cert, issuer, as_utc(now))
    except Exception as e:
        return OcspResult("invalid", None, f"unusable response: {type(e).__name__}")


def _evaluate(
    der: bytes, cert: x509.Certificate, issuer: x509.Certificate, now: datetime.datetime
) -> OcspResult:
    try:
        resp = ocsp.load_der_ocsp_response(der)
    except Exception:
        return OcspResult("invalid", None, "not a DER OCSP response")
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return OcspResult("invalid", None, f"responder status {resp.response_status.name}")
    single: ocsp.OCSPSingleResponse | None = None
    for candidate in resp.responses:
        algorithm = candidate.hash_algorithm
        if (
            candidate.serial_number == serial_number(cert)
            and candidate.issuer_key_hash == _key_hash(issuer, algorithm)
            and candidate.issuer_name_hash == _name_hash(issuer, algorithm)
        ):
            single = candidate
            break
    if single is None:
        return OcspResult("invalid", None, "no response for this certificate")

    if _names_signer(resp, issuer):
        if not _signed_by(resp, issuer):
            return OcspResult("invalid", None, "the issuer's signature does not verify")
    else:
        responder = next((c for c in resp.certificates if _names_signer(resp, c)), None)
        if responder is None:
            return OcspResult("invalid", None, "signed by an unknown responder")
        why = _delegate_ok(responder, issuer, now)
        if why is not None:
            return OcspResult("invalid", None, why)
        if not _signed_by(resp, responder):
            return OcspResult("invalid", None, "the responder's signature does not verify")

    this_update = single.this_update_utc
    next_update = single.next_update_utc
    if this_update - CLOCK_SKEW > now:
        return OcspResult("invalid", next_update, "thisUpdate is in the future")
    if next_update is not None and next_update < now:
        return OcspResult("invalid", next_update, "expired: nextUpdate has passed")
    status = single.certificate_status
    if status == ocsp.OCSPCertStatus.GOOD:
        return OcspResult("good", next_update, "good")
    if status == ocsp.OCSPCertStatus.REVOKED:
        why_revoked = single.revocation_reason
        detail = f" ({why_revoked.name})" if why_revoked is not None else ""
        return OcspResult("revoked", next_update, "revoked" + detail)
    return OcspResult("unknown", next_update, "the responder does not know the certificate")
