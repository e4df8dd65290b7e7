"""Certificate stores (HCERTSTORE) and the functions that open, fill and search them.

Three kinds of store:

* memory stores (``CERT_STORE_PROV_MEMORY``): private to their handle;
* collections (``CERT_STORE_PROV_COLLECTION``): a live view of the member
  stores given to :func:`CertAddStoreToCollection`, highest priority first;
* system stores (``CERT_STORE_PROV_SYSTEM``, ``CertOpenSystemStore``): named,
  case-insensitive, process-global.  Every handle onto "MY" sees what any other
  handle added, for as long as the process lives, as with the registry-backed
  stores of Windows.  The store location (current user, local machine...) is
  ignored: there is one store per name.

"MY" is backed by a directory: ``$SCHANNEL_PY_MY_STORE``, default
``~/.schannel_py/my`` (see :mod:`schannel_py.crypt32.mystore`).  Each open
re-reads it, so its certificates (with their private keys) are present from the
start; adding a context that has a private key writes ``<sha1>.pem`` there
(mode 0600) and deleting removes the file.  In-process additions are kept per
directory, so pointing the variable elsewhere gives a different "MY".

"ROOT" is special: each handle also shows the OS trust anchors (the CA bundle,
parsed once per process) and the certificates of the PEM file named by
``SCHANNEL_PY_ROOT_CERTS`` (re-read at every open).  Order: OS bundle, env file,
then in-process additions; no certificate appears twice.

Each handle owns its CERT_CONTEXT objects (``hCertStore`` is that handle), so a
context stays the same object across enumerations of one handle, which is what
C iteration (``CertEnumCertificatesInStore(store, prev)``) relies on.
Context properties live on the store's entry for the certificate (so every
handle onto a system store sees them for the rest of the process); a link
(:func:`CertAddCertificateLinkToStore`) shares the linked entry's properties.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import ssl
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from schannel_py.constants import CRYPT_E_NOT_FOUND

from .._env import getenv
from ._lasterror import GetLastError, SetLastError
from ._x509 import extensions_of, serial_number
from .constants import (
    CERT_CLOSE_STORE_FORCE_FLAG,
    CERT_FIND_ANY,
    CERT_FIND_EXISTING,
    CERT_FIND_HAS_PRIVATE_KEY,
    CERT_FIND_ISSUER_NAME,
    CERT_FIND_ISSUER_OF,
    CERT_FIND_ISSUER_STR_A,
    CERT_FIND_ISSUER_STR_W,
    CERT_FIND_KEY_IDENTIFIER,
    CERT_FIND_MD5_HASH,
    CERT_FIND_PUBLIC_KEY,
    CERT_FIND_SHA1_HASH,
    CERT_FIND_SHA256_HASH,
    CERT_FIND_SUBJECT_CERT,
    CERT_FIND_SUBJECT_NAME,
    CERT_FIND_SUBJECT_STR_A,
    CERT_FIND_SUBJECT_STR_W,
    CERT_PHYSICAL_STORE_ADD_ENABLE_FLAG,
    CERT_SIMPLE_NAME_STR,
    CERT_STORE_ADD_ALWAYS,
    CERT_STORE_ADD_NEW,
    CERT_STORE_ADD_NEWER,
    CERT_STORE_ADD_NEWER_INHERIT_PROPERTIES,
    CERT_STORE_ADD_REPLACE_EXISTING,
    CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES,
    CERT_STORE_ADD_USE_EXISTING,
    CERT_STORE_OPEN_EXISTING_FLAG,
    CERT_STORE_PROV_COLLECTION,
    CERT_STORE_PROV_MEMORY,
    CERT_STORE_PROV_SYSTEM_A,
    CERT_STORE_PROV_SYSTEM_REGISTRY_A,
    CERT_STORE_PROV_SYSTEM_REGISTRY_W,
    CERT_STORE_PROV_SYSTEM_W,
    CERT_STORE_READONLY_FLAG,
    CERT_SYSTEM_STORE_CURRENT_USER,
    CRYPT_E_ASN1_BADTAG,
    CRYPT_E_EXISTS,
    E_ACCESSDENIED,
    E_INVALIDARG,
    ERROR_FILE_NOT_FOUND,
    ROOT_CERTS_ENV,
    X509_ASN_ENCODING,
    sz_CERT_STORE_PROV_COLLECTION,
    sz_CERT_STORE_PROV_MEMORY,
    sz_CERT_STORE_PROV_SYSTEM,
    sz_CERT_STORE_PROV_SYSTEM_REGISTRY,
)
from .context import (
    CERT_CONTEXT,
    CRYPT_DATA_BLOB,
    PCCERT_CONTEXT,
    _as_bytes,
    _make_context,
    _parse_der,
    pem_certificates_to_der,
)
from .mystore import load_my_directory, my_store_directory
from .mystore import persist as _my_persist
from .mystore import remove as _my_remove
from .mystore import thumbprint_name as _thumbprint_name
from .names import name_to_str

__all__ = [
    "CertAddCertificateContextToStore",
    "CertAddCertificateLinkToStore",
    "CertAddStoreToCollection",
    "CertDuplicateStore",
    "CertRemoveStoreFromCollection",
    "CertAddEncodedCertificateToStore",
    "CertCloseStore",
    "CertDeleteCertificateFromStore",
    "CertEnumCertificatesInStore",
    "CertFindCertificateInStore",
    "CertOpenStore",
    "CertOpenSystemStore",
    "CertOpenSystemStoreA",
    "CertOpenSystemStoreW",
    "CertStore",
    "HCERTSTORE",
    "chain_context",
    "env_root_certificates_der",
    "os_root_certificates_der",
    "root_certificates_der",
]

_LOCK = threading.RLock()
#: Sequence numbers order a store's certificates; in-process additions sort after
#: every OS/env entry of a ROOT snapshot.
_SEQ = itertools.count(1 << 40)


@dataclass(eq=False)
class _Entry:
    """What a store holds for one certificate, independent of any handle."""

    der: bytes
    cert: x509.Certificate
    seq: int
    private_key: PrivateKeyTypes | None = None
    #: The "MY" directory file this entry's key was read from or written to.
    path: Path | None = None
    #: Context properties by ID; a link (CertAddCertificateLinkToStore) shares
    #: the dict of the certificate it links to.
    props: dict[int, Any] = field(default_factory=dict)


@dataclass(eq=False)
class _Backing:
    """The mutable contents a store's handles share (one per memory store / system name)."""

    entries: dict[bytes, _Entry] = field(default_factory=dict)
    #: DER of base (OS / env) ROOT certificates deleted in-process.
    hidden: set[bytes] = field(default_factory=set)


