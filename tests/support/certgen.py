"""The test PKI generator, now :mod:`schannel_py.testing.pki` (re-exported here)."""

from cryptography import x509  # noqa: E402

from schannel_py.testing.pki import *  # noqa: F401,F403
from schannel_py.testing.pki import (  # noqa: F401
    DEFAULT_NOT_AFTER,
    DEFAULT_NOT_BEFORE,
    EKU_NAMES,
    INTERMEDIATE_NAME,
    ORGANIZATION,
    ROOT_NAME,
    EKULike,
    IPLike,
    Issued,
    KeyType,
    PemPaths,
    Pki,
    make_ca,
    make_leaf,
    make_pki,
    make_self_signed,
    new_key,
)

#: A KeyUsage allowing keyAgreement only: such a key may not sign a handshake.
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
