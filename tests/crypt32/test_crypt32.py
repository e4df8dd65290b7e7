"""schannel_py.crypt32: contexts, stores, the ROOT store's sources, server-chain validation."""

from __future__ import annotations

import datetime
import hashlib
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from schannel_py import crypt32 as c
from schannel_py.constants import (
    CRYPT_E_NOT_FOUND,
    SEC_E_CERT_EXPIRED,
    SEC_E_CERT_UNKNOWN,
    SEC_E_CERT_WRONG_USAGE,
    SEC_E_OK,
    SEC_E_UNTRUSTED_ROOT,
    SEC_E_WRONG_PRINCIPAL,
)
from schannel_py.testing.pki import (
    ROOT_NAME,
    Issued,
    Pki,
    make_ca,
    make_leaf,
    make_pki,
    make_self_signed,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("isolated_stores")


def memory_store() -> c.CertStore:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
    assert store is not None
    return store


def add(store: c.CertStore, der: bytes, disposition: int = c.CERT_STORE_ADD_NEW) -> c.CERT_CONTEXT:
    out = c.PCCERT_CONTEXT()
    assert c.CertAddEncodedCertificateToStore(
        store, c.X509_PKCS7_ENCODING, der, len(der), disposition, out
    )
    assert out.value is not None
    return out.value


def enumerate_store(store: c.CertStore) -> list[c.CERT_CONTEXT]:
    """The C loop: ctx = CertEnumCertificatesInStore(store, ctx) until NULL."""
    out: list[c.CERT_CONTEXT] = []
    ctx = c.CertEnumCertificatesInStore(store, None)
    while ctx is not None:
        out.append(ctx)
        ctx = c.CertEnumCertificatesInStore(store, ctx)
    return out


def roots_of(*issued: Issued) -> c.CertStore:
    store = memory_store()
    for item in issued:
        add(store, item.der)
    return store


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(dns_names=["a.example.com", "www.example.com"])


# --- contexts -------------------------------------------------------------------------


def test_create_context_fields(pki: Pki) -> None:
    der = pki.leaf.der
    ctx = c.CertCreateCertificateContext(c.X509_ASN_ENCODING, der, len(der))
    assert ctx is not None
    assert ctx.dwCertEncodingType == 0x10001
    assert ctx.pbCertEncoded == der and ctx.cbCertEncoded == len(der)
    assert isinstance(ctx.pCertInfo, c.CERT_INFO) and ctx.pCertInfo is ctx.pCertInfo
    assert ctx.certificate.serial_number == pki.leaf.cert.serial_number
    assert ctx.hCertStore is None and ctx.private_key is None
    assert c.CertDuplicateCertificateContext(ctx) is ctx
    assert c.CertFreeCertificateContext(ctx) is True


def test_create_context_uses_only_cb_bytes(pki: Pki) -> None:
    der = pki.leaf.der
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, der + b"junk", len(der)) is not None
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, der, len(der) - 1) is None
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, der, len(der) + 1) is None
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, bytearray(der), len(der)) is not None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30",
        b"\x30\x00",
        b"not a certificate",
        b"\x00" * 64,
        b"\x30\x82\xff\xff" + b"\x00" * 16,
    ],
)
def test_create_context_bad_der_is_null(data: bytes) -> None:
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, data, len(data)) is None
    assert c.GetLastError() != 0


def test_create_context_rejects_pem_and_bad_arguments(pki: Pki) -> None:
    pem = pki.leaf.pem
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, pem, len(pem)) is None
    der = pki.leaf.der
    assert c.CertCreateCertificateContext(0, der, len(der)) is None  # no X509_ASN_ENCODING
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, None, 0) is None
    assert c.CertCreateCertificateContext(c.X509_ASN_ENCODING, der, -1) is None
    assert c.GetLastError() == c.E_INVALIDARG


def test_create_context_never_raises_on_mutations(pki: Pki) -> None:
    rng = random.Random(1234)
    der = pki.leaf.der
    for _ in range(300):
        data = bytearray(der)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.randint(0, len(data))
        c.CertCreateCertificateContext(c.X509_ASN_ENCODING, bytes(data), cut)
        c.CertCreateCertificateContext(c.X509_ASN_ENCODING, bytes(data), len(data))


