"""The directory behind the "MY" system store.

"MY" (the personal store, where client certificates live) is backed by a
directory: the one named by the ``SCHANNEL_PY_MY_STORE`` environment variable,
or ``~/.schannel_py/my`` when it is unset or empty.  The directory is re-read
every time "MY" is opened (``CertOpenSystemStore(None, "MY")`` or
``CertOpenStore(CERT_STORE_PROV_SYSTEM, ..., "MY")``), so a change of the
variable or of the files takes effect at the next open.

What the directory may hold (other names are ignored; files that do not
decode, whose key does not match their certificate, or whose key is not
supported are skipped, never raised about):

* ``*.pem`` - a certificate, optionally followed by chain certificates, and
  its private key (unencrypted PKCS#8, PKCS#1 or SEC1 PEM).  The certificate
  that matches the key is the one with the key; the others join "MY" without
  one (so chain building finds them);
* ``*.pfx`` / ``*.p12`` - PKCS#12 with an empty (or no) password.

Supported keys: RSA 2048 bits and up, ECDSA P-256 / P-384, Ed25519.

Adding a context that has a private key to a "MY" handle
(``CertAddCertificateContextToStore``, or ``CertAddEncodedCertificateToStore``
with ``..._INHERIT_PROPERTIES`` onto a certificate that has one) writes
``<sha1 thumbprint, lower-case hex>.pem`` there: the certificate then its key
as unencrypted PKCS#8, file mode 0600 (the directory is created with 0700 if
needed).  Certificates without a key stay in-process only.  Deleting a
certificate from "MY" removes every file of the directory whose keyed
certificate it is.  Writing and removing are best effort: a read-only
directory leaves the change in-process only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from ._keys import key_matches, load_certificates, load_private_keys, pem_bundle, supported_key
from .constants import MY_STORE_DEFAULT, MY_STORE_ENV

__all__ = [
    "MyFileCertificate",
    "load_my_directory",
    "my_store_directory",
    "thumbprint_name",
]

_SUFFIXES = (".pem", ".pfx", ".p12")
#: Files larger than this are not certificate bundles; skipped unread.
_MAX_FILE = 1 << 20


@dataclass(frozen=True)
class MyFileCertificate:
    """One certificate found in the "MY" directory."""

    der: bytes
    cert: x509.Certificate
    private_key: PrivateKeyTypes | None
    path: Path


def my_store_directory() -> Path:
    """The directory backing "MY" now: ``$SCHANNEL_PY_MY_STORE`` or ``~/.schannel_py/my``."""
    configured = os.environ.get(MY_STORE_ENV)
    return Path(os.path.expanduser(configured or MY_STORE_DEFAULT))


def _files(directory: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(directory))
    except (OSError, ValueError):
        return []
    out = []
    for name in names:
        path = directory / name
        if name.lower().endswith(_SUFFIXES) and not name.startswith("."):
            try:
                if path.is_file() and path.stat().st_size <= _MAX_FILE:
                    out.append(path)
            except OSError:
                continue
    return out


def _read_pem(data: bytes) -> list[tuple[bytes, x509.Certificate, PrivateKeyTypes | None]]:
    certs = load_certificates(data) if b"-----BEGIN" in data else []
    keys = [k for k in load_private_keys(data) if supported_key(k)]
    if not certs or not keys:
        return []
    out: list[tuple[bytes, x509.Certificate, PrivateKeyTypes | None]] = []
    keyed = False
    for der, cert in certs:
        key = next((k for k in keys if key_matches(cert, k)), None)
        keyed = keyed or key is not None
        out.append((der, cert, key))
    return out if keyed else []


def _read_pfx(data: bytes) -> list[tuple[bytes, x509.Certificate, PrivateKeyTypes | None]]:
    loaded = None
    for password in (None, b""):
        try:
            loaded = pkcs12.load_pkcs12(data, password)
            break
        except Exception:
            continue
    if loaded is None or loaded.key is None or not supported_key(loaded.key):
        return []
    certs = [loaded.cert.certificate] if loaded.cert is not None else []
    certs.extend(c.certificate for c in loaded.additional_certs)
    out: list[tuple[bytes, x509.Certificate, PrivateKeyTypes | None]] = []
    keyed = False
    for cert in certs:
        try:
            der = cert.public_bytes(serialization.Encoding.DER)
        except Exception:
            continue
        owns = key_matches(cert, loaded.key)
        keyed = keyed or owns
        out.append((der, cert, loaded.key if owns else None))
    return out if keyed else []


def _read_file(path: Path) -> list[tuple[bytes, x509.Certificate, PrivateKeyTypes | None]]:
    try:
        data = path.read_bytes()
    except (OSError, ValueError):
        return []
    try:
        if path.name.lower().endswith(".pem"):
            return _read_pem(data)
        return _read_pfx(data)
    except Exception:  # a hostile file must never break opening "MY"
        return []


def _scan(
    directory: Path,
) -> Iterator[tuple[Path, bytes, x509.Certificate, PrivateKeyTypes | None]]:
    for path in _files(directory):
        for der, cert, key in _read_file(path):
            yield path, der, cert, key


def load_my_directory(directory: Path | None = None) -> list[MyFileCertificate]:
    """The certificates of the "MY" directory (default: :func:`my_store_directory`).

    Files in name order, each file's certificates in file order; a certificate
    found twice appears once, with a key if any file gave it one.
    """
    directory = my_store_directory() if directory is None else directory
    found: dict[bytes, MyFileCertificate] = {}
    for path, der, cert, key in _scan(directory):
        previous = found.get(der)
        if previous is None or (previous.private_key is None and key is not None):
            found[der] = MyFileCertificate(der=der, cert=cert, private_key=key, path=path)
    return list(found.values())


def thumbprint_name(der: bytes) -> str:
    """The file name a persisted certificate gets: SHA-1 thumbprint in hex, ``.pem``."""
    return hashlib.sha1(der).hexdigest() + ".pem"


def persist(directory: Path, der: bytes, key: PrivateKeyTypes) -> bool:
    """Write ``<thumbprint>.pem`` (certificate + PKCS#8 key, mode 0600); False on failure."""
    if not supported_key(key):
        return False
    try:
        data = pem_bundle(der, key)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / thumbprint_name(der)
        tmp = directory / f".{path.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
        os.replace(tmp, path)
    except Exception:
        return False
    return True


def remove(directory: Path, der: bytes) -> bool:
    """Remove every file whose keyed certificate is ``der``; False if one could not be."""
    ok = True
    paths = {path for path, d, _cert, key in _scan(directory) if d == der and key is not None}
    for path in sorted(paths):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            ok = False
    return ok
