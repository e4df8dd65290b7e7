"""Tests of the SSPI surface (schannel_py.sspi, the driver, the schannel_py extensions)."""