def test_cert_context_from_pem(pki: Pki) -> None:
    ctx = c.cert_context_from_pem(pki.leaf.chain_pem)
    assert ctx is not None and ctx.pbCertEncoded == pki.leaf.der
    assert [x.pbCertEncoded for x in c.cert_contexts_from_pem(pki.leaf.chain_pem.decode())] == (
        pki.chain_der
    )
    assert c.cert_context_from_pem(b"nothing here") is None
    broken = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"
    assert c.pem_certificates_to_der(broken + pki.root.pem) == [pki.root.der]


# --- stores ---------------------------------------------------------------------------


def test_memory_store_enumeration_order_and_end(pki: Pki) -> None:
    store = memory_store()
    order = [pki.root.der, pki.leaf.der, pki.intermediate.der if pki.intermediate else b""]
    contexts = [add(store, der) for der in order]
    assert all(ctx.hCertStore is store for ctx in contexts)
    assert [x.pbCertEncoded for x in enumerate_store(store)] == order
    # Contexts are stable objects, so C iteration works with them.
    assert enumerate_store(store) == contexts
    assert list(store) == contexts and len(store) == 3
    assert c.CertEnumCertificatesInStore(store, contexts[-1]) is None
    assert c.GetLastError() == CRYPT_E_NOT_FOUND


def test_empty_store() -> None:
    store = memory_store()
    assert store  # a handle is truthy even when empty (C: `if (!hStore)`)
    assert c.CertEnumCertificatesInStore(store, None) is None
    assert c.GetLastError() == CRYPT_E_NOT_FOUND
    assert c.CertCloseStore(store, 0) is True


def test_add_dispositions(pki: Pki) -> None:
    store = memory_store()
    first = add(store, pki.root.der)
    add(store, pki.leaf.der)
    der = pki.root.der
    out = c.PCCERT_CONTEXT()

    assert not c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, out
    )
    assert c.GetLastError() == c.CRYPT_E_EXISTS and out.value is None

    assert add(store, der, c.CERT_STORE_ADD_USE_EXISTING) is first
    replaced = add(store, der, c.CERT_STORE_ADD_REPLACE_EXISTING)
    assert replaced.pbCertEncoded == der
    add(store, der, c.CERT_STORE_ADD_ALWAYS)
    # Never a duplicate, and a replaced certificate keeps its place.
    assert [x.pbCertEncoded for x in enumerate_store(store)] == [pki.root.der, pki.leaf.der]

    assert not c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), 99, None
    )
    assert c.GetLastError() == c.E_INVALIDARG
    assert not c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, b"junk", 4, c.CERT_STORE_ADD_NEW, None
    )
    assert len(store) == 2


def test_add_context_copies_private_key(pki: Pki) -> None:
    src = c.cert_context_from_pem(pki.leaf.pem)
    assert src is not None
    src.private_key = pki.leaf.key
    store = memory_store()
    out = c.PCCERT_CONTEXT()
    assert c.CertAddCertificateContextToStore(store, src, c.CERT_STORE_ADD_NEW, out)
    assert out.value is not None and out.value is not src
    assert out.value.hCertStore is store and out.value.private_key is pki.leaf.key
    # REPLACE_EXISTING with a key-less copy drops the key; the INHERIT variant keeps it.
    der = pki.leaf.der
    add(store, der, c.CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES)
    assert c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_HAS_PRIVATE_KEY, None, None)
    add(store, der, c.CERT_STORE_ADD_REPLACE_EXISTING)
    assert (
        c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_HAS_PRIVATE_KEY, None, None) is None
    )


def test_delete_while_enumerating() -> None:
    root = make_ca("Delete Test CA")
    leaves = [make_leaf(root, dns_names=[f"h{i}.example"]) for i in range(4)]
    store = roots_of(*leaves)
    seen = []
    ctx = c.CertEnumCertificatesInStore(store, None)
    while ctx is not None:
        seen.append(ctx.pbCertEncoded)
        if ctx.pbCertEncoded in (leaves[1].der, leaves[2].der):
            assert c.CertDeleteCertificateFromStore(c.CertDuplicateCertificateContext(ctx))
        ctx = c.CertEnumCertificatesInStore(store, ctx)
    assert seen == [x.der for x in leaves]
    assert [x.pbCertEncoded for x in store] == [leaves[0].der, leaves[3].der]