#: Process-global system stores, by upper-case name.  "MY", "ROOT" and "CA"
#: exist from the start; other names are created on first open (as Windows does
#: unless CERT_STORE_OPEN_EXISTING_FLAG is given).
_SYSTEM_STORES: dict[str, _Backing] = {}
_PREDEFINED = ("MY", "ROOT", "CA")


def _system_backing(name: str, create: bool) -> _Backing | None:
    key = name.upper()
    with _LOCK:
        backing = _SYSTEM_STORES.get(key)
        if backing is None and (create or key in _PREDEFINED):
            backing = _SYSTEM_STORES[key] = _Backing()
        return backing


def _reset_system_stores() -> None:
    """Forget every in-process addition to system stores (for tests)."""
    with _LOCK:
        _SYSTEM_STORES.clear()
        _ROOT_BASE_CACHE.clear()
    _bump_generation()


# --- the OS trust anchors -------------------------------------------------

_OS_BUNDLE_CANDIDATES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora, RHEL (newer)
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, Alpine, BSDs
    "/usr/local/etc/openssl/cert.pem",  # Homebrew
    "/usr/local/share/certs/ca-root-nss.crt",  # FreeBSD
)


def _read_pem_file(path: str | os.PathLike[str]) -> list[bytes]:
    """Certificates of one PEM file (or one DER certificate); [] if unreadable."""
    try:
        data = Path(path).read_bytes()
    except (OSError, ValueError):
        return []
    ders = pem_certificates_to_der(data)
    if not ders and _parse_der(data) is not None:
        ders = [data]
    return ders


@functools.lru_cache(maxsize=1)
def os_root_certificates_der() -> tuple[bytes, ...]:
    """The OS CA bundle as DER, parsed once per process.

    Looks at ``ssl.get_default_verify_paths()`` (cafile, then capath) and then
    the usual distribution paths; the first source with certificates wins.
    """
    cafile: str | None = None
    capath: str | None = None
    try:
        paths = ssl.get_default_verify_paths()
        cafile, capath = paths.cafile, paths.capath
    except Exception:
        pass
    for candidate in (cafile, *_OS_BUNDLE_CANDIDATES):
        if candidate and os.path.isfile(candidate):
            ders = _read_pem_file(candidate)
            if ders:
                return tuple(dict.fromkeys(ders))
    if capath and os.path.isdir(capath):
        ders = []
        try:
            names = sorted(os.listdir(capath))
        except OSError:
            names = []
        for name in names:
            full = os.path.join(capath, name)
            if os.path.isfile(full):
                ders.extend(_read_pem_file(full))
        return tuple(dict.fromkeys(ders))
    return ()


def env_root_certificates_der() -> list[bytes]:
    """Certificates of the file named by ``SCHANNEL_PY_ROOT_CERTS``, read now."""
    path = getenv(ROOT_CERTS_ENV)
    return _read_pem_file(path) if path else []


