"""The chain engine: CertGetCertificateChain, CertVerifyCertificateChainPolicy,
CertCreateCertificateChainEngine, and their agreement with ISC's validation."""

from __future__ import annotations

import datetime
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import schannel_py as sc
import schannel_py.crypt32 as c
from schannel_py.testing import acquire_credential, pki
from schannel_py.testing.memserver import MemoryServer
from tests.support.paths import ROOT
from tests.support.sspi_driver import CurlLoop

pytestmark = pytest.mark.usefixtures("isolated_stores")

NOW = datetime.datetime.now(datetime.timezone.utc)
PAST = NOW - datetime.timedelta(days=400)
LONG_AGO = NOW - datetime.timedelta(days=800)
SERVER_AUTH = c.szOID_PKIX_KP_SERVER_AUTH
CLIENT_AUTH = c.szOID_PKIX_KP_CLIENT_AUTH


# --- helpers ----------------------------------------------------------------------


def trust(*issued: pki.Issued, store: c.CertStore | None = None) -> c.CertStore:
    target = store if store is not None else c.CertOpenSystemStore(None, "ROOT")
    assert target is not None
    for item in issued:
        assert c.CertAddEncodedCertificateToStore(
            target, c.X509_ASN_ENCODING, item.der, len(item.der), c.CERT_STORE_ADD_ALWAYS, None
        )
    return target


def memory_store(*issued: pki.Issued) -> c.CertStore:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
    assert store is not None
    return trust(*issued, store=store)


def leaf_context(chain: Sequence[bytes]) -> c.CERT_CONTEXT:
    ctx = c.chain_context(list(chain))
    assert ctx is not None
    return ctx


def para(oids: Sequence[str] = (SERVER_AUTH,), kind: int = c.USAGE_MATCH_TYPE_AND) -> Any:
    usage = c.CERT_ENHKEY_USAGE(rgpszUsageIdentifier=list(oids))
    return c.CERT_CHAIN_PARA(RequestedUsage=c.CERT_USAGE_MATCH(kind, usage))


def get_chain(
    leaf: c.CERT_CONTEXT,
    *,
    engine: Any = None,
    when: Any = None,
    extra: Any = "own",
    chain_para: Any = None,
    flags: int = 0,
) -> c.CERT_CHAIN_CONTEXT:
    out = c.PCCERT_CHAIN_CONTEXT()
    store = leaf.hCertStore if extra == "own" else extra
    ok = c.CertGetCertificateChain(
        engine, leaf, when, store, chain_para or para(), flags, None, out
    )
    assert ok, hex(c.GetLastError())
    assert out.value is not None
    return out.value


def policy(
    chain: c.CERT_CHAIN_CONTEXT,
    name: str | None = "localhost",
    *,
    oid: int = c.CERT_CHAIN_POLICY_SSL,
    flags: int = 0,
    checks: int = 0,
    auth: int = c.AUTHTYPE_SERVER,
) -> c.CERT_CHAIN_POLICY_STATUS:
    extra = c.HTTPSPolicyCallbackData(dwAuthType=auth, fdwChecks=checks, pwszServerName=name)
    status = c.CERT_CHAIN_POLICY_STATUS()
    assert c.CertVerifyCertificateChainPolicy(
        oid, chain, c.CERT_CHAIN_POLICY_PARA(dwFlags=flags, pvExtraPolicyPara=extra), status
    )
    return status


def element_errors(chain: c.CERT_CHAIN_CONTEXT) -> list[int]:
    return [e.TrustStatus.dwErrorStatus for e in chain.rgpChain[0].rgpElement]


def element_infos(chain: c.CERT_CHAIN_CONTEXT) -> list[int]:
    return [e.TrustStatus.dwInfoStatus for e in chain.rgpChain[0].rgpElement]


@pytest.fixture(scope="module")
def good() -> pki.Pki:
    return pki.make_pki()


# --- CertGetCertificateChain: a good chain ----------------------------------------------


def test_trusted_chain_has_no_errors_and_windows_info_bits(good: pki.Pki) -> None:
    trust(good.root)
    chain = get_chain(leaf_context(good.chain_der))
    assert chain.cChain == 1 and chain.cbSize == 72
    simple = chain.rgpChain[0]
    assert simple.cElement == 3
    ders = [e.pCertContext.pbCertEncoded for e in simple.rgpElement if e.pCertContext]
    assert ders == [good.leaf.der, good.intermediate.der, good.root.der]  # type: ignore[union-attr]
    assert element_errors(chain) == [0, 0, 0]
    key, pref = c.CERT_TRUST_HAS_KEY_MATCH_ISSUER, c.CERT_TRUST_HAS_PREFERRED_ISSUER
    # A root without AKI matches itself by name: 0x10C, the leaf 0x102.
    root_info = pref | c.CERT_TRUST_IS_SELF_SIGNED | c.CERT_TRUST_HAS_NAME_MATCH_ISSUER
    assert element_infos(chain) == [key | pref, key | pref, root_info]
    # The low nibble (issuer match, self-signed) stays on the elements.
    assert simple.TrustStatus.dwInfoStatus == chain.TrustStatus.dwInfoStatus == pref
    assert chain.TrustStatus.dwErrorStatus == 0
    assert policy(chain).dwError == 0


