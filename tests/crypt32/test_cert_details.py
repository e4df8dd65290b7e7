"""Certificate details as C callers read them: CERT_INFO, extensions, decoding,
names, time validity, context properties, CryptQueryObject and the string codecs."""

from __future__ import annotations

import ctypes
import datetime
import hashlib
import ipaddress
import random
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from schannel_py import crypt32 as c
from schannel_py.constants import CRYPT_E_NOT_FOUND
from schannel_py.testing.pki import Issued, Pki, make_leaf, make_pki
from tests.support import curl_port

UTC = datetime.timezone.utc

pytestmark = pytest.mark.usefixtures("isolated_stores")


@pytest.fixture(scope="module")
def pki() -> Pki:
    # localhost is the *second* DNS name: the case curl's host check used to reject.
    return make_pki(dns_names=["www.example.com", "localhost"], ip_addresses=["127.0.0.1", "::1"])


def context(item: Issued | bytes) -> c.CERT_CONTEXT:
    der = item if isinstance(item, bytes) else item.der
    ctx = c.CertCreateCertificateContext(c.X509_ASN_ENCODING, der, len(der))
    assert ctx is not None
    return ctx


# --- CERT_INFO -------------------------------------------------------------------------


def test_cert_info_fields_are_the_encoded_pieces(pki: Pki) -> None:
    cert = pki.leaf.cert
    info = context(pki.leaf).pCertInfo
    assert isinstance(info, c.CERT_INFO)
    assert info.dwVersion == c.CERT_V3
    # The INTEGER's content octets (minimal two's complement), reversed.
    content = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 8) // 8, "big")
    assert info.SerialNumber.tobytes() == content[::-1]
    assert info.Issuer.tobytes() == cert.issuer.public_bytes()
    assert info.Subject.tobytes() == cert.subject.public_bytes()
    assert info.SignatureAlgorithm.pszObjId == cert.signature_algorithm_oid.dotted_string
    assert info.NotBefore == c.FILETIME.from_datetime(cert.not_valid_before_utc)
    assert info.NotAfter == c.FILETIME.from_datetime(cert.not_valid_after_utc)
    spki = info.SubjectPublicKeyInfo
    assert spki.Algorithm.pszObjId == c.szOID_ECC_PUBLIC_KEY
    # The parameters are the encoded named curve (prime256v1).
    assert spki.Algorithm.Parameters.tobytes() == bytes.fromhex("06082a8648ce3d030107")
    point = cert.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert spki.PublicKey.pbData == point and spki.PublicKey.cUnusedBits == 0
    assert info.cExtension == len(cert.extensions) == len(info.rgExtension)
    for ext, mine in zip(cert.extensions, info.rgExtension, strict=True):
        assert mine.pszObjId == ext.oid.dotted_string
        assert mine.fCritical == ext.critical
        assert mine.Value.tobytes() == ext.value.public_bytes()