def test_find_by_subject_and_issuer_string() -> None:
    root = make_ca("Find Test Root")
    alpha = make_leaf(root, dns_names=["alpha.example.com"])
    beta = make_leaf(root, dns_names=["beta.example.com"])
    other = make_leaf(root, dns_names=["gamma.example.org"])
    store = roots_of(root, alpha, beta, other)

    found = []
    ctx = None
    while True:
        ctx = c.CertFindCertificateInStore(
            store, c.X509_PKCS7_ENCODING, 0, c.CERT_FIND_SUBJECT_STR, "EXAMPLE.COM", ctx
        )
        if ctx is None:
            break
        found.append(ctx.pbCertEncoded)
    assert found == [alpha.der, beta.der]
    assert c.GetLastError() == CRYPT_E_NOT_FOUND

    hit = c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_SUBJECT_STR_A, b"gamma", None)
    assert hit is not None and hit.pbCertEncoded == other.der
    by_issuer = c.CertFindCertificateInStore(
        store, 1, 0, c.CERT_FIND_ISSUER_STR_W, "find test", None
    )
    assert by_issuer is not None and by_issuer.pbCertEncoded == root.der  # self-issued comes first
    assert c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_SUBJECT_STR, "nope", None) is None
    assert c.GetLastError() == CRYPT_E_NOT_FOUND


def test_find_by_hash_name_key_and_existing() -> None:
    root = make_ca("Hash Test Root")
    leaf = make_leaf(root)
    store = roots_of(root, leaf)
    sha1 = c.CRYPT_HASH_BLOB.from_bytes(hashlib.sha1(leaf.der).digest())
    hit = c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_SHA1_HASH, sha1, None)
    assert hit is not None and hit.pbCertEncoded == leaf.der
    assert c.CERT_FIND_HASH == c.CERT_FIND_SHA1_HASH == 0x10000
    sha256 = hashlib.sha256(root.der).digest()
    hit = c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_SHA256_HASH, sha256, None)
    assert hit is not None and hit.pbCertEncoded == root.der
    name = c.CERT_NAME_BLOB.from_bytes(leaf.cert.subject.public_bytes())
    hit = c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_SUBJECT_NAME, name, None)
    assert hit is not None and hit.pbCertEncoded == leaf.der
    leaf_ctx = c.CertCreateCertificateContext(1, leaf.der, len(leaf.der))
    hit = c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_EXISTING, leaf_ctx, None)
    assert hit is not None and hit.hCertStore is store
    hit = c.CertFindCertificateInStore(store, 1, 0, c.CERT_FIND_ISSUER_OF, leaf_ctx, None)
    assert hit is not None and hit.pbCertEncoded == root.der
    assert c.CertFindCertificateInStore(store, 1, 0, 0x7FFF0000, None, None) is None
    assert c.GetLastError() == c.E_INVALIDARG


def test_find_constants_match_wincrypt() -> None:
    assert c.CERT_FIND_ANY == 0
    assert c.CERT_FIND_SUBJECT_STR_A == 0x00070007
    assert c.CERT_FIND_SUBJECT_STR_W == c.CERT_FIND_SUBJECT_STR == 0x00080007
    assert c.CERT_FIND_ISSUER_STR_W == 0x00080004
    assert c.CERT_FIND_EXISTING == 0x000D0000
    assert c.CERT_STORE_PROV_MEMORY == 2 and c.CERT_STORE_PROV_SYSTEM == 10


def test_system_stores_are_process_global(pki: Pki) -> None:
    my1 = c.CertOpenSystemStore(None, "MY")
    assert my1 is not None and len(my1) == 0
    add(my1, pki.leaf.der)
    my2 = c.CertOpenStore(c.CERT_STORE_PROV_SYSTEM, 0, None, c.CERT_SYSTEM_STORE_CURRENT_USER, "my")
    assert my2 is not None
    contexts = enumerate_store(my2)
    assert [x.pbCertEncoded for x in contexts] == [pki.leaf.der]
    assert contexts[0].hCertStore is my2  # each handle owns its contexts
    assert c.CertCloseStore(my1, 0) and c.CertCloseStore(my2, 0)
    again = c.CertOpenSystemStoreW(None, "MY")
    assert again is not None and len(again) == 1
    ca = c.CertOpenSystemStoreA(None, b"CA")
    assert ca is not None and len(ca) == 0


