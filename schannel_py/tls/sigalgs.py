"""Signature schemes (RFC 8446 section 4.2.3): what we offer and how to check them.

``verify`` checks a signature made by the key in a certificate and maps every
failure to the right alert: a scheme we did not offer or that does not fit the
key is illegal_parameter, a bad signature is decrypt_error.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning

from .alerts import AlertDescription, TLSError, illegal

RSA_PKCS1_SHA256 = 0x0401
RSA_PKCS1_SHA384 = 0x0501
RSA_PKCS1_SHA512 = 0x0601
ECDSA_SECP256R1_SHA256 = 0x0403
ECDSA_SECP384R1_SHA384 = 0x0503
ECDSA_SECP521R1_SHA512 = 0x0603
RSA_PSS_RSAE_SHA256 = 0x0804
RSA_PSS_RSAE_SHA384 = 0x0805
RSA_PSS_RSAE_SHA512 = 0x0806
ED25519 = 0x0807
RSA_PSS_PSS_SHA256 = 0x0809
RSA_PSS_PSS_SHA384 = 0x080A
RSA_PSS_PSS_SHA512 = 0x080B

SCHEME_NAMES: dict[int, str] = {
    RSA_PKCS1_SHA256: "rsa_pkcs1_sha256",
    RSA_PKCS1_SHA384: "rsa_pkcs1_sha384",
    RSA_PKCS1_SHA512: "rsa_pkcs1_sha512",
    ECDSA_SECP256R1_SHA256: "ecdsa_secp256r1_sha256",
    ECDSA_SECP384R1_SHA384: "ecdsa_secp384r1_sha384",
    ECDSA_SECP521R1_SHA512: "ecdsa_secp521r1_sha512",
    RSA_PSS_RSAE_SHA256: "rsa_pss_rsae_sha256",
    RSA_PSS_RSAE_SHA384: "rsa_pss_rsae_sha384",
    RSA_PSS_RSAE_SHA512: "rsa_pss_rsae_sha512",
    ED25519: "ed25519",
    RSA_PSS_PSS_SHA256: "rsa_pss_pss_sha256",
    RSA_PSS_PSS_SHA384: "rsa_pss_pss_sha384",
    RSA_PSS_PSS_SHA512: "rsa_pss_pss_sha512",
}

# Offered in ClientHello.signature_algorithms, most preferred first.
DEFAULT_SCHEMES: tuple[int, ...] = (
    ECDSA_SECP256R1_SHA256,
    ECDSA_SECP384R1_SHA384,
    ED25519,
    RSA_PSS_RSAE_SHA256,
    RSA_PSS_RSAE_SHA384,
    RSA_PSS_RSAE_SHA512,
    RSA_PSS_PSS_SHA256,
    RSA_PSS_PSS_SHA384,
    RSA_PSS_PSS_SHA512,
    RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512,
)

PKCS1_SCHEMES = frozenset({RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512})
PSS_PSS_SCHEMES = frozenset({RSA_PSS_PSS_SHA256, RSA_PSS_PSS_SHA384, RSA_PSS_PSS_SHA512})
PSS_SCHEMES = PSS_PSS_SCHEMES | {RSA_PSS_RSAE_SHA256, RSA_PSS_RSAE_SHA384, RSA_PSS_RSAE_SHA512}

_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    RSA_PKCS1_SHA256: hashes.SHA256,
    RSA_PKCS1_SHA384: hashes.SHA384,
    RSA_PKCS1_SHA512: hashes.SHA512,
    ECDSA_SECP256R1_SHA256: hashes.SHA256,
    ECDSA_SECP384R1_SHA384: hashes.SHA384,
    ECDSA_SECP521R1_SHA512: hashes.SHA512,
    RSA_PSS_RSAE_SHA256: hashes.SHA256,
    RSA_PSS_RSAE_SHA384: hashes.SHA384,
    RSA_PSS_RSAE_SHA512: hashes.SHA512,
    RSA_PSS_PSS_SHA256: hashes.SHA256,
    RSA_PSS_PSS_SHA384: hashes.SHA384,
    RSA_PSS_PSS_SHA512: hashes.SHA512,
}
_CURVE_FOR = {
    ECDSA_SECP256R1_SHA256: "secp256r1",
    ECDSA_SECP384R1_SHA384: "secp384r1",
    ECDSA_SECP521R1_SHA512: "secp521r1",
}
_RSA_PSS_OID = x509.oid.PublicKeyAlgorithmOID.RSASSA_PSS


def scheme_name(code: int) -> str:
    return SCHEME_NAMES.get(code, f"0x{code:04x}")


#: The last (certificate, parsed public key) pair: a handshake asks for the
#: server key of the same certificate several times (parse check, suite fit,
#: scheme fit, signature); parsing it once per certificate object is enough.
_LAST_KEY: tuple[x509.Certificate, Any] | None = None


#: Parsed server certificates and their keys by DER: a client meets the same
#: few servers again and again, and certificate objects are immutable.
_PARSED: dict[bytes, tuple[x509.Certificate, Any]] = {}
_PARSED_MAX = 64


def parse_certificate(der: bytes) -> x509.Certificate:
    """The certificate of ``der`` with its public key loaded (ValueError if either
    cannot be parsed), from a small cache of recently seen certificates."""
    global _LAST_KEY
    der = bytes(der)
    found = _PARSED.get(der)
    if found is None:
        with warnings.catch_warnings():
            # A server's certificate may carry what cryptography deprecates (a
            # non-positive serial number, say): it is the peer's input, not our
            # call, and the chain check decides about it (as crypt32 parses too).
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            cert = x509.load_der_x509_certificate(der)
        found = (cert, cert.public_key())
        if len(_PARSED) >= _PARSED_MAX:
            del _PARSED[next(iter(_PARSED))]
        _PARSED[der] = found
    _LAST_KEY = found
    return found[0]


def check_signing_usage(cert: x509.Certificate) -> None:
    """The server signs the handshake with this certificate's key, so a key usage
    extension, when present, must allow digitalSignature (RFC 8446 4.4.2.2, RFC 5246
    7.4.2 for the ECDHE suites): otherwise unsupported_certificate, as for a key
    that does not fit the suite."""
    try:
        with warnings.catch_warnings():  # an authority key identifier's serial, say
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            extensions = cert.extensions
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        # a malformed extension block, or one extension twice (RFC 5280 4.2)
        raise TLSError(
            AlertDescription.bad_certificate, "malformed certificate extensions"
        ) from None
    if not usage.digital_signature:
        raise TLSError(
            AlertDescription.unsupported_certificate,
            "the certificate's key usage does not allow digitalSignature",
        )


def leaf_certificate(chain: list[bytes]) -> x509.Certificate | None:
    """The parsed first certificate of a stored chain (resumed sessions), or None."""
    try:
        return parse_certificate(chain[0]) if chain else None
    except ValueError:
        return None


def public_key_of(cert: x509.Certificate) -> Any:
    """``cert.public_key()``, cached for the most recent certificate object."""
    global _LAST_KEY
    last = _LAST_KEY
    if last is not None and last[0] is cert:
        return last[1]
    key = cert.public_key()
    _LAST_KEY = (cert, key)
    return key


def _key_fits(scheme: int, cert: x509.Certificate, tls12: bool) -> bool:
    key = public_key_of(cert)
    if scheme == ED25519:
        return isinstance(key, ed25519.Ed25519PublicKey)
    if scheme in _CURVE_FOR:
        # TLS 1.2's ecdsa_*_sha* names a hash only; TLS 1.3 binds the curve too.
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        return tls12 or key.curve.name == _CURVE_FOR[scheme]
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    is_pss_key = cert.public_key_algorithm_oid == _RSA_PSS_OID
    if scheme in PSS_PSS_SCHEMES:
        return is_pss_key
    return not is_pss_key


@functools.cache
def _ecdsa(scheme: int) -> ec.ECDSA:
    """The (immutable) ECDSA signature algorithm object for an ECDSA scheme."""
    return ec.ECDSA(_HASHES[scheme]())


def verify(
    scheme: int,
    cert: x509.Certificate,
    message: bytes,
    signature: bytes,
    offered: tuple[int, ...] | list[int],
    *,
    allow_pkcs1: bool,
    tls12: bool = False,
) -> None:
    """Check ``signature`` over ``message`` by ``cert``'s key under ``scheme``."""
    if scheme not in offered or (scheme in PKCS1_SCHEMES and not allow_pkcs1):
        raise illegal(f"peer used signature scheme {scheme_name(scheme)} that was not offered")
    if scheme not in SCHEME_NAMES or not _key_fits(scheme, cert, tls12):
        raise illegal(f"signature scheme {scheme_name(scheme)} does not match the certificate key")
    key = public_key_of(cert)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, _ecdsa(scheme))
        elif isinstance(key, rsa.RSAPublicKey):
            h = _HASHES[scheme]()
            if scheme in PKCS1_SCHEMES:
                key.verify(signature, message, padding.PKCS1v15(), h)
            else:
                pss = padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
                key.verify(signature, message, pss, h)
        else:  # pragma: no cover - _key_fits excludes other key types
            raise illegal("unsupported key type")
    except InvalidSignature:
        raise TLSError(AlertDescription.decrypt_error, "signature verification failed") from None
    except (ValueError, TypeError):
        raise TLSError(AlertDescription.decrypt_error, "malformed signature") from None
