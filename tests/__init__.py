"""schannel_py's tests, one subpackage per layer or purpose (map: tests/README.md)."""