def test_serial_number_is_little_endian_with_its_sign_byte() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serial")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x80_01_02)  # DER content 00 80 01 02: the sign byte is kept
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime.datetime(2040, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    info = context(cert.public_bytes(serialization.Encoding.DER)).pCertInfo
    assert info.SerialNumber.tobytes() == bytes([0x02, 0x01, 0x80, 0x00])
    assert info.dwVersion == c.CERT_V3 and info.cExtension == 0 and info.rgExtension == []


def test_find_extension(pki: Pki) -> None:
    info = context(pki.leaf).pCertInfo
    found = c.CertFindExtension(c.szOID_BASIC_CONSTRAINTS2, info.cExtension, info.rgExtension)
    assert found is not None and found.fCritical
    # Only the first cExtensions entries are searched, as in C.
    index = [e.pszObjId for e in info.rgExtension].index(c.szOID_SUBJECT_ALT_NAME2)
    assert c.CertFindExtension(c.szOID_SUBJECT_ALT_NAME2, index, info.rgExtension) is None
    assert c.GetLastError() == CRYPT_E_NOT_FOUND
    assert c.CertFindExtension("1.2.3.4", info.cExtension, info.rgExtension) is None
    assert c.GetLastError() == CRYPT_E_NOT_FOUND
    for bad in ((None, 1, info.rgExtension), ("2.5.29.17", -1, []), ("2.5.29.17", 2, None)):
        c.SetLastError(0)
        assert c.CertFindExtension(*bad) is None
        assert c.GetLastError() == c.E_INVALIDARG


def test_verify_time_validity() -> None:
    not_before = datetime.datetime(2030, 1, 1, tzinfo=UTC)
    not_after = datetime.datetime(2031, 1, 1, tzinfo=UTC)
    leaf = make_leaf(None, not_before=not_before, not_after=not_after)
    info = context(leaf).pCertInfo
    second = datetime.timedelta(seconds=1)
    at = c.FILETIME.from_datetime
    assert c.CertVerifyTimeValidity(at(not_before - second), info) == -1
    assert c.CertVerifyTimeValidity(at(not_before), info) == 0
    assert c.CertVerifyTimeValidity(at(not_after), info) == 0
    assert c.CertVerifyTimeValidity(at(not_after + second), info) == 1
    assert c.CertVerifyTimeValidity(None, info) == -1  # now (before 2030)
    for bad in ((None, None), (at(not_before), "not a CERT_INFO"), (12345, info)):
        c.SetLastError(0)
        assert c.CertVerifyTimeValidity(*bad) == 1  # type: ignore[arg-type]
        assert c.GetLastError() == c.E_INVALIDARG


# --- CryptDecodeObjectEx ---------------------------------------------------------------


def san_value(item: Issued) -> bytes:
    info = context(item).pCertInfo
    ext = c.CertFindExtension(c.szOID_SUBJECT_ALT_NAME2, info.cExtension, info.rgExtension)
    assert ext is not None
    return ext.Value.tobytes()


def test_decode_alt_names_with_alloc(pki: Pki) -> None:
    value = san_value(pki.leaf)
    out, size = c.PVOID(), c.DWORD()
    assert c.CryptDecodeObjectEx(
        c.X509_PKCS7_ENCODING,
        c.szOID_SUBJECT_ALT_NAME2,
        value,
        len(value),
        c.CRYPT_DECODE_ALLOC_FLAG | c.CRYPT_DECODE_NOCOPY_FLAG,
        c.CRYPT_DECODE_PARA(),
        out,
        size,
    )
    info = out.value
    assert isinstance(info, c.CERT_ALT_NAME_INFO) and size.value > 0
    assert info.cAltEntry == 4
    choices = [e.dwAltNameChoice for e in info.rgAltEntry]
    assert choices == [c.CERT_ALT_NAME_DNS_NAME] * 2 + [c.CERT_ALT_NAME_IP_ADDRESS] * 2
    assert [e.pwszDNSName for e in info.rgAltEntry[:2]] == ["www.example.com", "localhost"]
    assert info.rgAltEntry[2].IPAddress.tobytes() == bytes([127, 0, 0, 1])
    assert info.rgAltEntry[3].IPAddress.tobytes() == ipaddress.ip_address("::1").packed
    # X509_ALTERNATE_NAME and CryptDecodeObject's two-call form give the same entries.
    needed = c.DWORD()
    assert c.CryptDecodeObject(
        c.X509_ASN_ENCODING, c.X509_ALTERNATE_NAME, value, len(value), 0, None, needed
    )
    assert needed.value == size.value
    short = c.DWORD(needed.value - 1)
    filled = c.CERT_ALT_NAME_INFO()
    assert not c.CryptDecodeObject(
        c.X509_ASN_ENCODING, c.X509_ALTERNATE_NAME, value, len(value), 0, filled, short
    )
    assert c.GetLastError() == c.ERROR_MORE_DATA and short.value == needed.value
    assert filled.cAltEntry == 0
    assert c.CryptDecodeObject(
        c.X509_ASN_ENCODING, c.X509_ALTERNATE_NAME, value, len(value), 0, filled, needed
    )
    assert filled == info


def test_decode_other_extensions(pki: Pki) -> None:
    info = context(pki.intermediate or pki.root).pCertInfo
    ext = c.CertFindExtension(c.szOID_BASIC_CONSTRAINTS2, info.cExtension, info.rgExtension)
    assert ext is not None
    out, size = c.PVOID(), c.DWORD()
    assert c.CryptDecodeObjectEx(
        c.X509_ASN_ENCODING,
        c.X509_BASIC_CONSTRAINTS2,
        ext.Value.pbData,
        ext.Value.cbData,
        c.CRYPT_DECODE_ALLOC_FLAG,
        None,
        out,
        size,
    )
    assert out.value == c.CERT_BASIC_CONSTRAINTS2_INFO(True, True, 0)
    leaf_info = context(pki.leaf).pCertInfo
    eku = c.CertFindExtension(
        c.szOID_ENHANCED_KEY_USAGE, leaf_info.cExtension, leaf_info.rgExtension
    )
    assert eku is not None
    assert c.CryptDecodeObjectEx(
        c.X509_ASN_ENCODING,
        c.szOID_ENHANCED_KEY_USAGE,
        eku.Value.pbData,
        eku.Value.cbData,
        c.CRYPT_DECODE_ALLOC_FLAG,
        None,
        out,
        size,
    )
    assert out.value == c.CERT_ENHKEY_USAGE(1, [c.szOID_PKIX_KP_SERVER_AUTH])


@pytest.mark.parametrize(
    ("encoded", "error"),
    [
        (b"\x30\x05\x82\x03ab", c.CRYPT_E_ASN1_EOD),  # runs past the end
        (b"\x04\x00", c.CRYPT_E_ASN1_BADTAG),  # not a SEQUENCE
        (b"\x30\x02\x99\x00", c.CRYPT_E_ASN1_BADTAG),  # no such GeneralName
        (b"\x30\x00\x00", c.CRYPT_E_ASN1_CORRUPT),  # trailing byte
        (b"\x30\x80\x00\x00", c.CRYPT_E_ASN1_CORRUPT),  # indefinite length
        (b"", c.CRYPT_E_ASN1_EOD),
    ],
)
def test_decode_garbage_fails_with_asn1_errors(encoded: bytes, error: int) -> None:
    out, size = c.PVOID(), c.DWORD()
    assert not c.CryptDecodeObjectEx(
        c.X509_ASN_ENCODING,
        c.szOID_SUBJECT_ALT_NAME2,
        encoded,
        len(encoded),
        c.CRYPT_DECODE_ALLOC_FLAG,
        None,
        out,
        size,
    )
    assert c.GetLastError() == error and out.value is None


def test_decode_hostile_arguments_never_raise(pki: Pki) -> None:
    value = san_value(pki.leaf)
    size = c.DWORD()
    cases: list[tuple[object, ...]] = [
        (c.X509_ASN_ENCODING, "1.2.3", value, len(value), 0, None, size),  # no decoder
        (c.X509_ASN_ENCODING, 999, value, len(value), 0, None, size),
        (c.X509_ASN_ENCODING, c.szOID_SUBJECT_ALT_NAME2, None, 3, 0, None, size),
        (c.X509_ASN_ENCODING, c.szOID_SUBJECT_ALT_NAME2, value, len(value) + 1, 0, None, size),
        (c.X509_ASN_ENCODING, c.szOID_SUBJECT_ALT_NAME2, value, len(value), 0, None, None),
        (0, c.szOID_SUBJECT_ALT_NAME2, value, len(value), 0, None, size),
        (c.X509_ASN_ENCODING, c.szOID_SUBJECT_ALT_NAME2, value, len(value), 0, object(), size),
    ]
    expected = [
        c.ERROR_FILE_NOT_FOUND,
        c.ERROR_FILE_NOT_FOUND,
        c.E_INVALIDARG,
        c.E_INVALIDARG,
        c.ERROR_INVALID_PARAMETER,
        c.E_INVALIDARG,
        c.ERROR_MORE_DATA,  # size 0 declared: the size check comes first
    ]
    for args, error in zip(cases, expected, strict=True):
        c.SetLastError(0)
        assert not c.CryptDecodeObject(*args)  # type: ignore[arg-type]
        assert c.GetLastError() == error, args
    rng = random.Random(21)
    for _ in range(300):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
        mutated = bytearray(value)
        mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        for data in (blob, bytes(mutated), value[: rng.randrange(len(value))]):
            out = c.PVOID()
            ok = c.CryptDecodeObjectEx(
                c.X509_ASN_ENCODING,
                c.X509_ALTERNATE_NAME,
                data,
                len(data),
                c.CRYPT_DECODE_ALLOC_FLAG,
                None,
                out,
                size,
            )
            assert ok == isinstance(out.value, c.CERT_ALT_NAME_INFO)


# --- CertGetNameString and curl's host check ------------------------------------------


def curl_accepts_host(cert: c.CERT_CONTEXT, hostname: str) -> bool:
    """curl's Windows 8+ host check (tests/support/curl_port.py, ported from curl/curl
    lib/vtls/schannel_verify.c, Curl_verify_host) on ``cert``: True when it passes."""
    try:
        curl_port.verify_host_of(cert, hostname)
    except curl_port.CurlError:
        return False
    return True


def test_curl_host_check_accepts_every_san(pki: Pki) -> None:
    leaf = context(pki.leaf)
    for good in ("localhost", "www.example.com", "LOCALHOST", "127.0.0.1", "::1"):
        assert curl_accepts_host(leaf, good), good
    for bad in ("example.com", "localhost2", "127.0.0.2", "::2", "schannel_py tests"):
        assert not curl_accepts_host(leaf, bad), bad


def test_search_all_names_multi_string(pki: Pki) -> None:
    leaf = context(pki.leaf)
    flags = c.CERT_NAME_SEARCH_ALL_NAMES_FLAG
    # Both names, each NUL-terminated, and the final NUL: 15 + 1 + 9 + 1 + 1.
    assert c.CertGetNameString(leaf, c.CERT_NAME_DNS_TYPE, flags, None, None, 0) == 27
    buffer = ctypes.create_unicode_buffer(27)
    assert c.CertGetNameString(leaf, c.CERT_NAME_DNS_TYPE, flags, None, buffer, 27) == 27
    assert buffer[:27] == "www.example.com\0localhost\0\0"
    # Without the flag: the first DNS name only (what made curl reject localhost).
    plain = ctypes.create_unicode_buffer(64)
    assert c.CertGetNameString(leaf, c.CERT_NAME_DNS_TYPE, 0, None, plain, 64) == 16
    assert plain.value == "www.example.com"


def test_search_all_names_without_dns_names() -> None:
    cn_only = context(make_leaf(None, san=False, common_name="cn.example"))
    flags = c.CERT_NAME_SEARCH_ALL_NAMES_FLAG
    buffer = ctypes.create_unicode_buffer(16)
    assert c.CertGetNameString(cn_only, c.CERT_NAME_DNS_TYPE, flags, None, buffer, 16) == 12
    assert buffer[:12] == "cn.example\0\0"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "no host names")])
    nameless_cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime.datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    nameless = context(nameless_cert.public_bytes(serialization.Encoding.DER))
    # No DNS name anywhere: one NUL-terminated empty string.
    assert c.CertGetNameString(nameless, c.CERT_NAME_DNS_TYPE, flags, None, None, 0) == 1
    assert c.CertGetNameString(nameless, c.CERT_NAME_DNS_TYPE, flags, None, buffer, 16) == 1
    assert buffer.value == ""


