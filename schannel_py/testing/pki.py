"""Certificates on demand: root / intermediate CAs, leaf and self-signed certificates.

Every test that needs a certificate builds it here, so the choices live in one
place: key types, validity windows, EKUs, SANs, and how the result is written
to disk for ``openssl s_server``.

Typical use::

    pki = make_pki(dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    chain = pki.chain_der                  # what a server sends: leaf, intermediate
    pki.root.der                           # the trust anchor to add to "ROOT"
    paths = pki.write(tmp_path)            # cert.pem, chain.pem, key.pem, root.pem ...

Names are deterministic (fixed defaults, or what the caller passes).  Keys are
fresh by default, because two CAs sharing a name *and* a key are the same CA to
a verifier; pass ``key_label`` to reuse a key across calls (RSA generation is
the only slow step, so the label cache is what keeps RSA-heavy suites fast).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

KeyType = Literal["rsa2048", "rsa3072", "rsa4096", "p256", "p384", "p521", "ed25519"]
IPLike = str | ipaddress.IPv4Address | ipaddress.IPv6Address
EKULike = str | x509.ObjectIdentifier

#: A window that contains every "now" a test or a real run will see.
DEFAULT_NOT_BEFORE = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
DEFAULT_NOT_AFTER = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)

ROOT_NAME = "schannel_py Test Root CA"
INTERMEDIATE_NAME = "schannel_py Test Intermediate CA"
ORGANIZATION = "schannel_py tests"

#: Short names accepted wherever an EKU is expected.
EKU_NAMES: dict[str, x509.ObjectIdentifier] = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "anyExtendedKeyUsage": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}

_key_cache: dict[tuple[KeyType, str], CertificateIssuerPrivateKeyTypes] = {}


def new_key(
    key_type: KeyType = "p256", label: str | None = None
) -> CertificateIssuerPrivateKeyTypes:
    """Return a private key of ``key_type``; the same one for the same ``label``.

    ``label=None`` always generates a fresh key.
    """
    if label is not None:
        cached = _key_cache.get((key_type, label))
        if cached is not None:
            return cached
    key: CertificateIssuerPrivateKeyTypes
    if key_type.startswith("rsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    elif key_type == "p256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "p384":
        key = ec.generate_private_key(ec.SECP384R1())
    elif key_type == "p521":
        key = ec.generate_private_key(ec.SECP521R1())
    elif key_type == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"unknown key type {key_type!r}")
    if label is not None:
        _key_cache[(key_type, label)] = key
    return key


_SignHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def _hash_for(key: CertificateIssuerPrivateKeyTypes) -> _SignHash | None:
    """Signature hash an issuer key uses (None for Ed25519, which hashes itself)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size >= 521:
            return hashes.SHA512()
        if key.curve.key_size >= 384:
            return hashes.SHA384()
    return hashes.SHA256()


def _eku_oids(eku: Iterable[EKULike]) -> list[x509.ObjectIdentifier]:
    return [EKU_NAMES[e] if isinstance(e, str) else e for e in eku]


def _name(common_name: str, organization: str | None = ORGANIZATION) -> x509.Name:
    attrs = []
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