def test_open_store_flags_and_failures(pki: Pki) -> None:
    ro = c.CertOpenStore(c.CERT_STORE_PROV_SYSTEM, 0, None, c.CERT_STORE_READONLY_FLAG, "MY")
    assert ro is not None
    der = pki.leaf.der
    assert not c.CertAddEncodedCertificateToStore(ro, 1, der, len(der), c.CERT_STORE_ADD_NEW, None)
    assert c.GetLastError() == c.E_ACCESSDENIED
    assert (
        c.CertOpenStore(
            c.CERT_STORE_PROV_SYSTEM, 0, None, c.CERT_STORE_OPEN_EXISTING_FLAG, "NoSuchStore"
        )
        is None
    )
    assert c.GetLastError() == c.ERROR_FILE_NOT_FOUND
    assert c.CertOpenStore(c.CERT_STORE_PROV_SYSTEM, 0, None, 0, "NewStore") is not None
    assert (
        c.CertOpenStore(
            c.CERT_STORE_PROV_SYSTEM, 0, None, c.CERT_STORE_OPEN_EXISTING_FLAG, "newstore"
        )
        is not None
    )
    assert c.CertOpenStore(c.CERT_STORE_PROV_SYSTEM, 0, None, 0, None) is None
    assert c.CertOpenStore(c.CERT_STORE_PROV_PKCS7, 0, None, 0, None) is None
    assert isinstance(c.CertOpenStore("Memory", 0, None, 0, None), c.CertStore)


# --- the ROOT store -------------------------------------------------------------------


def test_root_contains_os_bundle() -> None:
    os_roots = c.os_root_certificates_der()
    if not os_roots:
        pytest.skip("no OS CA bundle on this machine")
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    assert [x.pbCertEncoded for x in root][: len(os_roots)] == list(os_roots)


def test_root_env_file_is_read_at_open_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = make_ca("Env Root CA")
    pem = tmp_path / "roots.pem"
    pem.write_bytes(
        b"junk before\n"
        + ca.pem
        + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )

    def root_ders() -> list[bytes]:
        store = c.CertOpenSystemStore(None, "ROOT")
        assert store is not None
        return [x.pbCertEncoded for x in store]

    assert ca.der not in root_ders()
    monkeypatch.setenv(c.ROOT_CERTS_ENV, str(pem))
    assert ca.der in root_ders()
    other = make_ca("Env Root CA 2")
    pem.write_bytes(other.pem)  # the file is re-read too, not only the variable
    assert other.der in root_ders() and ca.der not in root_ders()
    monkeypatch.setenv(c.ROOT_CERTS_ENV, str(tmp_path / "missing.pem"))
    assert other.der not in root_ders()
    monkeypatch.delenv(c.ROOT_CERTS_ENV)
    assert other.der not in root_ders()


def test_root_in_process_additions_persist(pki: Pki) -> None:
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    add(root, pki.root.der)
    c.CertCloseStore(root, 0)
    again = c.CertOpenSystemStore(None, "ROOT")
    assert again is not None
    ders = [x.pbCertEncoded for x in again]
    assert ders[-1] == pki.root.der and ders.count(pki.root.der) == 1
    assert pki.root.der in c.root_certificates_der()


def test_root_order_env_after_os_and_no_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = make_ca("Order Root CA")
    pem = tmp_path / "roots.pem"
    pem.write_bytes(ca.pem + ca.pem)
    monkeypatch.setenv(c.ROOT_CERTS_ENV, str(pem))
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    add(root, ca.der, c.CERT_STORE_ADD_USE_EXISTING)
    ders = [x.pbCertEncoded for x in root]
    assert ders.count(ca.der) == 1
    assert ders.index(ca.der) == len(c.os_root_certificates_der())


# --- names and PFX --------------------------------------------------------------------