# --- properties ------------------------------------------------------------------------


def get_property(ctx: c.CERT_CONTEXT, prop: int) -> bytes:
    """The C two-call protocol: size first, then a buffer of that size."""
    size = c.DWORD()
    assert c.CertGetCertificateContextProperty(ctx, prop, None, size)
    buffer = bytearray(size.value)
    assert c.CertGetCertificateContextProperty(ctx, prop, buffer, size)
    assert size.value == len(buffer)
    return bytes(buffer)


def test_hash_properties_and_size_protocol(pki: Pki) -> None:
    ctx = context(pki.leaf)
    der = pki.leaf.der
    assert get_property(ctx, c.CERT_SHA1_HASH_PROP_ID) == hashlib.sha1(der).digest()
    assert get_property(ctx, c.CERT_HASH_PROP_ID) == hashlib.sha1(der).digest()
    assert get_property(ctx, c.CERT_SHA256_HASH_PROP_ID) == hashlib.sha256(der).digest()
    assert get_property(ctx, c.CERT_MD5_HASH_PROP_ID) == hashlib.md5(der).digest()
    short, buffer = c.DWORD(19), bytearray(19)
    assert not c.CertGetCertificateContextProperty(ctx, c.CERT_SHA1_HASH_PROP_ID, buffer, short)
    assert c.GetLastError() == c.ERROR_MORE_DATA and short.value == 20
    assert buffer == bytearray(19)
    # ctypes works as the buffer and the size, as in a C port.
    cbuf, csize = (ctypes.c_ubyte * 32)(), ctypes.c_ulong(32)
    assert c.CertGetCertificateContextProperty(ctx, c.CERT_SHA256_HASH_PROP_ID, cbuf, csize)
    assert bytes(cbuf) == hashlib.sha256(der).digest() and csize.value == 32