def _env_file_key() -> tuple[object, ...] | None:
    """What identifies the env file's contents cheaply: its path and stat (None if unset)."""
    path = getenv(ROOT_CERTS_ENV)
    if not path:
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return (path,)
    return (path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


#: (env file key, base entries) of the last ROOT base built.  The env file is
#: stat'ed at every open, so a changed, replaced or unset file is picked up.
_ROOT_BASE_CACHE: list[tuple[object, list[_Entry]]] = []


def _root_base_entries() -> list[_Entry]:
    """ROOT's read-only part for a new snapshot: OS bundle, then the env file.

    The list is shared between snapshots while the env file is unchanged
    (nothing mutates a store's base list or its entries); treat it as read-only.
    """
    key = _env_file_key()
    with _LOCK:
        if _ROOT_BASE_CACHE and _ROOT_BASE_CACHE[0][0] == key:
            return _ROOT_BASE_CACHE[0][1]
    out: list[_Entry] = []
    seen: set[bytes] = set()
    for der in itertools.chain(os_root_certificates_der(), env_root_certificates_der()):
        if der in seen:
            continue
        cert = _parse_der(der)
        if cert is not None:
            seen.add(der)
            out.append(_Entry(der=der, cert=cert, seq=len(out)))
    if key is not None and len(key) > 1 and _env_file_key() != key:
        return out  # changed while being read: do not cache a torn state
    with _LOCK:
        _ROOT_BASE_CACHE[:] = [(key, out)]
    return out


#: Bumped on every change to any store's contents (add, delete, reset), so that
#: derived data (the verifier's trust anchors) can be cached safely.
_GENERATION = itertools.count(1)
_generation = 0


def _bump_generation() -> None:
    global _generation
    with _LOCK:
        _generation = next(_GENERATION)


def store_generation() -> int:
    """A number that changes whenever any store's contents change in-process."""
    return _generation


def root_certificates_der() -> list[bytes]:
    """Everything "ROOT" holds right now (OS bundle, env file, in-process additions)."""
    store = _open_system("ROOT", readonly=True, create=True)
    assert store is not None
    return [e.der for e in store._entries()]


# --- the store handle -----------------------------------------------------


class CertStore:
    """An open certificate store (HCERTSTORE).

    Iterating a store yields its contexts in enumeration order; ``len()`` counts
    them.  ``name`` is the system store name, or None for a memory store.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        readonly: bool = False,
        _backing: _Backing | None = None,
        _base: list[_Entry] | None = None,
        _collection: bool = False,
    ) -> None:
        self.name = name
        self.readonly = readonly
        self.closed = False
        #: Open references (CertDuplicateStore adds one, CertCloseStore drops one).
        self._refs = 1
        #: A collection's member stores and their CertAddStoreToCollection flags
        #: (None for every other store).
        self._members: list[tuple[CertStore, int]] | None = [] if _collection else None
        self._priorities: list[int] = []
        self._backing = _backing if _backing is not None else _Backing()
        self._base: list[_Entry] = _base or []
        self._contexts: dict[bytes, CERT_CONTEXT] = {}
        #: The directory behind a "MY" handle (None for every other store).
        self._my_dir: Path | None = None

    def __repr__(self) -> str:
        kind = (
            "collection"
            if self._members is not None
            else f"system {self.name!r}"
            if self.name
            else "memory"
        )
        return f"<CertStore {kind} with {len(self)} certificates>"

    def __iter__(self) -> Iterator[CERT_CONTEXT]:
        return iter([self._context_for(e) for e in self._entries()])

    def __len__(self) -> int:
        return len(self._entries())

    def __bool__(self) -> bool:
        # A handle is never NULL, even when the store is empty: C ports test
        # ``if (!hStore)`` as ``if not store``.
        return True

    def certificates(self) -> list[x509.Certificate]:
        """The parsed certificates, in enumeration order."""
        return [e.cert for e in self._entries()]

    # internal ----------------------------------------------------------

    def _entries(self) -> list[_Entry]:
        if self._members is not None:
            return self._member_entries()
        with _LOCK:
            live = self._backing.entries
            hidden = self._backing.hidden
            out = [e for e in self._base if e.der not in hidden and e.der not in live]
            out.extend(live.values())
        out.sort(key=lambda e: e.seq)
        return out

    def _member_entries(self, seen: set[int] | None = None) -> list[_Entry]:
        """A collection's certificates: each member's in turn, in the order the
        members were added; a certificate present in two members appears once."""
        seen = set() if seen is None else seen
        if id(self) in seen:  # a collection that (indirectly) holds itself
            return []
        seen.add(id(self))
        with _LOCK:
            members = list(self._members or ())
        out: list[_Entry] = []
        ders: set[bytes] = set()
        for member, _flags in members:
            if member._members is not None:
                entries = member._member_entries(seen)
            else:
                entries = member._entries()
            for entry in entries:
                if entry.der not in ders:
                    ders.add(entry.der)
                    out.append(entry)
        return out

    def _lookup(self, der: bytes) -> _Entry | None:
        if self._members is not None:
            return next((e for e in self._member_entries() if e.der == der), None)
        with _LOCK:
            entry = self._backing.entries.get(der)
            if entry is not None:
                return entry
            if der in self._backing.hidden:
                return None
        for e in self._base:
            if e.der == der:
                return e
        return None

    def _context_for(self, entry: _Entry) -> CERT_CONTEXT:
        with _LOCK:
            ctx = self._contexts.get(entry.der)
            if ctx is None:
                ctx = _make_context(entry.der, entry.cert, self, entry.private_key)
                self._contexts[entry.der] = ctx
            else:
                ctx.private_key = entry.private_key
            ctx._seq = entry.seq
            ctx._props = entry.props
            return ctx

    def _seq_of(self, ctx: CERT_CONTEXT) -> int | None:
        """Enumeration position of ``ctx`` (kept after deletion, so C loops that
        delete while enumerating carry on where they were)."""
        if ctx.hCertStore is self and ctx._seq >= 0:
            return ctx._seq
        entry = self._lookup(ctx.pbCertEncoded)
        return entry.seq if entry is not None else None

    def _after(self, prev: CERT_CONTEXT | None) -> Iterator[CERT_CONTEXT]:
        """Contexts following ``prev`` (all of them when ``prev`` is None)."""
        entries = self._entries()
        if prev is not None and self._members is not None:
            # A collection orders by member, not by sequence number: continue
            # after prev's certificate (none left if it is gone).
            ders = [e.der for e in entries]
            if prev.pbCertEncoded not in ders:
                return
            entries = entries[ders.index(prev.pbCertEncoded) + 1 :]
        elif prev is not None:
            seq = self._seq_of(prev)
            if seq is None:
                return
            entries = [e for e in entries if e.seq > seq]
        for entry in entries:
            yield self._context_for(entry)

    def _add(
        self,
        der: bytes,
        cert: x509.Certificate,
        private_key: PrivateKeyTypes | None,
        disposition: int,
        out: Any,
        props: dict[int, Any] | None = None,
        *,
        link: bool = False,
    ) -> bool:
        if self._members is not None:
            return self._add_to_member(der, cert, private_key, disposition, out, props, link)
        if not self._add_entry(der, cert, private_key, disposition, out, props, link):
            return False
        if self._my_dir is not None:
            self._sync_my_file(der)
        return True

    def _sync_my_file(self, der: bytes) -> None:
        """After an add to "MY": write the key-carrying entry to the directory, or
        remove the file of an entry whose key a REPLACE_EXISTING dropped."""
        directory = self._my_dir
        assert directory is not None
        with _LOCK:
            entry = self._backing.entries.get(der)
        if entry is None:
            return
        if entry.private_key is not None and entry.path is None:
            if _my_persist(directory, der, entry.private_key):
                entry.path = directory / _thumbprint_name(der)
        elif entry.private_key is None:
            _my_remove(directory, der)

    def _add_to_member(
        self,
        der: bytes,
        cert: x509.Certificate,
        private_key: PrivateKeyTypes | None,
        disposition: int,
        out: Any,
        props: dict[int, Any] | None,
        link: bool,
    ) -> bool:
        """An add to a collection goes to its first member added with
        CERT_PHYSICAL_STORE_ADD_ENABLE_FLAG; without one it fails with E_ACCESSDENIED."""
        with _LOCK:
            members = list(self._members or ())
        target = next((m for m, f in members if f & CERT_PHYSICAL_STORE_ADD_ENABLE_FLAG), None)
        if target is None:
            return _fail(E_ACCESSDENIED, out)
        if not target._add(der, cert, private_key, disposition, None, props, link=link):
            return _fail(GetLastError(), out)
        entry = self._lookup(der)
        if out is not None:
            out.value = self._context_for(entry) if entry is not None else None
        return True

    def _add_entry(
        self,
        der: bytes,
        cert: x509.Certificate,
        private_key: PrivateKeyTypes | None,
        disposition: int,
        out: Any,
        props: dict[int, Any] | None = None,
        link: bool = False,
    ) -> bool:
        if disposition not in (
            CERT_STORE_ADD_NEW,
            CERT_STORE_ADD_USE_EXISTING,
            CERT_STORE_ADD_REPLACE_EXISTING,
            CERT_STORE_ADD_ALWAYS,
            CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES,
            CERT_STORE_ADD_NEWER,
            CERT_STORE_ADD_NEWER_INHERIT_PROPERTIES,
        ):
            return _fail(E_INVALIDARG, out)
        if self.readonly:
            return _fail(E_ACCESSDENIED, out)
        with _LOCK:
            existing = self._lookup(der)
            if existing is not None and disposition in (
                CERT_STORE_ADD_NEW,
                CERT_STORE_ADD_NEWER,
                CERT_STORE_ADD_NEWER_INHERIT_PROPERTIES,
            ):
                # Same bytes means the same NotBefore: never "newer".
                return _fail(CRYPT_E_EXISTS, out)
            new_props = props if link and props is not None else dict(props or {})
            if existing is None:
                entry = _Entry(
                    der=der, cert=cert, seq=next(_SEQ), private_key=private_key, props=new_props
                )
            elif disposition == CERT_STORE_ADD_USE_EXISTING and (
                private_key is None or private_key is existing.private_key
            ):
                entry = existing  # only the new context's properties to merge
                if props and props is not existing.props:
                    existing.props.update(props)
            else:
                if not link and disposition in (
                    CERT_STORE_ADD_USE_EXISTING,
                    CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES,
                ):
                    new_props = {**existing.props, **new_props}
                if disposition in (
                    CERT_STORE_ADD_USE_EXISTING,
                    CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES,
                ):
                    private_key = private_key or existing.private_key
                # REPLACE_EXISTING drops the old key; ALWAYS acts like it (it would
                # add a duplicate on Windows; stores here never hold the same bytes
                # twice).  A backing entry keeps its place; a replaced OS/env root
                # moves to the end (base positions are per handle).
                in_backing = self._backing.entries.get(der) is existing
                seq = existing.seq if in_backing else next(_SEQ)
                same_key = private_key is not None and private_key is existing.private_key
                entry = _Entry(
                    der=der,
                    cert=existing.cert,
                    seq=seq,
                    private_key=private_key,
                    path=existing.path if same_key else None,
                    props=new_props,
                )
            if entry is not existing:
                self._backing.entries[der] = entry
                self._backing.hidden.discard(der)
                _bump_generation()
            ctx = self._context_for(entry)
        if out is not None:
            out.value = ctx
        return True

    def _delete(self, der: bytes) -> bool:
        if self._members is not None:
            with _LOCK:
                members = list(self._members)
            for member, _flags in members:
                if member._lookup(der) is not None:
                    return member._delete(der)
            SetLastError(CRYPT_E_NOT_FOUND)
            return False
        if self.readonly:
            SetLastError(E_ACCESSDENIED)
            return False
        with _LOCK:
            removed = self._backing.entries.pop(der, None) is not None
            if any(e.der == der for e in self._base):
                self._backing.hidden.add(der)
                removed = True
            if removed:
                _bump_generation()
        if not removed:
            SetLastError(CRYPT_E_NOT_FOUND)
            return False
        if self._my_dir is not None and not _my_remove(self._my_dir, der):
            SetLastError(E_ACCESSDENIED)  # gone in-process; the file stays
            return False
        return True


#: The Windows type name for a store handle.
HCERTSTORE = CertStore


def _fail(code: int, out: Any = None) -> bool:
    SetLastError(code)
    if out is not None:
        out.value = None
    return False


def _open_system(name: str, *, readonly: bool, create: bool) -> CertStore | None:
    if name.upper() == "MY":
        return _open_my(readonly=readonly)
    backing = _system_backing(name, create)
    if backing is None:
        return None
    base = _root_base_entries() if name.upper() == "ROOT" else []
    return CertStore(name.upper(), readonly=readonly, _backing=backing, _base=base)


def _open_my(*, readonly: bool) -> CertStore:
    """A "MY" handle: the directory's certificates (read now) plus in-process additions
    made while the same directory was configured."""
    directory = my_store_directory()
    try:
        key = str(directory.resolve())
    except (OSError, RuntimeError, ValueError):
        key = str(directory)
    with _LOCK:
        backing = _SYSTEM_STORES.setdefault(f"MY:{key}", _Backing())
    found = load_my_directory(directory)
    base = [
        _Entry(der=f.der, cert=f.cert, seq=i, private_key=f.private_key, path=f.path)
        for i, f in enumerate(found)
    ]
    with _LOCK:
        # A keyed certificate put back into the directory after an in-process
        # delete is visible again.
        before = len(backing.hidden)
        backing.hidden.difference_update(f.der for f in found if f.private_key is not None)
        if len(backing.hidden) != before:
            _bump_generation()
    store = CertStore("MY", readonly=readonly, _backing=backing, _base=base)
    store._my_dir = directory
    return store


def _store_name(pvPara: Any) -> str | None:
    if isinstance(pvPara, str):
        return pvPara
    if isinstance(pvPara, (bytes, bytearray)):
        return bytes(pvPara).split(b"\0", 1)[0].decode("ascii", "replace")
    return None


def CertOpenStore(
    lpszStoreProvider: int | str,
    dwEncodingType: int,
    hCryptProv: Any,
    dwFlags: int,
    pvPara: Any,
) -> CertStore | None:
    """Open a memory store, a collection or a system store ("MY", "ROOT", "CA", any name).

    Providers: ``CERT_STORE_PROV_MEMORY`` / ``"Memory"``,
    ``CERT_STORE_PROV_COLLECTION`` / ``"Collection"`` (empty until
    :func:`CertAddStoreToCollection`), and
    ``CERT_STORE_PROV_SYSTEM(_A/_W)``, ``CERT_STORE_PROV_SYSTEM_REGISTRY(_A/_W)``
    / ``"System"`` with ``pvPara`` the store name.  ``CERT_STORE_READONLY_FLAG``
    makes adds and deletes fail with ``E_ACCESSDENIED``.  Returns None with
    ``GetLastError()`` set on failure (unsupported provider: ``E_INVALIDARG``;
    unknown name with ``CERT_STORE_OPEN_EXISTING_FLAG``: ``ERROR_FILE_NOT_FOUND``).
    """
    flags = dwFlags if isinstance(dwFlags, int) else 0
    readonly = bool(flags & CERT_STORE_READONLY_FLAG)
    provider: Any = lpszStoreProvider
    if isinstance(provider, bytes):
        provider = provider.decode("ascii", "replace")
    if isinstance(provider, str):
        provider = {
            sz_CERT_STORE_PROV_MEMORY.lower(): CERT_STORE_PROV_MEMORY,
            sz_CERT_STORE_PROV_COLLECTION.lower(): CERT_STORE_PROV_COLLECTION,
            sz_CERT_STORE_PROV_SYSTEM.lower(): CERT_STORE_PROV_SYSTEM_W,
            sz_CERT_STORE_PROV_SYSTEM_REGISTRY.lower(): CERT_STORE_PROV_SYSTEM_REGISTRY_W,
        }.get(provider.lower(), provider)
    if provider == CERT_STORE_PROV_MEMORY:
        return CertStore(None, readonly=readonly)
    if provider == CERT_STORE_PROV_COLLECTION:
        return CertStore(None, readonly=readonly, _collection=True)
    if provider in (
        CERT_STORE_PROV_SYSTEM_A,
        CERT_STORE_PROV_SYSTEM_W,
        CERT_STORE_PROV_SYSTEM_REGISTRY_A,
        CERT_STORE_PROV_SYSTEM_REGISTRY_W,
    ):
        name = _store_name(pvPara)
        if not name:
            SetLastError(E_INVALIDARG)
            return None
        store = _open_system(
            name, readonly=readonly, create=not flags & CERT_STORE_OPEN_EXISTING_FLAG
        )
        if store is None:
            SetLastError(ERROR_FILE_NOT_FOUND)
        return store
    SetLastError(E_INVALIDARG)
    return None


def CertOpenSystemStore(hProv: Any, szSubsystemProtocol: str | bytes) -> CertStore | None:
    """Open the current user's system store named ``szSubsystemProtocol``."""
    return CertOpenStore(
        CERT_STORE_PROV_SYSTEM_W, 0, hProv, CERT_SYSTEM_STORE_CURRENT_USER, szSubsystemProtocol
    )


CertOpenSystemStoreW = CertOpenSystemStore
CertOpenSystemStoreA = CertOpenSystemStore


def CertCloseStore(hCertStore: CertStore | None, dwFlags: int = 0) -> bool:
    """Drop one reference to a store handle (closed at the last one).  Contexts stay
    usable, as they hold their own reference on Windows; TRUE."""
    if isinstance(hCertStore, CertStore):
        with _LOCK:
            hCertStore._refs = max(0, hCertStore._refs - 1)
            if hCertStore._refs == 0 or dwFlags & CERT_CLOSE_STORE_FORCE_FLAG:
                hCertStore.closed = True
    return True


def CertDuplicateStore(hCertStore: CertStore | None) -> CertStore | None:
    """Add a reference to a store: the same handle back (NULL stays NULL)."""
    if not isinstance(hCertStore, CertStore):
        return None
    with _LOCK:
        hCertStore._refs += 1
    return hCertStore


def CertAddStoreToCollection(
    hCollectionStore: CertStore | None,
    hSiblingStore: CertStore | None,
    dwUpdateFlags: int,
    dwPriority: int,
) -> bool:
    """Make ``hSiblingStore`` a member of a collection store.

    Members are enumerated by descending ``dwPriority`` (equal priorities in the
    order added); adds to the collection go to the first member added with
    ``CERT_PHYSICAL_STORE_ADD_ENABLE_FLAG``.  The member is seen live: what is
    added to it later shows through the collection.  FALSE with
    ``E_INVALIDARG`` when the first store is not a collection or the second is
    not a store.
    """
    if (
        not isinstance(hCollectionStore, CertStore)
        or hCollectionStore._members is None
        or not isinstance(hSiblingStore, CertStore)
        or hSiblingStore is hCollectionStore
    ):
        SetLastError(E_INVALIDARG)
        return False
    flags = dwUpdateFlags if isinstance(dwUpdateFlags, int) else 0
    priority = dwPriority if isinstance(dwPriority, int) else 0
    with _LOCK:
        members = hCollectionStore._members
        priorities = hCollectionStore._priorities
        position = len(members)
        for index, other in enumerate(priorities):
            if priority > other:
                position = index
                break
        members.insert(position, (hSiblingStore, flags))
        priorities.insert(position, priority)
    _bump_generation()
    return True


def CertRemoveStoreFromCollection(
    hCollectionStore: CertStore | None, hSiblingStore: CertStore | None
) -> None:
    """Take a member out of a collection (nothing happens if it is not one)."""
    if not isinstance(hCollectionStore, CertStore) or hCollectionStore._members is None:
        return
    with _LOCK:
        members = hCollectionStore._members
        for index, (member, _flags) in enumerate(members):
            if member is hSiblingStore:
                del members[index]
                del hCollectionStore._priorities[index]
                break
        else:
            return
    _bump_generation()


def CertAddCertificateLinkToStore(
    hCertStore: CertStore | None,
    pCertContext: CERT_CONTEXT | None,
    dwAddDisposition: int,
    ppStoreContext: PCCERT_CONTEXT | Any | None,
) -> bool:
    """Add a link to a certificate of another store: the store shows the certificate
    and shares its properties (a property set through either is seen through both).

    Dispositions as for :func:`CertAddCertificateContextToStore`.
    """
    return _add_context(hCertStore, pCertContext, dwAddDisposition, ppStoreContext, link=True)


def CertAddEncodedCertificateToStore(
    hCertStore: CertStore | None,
    dwCertEncodingType: int,
    pbCertEncoded: Any,
    cbCertEncoded: int,
    dwAddDisposition: int,
    ppCertContext: PCCERT_CONTEXT | Any | None,
) -> bool:
    """Decode DER and add it to the store; ``ppCertContext.value`` gets the store's context.

    Dispositions: ``ADD_NEW`` fails with ``CRYPT_E_EXISTS`` if the same
    certificate is present; ``USE_EXISTING`` returns the present one;
    ``REPLACE_EXISTING`` swaps it (keeping its place, dropping its key);
    ``REPLACE_EXISTING_INHERIT_PROPERTIES`` keeps its key; ``ALWAYS`` acts like
    ``REPLACE_EXISTING`` because stores here hold no duplicates; ``NEWER*`` fail
    for identical bytes (equal NotBefore).
    """
    if not isinstance(hCertStore, CertStore):
        return _fail(E_INVALIDARG, ppCertContext)
    if not isinstance(dwCertEncodingType, int) or not dwCertEncodingType & X509_ASN_ENCODING:
        return _fail(E_INVALIDARG, ppCertContext)
    der = _as_bytes(pbCertEncoded, cbCertEncoded)
    if der is None:
        return _fail(E_INVALIDARG, ppCertContext)
    cert = _parse_der(der)
    if cert is None:
        return _fail(CRYPT_E_ASN1_BADTAG, ppCertContext)
    return hCertStore._add(der, cert, None, dwAddDisposition, ppCertContext)


def CertAddCertificateContextToStore(
    hCertStore: CertStore | None,
    pCertContext: CERT_CONTEXT | None,
    dwAddDisposition: int,
    ppStoreContext: PCCERT_CONTEXT | Any | None,
) -> bool:
    """Copy a context (with its private key) into a store; see the dispositions of
    :func:`CertAddEncodedCertificateToStore`."""
    return _add_context(hCertStore, pCertContext, dwAddDisposition, ppStoreContext, link=False)


def _add_context(
    store: Any, ctx: Any, disposition: int, out: PCCERT_CONTEXT | Any | None, *, link: bool
) -> bool:
    """A context's certificate, key and properties into a store, as a copy or a link."""
    if not isinstance(store, CertStore) or not isinstance(ctx, CERT_CONTEXT):
        return _fail(E_INVALIDARG, out)
    return store._add(
        ctx.pbCertEncoded, ctx.certificate, ctx.private_key, disposition, out, ctx._props, link=link
    )


def CertDeleteCertificateFromStore(pCertContext: CERT_CONTEXT | None) -> bool:
    """Remove a context's certificate from the store it belongs to.

    Deleting an OS-bundle or env-file root hides it from "ROOT" (and from
    validation) for the rest of the process.  The context itself stays usable,
    and enumeration may continue from it.
    """
    if not isinstance(pCertContext, CERT_CONTEXT) or pCertContext.hCertStore is None:
        SetLastError(E_INVALIDARG)
        return False
    return pCertContext.hCertStore._delete(pCertContext.pbCertEncoded)


def CertEnumCertificatesInStore(
    hCertStore: CertStore | None, pPrevCertContext: CERT_CONTEXT | None
) -> CERT_CONTEXT | None:
    """The context after ``pPrevCertContext`` (the first one when it is None).

    None at the end, with ``GetLastError() == CRYPT_E_NOT_FOUND``.
    """
    if not isinstance(hCertStore, CertStore):
        SetLastError(E_INVALIDARG)
        return None
    for ctx in hCertStore._after(pPrevCertContext):
        return ctx
    SetLastError(CRYPT_E_NOT_FOUND)
    return None


# --- CertFindCertificateInStore -------------------------------------------


def _blob_bytes(para: Any) -> bytes | None:
    if isinstance(para, CRYPT_DATA_BLOB):
        return para.tobytes()
    if isinstance(para, (bytes, bytearray, memoryview)):
        return bytes(para)
    return None


def _find_string(para: Any) -> str | None:
    if isinstance(para, str):
        return para
    if isinstance(para, (bytes, bytearray)):
        return bytes(para).split(b"\0", 1)[0].decode("utf-8", "replace")
    return None


def _key_identifier(cert: x509.Certificate) -> bytes:
    """CERT_KEY_IDENTIFIER_PROP_ID: the SKI extension, else SHA-1 of the public key bits."""
    try:
        ext = extensions_of(cert).get_extension_for_class(x509.SubjectKeyIdentifier)
        return ext.value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _spki_der(obj: Any) -> bytes | None:
    if isinstance(obj, CERT_CONTEXT):
        obj = obj.certificate
    if isinstance(obj, x509.Certificate):
        obj = obj.public_key()
    if hasattr(obj, "public_bytes"):
        try:
            data: bytes = obj.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return data
        except Exception:
            return None
    return _blob_bytes(obj)


def _matcher(dwFindType: int, para: Any) -> Any:
    """A predicate over contexts for a find type, or None if unsupported/bad."""
    if dwFindType == CERT_FIND_ANY:
        return lambda c: True
    if dwFindType in (CERT_FIND_SHA1_HASH, CERT_FIND_MD5_HASH, CERT_FIND_SHA256_HASH):
        want = _blob_bytes(para)
        if want is None:
            return None
        algo = {
            CERT_FIND_SHA1_HASH: "sha1",
            CERT_FIND_MD5_HASH: "md5",
            CERT_FIND_SHA256_HASH: "sha256",
        }[dwFindType]
        return lambda c: hashlib.new(algo, c.pbCertEncoded).digest() == want
    if dwFindType in (
        CERT_FIND_SUBJECT_STR_A,
        CERT_FIND_SUBJECT_STR_W,
        CERT_FIND_ISSUER_STR_A,
        CERT_FIND_ISSUER_STR_W,
    ):
        text = _find_string(para)
        if text is None:
            return None
        needle = text.casefold()
        issuer = dwFindType in (CERT_FIND_ISSUER_STR_A, CERT_FIND_ISSUER_STR_W)
        return lambda c: (
            needle
            in name_to_str(
                c.certificate.issuer if issuer else c.certificate.subject, CERT_SIMPLE_NAME_STR
            ).casefold()
        )
    if dwFindType in (CERT_FIND_SUBJECT_NAME, CERT_FIND_ISSUER_NAME):
        if isinstance(para, x509.Name):
            want_name = para.public_bytes()
        else:
            blob = _blob_bytes(para)
            if blob is None:
                return None
            want_name = blob
        issuer = dwFindType == CERT_FIND_ISSUER_NAME
        return lambda c: (
            (c.certificate.issuer if issuer else c.certificate.subject).public_bytes() == want_name
        )
    if dwFindType == CERT_FIND_EXISTING:
        if not isinstance(para, CERT_CONTEXT):
            return None
        return lambda c: c.pbCertEncoded == para.pbCertEncoded
    if dwFindType == CERT_FIND_KEY_IDENTIFIER:
        want = _blob_bytes(para)
        if want is None:
            return None
        return lambda c: _key_identifier(c.certificate) == want
    if dwFindType == CERT_FIND_PUBLIC_KEY:
        want = _spki_der(para)
        if want is None:
            return None
        return lambda c: _spki_der(c.certificate) == want
    if dwFindType == CERT_FIND_HAS_PRIVATE_KEY:
        return lambda c: c.private_key is not None
    if dwFindType == CERT_FIND_SUBJECT_CERT:
        subject = para.certificate if isinstance(para, CERT_CONTEXT) else para
        if not isinstance(subject, x509.Certificate):
            return None
        return lambda c: (
            c.certificate.issuer == subject.issuer
            and serial_number(c.certificate) == serial_number(subject)
        )
    if dwFindType == CERT_FIND_ISSUER_OF:
        subject = para.certificate if isinstance(para, CERT_CONTEXT) else para
        if not isinstance(subject, x509.Certificate):
            return None
        return lambda c: _could_issue(c.certificate, subject)
    return None


def _could_issue(issuer: x509.Certificate, subject: x509.Certificate) -> bool:
    """Name match, then the subject's AKI key id if it has one."""
    if issuer.subject != subject.issuer:
        return False
    try:
        aki = extensions_of(subject).get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return True
    return aki.key_identifier is None or aki.key_identifier == _key_identifier(issuer)


def CertFindCertificateInStore(
    hCertStore: CertStore | None,
    dwCertEncodingType: int,
    dwFindFlags: int,
    dwFindType: int,
    pvFindPara: Any,
    pPrevCertContext: CERT_CONTEXT | None,
) -> CERT_CONTEXT | None:
    """The next context after ``pPrevCertContext`` matching ``dwFindType``/``pvFindPara``.

    Supported: ``CERT_FIND_ANY``; ``CERT_FIND_SHA1_HASH`` (= ``CERT_FIND_HASH``),
    ``_MD5_HASH``, ``_SHA256_HASH`` (a CRYPT_HASH_BLOB or bytes);
    ``CERT_FIND_SUBJECT_STR(_A/_W)`` and ``CERT_FIND_ISSUER_STR(_A/_W)``
    (case-insensitive substring of the CERT_SIMPLE_NAME_STR form);
    ``CERT_FIND_SUBJECT_NAME``/``_ISSUER_NAME`` (encoded name blob or
    ``x509.Name``); ``CERT_FIND_EXISTING``; ``CERT_FIND_KEY_IDENTIFIER``;
    ``CERT_FIND_PUBLIC_KEY``; ``CERT_FIND_HAS_PRIVATE_KEY``;
    ``CERT_FIND_SUBJECT_CERT`` and ``CERT_FIND_ISSUER_OF`` (a context).
    None when nothing (more) matches: ``GetLastError() == CRYPT_E_NOT_FOUND``;
    an unsupported type or unusable ``pvFindPara`` gives ``E_INVALIDARG``.
    """
    if not isinstance(hCertStore, CertStore):
        SetLastError(E_INVALIDARG)
        return None
    match = _matcher(dwFindType, pvFindPara)
    if match is None:
        SetLastError(E_INVALIDARG)
        return None
    for ctx in hCertStore._after(pPrevCertContext):
        try:
            hit = bool(match(ctx))
        except Exception:  # a malformed extension in one certificate: not a match
            hit = False
        if hit:
            return ctx
    SetLastError(CRYPT_E_NOT_FOUND)
    return None


def chain_context(chain: Sequence[bytes]) -> CERT_CONTEXT | None:
    """The context SECPKG_ATTR_REMOTE_CERT_CONTEXT returns for a peer's chain.

    The leaf's context, whose ``hCertStore`` is a new memory store holding the
    whole chain as sent (leaf first; undecodable extra certificates skipped),
    so C code can walk the intermediates with CertEnumCertificatesInStore.
    None when the list is empty or the leaf does not decode.
    """
    if not chain:
        return None
    store = CertStore(None)
    leaf: PCCERT_CONTEXT = PCCERT_CONTEXT()
    for index, item in enumerate(chain):
        der = bytes(item) if isinstance(item, (bytes, bytearray, memoryview)) else None
        cert = _parse_der(der) if der is not None else None
        if der is None or cert is None:
            if index == 0:
                return None
            continue
        store._add(der, cert, None, CERT_STORE_ADD_USE_EXISTING, leaf if index == 0 else None)
    return leaf.value
