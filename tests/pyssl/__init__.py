"""Tests of schannel_py.ssl (Python's ssl API over the SSPI client)."""