def test_absent_property_is_not_found(pki: Pki) -> None:
    ctx = context(pki.leaf)
    for prop in (c.CERT_OCSP_RESPONSE_PROP_ID, c.CERT_FRIENDLY_NAME_PROP_ID, 0x8001):
        size = c.DWORD(99)
        assert not c.CertGetCertificateContextProperty(ctx, prop, None, size)
        assert c.GetLastError() == CRYPT_E_NOT_FOUND
    assert not c.CertGetCertificateContextProperty(ctx, c.CERT_KEY_PROV_INFO_PROP_ID, None, size)
    assert c.GetLastError() == CRYPT_E_NOT_FOUND  # no private key


def test_ocsp_response_and_friendly_name_round_trip(pki: Pki) -> None:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
    out = c.PCCERT_CONTEXT()
    der = pki.leaf.der
    assert c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, out
    )
    ctx = out.value
    assert ctx is not None
    staple = b"\x30\x03\x0a\x01\x00"
    assert c.CertSetCertificateContextProperty(
        ctx, c.CERT_OCSP_RESPONSE_PROP_ID, 0, c.CRYPT_DATA_BLOB.from_bytes(staple)
    )
    name = "My server\0".encode("utf-16-le")
    assert c.CertSetCertificateContextProperty(
        ctx, c.CERT_FRIENDLY_NAME_PROP_ID, 0, c.CRYPT_DATA_BLOB.from_bytes(name)
    )
    # Another context of the same certificate in the store sees them.
    again = c.CertFindCertificateInStore(store, c.X509_ASN_ENCODING, 0, c.CERT_FIND_ANY, None, None)
    assert again is not None
    assert get_property(again, c.CERT_OCSP_RESPONSE_PROP_ID) == staple
    assert get_property(again, c.CERT_FRIENDLY_NAME_PROP_ID) == name
    text = ctypes.create_unicode_buffer(32)
    c.CertGetNameString(again, c.CERT_NAME_FRIENDLY_DISPLAY_TYPE, 0, None, text, 32)
    assert text.value == "My server"
    assert [p for p in _enum_props(again)] == [
        c.CERT_SHA1_HASH_PROP_ID,
        c.CERT_FRIENDLY_NAME_PROP_ID,
        c.CERT_OCSP_RESPONSE_PROP_ID,
    ]
    # Adding the context to another store copies its properties there.
    other = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
    copied = c.PCCERT_CONTEXT()
    assert c.CertAddCertificateContextToStore(other, ctx, c.CERT_STORE_ADD_NEW, copied)
    assert copied.value is not None
    assert get_property(copied.value, c.CERT_OCSP_RESPONSE_PROP_ID) == staple
    # pvData NULL deletes, in this store only.
    assert c.CertSetCertificateContextProperty(ctx, c.CERT_OCSP_RESPONSE_PROP_ID, 0, None)
    size = c.DWORD()
    assert not c.CertGetCertificateContextProperty(again, c.CERT_OCSP_RESPONSE_PROP_ID, None, size)
    assert c.GetLastError() == CRYPT_E_NOT_FOUND
    assert get_property(copied.value, c.CERT_OCSP_RESPONSE_PROP_ID) == staple


