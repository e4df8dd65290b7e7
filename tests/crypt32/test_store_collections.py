"""Collection stores, CertDuplicateStore, certificate links and CertFindChainInStore."""

from __future__ import annotations

import pytest

from schannel_py import crypt32 as c
from schannel_py.constants import CRYPT_E_NOT_FOUND
from schannel_py.testing.pki import Issued, Pki, make_leaf, make_pki

pytestmark = pytest.mark.usefixtures("isolated_stores")


@pytest.fixture(scope="module")
def client_pki() -> Pki:
    return make_pki(dns_names=["client.example"], eku=["clientAuth"])


def memory_store() -> c.CertStore:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None)
    assert store is not None
    return store


def collection() -> c.CertStore:
    store = c.CertOpenStore(
        c.CERT_STORE_PROV_COLLECTION, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None
    )
    assert store is not None
    return store


def add(store: c.CertStore, item: Issued) -> c.CERT_CONTEXT:
    out = c.PCCERT_CONTEXT()
    der = item.der
    assert c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, out
    )
    assert out.value is not None
    return out.value


def enumerate_store(store: c.CertStore) -> list[bytes]:
    out: list[bytes] = []
    ctx = c.CertEnumCertificatesInStore(store, None)
    while ctx is not None:
        out.append(ctx.pbCertEncoded)
        ctx = c.CertEnumCertificatesInStore(store, ctx)
    assert c.GetLastError() == CRYPT_E_NOT_FOUND
    return out


# --- collections -----------------------------------------------------------------------


def test_collection_shows_its_members_live_by_priority(client_pki: Pki) -> None:
    low, high = memory_store(), memory_store()
    add(low, client_pki.root)
    add(high, client_pki.leaf)
    coll = collection()
    assert enumerate_store(coll) == []
    assert c.CertAddStoreToCollection(coll, low, 0, 0)
    assert c.CertAddStoreToCollection(coll, high, 0, 5)
    assert enumerate_store(coll) == [client_pki.leaf.der, client_pki.root.der]
    assert client_pki.intermediate is not None
    add(low, client_pki.intermediate)  # seen through the collection at once
    assert enumerate_store(coll) == [
        client_pki.leaf.der,
        client_pki.root.der,
        client_pki.intermediate.der,
    ]
    # Contexts enumerated from a collection belong to it.
    first = c.CertEnumCertificatesInStore(coll, None)
    assert first is not None and first.hCertStore is coll
    found = c.CertFindCertificateInStore(
        coll, c.X509_ASN_ENCODING, 0, c.CERT_FIND_SUBJECT_STR, "Intermediate", None
    )
    assert found is not None and found.pbCertEncoded == client_pki.intermediate.der
    c.CertRemoveStoreFromCollection(coll, high)
    assert enumerate_store(coll) == [client_pki.root.der, client_pki.intermediate.der]
    # Back with an equal priority: after the older member; a certificate in two
    # members appears once.
    add(high, client_pki.root)
    assert c.CertAddStoreToCollection(coll, high, 0, 0)
    assert enumerate_store(coll) == [
        client_pki.root.der,
        client_pki.intermediate.der,
        client_pki.leaf.der,
    ]


def test_collection_adds_and_deletes_through_members(client_pki: Pki) -> None:
    readonly_member, writable = memory_store(), memory_store()
    coll = collection()
    assert c.CertAddStoreToCollection(coll, readonly_member, 0, 0)
    out = c.PCCERT_CONTEXT()
    der = client_pki.leaf.der
    assert not c.CertAddEncodedCertificateToStore(
        coll, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, out
    )
    assert c.GetLastError() == c.E_ACCESSDENIED and out.value is None
    assert c.CertAddStoreToCollection(coll, writable, c.CERT_PHYSICAL_STORE_ADD_ENABLE_FLAG, 0)
    assert c.CertAddEncodedCertificateToStore(
        coll, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, out
    )
    assert out.value is not None and out.value.hCertStore is coll
    assert enumerate_store(writable) == [der] and enumerate_store(readonly_member) == []
    assert not c.CertAddEncodedCertificateToStore(
        coll, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, None
    )
    assert c.GetLastError() == c.CRYPT_E_EXISTS
    assert c.CertDeleteCertificateFromStore(out.value)
    assert enumerate_store(writable) == [] and enumerate_store(coll) == []


