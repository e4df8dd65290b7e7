"""The test PKI generator, now :mod:`schannel_py.testing.pki` (re-exported here)."""

from schannel_py.testing.pki import *  # noqa: F401,F403
from schannel_py.testing.pki import (  # noqa: F401
    DEFAULT_NOT_AFTER,
    DEFAULT_NOT_BEFORE,
    EKU_NAMES,
    INTERMEDIATE_NAME,
    KEY_AGREEMENT_ONLY,
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
