"""Benchmarks of schannel_py: run ``python -m benchmarks.run`` (see docs/performance.md)."""
