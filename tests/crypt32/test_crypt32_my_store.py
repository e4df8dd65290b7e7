"""Client certificates without PKCS#12, the directory-backed "MY" store, and
client-certificate selection / chain building (schannel_py.crypt32)."""

from __future__ import annotations

import datetime
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from schannel_py import crypt32 as c
from schannel_py.crypt32 import store as store_module
from schannel_py.testing.pki import Issued, make_ca, make_leaf

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def my_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets an empty "MY" directory and fresh in-process stores."""
    directory = tmp_path / "my"
    monkeypatch.setenv(c.MY_STORE_ENV, str(directory))
    monkeypatch.delenv(c.ROOT_CERTS_ENV, raising=False)
    store_module._reset_system_stores()
    yield directory
    store_module._reset_system_stores()


@pytest.fixture(scope="module")
def root() -> Issued:
    return make_ca("MY-test Root", key_type="p256")


@pytest.fixture(scope="module")
def inter(root: Issued) -> Issued:
    return make_ca("MY-test Intermediate", issuer=root, key_type="p256")


def client_leaf(issuer: Issued | None, key_type: str = "p256", **kw: object) -> Issued:
    kw.setdefault("eku", ("clientAuth",))
    return make_leaf(issuer, common_name="client", dns_names=(), key_type=key_type, **kw)  # type: ignore[arg-type]


def open_my() -> c.CertStore:
    store = c.CertOpenSystemStore(None, "MY")
    assert store is not None
    return store


def add_ctx(store: c.CertStore, ctx: c.CERT_CONTEXT) -> c.CERT_CONTEXT:
    out = c.PCCERT_CONTEXT()
    assert c.CertAddCertificateContextToStore(store, ctx, c.CERT_STORE_ADD_REPLACE_EXISTING, out)
    assert out.value is not None
    return out.value


def thumb(der: bytes) -> str:
    return hashlib.sha1(der).hexdigest() + ".pem"


# --- CertContextFromKeyPair ---------------------------------------------------


@pytest.mark.parametrize("key_type", ["rsa2048", "p256", "p384", "ed25519"])
def test_pair_pem_and_der(root: Issued, key_type: str) -> None:
    leaf = client_leaf(root, key_type)
    for cert_in, key_in in [
        (leaf.pem, leaf.key_pem),
        (leaf.der, leaf.key_der),
        (leaf.pem, leaf.key_der),
        (leaf.der, leaf.key_pem),
        (leaf.pem.decode(), leaf.key_pem.decode()),
    ]:
        ctx = c.CertContextFromKeyPair(cert_in, key_in)
        assert ctx is not None
        assert ctx.pbCertEncoded == leaf.der
        assert ctx.private_key is not None
        assert ctx.private_key.public_key() == leaf.key.public_key()  # type: ignore[comparison-overlap]


def test_pair_files_chain_and_password(tmp_path: Path, root: Issued, inter: Issued) -> None:
    leaf = client_leaf(inter, "p384")
    paths = leaf.write(tmp_path / "pem")
    ctx = c.CertContextFromKeyPair(paths.fullchain, paths.key)
    assert ctx is not None and ctx.private_key is not None
    assert ctx.pbCertEncoded == leaf.der
    assert ctx.hCertStore is not None
    assert [x.pbCertEncoded for x in ctx.hCertStore] == [leaf.der, inter.der]
    assert c.client_chain(ctx) == [leaf.der, inter.der]
    # str paths, DER files
    (tmp_path / "cert.der").write_bytes(leaf.der)
    (tmp_path / "key.der").write_bytes(leaf.key_der)
    ctx = c.CertContextFromKeyPair(str(tmp_path / "cert.der"), str(tmp_path / "key.der"))
    assert ctx is not None and ctx.private_key is not None
    # encrypted PKCS#8
    enc = leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    assert c.CertContextFromKeyPair(leaf.pem, enc, password=b"secret") is not None
    assert c.CertContextFromKeyPair(leaf.pem, enc, password=b"wrong") is None
    assert c.CertContextFromKeyPair(leaf.pem, enc) is None
    # a combined cert+key file serves as both arguments
    combined = tmp_path / "both.pem"
    combined.write_bytes(leaf.pem + leaf.key_pem)
    assert c.CertContextFromKeyPair(combined, combined) is not None


def test_pair_rejects_bad_input(tmp_path: Path, root: Issued) -> None:
    leaf = client_leaf(root, "p256")
    other = client_leaf(root, "p256")
    assert c.CertContextFromKeyPair(leaf.pem, other.key_pem) is None  # mismatch
    assert c.CertContextFromKeyPair(b"garbage", leaf.key_pem) is None
    assert c.CertContextFromKeyPair(leaf.pem, b"garbage") is None
    assert c.CertContextFromKeyPair(b"", b"") is None
    assert c.CertContextFromKeyPair(tmp_path / "missing.pem", leaf.key_pem) is None
    assert c.CertContextFromKeyPair(leaf.pem, tmp_path / "missing.key") is None
    assert c.CertContextFromKeyPair(None, None) is None  # type: ignore[arg-type]
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = make_leaf(root, key=weak_key, eku=("clientAuth",))
    assert c.CertContextFromKeyPair(weak.pem, weak.key_pem) is None
    p521 = client_leaf(root, "p521")
    assert c.CertContextFromKeyPair(p521.pem, p521.key_pem) is None


# --- the "MY" directory ---------------------------------------------------------


def test_default_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(c.MY_STORE_ENV)
    assert c.my_store_directory() == Path(os.path.expanduser("~/.schannel_py/my"))
    monkeypatch.setenv(c.MY_STORE_ENV, "")
    assert c.my_store_directory() == Path(os.path.expanduser("~/.schannel_py/my"))


@pytest.mark.parametrize("key_type", ["rsa2048", "p256", "p384", "ed25519"])
def test_my_persistence_round_trip(my_dir: Path, root: Issued, key_type: str) -> None:
    leaf = client_leaf(root, key_type)
    ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
    assert ctx is not None
    my = open_my()
    assert len(my) == 0
    added = add_ctx(my, ctx)
    assert added.hCertStore is my and added.private_key is not None
    path = my_dir / thumb(leaf.der)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"BEGIN CERTIFICATE" in path.read_bytes()
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()

    # a new process: nothing in memory, only the directory
    store_module._reset_system_stores()
    again = open_my()
    found = list(again)
    assert [x.pbCertEncoded for x in found] == [leaf.der]
    assert found[0].private_key is not None
    assert found[0].private_key.public_key() == leaf.key.public_key()  # type: ignore[comparison-overlap]
    hit = c.CertFindCertificateInStore(
        again, c.X509_ASN_ENCODING, 0, c.CERT_FIND_HAS_PRIVATE_KEY, None, None
    )
    assert hit is found[0]

    assert c.CertDeleteCertificateFromStore(found[0])
    assert not path.exists()
    assert len(again) == 0
    store_module._reset_system_stores()
    assert len(open_my()) == 0


def test_my_add_without_key_is_not_persisted(my_dir: Path, root: Issued) -> None:
    leaf = client_leaf(root)
    my = open_my()
    assert c.CertAddEncodedCertificateToStore(
        my, c.X509_ASN_ENCODING, leaf.der, len(leaf.der), c.CERT_STORE_ADD_NEW, None
    )
    assert len(my) == 1
    assert not my_dir.exists() or not list(my_dir.iterdir())


def test_my_follows_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: Issued
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    leaf = client_leaf(root)
    ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
    assert ctx is not None
    monkeypatch.setenv(c.MY_STORE_ENV, str(first))
    add_ctx(open_my(), ctx)
    assert len(open_my()) == 1
    monkeypatch.setenv(c.MY_STORE_ENV, str(second))
    assert len(open_my()) == 0
    monkeypatch.setenv(c.MY_STORE_ENV, str(first))
    assert len(open_my()) == 1


def test_my_reads_pem_bundles_and_pfx(my_dir: Path, root: Issued, inter: Issued) -> None:
    my_dir.mkdir()
    rsa_leaf = client_leaf(inter, "rsa2048")
    ed_leaf = client_leaf(root, "ed25519")
    p384_leaf = client_leaf(root, "p384")
    (my_dir / "a-rsa.pem").write_bytes(rsa_leaf.chain_pem + rsa_leaf.key_pem)
    (my_dir / "b-ed.pfx").write_bytes(ed_leaf.to_pkcs12())
    (my_dir / "c-p384.p12").write_bytes(p384_leaf.to_pkcs12(b""))
    found = {x.pbCertEncoded: x for x in open_my()}
    assert set(found) == {rsa_leaf.der, inter.der, ed_leaf.der, p384_leaf.der}
    assert found[inter.der].private_key is None  # a chain certificate
    for leaf in (rsa_leaf, ed_leaf, p384_leaf):
        key = found[leaf.der].private_key
        assert key is not None and key.public_key() == leaf.key.public_key()  # type: ignore[comparison-overlap]
    # deleting a pfx-sourced certificate removes the pfx
    assert c.CertDeleteCertificateFromStore(found[ed_leaf.der])
    assert not (my_dir / "b-ed.pfx").exists()
    assert (my_dir / "c-p384.p12").exists()


def test_my_skips_bad_files(my_dir: Path, root: Issued) -> None:
    my_dir.mkdir()
    good = client_leaf(root)
    other = client_leaf(root)
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = make_leaf(root, key=weak_key, eku=("clientAuth",))
    (my_dir / "good.pem").write_bytes(good.pem + good.key_pem)
    (my_dir / "garbage.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"
    )
    (my_dir / "random.pfx").write_bytes(os.urandom(300))
    (my_dir / "locked.p12").write_bytes(other.to_pkcs12(b"password"))
    (my_dir / "mismatch.pem").write_bytes(other.pem + good.key_pem)
    (my_dir / "nokey.pem").write_bytes(other.pem)
    (my_dir / "weak.pem").write_bytes(weak.pem + weak.key_pem)
    (my_dir / "empty.pem").write_bytes(b"")
    (my_dir / "notes.txt").write_bytes(other.pem + other.key_pem)
    (my_dir / "dir.pem").mkdir()
    store = open_my()
    assert [x.pbCertEncoded for x in store] == [good.der]


def test_my_missing_directory_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(c.MY_STORE_ENV, str(tmp_path / "does" / "not" / "exist"))
    assert len(open_my()) == 0
    file_instead = tmp_path / "file"
    file_instead.write_bytes(b"x")
    monkeypatch.setenv(c.MY_STORE_ENV, str(file_instead))
    assert len(open_my()) == 0


def test_my_via_cert_open_store(my_dir: Path, root: Issued) -> None:
    leaf = client_leaf(root)
    ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
    assert ctx is not None
    store = c.CertOpenStore(
        c.CERT_STORE_PROV_SYSTEM, 0, None, c.CERT_SYSTEM_STORE_CURRENT_USER, "My"
    )
    assert store is not None
    add_ctx(store, ctx)
    assert (my_dir / thumb(leaf.der)).is_file()


# --- find_client_certificate / client_chain ------------------------------------


def _my_with(*leaves: Issued) -> c.CertStore:
    my = open_my()
    for leaf in leaves:
        ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
        assert ctx is not None
        add_ctx(my, ctx)
    return open_my()


def _add_to(name: str, der: bytes) -> None:
    store = c.CertOpenSystemStore(None, name)
    assert store is not None
    assert c.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_USE_EXISTING, None
    )


def test_find_by_direct_issuer(root: Issued, inter: Issued) -> None:
    other_root = make_ca("MY-test Other Root")
    a = client_leaf(other_root)
    b = client_leaf(root)
    my = _my_with(a, b)
    issuers = [root.cert.subject.public_bytes()]
    hit = c.find_client_certificate(my, issuers, NOW)
    assert hit is not None and hit.pbCertEncoded == b.der
    hit = c.find_client_certificate(my, [other_root.cert.subject.public_bytes()], NOW)
    assert hit is not None and hit.pbCertEncoded == a.der
    assert c.find_client_certificate(my, [inter.cert.subject.public_bytes()], NOW) is None
    first = c.find_client_certificate(my, [], NOW)
    assert first is not None and first.pbCertEncoded in (a.der, b.der)


def test_find_via_intermediate(root: Issued, inter: Issued) -> None:
    leaf = client_leaf(inter)
    my = _my_with(leaf)
    root_name = [root.cert.subject.public_bytes()]
    # the intermediate is not available: no way to know the leaf chains to the root
    assert c.find_client_certificate(my, root_name, NOW) is None
    _add_to("CA", inter.der)
    hit = c.find_client_certificate(my, root_name, NOW)
    assert hit is not None and hit.pbCertEncoded == leaf.der
    # the intermediate's own name matches directly
    hit = c.find_client_certificate(my, [inter.cert.subject.public_bytes()], NOW)
    assert hit is not None


def test_find_via_intermediate_in_pem_bundle(my_dir: Path, root: Issued, inter: Issued) -> None:
    my_dir.mkdir()
    leaf = client_leaf(inter, "ed25519")
    (my_dir / "client.pem").write_bytes(leaf.chain_pem + leaf.key_pem)
    my = open_my()
    hit = c.find_client_certificate(my, [root.cert.subject.public_bytes()], NOW)
    assert hit is not None and hit.pbCertEncoded == leaf.der
    assert c.client_chain(hit) == [leaf.der, inter.der]


@pytest.mark.parametrize(
    ("eku", "usable"),
    [
        (None, True),
        (("clientAuth",), True),
        (("serverAuth", "clientAuth"), True),
        (("anyExtendedKeyUsage",), True),
        (("serverAuth",), False),
        (("emailProtection", "codeSigning"), False),
    ],
)
def test_find_eku_filter(root: Issued, eku: tuple[str, ...] | None, usable: bool) -> None:
    leaf = client_leaf(root, eku=eku)
    my = _my_with(leaf)
    hit = c.find_client_certificate(my, [root.cert.subject.public_bytes()], NOW)
    assert (hit is not None) is usable


def test_find_skips_expired_not_yet_valid_and_keyless(root: Issued) -> None:
    expired = client_leaf(
        root,
        not_before=datetime.datetime(2020, 1, 1, tzinfo=UTC),
        not_after=datetime.datetime(2021, 1, 1, tzinfo=UTC),
    )
    future = client_leaf(root, not_before=datetime.datetime(2030, 1, 1, tzinfo=UTC))
    good = client_leaf(root)
    my = _my_with(expired, future)
    assert c.CertAddEncodedCertificateToStore(
        my, c.X509_ASN_ENCODING, good.der, len(good.der), c.CERT_STORE_ADD_NEW, None
    )  # no key
    assert c.find_client_certificate(my, [], NOW) is None
    my = _my_with(good)
    hit = c.find_client_certificate(my, [], NOW)
    assert hit is not None and hit.pbCertEncoded == good.der
    naive = NOW.replace(tzinfo=None)
    assert c.find_client_certificate(my, [], naive) is hit
    # at 2020-06 the expired one is valid and comes first
    early = c.find_client_certificate(my, [], datetime.datetime(2020, 6, 1, tzinfo=UTC))
    assert early is not None and early.pbCertEncoded in (expired.der, good.der)


def test_find_in_pfx_store(root: Issued) -> None:
    leaf = client_leaf(root, "rsa2048")
    store = c.PFXImportCertStore(leaf.to_pkcs12(b"pw"), "pw", 0)
    assert store is not None
    hit = c.find_client_certificate(store, [root.cert.subject.public_bytes()], NOW)
    assert hit is not None and hit.pbCertEncoded == leaf.der


def test_client_chain(root: Issued, inter: Issued) -> None:
    leaf = client_leaf(inter)
    ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
    assert ctx is not None
    assert c.client_chain(ctx) == [leaf.der]  # nothing to build with yet
    _add_to("CA", inter.der)
    assert c.client_chain(ctx) == [leaf.der, inter.der]
    assert c.client_chain(ctx, include_root=True) == [leaf.der, inter.der]  # root unknown
    _add_to("ROOT", root.der)
    assert c.client_chain(ctx) == [leaf.der, inter.der]
    assert c.client_chain(ctx, include_root=True) == [leaf.der, inter.der, root.der]


def test_client_chain_checks_signatures(root: Issued, inter: Issued) -> None:
    # an impostor with the intermediate's name but another key is not an issuer
    impostor = make_ca("MY-test Intermediate", issuer=root)
    leaf = client_leaf(inter)
    ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
    assert ctx is not None
    _add_to("CA", impostor.der)
    assert c.client_chain(ctx) == [leaf.der]
    _add_to("CA", inter.der)
    assert c.client_chain(ctx) == [leaf.der, inter.der]


def test_client_chain_self_signed_leaf() -> None:
    leaf = client_leaf(None)
    ctx = c.CertContextFromKeyPair(leaf.pem, leaf.key_pem)
    assert ctx is not None
    assert c.client_chain(ctx) == [leaf.der]
    assert c.client_chain(ctx, include_root=True) == [leaf.der]