def test_leaf_element_is_the_callers_context(good: pki.Pki) -> None:
    trust(good.root)
    leaf = leaf_context(good.chain_der)
    chain = get_chain(leaf)
    assert chain.rgpChain[0].rgpElement[0].pCertContext is leaf
    # Intermediates come from the additional store: its own contexts.
    assert chain.rgpChain[0].rgpElement[1].pCertContext.hCertStore is leaf.hCertStore  # type: ignore[union-attr]


def test_duplicate_and_free(good: pki.Pki) -> None:
    trust(good.root)
    chain = get_chain(leaf_context(good.chain_der))
    assert c.CertDuplicateCertificateChain(chain) is chain
    assert c.CertDuplicateCertificateChain(None) is None
    assert c.CertFreeCertificateChain(chain) is None
    assert c.CertFreeCertificateChain(None) is None


# --- error bits -------------------------------------------------------------------------------


def test_untrusted_root(good: pki.Pki) -> None:
    chain = get_chain(leaf_context([*good.chain_der, good.root.der]))
    assert element_errors(chain) == [0, 0, c.CERT_TRUST_IS_UNTRUSTED_ROOT]
    assert chain.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_UNTRUSTED_ROOT
    assert not chain.TrustStatus.dwInfoStatus & c.CERT_TRUST_HAS_PREFERRED_ISSUER
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.CERT_E_UNTRUSTEDROOT,
        0,
        2,
    )
    # Allowed by the base flag or the SSL check flag: then the name decides.
    assert policy(chain, flags=c.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG).dwError == 0
    assert policy(chain, checks=c.SECURITY_FLAG_IGNORE_UNKNOWN_CA).dwError == 0


def test_partial_chain_without_the_intermediate(good: pki.Pki) -> None:
    trust(good.root)
    chain = get_chain(leaf_context([good.leaf.der]))
    assert chain.rgpChain[0].cElement == 1
    assert chain.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_PARTIAL_CHAIN
    assert element_errors(chain) == [0]  # a chain-only bit
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.CERT_E_CHAINING,
        0,
        -1,
    )
    assert policy(chain, flags=c.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG).dwError == (
        sc.CERT_E_CHAINING
    )


def test_additional_store_supplies_the_intermediate(good: pki.Pki) -> None:
    trust(good.root)
    leaf = leaf_context([good.leaf.der])
    chain = get_chain(leaf, extra=memory_store(good.intermediate))
    assert chain.TrustStatus.dwErrorStatus == 0
    assert chain.rgpChain[0].cElement == 3


def test_ca_store_supplies_the_intermediate(good: pki.Pki) -> None:
    trust(good.root)
    trust(good.intermediate, store=c.CertOpenSystemStore(None, "CA"))
    chain = get_chain(leaf_context([good.leaf.der]), extra=None)
    assert chain.TrustStatus.dwErrorStatus == 0


def test_self_signed_leaf() -> None:
    leaf = pki.make_self_signed()
    chain = get_chain(leaf_context([leaf.der]))
    assert element_errors(chain) == [c.CERT_TRUST_IS_UNTRUSTED_ROOT]
    assert element_infos(chain)[0] & c.CERT_TRUST_IS_SELF_SIGNED
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.CERT_E_UNTRUSTEDROOT,
        0,
        0,
    )
    trust(leaf)
    chain = get_chain(leaf_context([leaf.der]))
    assert chain.TrustStatus.dwErrorStatus == 0
    assert policy(chain).dwError == 0


def test_ptime_makes_the_chain_expired(good: pki.Pki) -> None:
    trust(good.root)
    leaf = leaf_context(good.chain_der)
    for when in (
        datetime.datetime(2200, 1, 1),
        datetime.datetime(1990, 1, 1, tzinfo=datetime.timezone.utc),
    ):
        chain = get_chain(leaf, when=when)
        assert element_errors(chain) == [c.CERT_TRUST_IS_NOT_TIME_VALID] * 3
        status = policy(chain)
        assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
            sc.CERT_E_EXPIRED,
            0,
            0,
        )
        assert policy(chain, flags=c.CERT_CHAIN_POLICY_IGNORE_NOT_TIME_VALID_FLAG).dwError == 0
        assert policy(chain, checks=c.SECURITY_FLAG_IGNORE_CERT_DATE_INVALID).dwError == 0


def test_ptime_as_filetime(good: pki.Pki) -> None:
    trust(good.root)
    leaf = leaf_context(good.chain_der)
    epoch = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
    ticks = (
        int((datetime.datetime(2200, 1, 1, tzinfo=datetime.timezone.utc) - epoch).total_seconds())
        * 10**7
    )

    class FILETIME:
        dwLowDateTime = ticks & 0xFFFFFFFF
        dwHighDateTime = ticks >> 32

    assert (
        get_chain(leaf, when=FILETIME()).TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_NOT_TIME_VALID
    )
    assert get_chain(leaf, when=ticks).TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_NOT_TIME_VALID
    now_ticks = int((NOW - epoch).total_seconds()) * 10**7
    assert get_chain(leaf, when=now_ticks).TrustStatus.dwErrorStatus == 0