def _enum_props(ctx: c.CERT_CONTEXT) -> list[int]:
    out: list[int] = []
    prop = c.CertEnumCertificateContextProperties(ctx, 0)
    while prop:
        out.append(prop)
        prop = c.CertEnumCertificateContextProperties(ctx, prop)
    return out


def test_key_provider_info_follows_the_key(pki: Pki) -> None:
    pfx = c.PFXImportCertStore(c.CRYPT_DATA_BLOB.from_bytes(pki.leaf.to_pkcs12()), "", 0)
    assert pfx is not None
    keyed = c.CertFindCertificateInStore(
        pfx, c.X509_ASN_ENCODING, 0, c.CERT_FIND_HAS_PRIVATE_KEY, None, None
    )
    assert keyed is not None
    size = c.DWORD()
    assert c.CertGetCertificateContextProperty(keyed, c.CERT_KEY_PROV_INFO_PROP_ID, None, size)
    info = c.CRYPT_KEY_PROV_INFO()
    assert c.CertGetCertificateContextProperty(keyed, c.CERT_KEY_PROV_INFO_PROP_ID, info, size)
    assert info.pwszProvName == c.MS_KEY_STORAGE_PROVIDER and info.dwProvType == 0
    assert info.pwszContainerName and size.value >= 48
    assert not c.CertGetCertificateContextProperty(
        keyed, c.CERT_KEY_PROV_INFO_PROP_ID, bytearray(size.value), size
    )
    assert c.GetLastError() == c.E_INVALIDARG  # a structure property needs the structure
    # Deleting the property detaches the key.
    assert c.CertSetCertificateContextProperty(keyed, c.CERT_KEY_PROV_INFO_PROP_ID, 0, None)
    assert keyed.private_key is None
    assert (
        c.CertFindCertificateInStore(
            pfx, c.X509_ASN_ENCODING, 0, c.CERT_FIND_HAS_PRIVATE_KEY, None, None
        )
        is None
    )


