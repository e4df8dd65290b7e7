"""A server whose chain has negative serial numbers (in the certificates and in
the leaf's authority key identifier) is accepted without the package raising a
warning, on every path that reads them: the TLS core, the chain check (which
matches the leaf's AKI issuer and serial against the CA), OCSP stapling, and
``schannel_py.ssl``'s ``getpeercert()``.

cryptography warns each time such a serial is read, and when the extensions
holding one are first parsed; the warning points at the package's line, and
under ``-W error`` (pyproject's filterwarnings) it is an exception raised inside
the handshake.  The autouse ``package_warnings`` fixture fails any test here in
which the package's code warned; the first test shows the certificates really
make cryptography warn.  A CI run found this by fuzzing: a mutated flight gave a
leaf whose AKI serial was negative.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

import schannel_py as sc
from schannel_py import crypt32 as c32
from schannel_py import ssl as sch_ssl
from schannel_py.testing import (
    TlsServer,
    Transport,
    Version,
    acquire_credential,
    reference_client,
    trusted_root,
)
from schannel_py.testing.pki import make_ca, make_leaf, make_ocsp_response
from tests.support.patched_certs import (
    CA_SERIAL,
    LEAF_SERIAL,
    NegativeSerials,
    make_negative_serials,
    refusal,
    with_serial,
)
from tests.support.revocation import staple_property

VERSIONS: list[tuple[Version, ...]] = [("1.3",), ("1.2",)]


@pytest.fixture(scope="module")
def chain() -> NegativeSerials:
    return make_negative_serials()


def test_cryptography_warns_about_these_certificates(chain: NegativeSerials) -> None:
    """Each of the three serials makes cryptography warn when it is read (a fresh
    copy of the leaf, so that its extensions are parsed here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # newer releases warn at loading too
        leaf = x509.load_der_x509_certificate(chain.leaf.cert.public_bytes(Encoding.DER))
    reads: list[Callable[[], object]] = [
        lambda: leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value,
        lambda: leaf.serial_number,
        lambda: chain.root.cert.serial_number,
    ]
    values = []
    for read in reads:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values.append(read())
        assert any("serial number" in str(w.message) for w in caught)
    aki = values[0]
    assert isinstance(aki, x509.AuthorityKeyIdentifier)
    assert (aki.authority_cert_serial_number, values[1], values[2]) == (
        CA_SERIAL,
        LEAF_SERIAL,
        CA_SERIAL,
    )
    root_key = chain.root.cert.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    root_key.verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_the_chain_is_trusted_and_its_staple_answers(
    chain: NegativeSerials, versions: tuple[Version, ...]
) -> None:
    """A full chain check (AKI issuer and serial matched against the root) and an
    OCSP staple matched to the leaf by its serial."""
    with warnings.catch_warnings():  # cryptography reads the serial, for the test's responder
        warnings.simplefilter("ignore")
        staple = make_ocsp_response(chain.leaf, "good")
    server = TlsServer(chain.leaf, versions=versions, ocsp_response=staple)
    with trusted_root(chain.root):
        credential = acquire_credential(flags=sc.SCH_CRED_REVOCATION_CHECK_END_CERT)
        client = reference_client(Transport(server), credential)
        client.handshake()
    assert server.handshake_complete and server.stapled
    assert staple_property(client.ctx) == staple


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_getpeercert_against_openssl(
    chain: NegativeSerials, tmp_path: Path, version: ssl.TLSVersion
) -> None:
    """schannel_py.ssl against Python's ssl server (OpenSSL) serving the chain;
    ``getpeercert()`` equals CPython's decoding of the same certificate, serial
    number "-03" included."""
    leaf_pem, key_pem, ca_pem = tmp_path / "leaf.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf_pem.write_bytes(chain.leaf.pem)
    key_pem.write_bytes(chain.leaf.key_pem)
    ca_pem.write_bytes(chain.root.pem)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.maximum_version = version
    server_ctx.load_cert_chain(leaf_pem, key_pem)
    client_ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cafile=str(ca_pem))
    cin, cout, sin, sout = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(cin, cout, server_hostname="localhost")
    server = server_ctx.wrap_bio(sin, sout, server_side=True)
    for _ in range(10):
        done = 0
        for side, src, dst in ((client, sout, cin), (server, cout, sin)):
            dst.write(src.read())
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
        if done == 2 and not cout.pending and not sout.pending:
            break
    assert client.version() == {ssl.TLSVersion.TLSv1_3: "TLSv1.3"}.get(version, "TLSv1.2")
    expected = ssl._ssl._test_decode_cert(str(leaf_pem))  # type: ignore[attr-defined]
    assert expected["serialNumber"] == "-03"
    assert client.getpeercert() == expected


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_the_structure_is_still_checked(versions: tuple[Version, ...]) -> None:
    """cryptography cannot validate such a path, so the package checks its
    structure itself: a root that is not a CA still fails the chain."""
    chain = make_negative_serials(ca=False)
    status, alerts = refusal(chain.leaf, chain.root, versions)
    assert status == sc.SEC_E_CERT_UNKNOWN
    assert alerts == [(2, 46)]  # certificate_unknown, as for any chain it rejects