def test_name_strings(pki: Pki) -> None:
    ctx = c.cert_context_from_pem(pki.leaf.pem)
    assert ctx is not None
    subject = ctx.certificate.subject
    assert c.name_to_str(subject, c.CERT_SIMPLE_NAME_STR) == "schannel_py tests, a.example.com"
    assert c.name_to_str(subject, c.CERT_X500_NAME_STR) == "O=schannel_py tests, CN=a.example.com"
    assert (
        c.name_to_str(subject, c.CERT_X500_NAME_STR | c.CERT_NAME_STR_REVERSE_FLAG)
        == "CN=a.example.com, O=schannel_py tests"
    )

    class Buf:
        value = ""

    buf = Buf()
    blob = c.CERT_NAME_BLOB.from_bytes(subject.public_bytes())
    n = c.CertNameToStrW(c.X509_ASN_ENCODING, blob, c.CERT_X500_NAME_STR, buf, 100)
    assert buf.value == "O=schannel_py tests, CN=a.example.com" and n == len(buf.value) + 1
    assert c.CertGetNameStringW(ctx, c.CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, None, buf, 6) == 14
    assert buf.value == "a.exa"
    c.CertGetNameString(ctx, c.CERT_NAME_DNS_TYPE, 0, None, buf, 100)
    assert buf.value == "a.example.com"
    c.CertGetNameString(
        ctx, c.CERT_NAME_SIMPLE_DISPLAY_TYPE, c.CERT_NAME_ISSUER_FLAG, None, buf, 100
    )
    assert buf.value == "schannel_py Test Intermediate CA"
    assert c.CertGetNameString(ctx, c.CERT_NAME_EMAIL_TYPE, 0, None, None, 0) == 1


def test_pfx_import_attaches_key(pki: Pki) -> None:
    pfx = pki.leaf.to_pkcs12(b"secret")
    assert c.PFXIsPFXBlob(c.CRYPT_DATA_BLOB.from_bytes(pfx))
    assert c.PFXImportCertStore(c.CRYPT_DATA_BLOB.from_bytes(pfx), "wrong", 0) is None
    assert c.GetLastError() == c.HRESULT_ERROR_INVALID_PASSWORD
    store = c.PFXImportCertStore(c.CRYPT_DATA_BLOB.from_bytes(pfx), "secret", 0)
    assert store is not None
    contexts = list(store)
    assert [x.pbCertEncoded for x in contexts] == pki.chain_der
    key = contexts[0].private_key
    assert key is not None and contexts[1].private_key is None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.DER, pub) == (
        pki.leaf.key.public_key().public_bytes(serialization.Encoding.DER, pub)
    )
    no_password = pki.leaf.to_pkcs12(None)
    assert c.PFXImportCertStore(c.CRYPT_DATA_BLOB.from_bytes(no_password), None, 0) is not None
    assert c.PFXImportCertStore(c.CRYPT_DATA_BLOB.from_bytes(b"junk"), None, 0) is None


def test_chain_context(pki: Pki) -> None:
    ctx = c.chain_context(pki.chain_der)
    assert ctx is not None and ctx.pbCertEncoded == pki.leaf.der
    assert ctx.hCertStore is not None
    assert [x.pbCertEncoded for x in enumerate_store(ctx.hCertStore)] == pki.chain_der
    assert c.chain_context([]) is None and c.chain_context([b"junk"]) is None


# --- verify_server_chain --------------------------------------------------------------


def verify(
    pki_or_chain: Pki | Issued | list[bytes],
    target: str | None,
    *,
    roots: c.CertStore | None = None,
    now: datetime.datetime = NOW,
    check_name: bool = True,
) -> int:
    if isinstance(pki_or_chain, (Pki, Issued)):
        chain = pki_or_chain.chain_der
        if roots is None:
            roots = roots_of(pki_or_chain.root)
    else:
        chain = pki_or_chain
    return c.verify_server_chain(chain, target, now, check_name=check_name, extra_roots=roots)


def test_good_chain_with_intermediate(pki: Pki) -> None:
    status = verify(pki, "a.example.com")
    assert status == SEC_E_OK and repr(status) == "SEC_E_OK"
    assert verify(pki, "WWW.Example.COM.") == SEC_E_OK