def test_property_hostile_arguments(pki: Pki) -> None:
    ctx = context(pki.leaf)
    size = c.DWORD()
    get_cases: list[tuple[object, ...]] = [
        (None, c.CERT_SHA1_HASH_PROP_ID, None, size),
        (ctx, "3", None, size),
        (ctx, c.CERT_SHA1_HASH_PROP_ID, None, None),
        (ctx, c.CERT_SHA1_HASH_PROP_ID, None, 20),
        (ctx, c.CERT_SHA1_HASH_PROP_ID, b"read-only buffer....", c.DWORD(20)),
        (ctx, c.CERT_SHA1_HASH_PROP_ID, object(), c.DWORD(20)),
    ]
    for args in get_cases:
        c.SetLastError(0)
        assert not c.CertGetCertificateContextProperty(*args)  # type: ignore[arg-type]
        assert c.GetLastError() == c.E_INVALIDARG, args
    set_cases: list[tuple[object, ...]] = [
        (None, c.CERT_OCSP_RESPONSE_PROP_ID, 0, c.CRYPT_DATA_BLOB.from_bytes(b"x")),
        (ctx, 0, 0, c.CRYPT_DATA_BLOB.from_bytes(b"x")),
        (ctx, c.CERT_OCSP_RESPONSE_PROP_ID, 0, b"not a blob"),
        (ctx, c.CERT_OCSP_RESPONSE_PROP_ID, 0, c.CRYPT_DATA_BLOB(4, 1234)),  # type: ignore[arg-type]
        (ctx, c.CERT_KEY_PROV_INFO_PROP_ID, 0, c.CRYPT_DATA_BLOB.from_bytes(b"x")),
    ]
    for args in set_cases:
        c.SetLastError(0)
        assert not c.CertSetCertificateContextProperty(*args)  # type: ignore[arg-type]
        assert c.GetLastError() == c.E_INVALIDARG, args
    assert c.CertEnumCertificateContextProperties(None, 0) == 0


# --- CryptQueryObject ------------------------------------------------------------------


def test_curl_ca_bundle_through_crypt_query_object(pki: Pki) -> None:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None)
    assert store is not None
    # curl's CA-bundle loader (tests/support/curl_port.py, ported from curl/curl
    # lib/vtls/schannel_verify.c, add_certs_data_to_store): each BEGIN..END span through
    # CryptQueryObject(CERT_QUERY_OBJECT_BLOB, CONTENT_FLAG_CERT), added with ADD_ALWAYS.
    bundle = b"# comment\n" + pki.root.pem + pki.leaf.pem.replace(b"\n", b"\r\n")
    assert curl_port.add_certs_data_to_store(store, bundle) == 2
    assert [ctx.pbCertEncoded for ctx in store] == [pki.root.der, pki.leaf.der]
    broken = pki.root.pem.replace(b"MII", b"M!I", 1)
    with pytest.raises(curl_port.CurlError, match="failed to extract certificate"):
        curl_port.add_certs_data_to_store(store, broken)
    assert c.GetLastError() == c.CRYPT_E_NO_MATCH
    # Older curl asked for CERT_QUERY_FORMAT_FLAG_ALL and checked the content type found.
    for blob, want in ((pki.leaf.pem.replace(b"\n", b"\r\n"), pki.leaf.der), (broken, None)):
        content_type, cert = c.DWORD(), c.PCCERT_CONTEXT()
        ok = c.CryptQueryObject(
            c.CERT_QUERY_OBJECT_BLOB,
            c.CRYPT_DATA_BLOB.from_bytes(blob),
            c.CERT_QUERY_CONTENT_FLAG_CERT,
            c.CERT_QUERY_FORMAT_FLAG_ALL,
            0,
            None,
            content_type,
            None,
            None,
            None,
            cert,
        )
        if want is None:
            assert not ok and c.GetLastError() == c.CRYPT_E_NO_MATCH
        else:
            assert ok and content_type.value == c.CERT_QUERY_CONTENT_CERT
            assert cert.value is not None and cert.value.pbCertEncoded == want