def test_certgetcertificatechain_reports_no_error(chain: NegativeSerials) -> None:
    """CertGetCertificateChain on the leaf: a trusted two-element chain with no
    error bits, the same path ISC accepted."""
    der = chain.leaf.der
    with trusted_root(chain.root):
        leaf = c32.CertCreateCertificateContext(c32.X509_ASN_ENCODING, der, len(der))
        para = c32.CERT_CHAIN_PARA()
        para.RequestedUsage.Usage = c32.CTL_USAGE(1, [c32.szOID_PKIX_KP_SERVER_AUTH])
        out = c32.PCCERT_CHAIN_CONTEXT()
        assert c32.CertGetCertificateChain(None, leaf, None, None, para, 0, None, out)
    context = out.value
    assert context is not None
    assert context.TrustStatus.dwErrorStatus == 0
    elements = [e.pCertContext for e in context.rgpChain[0].rgpElement]
    assert [e.pbCertEncoded if e else None for e in elements] == [
        der,
        chain.root.der,
    ]


@pytest.mark.parametrize("manual", [True, False], ids=["manual", "automatic"])
@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_extensions_that_warn_then_fail(versions: tuple[Version, ...], manual: bool) -> None:
    """A leaf whose extension block holds the negative AKI serial and then an
    undecodable extension: cryptography warns again at every read.  The
    handshake fails as for any undecodable extension (bad_certificate), with no
    warning from the package; a fuzzing campaign (test_fuzz.py's certificate
    property, on cryptography 48) found the TLS core's second read."""
    chain = make_negative_serials(broken_extension=True)
    status, alerts = refusal(chain.leaf, chain.root, versions, manual)
    assert status == sc.SEC_E_CERT_UNKNOWN
    assert alerts == [(2, 42)]  # bad_certificate


def test_crypt32_reads_the_broken_extensions_without_a_warning() -> None:
    """The same leaf through CryptoAPI directly: a context, its DNS name (which
    reads the SAN), and a chain whose leaf is marked CERT_TRUST_INVALID_EXTENSION."""
    chain = make_negative_serials(broken_extension=True)
    der = chain.leaf.der
    with trusted_root(chain.root):
        leaf = c32.CertCreateCertificateContext(c32.X509_ASN_ENCODING, der, len(der))
        assert leaf is not None
        assert c32.CertGetNameString(leaf, c32.CERT_NAME_DNS_TYPE, 0, None, None, 0) >= 1
        para = c32.CERT_CHAIN_PARA()
        out = c32.PCCERT_CHAIN_CONTEXT()
        assert c32.CertGetCertificateChain(None, leaf, None, None, para, 0, None, out)
    assert out.value is not None
    leaf_status = out.value.rgpChain[0].rgpElement[0].TrustStatus.dwErrorStatus
    assert leaf_status & c32.CERT_TRUST_INVALID_EXTENSION


@pytest.mark.parametrize("negative", ["root", "intermediate"])
@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_one_negative_serial_in_an_ordinary_chain(
    negative: str, versions: tuple[Version, ...]
) -> None:
    """The common case in the field: one certificate of an otherwise ordinary
    chain has a negative serial, above all an old root of the OS bundle (the
    trust anchor, which cryptography's validation refuses as well).  The chain is
    trusted; the leaf's key identifiers name its issuer as usual."""
    if negative == "root":
        made = make_ca("schannel_py old root")
        root = with_serial(made, -5, made)
        intermediate = make_ca("schannel_py intermediate", issuer=root)
    else:
        root = make_ca("schannel_py root")
        intermediate = with_serial(make_ca("schannel_py intermediate", issuer=root), -7, root)
    leaf = make_leaf(intermediate)
    server = TlsServer(leaf, versions=versions)
    with trusted_root(root):
        client = reference_client(Transport(server), acquire_credential())
        client.handshake()  # raises SspiError unless ISC's validation accepts the chain
    assert server.handshake_complete