def test_collection_hostile_arguments() -> None:
    plain, coll = memory_store(), collection()
    for args in ((plain, coll, 0, 0), (coll, None, 0, 0), (None, plain, 0, 0), (coll, coll, 0, 0)):
        c.SetLastError(0)
        assert not c.CertAddStoreToCollection(*args)  # type: ignore[arg-type]
        assert c.GetLastError() == c.E_INVALIDARG
    c.CertRemoveStoreFromCollection(coll, plain)  # not a member: nothing happens
    c.CertRemoveStoreFromCollection(None, plain)
    # A collection that contains itself through another one still enumerates.
    inner = collection()
    assert c.CertAddStoreToCollection(coll, inner, 0, 0)
    assert c.CertAddStoreToCollection(inner, coll, 0, 0)
    assert enumerate_store(coll) == []


def test_duplicate_store_counts_references() -> None:
    store = memory_store()
    assert c.CertDuplicateStore(store) is store
    assert c.CertCloseStore(store, 0) and not store.closed
    assert c.CertCloseStore(store, 0) and store.closed
    assert c.CertDuplicateStore(None) is None


def test_link_shares_properties(client_pki: Pki) -> None:
    source, linked = memory_store(), memory_store()
    original = add(source, client_pki.leaf)
    link = c.PCCERT_CONTEXT()
    assert c.CertAddCertificateLinkToStore(linked, original, c.CERT_STORE_ADD_NEW, link)
    assert link.value is not None and link.value.hCertStore is linked
    staple = c.CRYPT_DATA_BLOB.from_bytes(b"\x30\x00")
    assert c.CertSetCertificateContextProperty(link.value, c.CERT_OCSP_RESPONSE_PROP_ID, 0, staple)
    size = c.DWORD()
    assert c.CertGetCertificateContextProperty(original, c.CERT_OCSP_RESPONSE_PROP_ID, None, size)
    assert size.value == 2
    # A copy (not a link) keeps its own.
    copy = memory_store()
    copied = c.PCCERT_CONTEXT()
    assert c.CertAddCertificateContextToStore(copy, original, c.CERT_STORE_ADD_NEW, copied)
    assert copied.value is not None
    assert c.CertSetCertificateContextProperty(original, c.CERT_OCSP_RESPONSE_PROP_ID, 0, None)
    assert not c.CertGetCertificateContextProperty(
        link.value, c.CERT_OCSP_RESPONSE_PROP_ID, None, size
    )
    assert c.CertGetCertificateContextProperty(
        copied.value, c.CERT_OCSP_RESPONSE_PROP_ID, None, size
    )
    assert not c.CertAddCertificateLinkToStore(linked, None, c.CERT_STORE_ADD_NEW, link)
    assert c.GetLastError() == c.E_INVALIDARG and link.value is None


# --- CertFindChainInStore --------------------------------------------------------------


def qt_pick_local_certificate(store: c.CertStore) -> c.CERT_CONTEXT | None:
    """Qt's client certificate choice, call for call.

    Ported from qt/qtbase src/plugins/tls/schannel/qtls_schannel.cpp,
    TlsCryptographSchannel::acquireCredentialsHandle: a zeroed
    CERT_CHAIN_FIND_BY_ISSUER_PARA with cbSize and pszUsageIdentifier =
    szOID_PKIX_KP_CLIENT_AUTH, CertFindChainInStore(store, X509_ASN_ENCODING, 0,
    CERT_CHAIN_FIND_BY_ISSUER, &findParam, NULL), then
    CertDuplicateCertificateContext(rgpChain[0]->rgpElement[0]->pCertContext).
    """
    para = c.CERT_CHAIN_FIND_BY_ISSUER_PARA()
    para.pszUsageIdentifier = c.szOID_PKIX_KP_CLIENT_AUTH
    chain = c.CertFindChainInStore(
        store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, None
    )
    if chain is None:
        return None
    assert chain.cChain == 1 and chain.rgpChain[0].cElement >= 1
    return c.CertDuplicateCertificateContext(chain.rgpChain[0].rgpElement[0].pCertContext)


