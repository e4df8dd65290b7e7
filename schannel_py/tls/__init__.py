"""Sans-IO TLS 1.2/1.3 client core.  Knows nothing of SSPI.

The client never touches a socket, a clock or a random source of its own: the
caller moves bytes, and injects randomness (and, optionally, the time)::

    import os, socket
    from schannel_py.tls import (
        TLS1_2, TLS1_3, AlertDescription, ApplicationData, ClientConfig, TLSClient,
        TLSError, frame,
    )

    def check(chain: list[bytes]) -> None:  # DER, leaf first
        if not my_validation(chain, "example.com"):
            raise TLSError(AlertDescription.bad_certificate, "untrusted")

    client = TLSClient(
        ClientConfig(server_name="example.com", versions=(TLS1_3, TLS1_2),
                     alpn=[b"http/1.1"], verify_certificate=check),
        os.urandom,
    )
    sock = socket.create_connection(("example.com", 443), timeout=10)
    client.start()                       # queue the ClientHello
    buf = bytearray()

    def pump() -> list:
        sock.sendall(client.data_to_send())
        buf.extend(sock.recv(65536))
        events = []
        while (n := frame(buf)) > 0:     # one whole record at a time
            events += client.receive_record(bytes(buf[:n]))
            del buf[:n]
        sock.sendall(client.data_to_send())
        return events

    while not client.handshake_complete:
        pump()
    print(client.result)                 # HandshakeResult: version, suite, ALPN, chain...
    client.send_application_data(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    data = [e.data for e in pump() if isinstance(e, ApplicationData)]
    sock.sendall(client.close())         # close_notify

``ClientConfig.verify_certificate`` is the only certificate check: the core
verifies the server's signatures with the leaf's key but does not validate the
chain or the name itself (the SSPI layer plugs crypt32 in there).  A
:class:`TLSError` raised anywhere ends the connection; send
``client.alert_record(err.description)`` unless ``err.remote``.

``__all__`` is the supported surface; the submodules are the implementation.
"""

from .alerts import AlertDescription, AlertLevel, TLSError
from .client import TLS1_2, TLS1_3, ClientConfig, ClientCredential, TLSClient
from .clientauth import PAUSE, CertificateRequestInfo
from .events import (
    ApplicationData,
    CertificateRequested,
    CloseNotify,
    CredentialNeeded,
    Event,
    HandshakeComplete,
    Ignored,
    KeyUpdated,
    RenegotiationRefused,
    RenegotiationRequested,
    TicketReceived,
)
from .groups import (
    HYBRID_GROUPS,
    SECP256R1,
    SECP256R1MLKEM768,
    SECP384R1,
    SECP384R1MLKEM1024,
    SUPPORTED_GROUPS,
    X25519,
    X25519MLKEM768,
)
from .record import RecordHeaderError, frame
from .result import HandshakeResult
from .session import Session12, Ticket13
from .sigalgs import (
    DEFAULT_SCHEMES,
    ECDSA_SECP256R1_SHA256,
    ECDSA_SECP384R1_SHA384,
    ECDSA_SECP521R1_SHA512,
    ED25519,
    RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512,
    RSA_PSS_PSS_SHA256,
    RSA_PSS_PSS_SHA384,
    RSA_PSS_PSS_SHA512,
    RSA_PSS_RSAE_SHA256,
    RSA_PSS_RSAE_SHA384,
    RSA_PSS_RSAE_SHA512,
)
from .suites import (
    DEFAULT_TLS12_SUITES,
    DEFAULT_TLS13_SUITES,
    SUITES,
    TLS_AES_128_GCM_SHA256,
    TLS_AES_256_GCM_SHA384,
    TLS_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite,
)

__all__ = [
    # the client and its configuration
    "TLSClient",
    "ClientConfig",
    "ClientCredential",
    "HandshakeResult",
    "TLS1_2",
    "TLS1_3",
    "frame",
    # events receive_record returns
    "Event",
    "HandshakeComplete",
    "ApplicationData",
    "TicketReceived",
    "KeyUpdated",
    "CloseNotify",
    "Ignored",
    "CredentialNeeded",
    "CertificateRequested",
    "RenegotiationRefused",
    "RenegotiationRequested",
    # errors and alerts
    "TLSError",
    "RecordHeaderError",
    "AlertDescription",
    "AlertLevel",
    # client certificates and resumption
    "PAUSE",
    "CertificateRequestInfo",
    "Ticket13",
    "Session12",
    # cipher suites
    "CipherSuite",
    "SUITES",
    "DEFAULT_TLS13_SUITES",
    "DEFAULT_TLS12_SUITES",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    # key-exchange groups
    "X25519",
    "SECP256R1",
    "SECP384R1",
    "X25519MLKEM768",
    "SECP256R1MLKEM768",
    "SECP384R1MLKEM1024",
    "SUPPORTED_GROUPS",
    "HYBRID_GROUPS",
    # signature schemes
    "DEFAULT_SCHEMES",
    "ECDSA_SECP256R1_SHA256",
    "ECDSA_SECP384R1_SHA384",
    "ECDSA_SECP521R1_SHA512",
    "ED25519",
    "RSA_PSS_RSAE_SHA256",
    "RSA_PSS_RSAE_SHA384",
    "RSA_PSS_RSAE_SHA512",
    "RSA_PSS_PSS_SHA256",
    "RSA_PSS_PSS_SHA384",
    "RSA_PSS_PSS_SHA512",
    "RSA_PKCS1_SHA256",
    "RSA_PKCS1_SHA384",
    "RSA_PKCS1_SHA512",
]