def test_expired_intermediate_is_found_on_its_element() -> None:
    root = pki.make_ca()
    inter = pki.make_ca("Old Intermediate", issuer=root, not_before=LONG_AGO, not_after=PAST)
    leaf = pki.make_leaf(inter, not_before=LONG_AGO)
    trust(root)
    chain = get_chain(leaf_context(leaf.chain_der))
    assert element_errors(chain) == [0, c.CERT_TRUST_IS_NOT_TIME_VALID, 0]
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (sc.CERT_E_EXPIRED, 0, 1)


def test_usage_and_or(good: pki.Pki) -> None:
    root = pki.make_ca()
    leaf = pki.make_leaf(root, eku=("serverAuth",))
    trust(root)
    ctx = leaf_context(leaf.chain_der)
    # AND: every requested usage must be present.
    chain = get_chain(ctx, chain_para=para([SERVER_AUTH, CLIENT_AUTH]))
    assert element_errors(chain) == [c.CERT_TRUST_IS_NOT_VALID_FOR_USAGE, 0]
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.CERT_E_WRONG_USAGE,
        0,
        0,
    )
    assert policy(chain, flags=c.CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG).dwError == 0
    assert policy(chain, checks=c.SECURITY_FLAG_IGNORE_WRONG_USAGE).dwError == 0
    # OR: one is enough (schannel-rs asks for serverAuth OR the two SGC usages).
    chain = get_chain(ctx, chain_para=para([CLIENT_AUTH, SERVER_AUTH], c.USAGE_MATCH_TYPE_OR))
    assert chain.TrustStatus.dwErrorStatus == 0
    chain = get_chain(ctx, chain_para=para([CLIENT_AUTH], c.USAGE_MATCH_TYPE_OR))
    assert chain.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_NOT_VALID_FOR_USAGE
    # Nothing requested: no usage check.
    assert get_chain(ctx, chain_para=para([])).TrustStatus.dwErrorStatus == 0
    # Only the first cUsageIdentifier OIDs count.
    usage = c.CERT_ENHKEY_USAGE(cUsageIdentifier=1, rgpszUsageIdentifier=[SERVER_AUTH, CLIENT_AUTH])
    one = c.CERT_CHAIN_PARA(RequestedUsage=c.CERT_USAGE_MATCH(c.USAGE_MATCH_TYPE_AND, usage))
    assert get_chain(ctx, chain_para=one).TrustStatus.dwErrorStatus == 0


def test_intermediate_eku_restricts_usage() -> None:
    root = pki.make_ca()
    inter = pki.make_ca("Client CA", issuer=root, eku=("clientAuth",))
    leaf = pki.make_leaf(inter, eku=None)
    trust(root)
    chain = get_chain(leaf_context(leaf.chain_der))
    assert element_errors(chain) == [0, c.CERT_TRUST_IS_NOT_VALID_FOR_USAGE, 0]
    assert policy(chain).lElementIndex == 1


def test_bad_signature(good: pki.Pki) -> None:
    impostor = pki.make_ca(pki.INTERMEDIATE_NAME, issuer=good.root)
    leaf = pki.make_leaf(impostor)  # names the real intermediate, signed by another key
    trust(good.root)
    chain = get_chain(leaf_context([leaf.der, good.intermediate.der]))
    assert element_errors(chain)[0] == c.CERT_TRUST_IS_NOT_SIGNATURE_VALID
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.TRUST_E_CERT_SIGNATURE,
        0,
        0,
    )


def test_invalid_basic_constraints() -> None:
    root = pki.make_ca()
    not_ca = pki.make_leaf(root, common_name="Not A CA", dns_names=(), eku=None)
    leaf = pki.make_leaf(not_ca)
    trust(root)
    chain = get_chain(leaf_context([leaf.der, not_ca.der]))
    assert element_errors(chain)[1] & c.CERT_TRUST_INVALID_BASIC_CONSTRAINTS
    status = policy(chain)
    assert (status.dwError, status.lElementIndex) == (c.TRUST_E_BASIC_CONSTRAINTS, 1)
    flags = c.CERT_CHAIN_POLICY_IGNORE_INVALID_BASIC_CONSTRAINTS_FLAG
    assert policy(chain, flags=flags).dwError != c.TRUST_E_BASIC_CONSTRAINTS
    bc = c.CERT_CHAIN_POLICY_STATUS()
    assert c.CertVerifyCertificateChainPolicy(
        c.CERT_CHAIN_POLICY_BASIC_CONSTRAINTS, chain, None, bc
    )
    assert (bc.dwError, bc.lChainIndex, bc.lElementIndex) == (c.TRUST_E_BASIC_CONSTRAINTS, 0, 1)


def test_path_length_exceeded() -> None:
    root = pki.make_ca(path_length=0)
    inter = pki.make_ca("Too Deep", issuer=root)
    leaf = pki.make_leaf(inter)
    trust(root)
    chain = get_chain(leaf_context(leaf.chain_der))
    assert element_errors(chain)[2] & c.CERT_TRUST_INVALID_BASIC_CONSTRAINTS


def _constrained(
    permitted: list[x509.GeneralName] | None, excluded: list[x509.GeneralName] | None
) -> tuple[pki.Issued, pki.Issued]:
    root = pki.make_ca()
    inter = pki.make_ca("Constrained", issuer=root)
    # Re-sign the intermediate with a name constraint.
    builder = (
        x509.CertificateBuilder()
        .subject_name(inter.cert.subject)
        .issuer_name(root.cert.subject)
        .public_key(inter.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(inter.cert.not_valid_before_utc)
        .not_valid_after(inter.cert.not_valid_after_utc)
    )
    for ext in inter.cert.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.NameConstraints(permitted, excluded), critical=True)
    from cryptography.hazmat.primitives import hashes

    cert = builder.sign(root.key, hashes.SHA256())
    constrained = pki.Issued(cert=cert, key=inter.key, issuer=root)
    return root, constrained


