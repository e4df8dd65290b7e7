"""Helpers for testing code that uses schannel_py (and for schannel_py's own tests).

``pki`` makes certificates (root, intermediate, leaf, self-signed) for tests,
benchmarks and the demo; ``memserver`` is an in-memory TLS server (Python's
ssl over MemoryBIO) to run a client against without sockets.  This package
will grow into the public testing toolkit; its names are not yet stable.
"""
