"""Tests of schannel_py.crypt32: stores, contexts, chain validation (x509-limbo)."""