@pytest.mark.parametrize(
    ("permitted", "excluded", "bit"),
    [
        ([x509.DNSName("example.com")], None, c.CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT),
        (None, [x509.DNSName("localhost")], c.CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT),
    ],
)
def test_name_constraints(
    permitted: list[x509.GeneralName] | None, excluded: list[x509.GeneralName] | None, bit: int
) -> None:
    root, inter = _constrained(permitted, excluded)
    leaf = pki.make_leaf(inter)
    trust(root)
    chain = get_chain(leaf_context([leaf.der, inter.der]))
    assert element_errors(chain)[0] & bit
    status = policy(chain)
    assert (status.dwError, status.lElementIndex) == (c.CERT_E_INVALID_NAME, 0)


def test_cyclic_chain() -> None:
    # Two CAs that certify each other, neither trusted.
    from cryptography.hazmat.primitives import hashes

    ka, kb = pki.new_key("p256"), pki.new_key("p256")
    na = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Cycle A")])
    nb = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Cycle B")])

    def ca(subject: x509.Name, issuer: x509.Name, key: Any, signer: Any) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(LONG_AGO)
            .not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer, hashes.SHA256())
        )

    a = ca(na, nb, ka, kb)
    b = ca(nb, na, kb, ka)
    leaf = pki.make_leaf(pki.Issued(cert=a, key=ka))
    ders = [leaf.der, a.public_bytes(Encoding.DER), b.public_bytes(Encoding.DER)]
    chain = get_chain(leaf_context(ders))
    assert chain.TrustStatus.dwErrorStatus & c.CERT_TRUST_IS_CYCLIC
    status = policy(chain)
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.CERT_E_UNTRUSTEDROOT,
        0,
        -1,
    )
    base = policy(chain, oid=c.CERT_CHAIN_POLICY_BASE)
    assert (base.dwError, base.lElementIndex) == (sc.CERT_E_CHAINING, -1)
    assert c.verify_server_chain(ders, "localhost", NOW) == sc.SEC_E_UNTRUSTED_ROOT


# --- the SSL policy's name check ----------------------------------------------------------------


def test_name_mismatch_indexes_and_ignores(good: pki.Pki) -> None:
    trust(good.root)
    chain = get_chain(leaf_context(good.chain_der))
    status = policy(chain, "wrong.example")
    assert (status.dwError, status.lChainIndex, status.lElementIndex) == (
        sc.CERT_E_CN_NO_MATCH,
        0,
        0,
    )
    assert (
        policy(chain, "wrong.example", checks=c.SECURITY_FLAG_IGNORE_CERT_CN_INVALID).dwError == 0
    )
    # No name, a client check or the base policy: no name check.
    assert policy(chain, None).dwError == 0
    assert policy(chain, "wrong.example", auth=c.AUTHTYPE_CLIENT).dwError == 0
    assert policy(chain, "wrong.example", oid=c.CERT_CHAIN_POLICY_BASE).dwError == 0
    # .NET's call: every IGNORE flag but IGNORE_INVALID_NAME still checks the name.
    dotnet = 0xFFF & ~c.CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG
    assert policy(chain, "wrong.example", flags=dotnet).dwError == sc.CERT_E_CN_NO_MATCH
    # A good result leaves -1 in both indexes.
    ok = policy(chain)
    assert (ok.dwError, ok.lChainIndex, ok.lElementIndex) == (0, -1, -1)


def test_name_check_comes_after_chain_errors(good: pki.Pki) -> None:
    chain = get_chain(leaf_context([*good.chain_der, good.root.der]))
    assert policy(chain, "wrong.example").dwError == sc.CERT_E_UNTRUSTEDROOT
    trust(good.root)
    chain = get_chain(leaf_context(good.chain_der), when=datetime.datetime(2200, 1, 1))
    assert policy(chain, "wrong.example").dwError == sc.CERT_E_EXPIRED


def test_ip_target(good: pki.Pki) -> None:
    root = pki.make_ca()
    leaf = pki.make_leaf(root, dns_names=(), ip_addresses=("127.0.0.1",))
    trust(root)
    chain = get_chain(leaf_context(leaf.chain_der))
    assert policy(chain, "127.0.0.1").dwError == 0
    assert policy(chain, "127.0.0.2").dwError == sc.CERT_E_CN_NO_MATCH


# --- chain engines --------------------------------------------------------------------------------


def make_engine(config: c.CERT_CHAIN_ENGINE_CONFIG) -> c.HCERTCHAINENGINE:
    engine = c.HCERTCHAINENGINE()
    assert c.CertCreateCertificateChainEngine(config, engine), hex(c.GetLastError())
    assert engine.value is not None
    return engine