def pfx_store(item: Issued) -> c.CertStore:
    store = c.PFXImportCertStore(c.CRYPT_DATA_BLOB.from_bytes(item.to_pkcs12()), "", 0)
    assert store is not None
    return store


def test_qt_picks_its_client_certificate(client_pki: Pki) -> None:
    store = pfx_store(client_pki.leaf)  # leaf + key, and the intermediate
    picked = qt_pick_local_certificate(store)
    assert picked is not None
    assert picked.pbCertEncoded == client_pki.leaf.der and picked.private_key is not None
    assert picked.hCertStore is store


def test_qt_pick_refuses_a_server_only_certificate() -> None:
    server = make_pki(dns_names=["server.example"], eku=["serverAuth"])
    assert qt_pick_local_certificate(pfx_store(server.leaf)) is None
    assert c.GetLastError() == CRYPT_E_NOT_FOUND


def test_chain_reaches_root_and_filters_by_issuer(client_pki: Pki) -> None:
    root_store = c.CertOpenSystemStore(None, "ROOT")
    add(root_store, client_pki.root)
    store = pfx_store(client_pki.leaf)
    chain_index, element_index = c.DWORD(7), c.DWORD(7)
    para = c.CERT_CHAIN_FIND_BY_ISSUER_PARA(
        cIssuer=1,
        rgIssuer=[c.CRYPT_DATA_BLOB.from_bytes(client_pki.root.cert.subject.public_bytes())],
        pdwIssuerChainIndex=chain_index,
        pdwIssuerElementIndex=element_index,
    )
    chain = c.CertFindChainInStore(
        store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, None
    )
    assert chain is not None
    assert client_pki.intermediate is not None
    elements = [e.pCertContext for e in chain.rgpChain[0].rgpElement]
    assert [e.pbCertEncoded for e in elements if e is not None] == [
        client_pki.leaf.der,
        client_pki.intermediate.der,
        client_pki.root.der,
    ]
    # The intermediate (element 1) is the first one the root issued.
    assert (chain_index.value, element_index.value) == (0, 1)
    # The next call continues after this chain: nothing more.
    assert (
        c.CertFindChainInStore(
            store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, chain
        )
        is None
    )
    assert c.GetLastError() == CRYPT_E_NOT_FOUND
    stranger = make_leaf(None, dns_names=["stranger.example"])
    para.rgIssuer = [c.CRYPT_DATA_BLOB.from_bytes(stranger.cert.subject.public_bytes())]
    assert (
        c.CertFindChainInStore(
            store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, None
        )
        is None
    )


def test_find_chain_needs_a_key_unless_told_otherwise(client_pki: Pki) -> None:
    store = memory_store()
    add(store, client_pki.leaf)  # no key
    para = c.CERT_CHAIN_FIND_BY_ISSUER_PARA()

    def find(flags: int) -> c.CERT_CHAIN_CONTEXT | None:
        return c.CertFindChainInStore(
            store, c.X509_ASN_ENCODING, flags, c.CERT_CHAIN_FIND_BY_ISSUER, para, None
        )

    assert find(0) is None
    assert find(c.CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG) is not None
    seen: list[c.CERT_CONTEXT] = []
    para.pfnFindCallback = lambda ctx, arg: seen.append(ctx) or arg
    para.pvFindArg = False
    assert find(c.CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG) is None
    assert [ctx.pbCertEncoded for ctx in seen] == [client_pki.leaf.der]