@dataclass(frozen=True, eq=False)
class Issued:
    """A certificate with its private key and the CA that issued it (None for a root)."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes
    issuer: Issued | None = None

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_der(self) -> bytes:
        """Unencrypted PKCS#8 DER."""
        return self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def key_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM (what ``openssl s_server -key`` reads)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def is_root(self) -> bool:
        return self.issuer is None

    @property
    def ancestors(self) -> list[Issued]:
        """Issuers from the direct one up to the root."""
        out: list[Issued] = []
        node = self.issuer
        while node is not None:
            out.append(node)
            node = node.issuer
        return out

    @property
    def intermediates(self) -> list[Issued]:
        """Ancestors except the root: what a server sends after its leaf."""
        return [a for a in self.ancestors if not a.is_root]

    @property
    def root(self) -> Issued:
        return self.ancestors[-1] if self.issuer is not None else self

    @property
    def chain_der(self) -> list[bytes]:
        """The certificate list a server sends: this certificate, then intermediates."""
        return [self.der] + [a.der for a in self.intermediates]

    @property
    def chain_pem(self) -> bytes:
        return self.pem + b"".join(a.pem for a in self.intermediates)

    def to_pkcs12(
        self, password: bytes | None = None, *, friendly_name: bytes | None = None
    ) -> bytes:
        """PKCS#12 (PFX) with key, certificate and intermediates, for PFXImportCertStore."""
        algorithm: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        key = self.key
        if not isinstance(
            key,
            (
                rsa.RSAPrivateKey,
                ec.EllipticCurvePrivateKey,
                ed25519.Ed25519PrivateKey,
            ),
        ):
            raise TypeError(f"PKCS#12 cannot hold a {type(key).__name__}")
        return pkcs12.serialize_key_and_certificates(
            friendly_name,
            key,
            self.cert,
            [a.cert for a in self.intermediates] or None,
            algorithm,
        )

    def write(self, directory: str | Path, stem: str = "") -> PemPaths:
        """Write PEM files for ``openssl s_server`` and the matching client side.

        Files (``stem`` is prefixed to each name): ``cert.pem`` (this certificate),
        ``chain.pem`` (intermediates only, for ``-cert_chain``), ``fullchain.pem``
        (certificate + intermediates), ``key.pem`` (PKCS#8) and ``root.pem``
        (the trust anchor, e.g. for ``SCHANNEL_PY_ROOT_CERTS``).
        """
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        paths = PemPaths(
            cert=d / f"{stem}cert.pem",
            chain=d / f"{stem}chain.pem",
            fullchain=d / f"{stem}fullchain.pem",
            key=d / f"{stem}key.pem",
            root=d / f"{stem}root.pem",
        )
        paths.cert.write_bytes(self.pem)
        paths.chain.write_bytes(b"".join(a.pem for a in self.intermediates))
        paths.fullchain.write_bytes(self.chain_pem)
        paths.key.write_bytes(self.key_pem)
        paths.root.write_bytes(self.root.pem)
        return paths


@dataclass(frozen=True)
class PemPaths:
    """Where :meth:`Issued.write` put each file."""

    cert: Path
    chain: Path
    fullchain: Path
    key: Path
    root: Path


def make_ca(
    name: str = ROOT_NAME,
    *,
    issuer: Issued | None = None,
    key_type: KeyType = "p256",
    key: CertificateIssuerPrivateKeyTypes | None = None,
    key_label: str | None = None,
    not_before: datetime.datetime = DEFAULT_NOT_BEFORE,
    not_after: datetime.datetime = DEFAULT_NOT_AFTER,
    path_length: int | None = None,
    eku: Sequence[EKULike] | None = None,
    organization: str | None = ORGANIZATION,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    """A CA certificate: self-signed root when ``issuer`` is None, else an intermediate.

    ``eku`` None leaves the EKU extension out (the usual case for CAs);
    ``extra_extensions`` (extension, critical) are added as given, e.g.
    :func:`revocation_info`'s.
    """
    key = key if key is not None else new_key(key_type, key_label)
    subject = _name(name, organization)
    issuer_name = issuer.cert.subject if issuer else subject
    signer = issuer.key if issuer else key
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(_eku_oids(eku)), critical=False)
    for ext, critical in extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    cert = builder.sign(signer, _hash_for(signer))
    return Issued(cert=cert, key=key, issuer=issuer)


def revocation_info(
    crl_urls: Sequence[str] = (), ocsp_urls: Sequence[str] = ()
) -> list[tuple[x509.ExtensionType, bool]]:
    """The CRL distribution points and AIA (OCSP) extensions naming these URLs,
    for ``make_ca`` / ``make_leaf``'s ``extra_extensions``."""
    out: list[tuple[x509.ExtensionType, bool]] = []
    if crl_urls:
        points = [
            x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None)
            for u in crl_urls
        ]
        out.append((x509.CRLDistributionPoints(points), False))
    if ocsp_urls:
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u)
            )
            for u in ocsp_urls
        ]
        out.append((x509.AuthorityInformationAccess(access), False))
    return out