def test_exclusive_engine_ignores_root_store(good: pki.Pki) -> None:
    # curl --cacert (Curl_verify_certificate): the CA file is the only trust.
    trust(good.root)
    leaf = leaf_context(good.chain_der)
    other = pki.make_ca("Someone Else")
    engine = make_engine(c.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot=memory_store(other)))
    chain = get_chain(leaf, engine=engine)
    assert chain.TrustStatus.dwErrorStatus & (
        c.CERT_TRUST_IS_PARTIAL_CHAIN | c.CERT_TRUST_IS_UNTRUSTED_ROOT
    )
    assert policy(chain).dwError in (sc.CERT_E_CHAINING, sc.CERT_E_UNTRUSTEDROOT)
    # The default engine trusts "ROOT"; so do the predefined handles.
    for default in (None, c.HCCE_CURRENT_USER, c.HCCE_LOCAL_MACHINE):
        assert get_chain(leaf, engine=default).TrustStatus.dwErrorStatus == 0
    c.CertFreeCertificateChainEngine(engine)


def test_exclusive_engine_trusts_its_store(good: pki.Pki) -> None:
    leaf = leaf_context(good.chain_der)
    engine = make_engine(c.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot=memory_store(good.root)))
    chain = get_chain(leaf, engine=engine)
    assert chain.TrustStatus.dwErrorStatus == 0
    assert element_infos(chain)[-1] & c.CERT_TRUST_IS_FROM_EXCLUSIVE_TRUST_STORE
    assert policy(chain).dwError == 0
    # ...while the default engine does not know that root.
    assert get_chain(leaf).TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_PARTIAL_CHAIN


def test_exclusive_enable_ca_flag(good: pki.Pki) -> None:
    assert good.intermediate is not None
    leaf = leaf_context([good.leaf.der])
    store = memory_store(good.intermediate)
    without = make_engine(c.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot=store))
    chain = get_chain(leaf, engine=without)
    assert chain.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_PARTIAL_CHAIN
    with_ca = make_engine(
        c.CERT_CHAIN_ENGINE_CONFIG(
            hExclusiveRoot=store, dwExclusiveFlags=c.CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG
        )
    )
    chain = get_chain(leaf, engine=with_ca)
    assert chain.TrustStatus.dwErrorStatus == 0
    assert element_infos(chain)[-1] & c.CERT_TRUST_IS_CA_TRUSTED
    # A Windows 7-sized config has no dwExclusiveFlags: the flag is not read.
    seven = make_engine(
        c.CERT_CHAIN_ENGINE_CONFIG(
            cbSize=80, hExclusiveRoot=store, dwExclusiveFlags=c.CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG
        )
    )
    assert get_chain(leaf, engine=seven).TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_PARTIAL_CHAIN


def test_engine_config_size_is_checked() -> None:
    for size in (0, 1, 56, 96, -1):
        engine = c.HCERTCHAINENGINE()
        assert not c.CertCreateCertificateChainEngine(
            c.CERT_CHAIN_ENGINE_CONFIG(cbSize=size), engine
        )
        assert c.GetLastError() == c.E_INVALIDARG
        assert engine.value is None
    for size in (40, 48, 52, 64, 80, 88):
        make_engine(c.CERT_CHAIN_ENGINE_CONFIG(cbSize=size))


def test_restricted_root_must_be_in_root(good: pki.Pki) -> None:
    engine = c.HCERTCHAINENGINE()
    config = c.CERT_CHAIN_ENGINE_CONFIG(hRestrictedRoot=memory_store(good.root))
    assert not c.CertCreateCertificateChainEngine(config, engine)
    assert c.GetLastError() == sc.CRYPT_E_NOT_FOUND
    trust(good.root)
    engine = make_engine(config)
    assert get_chain(leaf_context(good.chain_der), engine=engine).TrustStatus.dwErrorStatus == 0
    empty = make_engine(c.CERT_CHAIN_ENGINE_CONFIG(hRestrictedRoot=memory_store()))
    assert get_chain(leaf_context(good.chain_der), engine=empty).TrustStatus.dwErrorStatus != 0


def test_freed_engine_is_refused(good: pki.Pki) -> None:
    engine = make_engine(c.CERT_CHAIN_ENGINE_CONFIG())
    c.CertFreeCertificateChainEngine(engine)
    out = c.PCCERT_CHAIN_CONTEXT()
    assert not c.CertGetCertificateChain(
        engine, leaf_context(good.chain_der), None, None, para(), 0, None, out
    )
    assert c.GetLastError() == c.E_INVALIDARG and out.value is None


def test_revocation_flags_without_revocation_information(good: pki.Pki) -> None:
    # The test PKI names no CDP and no OCSP responder: every certificate the flag
    # covers has an unknown status (not offline: there is nothing to reach); the
    # self-signed root never does (docs/windows-behaviour.md section 9).
    trust(good.root)
    leaf = leaf_context(good.chain_der)
    unknown = c.CERT_TRUST_REVOCATION_STATUS_UNKNOWN
    for flags, expected in (
        (c.CERT_CHAIN_REVOCATION_CHECK_CHAIN, [unknown, unknown, 0]),
        (c.CERT_CHAIN_REVOCATION_CHECK_END_CERT, [unknown, 0, 0]),
        (
            c.CERT_CHAIN_CACHE_END_CERT
            | c.CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY
            | c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
            [unknown, unknown, 0],
        ),
        (c.CERT_CHAIN_CACHE_END_CERT, [0, 0, 0]),
    ):
        chain = get_chain(leaf, flags=flags)
        assert [e.TrustStatus.dwErrorStatus for e in chain.rgpChain[0].rgpElement] == expected