def test_crypt_query_object_files_and_formats(pki: Pki, tmp_path: Path) -> None:
    der_file, pem_file = tmp_path / "leaf.cer", tmp_path / "leaf.pem"
    der_file.write_bytes(pki.leaf.der)
    pem_file.write_bytes(pki.leaf.pem)
    for path, fmt in (
        (der_file, c.CERT_QUERY_FORMAT_BINARY),
        (pem_file, c.CERT_QUERY_FORMAT_BASE64_ENCODED),
    ):
        encoding, content, found_fmt = c.DWORD(), c.DWORD(), c.DWORD()
        store, msg, cert = c.PVOID(), c.PVOID(), c.PCCERT_CONTEXT()
        assert c.CryptQueryObject(
            c.CERT_QUERY_OBJECT_FILE,
            str(path),
            c.CERT_QUERY_CONTENT_FLAG_ALL,
            c.CERT_QUERY_FORMAT_FLAG_ALL,
            0,
            encoding,
            content,
            found_fmt,
            store,
            msg,
            cert,
        )
        assert content.value == c.CERT_QUERY_CONTENT_CERT and found_fmt.value == fmt
        assert encoding.value == c.X509_PKCS7_ENCODING and msg.value is None
        assert cert.value is not None and cert.value.pbCertEncoded == pki.leaf.der
        assert cert.value.hCertStore is store.value
    # Binary only: the PEM file does not match.
    assert not c.CryptQueryObject(
        c.CERT_QUERY_OBJECT_FILE,
        str(pem_file),
        c.CERT_QUERY_CONTENT_FLAG_CERT,
        c.CERT_QUERY_FORMAT_FLAG_BINARY,
        0,
        None,
        None,
        None,
        None,
        None,
        None,
    )
    assert c.GetLastError() == c.CRYPT_E_NO_MATCH
    pfx = pki.leaf.to_pkcs12()
    content = c.DWORD()
    assert c.CryptQueryObject(
        c.CERT_QUERY_OBJECT_BLOB,
        c.CRYPT_DATA_BLOB.from_bytes(pfx),
        c.CERT_QUERY_CONTENT_FLAG_ALL,
        c.CERT_QUERY_FORMAT_FLAG_ALL,
        0,
        None,
        content,
        None,
        None,
        None,
        None,
    )
    assert content.value == c.CERT_QUERY_CONTENT_PFX
    from cryptography.hazmat.primitives.serialization import pkcs7

    p7b = pkcs7.serialize_certificates([pki.leaf.cert, pki.root.cert], serialization.Encoding.DER)
    store = c.PVOID()
    assert c.CryptQueryObject(
        c.CERT_QUERY_OBJECT_BLOB,
        c.CRYPT_DATA_BLOB.from_bytes(p7b),
        c.CERT_QUERY_CONTENT_FLAG_ALL,
        c.CERT_QUERY_FORMAT_FLAG_ALL,
        0,
        None,
        content,
        None,
        store,
        None,
        None,
    )
    assert content.value == c.CERT_QUERY_CONTENT_PKCS7_SIGNED
    assert sorted(x.pbCertEncoded for x in store.value) == sorted([pki.leaf.der, pki.root.der])


def test_crypt_query_object_hostile(tmp_path: Path) -> None:
    cases: list[tuple[tuple[object, ...], int]] = [
        ((c.CERT_QUERY_OBJECT_FILE, str(tmp_path / "missing.cer")), c.ERROR_FILE_NOT_FOUND),
        ((c.CERT_QUERY_OBJECT_FILE, 42), c.E_INVALIDARG),
        ((c.CERT_QUERY_OBJECT_BLOB, None), c.E_INVALIDARG),
        ((c.CERT_QUERY_OBJECT_BLOB, c.CRYPT_DATA_BLOB(3, 7)), c.E_INVALIDARG),  # type: ignore[arg-type]
        ((99, b"x"), c.E_INVALIDARG),
        (
            (c.CERT_QUERY_OBJECT_BLOB, c.CRYPT_DATA_BLOB.from_bytes(b"\x30\x03\x02\x01\x00")),
            c.CRYPT_E_NO_MATCH,
        ),
        ((c.CERT_QUERY_OBJECT_BLOB, c.CRYPT_DATA_BLOB()), c.CRYPT_E_NO_MATCH),
    ]
    for (kind, obj), error in cases:
        out = c.PCCERT_CONTEXT()
        c.SetLastError(0)
        assert not c.CryptQueryObject(
            kind,
            obj,
            c.CERT_QUERY_CONTENT_FLAG_ALL,
            c.CERT_QUERY_FORMAT_FLAG_ALL,
            0,
            None,
            None,
            None,
            None,
            None,
            out,
        )
        assert c.GetLastError() == error and out.value is None


# --- CryptStringToBinary / CryptBinaryToString -----------------------------------------


def test_curl_thumbprint_hex(pki: Pki) -> None:
    # curl/curl lib/vtls/schannel.c, get_client_cert: the 40 hex digits of a
    # "CurrentUser\MY\<thumbprint>" path become CERT_FIND_HASH's blob.
    thumb = hashlib.sha1(pki.leaf.der).hexdigest().upper()
    data, size = (ctypes.c_ubyte * 20)(), c.DWORD(20)
    assert c.CryptStringToBinary(thumb, 40, c.CRYPT_STRING_HEX, data, size, None, None)
    assert bytes(data) == hashlib.sha1(pki.leaf.der).digest() and size.value == 20
    spaced = " ".join(thumb[i : i + 2] for i in range(0, 40, 2))
    assert c.CryptStringToBinaryA(spaced.encode(), 0, c.CRYPT_STRING_HEX, None, size, None, None)
    assert size.value == 20
    for bad in (thumb[:39], thumb[:38] + "zz"):
        assert not c.CryptStringToBinary(bad, 0, c.CRYPT_STRING_HEX, None, size, None, None)
        assert c.GetLastError() == c.ERROR_INVALID_DATA


