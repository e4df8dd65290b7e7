"""Reading a certificate without cryptography's deprecation warnings.

A certificate crypt32 handles is input, not our call: a server's chain, an old
root from the OS bundle, a file the user opened.  Some of them carry what
RFC 5280 forbids and cryptography deprecates, above all a non-positive serial
number, in the certificate itself or in an authority key identifier.
cryptography warns when such a field is read (each time for the serial; for
the extensions at the first read, or at every read when the block does not
parse), attributing the warning to our line, and ``-W error`` makes it an
exception inside the chain check.  Windows parses these certificates; the chain
check decides about them.  So crypt32 and ``schannel_py.ssl`` load certificates
and read those two fields through here (the TLS core, which imports nothing
outside ``tls/``, does the same in ``sigalgs``).
"""

from __future__ import annotations

import warnings

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning


def load_certificate(der: bytes) -> x509.Certificate:
    """The certificate of ``der`` (ValueError if it is not one), without the
    warning some versions of cryptography give at load time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


def extensions_of(cert: x509.Certificate) -> x509.Extensions:
    """``cert.extensions`` without the warning: cryptography caches them once they
    parse, but re-parses (and warns again) at each read of a block that does not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return cert.extensions


def serial_number(cert: x509.Certificate) -> int:
    """``cert.serial_number``, negative or zero as it may be, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return cert.serial_number