# --- hostile input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {"para": None},
        {"para": "x"},
        {"para": c.CERT_CHAIN_PARA(cbSize=0)},
        {"para": c.CERT_CHAIN_PARA(cbSize="big")},
        {"cert": None},
        {"cert": b"\x30\x00"},
        {"store": "ROOT"},
        {"reserved": 1},
        {"flags": None},
        {"time": "now"},
        {"time": -5},
        {"engine": 7},
        {"engine": object()},
        {"para": para(["not an oid"])},
        {"para": para([SERVER_AUTH], kind=9)},
        {"para": c.CERT_CHAIN_PARA(RequestedUsage=None)},  # type: ignore[arg-type]
        {
            "para": c.CERT_CHAIN_PARA(
                RequestedUsage=c.CERT_USAGE_MATCH(0, c.CERT_ENHKEY_USAGE(5, [SERVER_AUTH]))
            )
        },
    ],
)
def test_get_chain_hostile_input(good: pki.Pki, args: dict[str, Any]) -> None:
    out = c.PCCERT_CHAIN_CONTEXT()
    c.SetLastError(0)
    ok = c.CertGetCertificateChain(
        args.get("engine"),
        args.get("cert", leaf_context(good.chain_der)),
        args.get("time"),
        args.get("store"),
        args.get("para", para()),
        args.get("flags", 0),
        args.get("reserved"),
        out,
    )
    assert not ok and out.value is None
    assert c.GetLastError() == c.E_INVALIDARG


def test_garbage_der_in_a_context(good: pki.Pki) -> None:
    ctx = leaf_context(good.chain_der)
    broken = c.CERT_CONTEXT(ctx.dwCertEncodingType, b"garbage", 7, ctx.pCertInfo)
    out = c.PCCERT_CHAIN_CONTEXT()
    assert not c.CertGetCertificateChain(None, broken, None, None, para(), 0, None, out)
    assert c.GetLastError() == c.ERROR_INVALID_DATA


def test_policy_hostile_input(good: pki.Pki) -> None:
    trust(good.root)
    chain = get_chain(leaf_context(good.chain_der))
    status = c.CERT_CHAIN_POLICY_STATUS()
    cases: list[tuple[Any, Any, Any, Any, int]] = [
        (99, chain, None, status, sc.CRYPT_E_NOT_FOUND),
        ("1.2.3", chain, None, status, sc.CRYPT_E_NOT_FOUND),
        (None, chain, None, status, sc.CRYPT_E_NOT_FOUND),
        (c.CERT_CHAIN_POLICY_SSL, None, None, status, c.E_INVALIDARG),
        (c.CERT_CHAIN_POLICY_SSL, "chain", None, status, c.E_INVALIDARG),
        (c.CERT_CHAIN_POLICY_SSL, chain, "para", status, c.E_INVALIDARG),
        (c.CERT_CHAIN_POLICY_SSL, chain, None, None, c.E_INVALIDARG),
        (c.CERT_CHAIN_POLICY_SSL, c.CERT_CHAIN_CONTEXT(), None, status, c.E_INVALIDARG),
        (
            c.CERT_CHAIN_POLICY_SSL,
            chain,
            c.CERT_CHAIN_POLICY_PARA(
                pvExtraPolicyPara=c.HTTPSPolicyCallbackData(pwszServerName=b"x")
            ),  # type: ignore[arg-type]
            status,
            c.E_INVALIDARG,
        ),
    ]
    for oid, ch, pp, st, err in cases:
        c.SetLastError(0)
        assert not c.CertVerifyCertificateChainPolicy(oid, ch, pp, st)
        assert c.GetLastError() == err
    # No CERT_CHAIN_POLICY_PARA at all: the chain alone is judged.
    assert c.CertVerifyCertificateChainPolicy(c.CERT_CHAIN_POLICY_SSL, chain, None, status)
    assert status.dwError == 0
    # A too-small HTTPSPolicyCallbackData is not read (no name check).
    small = c.HTTPSPolicyCallbackData(cbSize=4, pwszServerName="wrong.example")
    assert c.CertVerifyCertificateChainPolicy(
        c.CERT_CHAIN_POLICY_SSL, chain, c.CERT_CHAIN_POLICY_PARA(pvExtraPolicyPara=small), status
    )
    assert status.dwError == 0


def test_engine_hostile_input() -> None:
    for config, holder in [
        (None, c.HCERTCHAINENGINE()),
        ("config", c.HCERTCHAINENGINE()),
        (c.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot="ROOT"), c.HCERTCHAINENGINE()),  # type: ignore[arg-type]
        (
            c.CERT_CHAIN_ENGINE_CONFIG(cAdditionalStore=2, rghAdditionalStore=[]),
            c.HCERTCHAINENGINE(),
        ),
        (c.CERT_CHAIN_ENGINE_CONFIG(), None),
    ]:
        assert not c.CertCreateCertificateChainEngine(config, holder)
        assert c.GetLastError() == c.E_INVALIDARG
    c.CertFreeCertificateChainEngine(None)
    c.CertFreeCertificateChainEngine("junk")