def test_pem_round_trip_and_line_layout(pki: Pki) -> None:
    der = pki.leaf.der
    need = c.DWORD()
    assert c.CryptBinaryToStringA(der, len(der), c.CRYPT_STRING_BASE64HEADER, None, need)
    text = ctypes.create_string_buffer(need.value)
    written = c.DWORD(need.value)
    assert c.CryptBinaryToStringA(der, len(der), c.CRYPT_STRING_BASE64HEADER, text, written)
    assert written.value == need.value - 1  # without the NUL on success
    pem = text.value.decode()
    lines = pem.split("\r\n")
    assert lines[0] == "-----BEGIN CERTIFICATE-----" and lines[-2] == "-----END CERTIFICATE-----"
    assert lines[-1] == "" and all(len(line) == 64 for line in lines[1:-3])
    assert (
        x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER) == der
    )
    small = c.DWORD(need.value - 1)
    assert not c.CryptBinaryToStringA(der, len(der), c.CRYPT_STRING_BASE64HEADER, text, small)
    assert c.GetLastError() == c.ERROR_MORE_DATA and small.value == need.value
    # And back, with where the data started and which format was found.
    skip, found, size = c.DWORD(), c.DWORD(), c.DWORD()
    prefixed = "junk\n" + pem
    assert c.CryptStringToBinaryW(prefixed, 0, c.CRYPT_STRING_ANY, None, size, skip, found)
    assert size.value == len(der) and skip.value == 5
    assert found.value == c.CRYPT_STRING_BASE64HEADER
    out = bytearray(size.value)
    assert c.CryptStringToBinaryW(prefixed, 0, c.CRYPT_STRING_BASE64_ANY, out, size, None, None)
    assert bytes(out) == der
    nocrlf = c.DWORD(4096)
    buf = ctypes.create_unicode_buffer(4096)
    flags = c.CRYPT_STRING_BASE64 | c.CRYPT_STRING_NOCRLF
    assert c.CryptBinaryToStringW(der, len(der), flags, buf, nocrlf)
    assert "\r" not in buf.value and "\n" not in buf.value and len(buf.value) == nocrlf.value
    raw = c.DWORD(100)
    hexbuf = ctypes.create_unicode_buffer(100)
    assert c.CryptBinaryToStringW(b"\x01\xab", 2, c.CRYPT_STRING_HEXRAW, hexbuf, raw)
    assert hexbuf.value == "01ab\r\n" and raw.value == 6


def test_string_codecs_hostile() -> None:
    size = c.DWORD()
    assert not c.CryptBinaryToStringA(None, 3, c.CRYPT_STRING_BASE64, None, size)
    assert c.GetLastError() == c.ERROR_INVALID_PARAMETER
    assert not c.CryptBinaryToStringA(b"abc", 3, c.CRYPT_STRING_BASE64, None, None)
    assert c.GetLastError() == c.ERROR_INVALID_PARAMETER
    assert not c.CryptBinaryToStringA(b"abc", 3, c.CRYPT_STRING_HEXASCIIADDR, None, size)
    assert c.GetLastError() == c.ERROR_INVALID_PARAMETER
    assert not c.CryptStringToBinaryA(None, 0, c.CRYPT_STRING_BASE64, None, size, None, None)
    assert c.GetLastError() == c.ERROR_INVALID_PARAMETER
    assert not c.CryptStringToBinaryA("QUJD", 99, c.CRYPT_STRING_BASE64, None, size, None, None)
    assert c.GetLastError() == c.ERROR_INVALID_PARAMETER  # cch past the string
    assert not c.CryptStringToBinaryA("QU!D", 0, c.CRYPT_STRING_BASE64, None, size, None, None)
    assert c.GetLastError() == c.ERROR_INVALID_DATA
    assert not c.CryptStringToBinaryA(
        "no armour", 0, c.CRYPT_STRING_BASE64HEADER, None, size, None, None
    )
    assert c.GetLastError() == c.ERROR_INVALID_DATA
    small = c.DWORD(2)
    assert not c.CryptStringToBinaryA(
        "QUJD", 0, c.CRYPT_STRING_BASE64, bytearray(2), small, None, None
    )
    assert c.GetLastError() == c.ERROR_MORE_DATA and small.value == 3
    ro = c.DWORD(3)
    assert not c.CryptStringToBinaryA("QUJD", 0, c.CRYPT_STRING_BASE64, b"xyz", ro, None, None)
    assert c.GetLastError() == c.ERROR_INVALID_PARAMETER