def test_trust_through_root_store_and_env(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = pki.chain_der
    assert c.verify_server_chain(chain, "a.example.com", NOW) == SEC_E_UNTRUSTED_ROOT
    pki.root.write(tmp_path)
    monkeypatch.setenv(c.ROOT_CERTS_ENV, str(tmp_path / "root.pem"))
    assert c.verify_server_chain(chain, "a.example.com", NOW) == SEC_E_OK  # read at validation time
    monkeypatch.delenv(c.ROOT_CERTS_ENV)
    assert c.verify_server_chain(chain, "a.example.com", NOW) == SEC_E_UNTRUSTED_ROOT
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    add(root, pki.root.der)
    assert c.verify_server_chain(chain, "a.example.com", NOW) == SEC_E_OK


def test_untrusted_root(pki: Pki) -> None:
    stranger = make_ca("Stranger Root CA")
    assert verify(pki, "a.example.com", roots=roots_of(stranger)) == SEC_E_UNTRUSTED_ROOT
    # A different CA that happens to have the trusted root's name.
    impostor = make_pki(dns_names=["a.example.com"], root_name=ROOT_NAME)
    assert verify(
        impostor.chain_der + [impostor.root.der], "a.example.com", roots=roots_of(pki.root)
    ) == (SEC_E_UNTRUSTED_ROOT)
    # Self-signed server certificate nobody trusts.
    selfsigned = make_self_signed(["a.example.com"])
    assert (
        verify([selfsigned.der], "a.example.com", roots=roots_of(pki.root)) == SEC_E_UNTRUSTED_ROOT
    )


def test_missing_intermediate_and_ca_store(pki: Pki) -> None:
    roots = roots_of(pki.root)
    assert verify([pki.leaf.der], "a.example.com", roots=roots) == SEC_E_UNTRUSTED_ROOT
    assert pki.intermediate is not None
    ca = c.CertOpenSystemStore(None, "CA")
    assert ca is not None
    add(ca, pki.intermediate.der)
    assert verify([pki.leaf.der], "a.example.com", roots=roots) == SEC_E_OK


def test_chain_may_include_root_and_extra_certificates(pki: Pki) -> None:
    unrelated = make_ca("Unrelated CA")
    chain = [*pki.chain_der, pki.root.der, unrelated.der]
    assert verify(chain, "a.example.com", roots=roots_of(pki.root)) == SEC_E_OK


def test_self_signed_leaf_trusted_in_root() -> None:
    """A self-signed server certificate is trusted once ROOT holds exactly it (as on Windows)."""
    selfsigned = make_self_signed(["self.example"], ip_addresses=["127.0.0.1"])
    assert verify(selfsigned, "self.example") == SEC_E_OK
    assert verify(selfsigned, "127.0.0.1") == SEC_E_OK
    assert verify(selfsigned, "other.example") == SEC_E_WRONG_PRINCIPAL
    assert verify([selfsigned.der], "self.example", roots=memory_store()) == SEC_E_UNTRUSTED_ROOT
    expired = make_self_signed(
        ["self.example"], not_after=datetime.datetime(2021, 1, 1, tzinfo=UTC)
    )
    assert verify(expired, "self.example") == SEC_E_CERT_EXPIRED


def test_expired_and_not_yet_valid_leaf() -> None:
    expired = make_pki(
        dns_names=["a.example.com"],
        not_before=datetime.datetime(2020, 1, 1, tzinfo=UTC),
        not_after=datetime.datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert verify(expired, "a.example.com") == SEC_E_CERT_EXPIRED
    assert (
        verify(expired, "a.example.com", now=datetime.datetime(2023, 6, 1, tzinfo=UTC)) == SEC_E_OK
    )
    future = make_pki(
        dns_names=["a.example.com"],
        not_before=datetime.datetime(2030, 1, 1, tzinfo=UTC),
        not_after=datetime.datetime(2031, 1, 1, tzinfo=UTC),
    )
    assert verify(future, "a.example.com") == SEC_E_CERT_EXPIRED


def test_expired_intermediate() -> None:
    root = make_ca("Expiry Root")
    inter = make_ca(
        "Expired Intermediate", issuer=root, not_after=datetime.datetime(2024, 1, 1, tzinfo=UTC)
    )
    leaf = make_leaf(inter, dns_names=["a.example.com"])
    assert verify(leaf, "a.example.com") == SEC_E_CERT_EXPIRED


def test_naive_now_is_utc(pki: Pki) -> None:
    assert verify(pki, "a.example.com", now=datetime.datetime(2025, 6, 1)) == SEC_E_OK
    edge = make_pki(not_after=datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    assert verify(edge, "localhost", now=datetime.datetime(2025, 6, 1, 12, 0)) == SEC_E_OK
    assert (
        verify(edge, "localhost", now=datetime.datetime(2025, 6, 1, 12, 0, 1)) == SEC_E_CERT_EXPIRED
    )


def test_wrong_name(pki: Pki) -> None:
    assert verify(pki, "b.example.com") == SEC_E_WRONG_PRINCIPAL
    assert verify(pki, "example.com") == SEC_E_WRONG_PRINCIPAL
    assert verify(pki, "b.example.com", check_name=False) == SEC_E_OK
    assert verify(pki, None) == SEC_E_OK
    assert verify(pki, "") == SEC_E_OK


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("a.example.com", True),
        ("ZZZ.Example.Com", True),
        ("a.example.com.", True),
        ("a.b.example.com", False),
        ("example.com", False),
        (".example.com", False),
        ("*.example.com", False),
        ("a.example.org", False),
    ],
)
def test_wildcard(target: str, ok: bool) -> None:
    wild = _wildcard_pki()
    assert verify(wild, target) == (SEC_E_OK if ok else SEC_E_WRONG_PRINCIPAL)


_WILD: list[Pki] = []


def _wildcard_pki() -> Pki:
    if not _WILD:
        _WILD.append(
            make_pki(dns_names=["*.example.com", "*.com", "f*.example.net", "*.*.example.org"])
        )
    return _WILD[0]


def test_bad_wildcards_do_not_match() -> None:
    wild = _wildcard_pki()
    assert verify(wild, "example.com") == SEC_E_WRONG_PRINCIPAL  # "*.com" is too broad
    assert verify(wild, "foo.example.net") == SEC_E_WRONG_PRINCIPAL  # partial labels unsupported
    assert verify(wild, "a.b.example.org") == SEC_E_WRONG_PRINCIPAL


def test_ip_addresses() -> None:
    ips = make_pki(dns_names=["127.0.0.2"], ip_addresses=["127.0.0.1", "::1", "2001:db8::5"])
    assert verify(ips, "127.0.0.1") == SEC_E_OK
    assert verify(ips, "::1") == SEC_E_OK
    assert verify(ips, "[::1]") == SEC_E_OK
    assert verify(ips, "2001:DB8:0::5") == SEC_E_OK
    assert verify(ips, "127.0.0.3") == SEC_E_WRONG_PRINCIPAL
    assert verify(ips, "::2") == SEC_E_WRONG_PRINCIPAL
    # An IP target is only compared with iPAddress entries, never dNSName ones.
    assert verify(ips, "127.0.0.2") == SEC_E_WRONG_PRINCIPAL
    dns_only = make_pki(dns_names=["localhost"])
    assert verify(dns_only, "127.0.0.1") == SEC_E_WRONG_PRINCIPAL


def test_idn_target() -> None:
    idn = make_pki(dns_names=["xn--bcher-kva.example"])
    assert verify(idn, "bücher.example") == SEC_E_OK
    assert verify(idn, "xn--bcher-kva.example") == SEC_E_OK


def test_no_san_means_no_name_match() -> None:
    cn_only = make_pki(dns_names=[], common_name="cn-only.example")
    assert verify(cn_only, "cn-only.example") == SEC_E_WRONG_PRINCIPAL
    assert verify(cn_only, "cn-only.example", check_name=False) == SEC_E_OK


@pytest.mark.parametrize(
    ("eku", "expected"),
    [
        (["serverAuth"], SEC_E_OK),
        (["clientAuth", "serverAuth"], SEC_E_OK),
        (None, SEC_E_OK),
        (["any"], SEC_E_OK),
        (["clientAuth"], SEC_E_CERT_WRONG_USAGE),
        (["codeSigning", "emailProtection"], SEC_E_CERT_WRONG_USAGE),
    ],
)
def test_leaf_eku(eku: list[str] | None, expected: int) -> None:
    assert verify(make_pki(dns_names=["a.example.com"], eku=eku), "a.example.com") == expected


def test_intermediate_eku_restricts_usage() -> None:
    root = make_ca("EKU Root")
    inter = make_ca("Client-only Intermediate", issuer=root, eku=["clientAuth"])
    leaf = make_leaf(inter, dns_names=["a.example.com"])
    assert verify(leaf, "a.example.com") == SEC_E_CERT_WRONG_USAGE
    inter_ok = make_ca("Server Intermediate", issuer=root, eku=["serverAuth", "clientAuth"])
    assert verify(make_leaf(inter_ok, dns_names=["a.example.com"]), "a.example.com") == SEC_E_OK


def test_precedence() -> None:
    """untrusted root > expired > wrong usage > wrong principal."""
    old = datetime.datetime(2021, 1, 1, tzinfo=UTC)
    bad_all = make_pki(dns_names=["x.example"], eku=["clientAuth"], not_after=old)
    stranger = roots_of(make_ca("Someone Else"))
    assert verify(bad_all, "y.example", roots=stranger) == SEC_E_UNTRUSTED_ROOT
    assert verify(bad_all, "y.example") == SEC_E_CERT_EXPIRED
    usage_and_name = make_pki(dns_names=["x.example"], eku=["clientAuth"])
    assert verify(usage_and_name, "y.example") == SEC_E_CERT_WRONG_USAGE


def test_key_types() -> None:
    for key_type in ("rsa2048", "p384", "ed25519"):
        pki = make_pki(dns_names=["k.example"], leaf_key_type=key_type)
        assert verify(pki, "k.example") == SEC_E_OK, key_type
    rsa_pki = make_pki(
        dns_names=["k.example"], root_key_type="rsa2048", intermediate_key_type="rsa2048"
    )
    assert verify(rsa_pki, "k.example") == SEC_E_OK


def test_bad_signature_is_cert_unknown(pki: Pki) -> None:
    # Same issuer name as the real intermediate, different key.
    assert pki.intermediate is not None
    fake_inter = make_ca(
        "schannel_py Test Intermediate CA", issuer=make_ca("Other Root"), path_length=0
    )
    forged = make_leaf(fake_inter, dns_names=["a.example.com"])
    chain = [forged.der, pki.intermediate.der]
    assert verify(chain, "a.example.com", roots=roots_of(pki.root)) == SEC_E_CERT_UNKNOWN


def test_structural_failure_is_cert_unknown() -> None:
    root = make_ca("Structure Root")
    not_a_ca = make_leaf(root, dns_names=["inter.example"])  # CA:FALSE used as an issuer
    leaf = make_leaf(not_a_ca, dns_names=["a.example.com"])
    assert verify(leaf, "a.example.com") == SEC_E_CERT_UNKNOWN


@pytest.mark.parametrize(
    "chain",
    [[], [b""], [b"garbage bytes"], ["text"], [None]],
)
def test_unparsable_chain_is_cert_unknown(chain: list[bytes]) -> None:
    assert c.verify_server_chain(chain, "a.example.com", NOW) == SEC_E_CERT_UNKNOWN


def test_garbage_after_good_leaf(pki: Pki) -> None:
    assert verify(
        [pki.leaf.der, b"\x30\x03\x02\x01\x00"], "a.example.com", roots=roots_of(pki.root)
    ) == (SEC_E_CERT_UNKNOWN)


def test_never_raises() -> None:
    assert c.verify_server_chain(None, "x", NOW) == SEC_E_CERT_UNKNOWN  # type: ignore[arg-type]
    assert c.verify_server_chain(b"\x30", "x", NOW) == SEC_E_CERT_UNKNOWN  # type: ignore[arg-type]
    assert c.verify_server_chain([b"\x30"], "x", "now") == SEC_E_CERT_UNKNOWN  # type: ignore[arg-type]


def test_status_to_alert() -> None:
    assert c.status_to_alert(SEC_E_UNTRUSTED_ROOT) == 48
    assert c.status_to_alert(SEC_E_CERT_EXPIRED) == 45
    assert c.status_to_alert(SEC_E_WRONG_PRINCIPAL) == 46
    assert c.status_to_alert(SEC_E_CERT_WRONG_USAGE) == 43
    assert c.status_to_alert(SEC_E_CERT_UNKNOWN) == 46  # certificate_unknown
    assert c.status_to_alert(0x80092010) == 44  # CRYPT_E_REVOKED
    assert c.status_to_alert(-2146893019) == 42  # signed LONG form of an unmapped status
    assert c.status_to_alert(None) == 42  # type: ignore[arg-type]


def test_written_files_load(tmp_path: Path, pki: Pki) -> None:
    paths = pki.write(tmp_path, "srv-")
    for path in (paths.cert, paths.chain, paths.fullchain, paths.key, paths.root):
        assert path.exists() and path.name.startswith("srv-")
    assert c.pem_certificates_to_der(paths.fullchain.read_bytes()) == pki.chain_der
    assert c.pem_certificates_to_der(paths.chain.read_bytes()) == pki.chain_der[1:]
    assert serialization.load_pem_private_key(paths.key.read_bytes(), None) is not None
    assert os.path.getsize(paths.root) > 0