# --- schannel-rs's expectations ----------------------------------------------------------------
# Ported from steffengy/schannel-rs, src/test.rs (expired_cert, self_signed_cert,
# wrong_host_cert, self_signed_cert_manual_trust) through the validation of
# src/tls_stream.rs (TlsStream::validate): the default engine, the peer's store as
# hAdditionalStore, RequestedUsage OR {serverAuth, SGC, Netscape SGC}, then the SSL
# policy with IGNORE_ALL_REV_UNKNOWN (+ ALLOW_UNKNOWN_CA when a chain certificate is
# in the caller's store) and the domain as pwszServerName.  badssl.com's hosts are
# replaced by certificates made here.


def rs_validate(
    chain_der: Sequence[bytes], domain: str, user_store: c.CertStore | None = None
) -> int:
    leaf = leaf_context(chain_der)
    store = leaf.hCertStore
    if user_store is not None:
        for ctx in user_store:
            assert c.CertAddCertificateContextToStore(
                store, ctx, c.CERT_STORE_ADD_REPLACE_EXISTING, None
            )
    flags = (
        c.CERT_CHAIN_CACHE_END_CERT
        | c.CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY
        | c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
    )
    oids = [SERVER_AUTH, c.szOID_SERVER_GATED_CRYPTO, c.szOID_SGC_NETSCAPE]
    chain = get_chain(leaf, extra=store, chain_para=para(oids, c.USAGE_MATCH_TYPE_OR), flags=flags)
    para_flags = c.CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS
    if user_store is not None:
        mine = {ctx.pbCertEncoded for ctx in user_store}
        elements = chain.rgpChain[-1].rgpElement
        if any(e.pCertContext and e.pCertContext.pbCertEncoded in mine for e in elements):
            para_flags |= c.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG
    return policy(chain, domain, flags=para_flags).dwError


def test_schannel_rs_expired_cert() -> None:
    root = pki.make_ca()
    leaf = pki.make_leaf(
        root, dns_names=("expired.badssl.test",), not_before=LONG_AGO, not_after=PAST
    )
    trust(root)
    assert rs_validate(leaf.chain_der, "expired.badssl.test") == sc.CERT_E_EXPIRED


def test_schannel_rs_self_signed_cert() -> None:
    leaf = pki.make_self_signed(("self-signed.badssl.test",))
    assert rs_validate([leaf.der], "self-signed.badssl.test") == sc.CERT_E_UNTRUSTEDROOT


def test_schannel_rs_self_signed_cert_manual_trust() -> None:
    leaf = pki.make_self_signed(("self-signed.badssl.test",))
    mine = memory_store(leaf)
    assert rs_validate([leaf.der], "self-signed.badssl.test", mine) == 0


def test_schannel_rs_wrong_host_cert(good: pki.Pki) -> None:
    trust(good.root)
    assert rs_validate(good.chain_der, "wrong.host.badssl.test") == sc.CERT_E_CN_NO_MATCH
    assert rs_validate(good.chain_der, "localhost") == 0


# --- agreement with ISC ---------------------------------------------------------------------------

#: ISC's status -> the SSL policy results that mean the same verdict.
SAME_VERDICT: dict[int, set[int]] = {
    sc.SEC_E_OK: {0},
    sc.SEC_E_UNTRUSTED_ROOT: {sc.CERT_E_UNTRUSTEDROOT, sc.CERT_E_CHAINING},
    sc.SEC_E_CERT_EXPIRED: {sc.CERT_E_EXPIRED},
    sc.SEC_E_CERT_WRONG_USAGE: {sc.CERT_E_WRONG_USAGE},
    sc.SEC_E_WRONG_PRINCIPAL: {sc.CERT_E_CN_NO_MATCH},
    sc.SEC_E_CERT_UNKNOWN: {
        sc.TRUST_E_CERT_SIGNATURE,
        c.TRUST_E_BASIC_CONSTRAINTS,
        c.CERT_E_INVALID_NAME,
        c.CERT_E_CRITICAL,
        c.CERT_E_INVALID_POLICY,
    },
}


def curl_chain_verdict(
    chain_der: Sequence[bytes], name: str, when: Any = None, engine: Any = None
) -> int:
    """curl's --cacert check (Curl_verify_certificate + the name) as one SSL policy call."""
    chain = get_chain(leaf_context(chain_der), when=when, engine=engine)
    return policy(chain, name).dwError


def agreement_cases() -> dict[str, tuple[list[bytes], pki.Issued, list[pki.Issued]]]:
    """name -> (chain the server sends, its leaf, certificates put in "ROOT")."""
    root = pki.make_ca()
    inter = pki.make_ca(pki.INTERMEDIATE_NAME, issuer=root)
    leaf = pki.make_leaf(inter)
    impostor = pki.make_ca(pki.INTERMEDIATE_NAME, issuer=root)
    forged = pki.make_leaf(impostor)
    not_ca = pki.make_leaf(root, common_name="Not A CA", dns_names=(), eku=None)
    under_not_ca = pki.make_leaf(not_ca)
    expired = pki.make_leaf(inter, not_before=LONG_AGO, not_after=PAST)
    future = pki.make_leaf(inter, not_before=NOW + datetime.timedelta(days=30))
    client_only = pki.make_leaf(inter, eku=("clientAuth",))
    wrong_name = pki.make_leaf(inter, dns_names=("elsewhere.example",))
    self_signed = pki.make_self_signed()
    client_ca = pki.make_ca("Client CA", issuer=root, eku=("clientAuth",))
    under_client_ca = pki.make_leaf(client_ca, eku=None)
    return {
        "good": (leaf.chain_der, leaf, [root]),
        "untrusted": (leaf.chain_der, leaf, []),
        "missing_intermediate": ([leaf.der], leaf, [root]),
        "bad_signature": ([forged.der, inter.der], forged, [root]),
        "not_a_ca": ([under_not_ca.der, not_ca.der], under_not_ca, [root]),
        "expired": (expired.chain_der, expired, [root]),
        "not_yet_valid": (future.chain_der, future, [root]),
        "wrong_usage": (client_only.chain_der, client_only, [root]),
        "intermediate_usage": (under_client_ca.chain_der, under_client_ca, [root]),
        "wrong_name": (wrong_name.chain_der, wrong_name, [root]),
        "self_signed": ([self_signed.der], self_signed, []),
        "self_signed_trusted": ([self_signed.der], self_signed, [self_signed]),
    }