def make_crl(
    issuer: Issued,
    revoked: Iterable[Issued | int] = (),
    *,
    this_update: datetime.datetime | None = None,
    next_update: datetime.datetime | None = None,
    signer: CertificateIssuerPrivateKeyTypes | None = None,
) -> bytes:
    """A DER CRL by ``issuer`` listing ``revoked`` (certificates or serial numbers).

    Times default to a day before and a week after now; ``signer`` replaces the
    issuer's key (a badly signed CRL).
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    this_update = this_update or now - datetime.timedelta(days=1)
    next_update = next_update or now + datetime.timedelta(days=7)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
    )
    serials = [r.cert.serial_number if isinstance(r, Issued) else r for r in revoked]
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update)
            .build()
        )
    key = signer if signer is not None else issuer.key
    crl = builder.sign(key, _hash_for(key))
    return crl.public_bytes(serialization.Encoding.DER)


def make_ocsp_response(
    cert: Issued,
    status: Literal["good", "revoked", "unknown"] = "good",
    *,
    responder: Issued | None = None,
    this_update: datetime.datetime | None = None,
    next_update: datetime.datetime | None = None,
    issuer: Issued | None = None,
) -> bytes:
    """A DER OCSP response about ``cert``, signed by its issuer or by ``responder``
    (a delegated responder, included in the response).  ``issuer`` overrides the
    CA named in the CertID (a response about another CA's certificate)."""
    ca = issuer if issuer is not None else cert.issuer
    if ca is None:
        raise ValueError("a self-signed certificate has no issuer to answer for it")
    now = datetime.datetime.now(datetime.timezone.utc)
    this_update = this_update or now - datetime.timedelta(hours=1)
    next_update = next_update or now + datetime.timedelta(days=1)
    cert_status = {
        "good": ocsp.OCSPCertStatus.GOOD,
        "revoked": ocsp.OCSPCertStatus.REVOKED,
        "unknown": ocsp.OCSPCertStatus.UNKNOWN,
    }[status]
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert.cert,
        issuer=ca.cert,
        algorithm=hashes.SHA1(),
        cert_status=cert_status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=this_update if status == "revoked" else None,
        revocation_reason=None,
    )
    signer = responder if responder is not None else ca
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
    if responder is not None:
        builder = builder.certificates([responder.cert])
    response = builder.sign(signer.key, _hash_for(signer.key))
    return response.public_bytes(serialization.Encoding.DER)


def make_leaf(
    issuer: Issued | None,
    *,
    dns_names: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[IPLike] = (),
    common_name: str | None = None,
    key_type: KeyType = "p256",
    key: CertificateIssuerPrivateKeyTypes | None = None,
    key_label: str | None = None,
    not_before: datetime.datetime = DEFAULT_NOT_BEFORE,
    not_after: datetime.datetime = DEFAULT_NOT_AFTER,
    eku: Sequence[EKULike] | None = ("serverAuth",),
    san: bool = True,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    organization: str | None = ORGANIZATION,
    key_usage: x509.KeyUsage | None = None,
    serial_number: int | None = None,
) -> Issued:
    """An end-entity certificate signed by ``issuer`` (self-signed when None).

    ``key_usage`` replaces the default KeyUsage (digitalSignature, and
    keyEncipherment for RSA keys).  ``serial_number``: default a random one
    (a fixed one, with a fixed Ed25519 key, gives the same certificate bytes
    on every run).

    SAN holds ``dns_names`` then ``ip_addresses``; it is left out when both are
    empty or ``san`` is False.  ``eku`` None leaves the EKU extension out.  The
    subject CN defaults to the first DNS name (or IP), so a CN-only certificate
    is ``make_leaf(ca, san=False, common_name="host")``.
    """
    key = key if key is not None else new_key(key_type, key_label)
    ips = [ipaddress.ip_address(ip) if isinstance(ip, str) else ip for ip in ip_addresses]
    if common_name is None:
        common_name = (
            dns_names[0] if dns_names else (str(ips[0]) if ips else "schannel_py test leaf")
        )
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    subject = _name(common_name, organization)
    signer = issuer.key if issuer is not None else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(serial_number if serial_number is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            key_usage
            or x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=is_rsa,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    general_names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    general_names += [x509.IPAddress(ip) for ip in ips]
    if san and general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(_eku_oids(eku)), critical=False)
    for ext, critical in extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    cert = builder.sign(signer, _hash_for(signer))
    return Issued(cert=cert, key=key, issuer=issuer)


#: A KeyUsage allowing keyAgreement only (pass as ``key_usage``): such a key may not sign a handshake.
KEY_AGREEMENT_ONLY = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=True,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def make_self_signed(dns_names: Sequence[str] = ("localhost",), **kwargs: Any) -> Issued:
    """A self-signed server certificate (CA:FALSE), the usual development setup.

    Takes :func:`make_leaf`'s keyword arguments.  It is its own ``root``, so
    ``write()`` puts it in both ``cert.pem`` and ``root.pem``.
    """
    return make_leaf(None, dns_names=dns_names, **kwargs)


def _cn_and_organization(issued: Issued) -> tuple[str, str | None]:
    subject = issued.cert.subject
    cn = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    org = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(cn[0].value) if cn else "", str(org[0].value) if org else None


