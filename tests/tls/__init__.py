"""Tests of the sans-IO TLS core (schannel_py.tls) on its own."""