def isc_verdict(tmp_path: Path, chain_der: list[bytes], leaf: pki.Issued) -> int:
    """ISC's status for a server sending ``chain_der`` (curl's loop, automatic validation)."""
    fullchain = tmp_path / "fullchain.pem"
    key = tmp_path / "key.pem"
    pems = [x509.load_der_x509_certificate(d).public_bytes(Encoding.PEM) for d in chain_der]
    fullchain.write_bytes(b"".join(pems))
    key.write_bytes(leaf.key_pem)
    loop = CurlLoop(MemoryServer(fullchain, key, num_tickets=0), acquire_credential())
    status = loop.handshake()
    sc.DeleteSecurityContext(loop.ctx)
    return int(status)


@pytest.mark.parametrize("case", list(agreement_cases()))
def test_isc_and_chain_engine_agree(case: str, tmp_path: Path) -> None:
    chain_der, leaf, roots = agreement_cases()[case]
    if roots:
        trust(*roots)
    isc = isc_verdict(tmp_path, chain_der, leaf)
    direct = int(c.verify_server_chain(chain_der, "localhost", NOW))
    verdict = curl_chain_verdict(chain_der, "localhost")
    assert isc == direct, case
    assert verdict in SAME_VERDICT[isc], (case, sc.SecStatus(isc), hex(verdict))
    expected = {
        "good": sc.SEC_E_OK,
        "untrusted": sc.SEC_E_UNTRUSTED_ROOT,
        "missing_intermediate": sc.SEC_E_UNTRUSTED_ROOT,
        "bad_signature": sc.SEC_E_CERT_UNKNOWN,
        "not_a_ca": sc.SEC_E_CERT_UNKNOWN,
        "expired": sc.SEC_E_CERT_EXPIRED,
        "not_yet_valid": sc.SEC_E_CERT_EXPIRED,
        "wrong_usage": sc.SEC_E_CERT_WRONG_USAGE,
        "intermediate_usage": sc.SEC_E_CERT_WRONG_USAGE,
        "wrong_name": sc.SEC_E_WRONG_PRINCIPAL,
        "self_signed": sc.SEC_E_UNTRUSTED_ROOT,
        "self_signed_trusted": sc.SEC_E_OK,
    }[case]
    assert isc == expected


# --- x509-limbo through the chain engine ---------------------------------------------------------

LIMBO = ROOT / "vectors" / "x509-limbo.json"


def _limbo_cases() -> list[dict[str, Any]]:
    cases = json.loads(LIMBO.read_text())["testcases"]
    return [t for t in cases if t["validation_kind"] == "SERVER" and t["expected_peer_name"]]


def _limbo_der(pem: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)


def test_limbo_chain_engine_agrees_with_verify_server_chain() -> None:
    """Every x509-limbo SERVER case: the exclusive engine over the case's trust
    anchors (ENABLE_CA: any of them is an anchor, as ``extra_roots`` makes it) plus
    the SSL policy reach ``verify_server_chain``'s verdict."""
    disagreements = []
    kinds: set[int] = set()
    for case in _limbo_cases():
        anchors = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
        assert anchors is not None
        for pem in case["trusted_certs"]:
            der = _limbo_der(pem)
            c.CertAddEncodedCertificateToStore(
                anchors, 1, der, len(der), c.CERT_STORE_ADD_ALWAYS, None
            )
        chain = [_limbo_der(case["peer_certificate"])]
        chain += [_limbo_der(p) for p in case["untrusted_intermediates"]]
        when = (
            datetime.datetime.fromisoformat(case["validation_time"])
            if case["validation_time"]
            else NOW
        )
        name = case["expected_peer_name"]["value"]
        isc = int(c.verify_server_chain(chain, name, when, extra_roots=anchors))
        engine = make_engine(
            c.CERT_CHAIN_ENGINE_CONFIG(
                hExclusiveRoot=anchors, dwExclusiveFlags=c.CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG
            )
        )
        verdict = curl_chain_verdict(chain, name, when=when, engine=engine)
        kinds.add(verdict)
        if verdict not in SAME_VERDICT[isc]:
            disagreements.append((case["id"], sc.SecStatus(isc), hex(verdict)))
    assert not disagreements
    # The suite exercises several policy errors, not just one.
    assert {0, sc.CERT_E_CN_NO_MATCH, sc.CERT_E_EXPIRED} <= kinds
