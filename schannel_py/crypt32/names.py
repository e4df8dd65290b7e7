"""Names as strings: CertNameToStr and CertGetNameString.

Windows writes a distinguished name in its *encoded* order (``C=US, O=Org,
CN=host`` for the usual encoding), the reverse of RFC 4514; this module does
the same so substring searches (``CERT_FIND_SUBJECT_STR``) and displayed names
match what a Windows program sees.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ._x509 import extensions_of
from .constants import (
    CERT_FRIENDLY_NAME_PROP_ID,
    CERT_NAME_ATTR_TYPE,
    CERT_NAME_DNS_TYPE,
    CERT_NAME_EMAIL_TYPE,
    CERT_NAME_FRIENDLY_DISPLAY_TYPE,
    CERT_NAME_ISSUER_FLAG,
    CERT_NAME_RDN_TYPE,
    CERT_NAME_SEARCH_ALL_NAMES_FLAG,
    CERT_NAME_SIMPLE_DISPLAY_TYPE,
    CERT_NAME_STR_CRLF_FLAG,
    CERT_NAME_STR_NO_PLUS_FLAG,
    CERT_NAME_STR_NO_QUOTING_FLAG,
    CERT_NAME_STR_REVERSE_FLAG,
    CERT_NAME_STR_SEMICOLON_FLAG,
    CERT_NAME_URL_TYPE,
    CERT_OID_NAME_STR,
    CERT_SIMPLE_NAME_STR,
    CERT_X500_NAME_STR,
)
from .context import CERT_CONTEXT, CRYPT_DATA_BLOB

__all__ = [
    "CertGetNameString",
    "CertGetNameStringA",
    "CertGetNameStringW",
    "CertNameToStr",
    "CertNameToStrA",
    "CertNameToStrW",
    "name_to_str",
]

#: X.500 keys Windows prints (CertNameToStr with CERT_X500_NAME_STR).
_X500_KEYS: dict[x509.ObjectIdentifier, str] = {
    NameOID.COMMON_NAME: "CN",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.EMAIL_ADDRESS: "E",
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "S",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.TITLE: "T",
    NameOID.GIVEN_NAME: "G",
    NameOID.INITIALS: "I",
    NameOID.SURNAME: "SN",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.POSTAL_CODE: "PostalCode",
    NameOID.USER_ID: "UID",
}

_NEEDS_QUOTES = set(',+=";<>#\r\n')


def _value_text(attr: x509.NameAttribute[Any]) -> str:
    value = attr.value
    return value if isinstance(value, str) else value.hex()


def _quote(text: str) -> str:
    if text and (any(ch in _NEEDS_QUOTES for ch in text) or text[0] == " " or text[-1] == " "):
        return '"' + text.replace('"', '""') + '"'
    return text


def name_to_str(name: x509.Name, dwStrType: int = CERT_X500_NAME_STR) -> str:
    """A distinguished name as CertNameToStr would write it (encoded order)."""
    kind = dwStrType & 0xFFFF
    rdns = list(name.rdns)
    if dwStrType & CERT_NAME_STR_REVERSE_FLAG:
        rdns.reverse()
    if dwStrType & CERT_NAME_STR_SEMICOLON_FLAG:
        rdn_sep = "; "
    elif dwStrType & CERT_NAME_STR_CRLF_FLAG:
        rdn_sep = "\r\n"
    else:
        rdn_sep = ", "
    plus_sep = " " if dwStrType & CERT_NAME_STR_NO_PLUS_FLAG else " + "
    quoting = not dwStrType & CERT_NAME_STR_NO_QUOTING_FLAG
    parts: list[str] = []
    for rdn in rdns:
        values: list[str] = []
        for attr in rdn:
            text = _value_text(attr)
            if quoting:
                text = _quote(text)
            if kind == CERT_SIMPLE_NAME_STR:
                values.append(text)
            elif kind == CERT_OID_NAME_STR:
                values.append(f"{attr.oid.dotted_string}={text}")
            else:
                key = _X500_KEYS.get(attr.oid, f"OID.{attr.oid.dotted_string}")
                values.append(f"{key}={text}")
        parts.append(plus_sep.join(values))
    return rdn_sep.join(parts)


def _write_out(text: str, psz: Any, csz: int) -> int:
    """C string-out convention: return chars incl. NUL; fill ``psz.value`` if given."""
    if psz is not None and isinstance(csz, int) and csz > 0:
        try:
            psz.value = text[: csz - 1]
        except (AttributeError, TypeError):
            pass
    return len(text) + 1


def _as_name(pName: Any) -> x509.Name | None:
    """An ``x509.Name`` from a Name object, a CERT_NAME_BLOB or DER bytes."""
    if isinstance(pName, x509.Name):
        return pName
    if isinstance(pName, CRYPT_DATA_BLOB):
        data = pName.tobytes()
    elif isinstance(pName, (bytes, bytearray, memoryview)):
        data = bytes(pName)
    else:
        return None
    try:
        return _decode_name(data)
    except Exception:
        return None


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_seq(body: bytes) -> bytes:
    return b"\x30" + _der_len(len(body)) + body


@functools.lru_cache(maxsize=1)
def _any_spki() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _decode_name(data: bytes) -> x509.Name:
    """Decode a DER Name.

    cryptography has no public Name parser, so the bytes are wrapped as the
    subject of an (unsigned) PKCS#10 request and read back from there.
    """
    tbs = _der_seq(b"\x02\x01\x00" + data + _any_spki() + b"\xa0\x00")
    algorithm = bytes.fromhex("300a06082a8648ce3d040302")  # ecdsa-with-SHA256
    csr = x509.load_der_x509_csr(_der_seq(tbs + algorithm + b"\x03\x01\x00"))
    return csr.subject


def CertNameToStr(dwCertEncodingType: int, pName: Any, dwStrType: int, psz: Any, csz: int) -> int:
    """Write an encoded name (CERT_NAME_BLOB, bytes or ``x509.Name``) as text.

    Returns the length including the terminating NUL; ``psz.value`` (a ctypes
    buffer or any object with ``value``) receives at most ``csz - 1`` characters.
    An undecodable name gives the empty string (return value 1).
    """
    name = _as_name(pName)
    text = name_to_str(name, dwStrType) if name is not None else ""
    return _write_out(text, psz, csz)


CertNameToStrW = CertNameToStr
CertNameToStrA = CertNameToStr


def _first_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    return _value_text(attrs[0]) if attrs else None


def _alt_names(cert: x509.Certificate, issuer: bool) -> x509.GeneralNames | None:
    cls: Any = x509.IssuerAlternativeName if issuer else x509.SubjectAlternativeName
    try:
        ext = extensions_of(cert).get_extension_for_class(cls)
    except Exception:
        return None
    value: x509.GeneralNames = ext.value._general_names
    return value


def _name_string(
    cert: x509.Certificate,
    dwType: int,
    dwFlags: int,
    pvTypePara: Any,
    friendly: str | None = None,
) -> str:
    issuer = bool(dwFlags & CERT_NAME_ISSUER_FLAG)
    name = cert.issuer if issuer else cert.subject
    alt = _alt_names(cert, issuer)
    if dwType == CERT_NAME_FRIENDLY_DISPLAY_TYPE and friendly is not None:
        return friendly
    if dwType in (CERT_NAME_SIMPLE_DISPLAY_TYPE, CERT_NAME_FRIENDLY_DISPLAY_TYPE):
        for oid in (
            NameOID.COMMON_NAME,
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            NameOID.ORGANIZATION_NAME,
        ):
            found = _first_attr(name, oid)
            if found is not None:
                return found
        if alt is not None:
            emails = alt.get_values_for_type(x509.RFC822Name)
            if emails:
                return emails[0]
        for rdn in name.rdns:
            for attr in rdn:
                return _value_text(attr)
        return ""
    if dwType == CERT_NAME_EMAIL_TYPE:
        if alt is not None:
            emails = alt.get_values_for_type(x509.RFC822Name)
            if emails:
                return emails[0]
        return _first_attr(name, NameOID.EMAIL_ADDRESS) or ""
    if dwType == CERT_NAME_DNS_TYPE:
        dns = alt.get_values_for_type(x509.DNSName) if alt is not None else []
        if not dns:
            dns = [_value_text(a) for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if dwFlags & CERT_NAME_SEARCH_ALL_NAMES_FLAG:
            # A multi-string: each name NUL-terminated, the caller's NUL ends the list.
            return "".join(f"{n}\0" for n in dns)
        return dns[0] if dns else ""
    if dwType == CERT_NAME_URL_TYPE:
        if alt is not None:
            urls = alt.get_values_for_type(x509.UniformResourceIdentifier)
            if urls:
                return urls[0]
        return ""
    if dwType == CERT_NAME_ATTR_TYPE:
        oid_text = pvTypePara.decode("ascii") if isinstance(pvTypePara, bytes) else pvTypePara
        if isinstance(oid_text, str):
            return _first_attr(name, x509.ObjectIdentifier(oid_text)) or ""
        return ""
    if dwType == CERT_NAME_RDN_TYPE:
        str_type = (
            pvTypePara
            if isinstance(pvTypePara, int)
            else getattr(pvTypePara, "value", CERT_X500_NAME_STR)
        )
        return name_to_str(name, str_type if isinstance(str_type, int) else CERT_X500_NAME_STR)
    return ""


def _friendly_name(ctx: CERT_CONTEXT) -> str | None:
    """CERT_FRIENDLY_NAME_PROP_ID as text (a NUL-terminated UTF-16LE string), if set."""
    raw = ctx._props.get(CERT_FRIENDLY_NAME_PROP_ID)
    if not isinstance(raw, bytes):
        return None
    text = raw.decode("utf-16-le", "replace")
    return text.split("\0", 1)[0]


def CertGetNameString(
    pCertContext: CERT_CONTEXT | None,
    dwType: int,
    dwFlags: int,
    pvTypePara: Any,
    pszNameString: Any,
    cchNameString: int,
) -> int:
    """A display/DNS/email/URL/attribute/RDN name of a certificate.

    ``dwType``: ``CERT_NAME_SIMPLE_DISPLAY_TYPE`` (CN, else OU, O, e-mail, first
    RDN), ``CERT_NAME_FRIENDLY_DISPLAY_TYPE`` (the CERT_FRIENDLY_NAME_PROP_ID
    property, else the simple display name), ``CERT_NAME_DNS_TYPE`` (first DNS
    SAN, else CN; with ``CERT_NAME_SEARCH_ALL_NAMES_FLAG`` every DNS SAN, else
    every CN, as a multi-string: ``"a\\0b\\0"`` plus the terminating NUL, so the
    count includes both NULs of the end; no name gives ``""`` and 1),
    ``CERT_NAME_EMAIL_TYPE``, ``CERT_NAME_URL_TYPE``, ``CERT_NAME_ATTR_TYPE``
    (``pvTypePara`` an OID string) and ``CERT_NAME_RDN_TYPE`` (``pvTypePara`` a
    CertNameToStr type).  ``CERT_NAME_ISSUER_FLAG`` selects the issuer.  Returns
    the character count including NUL (1 when there is no such name) and fills
    ``pszNameString.value`` when given, as CertNameToStr does.
    """
    text = ""
    if isinstance(pCertContext, CERT_CONTEXT):
        try:
            text = _name_string(
                pCertContext.certificate,
                dwType,
                dwFlags,
                pvTypePara,
                _friendly_name(pCertContext),
            )
        except Exception:
            text = ""
    return _write_out(text, pszNameString, cchNameString)


CertGetNameStringW = CertGetNameString
CertGetNameStringA = CertGetNameString