def test_find_chain_hostile_arguments(client_pki: Pki) -> None:
    store = pfx_store(client_pki.leaf)
    good = c.CERT_CHAIN_FIND_BY_ISSUER_PARA()
    cases: list[tuple[object, ...]] = [
        (None, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, good, None),
        (store, c.X509_ASN_ENCODING, 0, 2, good, None),
        (store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, None, None),
        (store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, object(), None),
        (
            store,
            c.X509_ASN_ENCODING,
            0,
            c.CERT_CHAIN_FIND_BY_ISSUER,
            c.CERT_CHAIN_FIND_BY_ISSUER_PARA(cbSize=8),
            None,
        ),
        (
            store,
            c.X509_ASN_ENCODING,
            0,
            c.CERT_CHAIN_FIND_BY_ISSUER,
            c.CERT_CHAIN_FIND_BY_ISSUER_PARA(cIssuer=2),
            None,
        ),
        (
            store,
            c.X509_ASN_ENCODING,
            0,
            c.CERT_CHAIN_FIND_BY_ISSUER,
            c.CERT_CHAIN_FIND_BY_ISSUER_PARA(pszUsageIdentifier=5),
            None,
        ),  # type: ignore[arg-type]
        (
            store,
            c.X509_ASN_ENCODING,
            0,
            c.CERT_CHAIN_FIND_BY_ISSUER,
            c.CERT_CHAIN_FIND_BY_ISSUER_PARA(pszUsageIdentifier="not an oid"),
            None,
        ),
        (
            store,
            c.X509_ASN_ENCODING,
            0,
            c.CERT_CHAIN_FIND_BY_ISSUER,
            c.CERT_CHAIN_FIND_BY_ISSUER_PARA(cIssuer=1, rgIssuer=[b"raw"]),
            None,
        ),  # type: ignore[list-item]
    ]
    for args in cases:
        c.SetLastError(0)
        assert c.CertFindChainInStore(*args) is None  # type: ignore[arg-type]
        assert c.GetLastError() == c.E_INVALIDARG, args
    raising = c.CERT_CHAIN_FIND_BY_ISSUER_PARA(pfnFindCallback=lambda ctx, arg: 1 / 0)
    assert (
        c.CertFindChainInStore(
            store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, raising, None
        )
        is None
    )
    assert c.GetLastError() == CRYPT_E_NOT_FOUND


def test_self_signed_client_certificate_chain_is_itself() -> None:
    leaf = make_leaf(None, eku=["clientAuth"])
    picked = qt_pick_local_certificate(pfx_store(leaf))
    assert picked is not None and picked.pbCertEncoded == leaf.der


def test_found_chain_carries_the_chain_engines_trust_status(client_pki: Pki) -> None:
    store = pfx_store(client_pki.leaf)
    para = c.CERT_CHAIN_FIND_BY_ISSUER_PARA(pszUsageIdentifier=c.szOID_PKIX_KP_CLIENT_AUTH)
    find = c.CertFindChainInStore
    # The root is nowhere: the chain stops at the intermediate, partial.
    partial = find(store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, None)
    assert isinstance(partial, c.CERT_CHAIN_CONTEXT)
    assert partial.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_PARTIAL_CHAIN
    # With the root trusted, the same search gives CertGetCertificateChain's answer.
    add(c.CertOpenSystemStore(None, "ROOT"), client_pki.root)
    found = find(store, c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, None)
    assert found is not None and found.TrustStatus.dwErrorStatus == 0
    leaf = found.rgpChain[0].rgpElement[0]
    assert isinstance(leaf, c.CERT_CHAIN_ELEMENT) and leaf.pCertContext is not None
    built = c.PCCERT_CHAIN_CONTEXT()
    chain_para = c.CERT_CHAIN_PARA()
    chain_para.RequestedUsage.Usage = c.CTL_USAGE(1, [c.szOID_PKIX_KP_CLIENT_AUTH])
    assert c.CertGetCertificateChain(
        None, leaf.pCertContext, None, store, chain_para, 0, None, built
    )
    assert built.value is not None
    assert [
        (e.TrustStatus.dwErrorStatus, e.TrustStatus.dwInfoStatus)
        for e in found.rgpChain[0].rgpElement
    ] == [
        (e.TrustStatus.dwErrorStatus, e.TrustStatus.dwInfoStatus)
        for e in built.value.rgpChain[0].rgpElement
    ]
    assert found.rgpChain[0].rgpElement[-1].TrustStatus.dwInfoStatus & c.CERT_TRUST_IS_SELF_SIGNED


def test_self_signed_client_certificate_is_found_untrusted() -> None:
    leaf = make_leaf(None, eku=["clientAuth"])
    para = c.CERT_CHAIN_FIND_BY_ISSUER_PARA()
    chain = c.CertFindChainInStore(
        pfx_store(leaf), c.X509_ASN_ENCODING, 0, c.CERT_CHAIN_FIND_BY_ISSUER, para, None
    )
    assert chain is not None and chain.rgpChain[0].cElement == 1
    assert chain.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_UNTRUSTED_ROOT