@dataclass(frozen=True, eq=False)
class Pki:
    """Root, optional intermediate and leaf made together by :func:`make_pki`."""

    root: Issued
    intermediate: Issued | None
    leaf: Issued
    extra: dict[str, Issued] = field(default_factory=dict)

    @property
    def chain_der(self) -> list[bytes]:
        """Leaf then intermediate: the Certificate message a server sends."""
        return self.leaf.chain_der

    def write(self, directory: str | Path, stem: str = "") -> PemPaths:
        """See :meth:`Issued.write`."""
        return self.leaf.write(directory, stem)

    # --- the usual bad certificates: like ``leaf`` but for one thing ---------------

    @property
    def _issuer(self) -> Issued:
        return self.intermediate or self.root

    def _names(self) -> tuple[list[str], list[IPLike]]:
        try:
            san = self.leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return [], []
        ips: list[IPLike] = [
            ip
            for ip in san.value.get_values_for_type(x509.IPAddress)
            if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address))
        ]
        return san.value.get_values_for_type(x509.DNSName), ips

    def _like_leaf(self, issuer: Issued, **changes: Any) -> Issued:
        dns, ips = self._names()
        options: dict[str, Any] = {
            "dns_names": dns,
            "ip_addresses": ips,
            "key": self.leaf.key,
            "not_before": self.leaf.cert.not_valid_before_utc,
            "not_after": self.leaf.cert.not_valid_after_utc,
        }
        options.update(changes)
        return make_leaf(issuer, **options)

    def expired(self) -> Issued:
        """The leaf's names and key, valid only from 2020-01-01 to 2021-01-01."""
        return self._like_leaf(
            self._issuer,
            not_before=DEFAULT_NOT_BEFORE,
            not_after=DEFAULT_NOT_BEFORE + datetime.timedelta(days=366),
        )

    def not_yet_valid(self) -> Issued:
        """The leaf's names and key, valid only from 2049-01-01."""
        return self._like_leaf(
            self._issuer,
            not_before=datetime.datetime(2049, 1, 1, tzinfo=datetime.timezone.utc),
        )

    def wrong_name(self, name: str = "elsewhere.example") -> Issued:
        """The leaf, issued for ``name`` only (no address)."""
        return self._like_leaf(self._issuer, dns_names=[name], ip_addresses=[])

    def wrong_usage(self) -> Issued:
        """The leaf's names and key with a clientAuth-only EKU: not for a server."""
        return self._like_leaf(self._issuer, eku=("clientAuth",))

    def untrusted(self) -> Issued:
        """The leaf's names and key, from a root (and intermediate, if this PKI has
        one) of its own, "untrusted" in their names: no chain to ``root``."""
        name, org = _cn_and_organization(self.root)
        issuer = make_ca(f"{name} (untrusted)", organization=org)
        if self.intermediate is not None:
            name, org = _cn_and_organization(self.intermediate)
            issuer = make_ca(f"{name} (untrusted)", organization=org, issuer=issuer, path_length=0)
        return self._like_leaf(issuer)

    def client(self, name: str = "client", *, key_type: KeyType = "p256") -> Issued:
        """A clientAuth certificate (CN ``name``, no SAN) from the leaf's issuer."""
        return make_leaf(
            self._issuer, dns_names=(), common_name=name, key_type=key_type, eku=("clientAuth",)
        )


def make_pki(
    *,
    dns_names: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[IPLike] = (),
    intermediate: bool = True,
    root_key_type: KeyType = "p256",
    intermediate_key_type: KeyType = "p256",
    leaf_key_type: KeyType = "p256",
    root_name: str = ROOT_NAME,
    intermediate_name: str = INTERMEDIATE_NAME,
    not_before: datetime.datetime = DEFAULT_NOT_BEFORE,
    not_after: datetime.datetime = DEFAULT_NOT_AFTER,
    eku: Sequence[EKULike] | None = ("serverAuth",),
    common_name: str | None = None,
) -> Pki:
    """A complete test PKI: root -> [intermediate ->] leaf.

    ``not_before``/``not_after`` apply to the leaf only; CAs get the default
    (wide) window, so an expired-leaf test really has only the leaf expired.
    """
    root = make_ca(root_name, key_type=root_key_type)
    inter = (
        make_ca(intermediate_name, issuer=root, key_type=intermediate_key_type, path_length=0)
        if intermediate
        else None
    )
    leaf = make_leaf(
        inter or root,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        key_type=leaf_key_type,
        not_before=not_before,
        not_after=not_after,
        eku=eku,
        common_name=common_name,
    )
    return Pki(root=root, intermediate=inter, leaf=leaf)
