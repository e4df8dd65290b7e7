"""Reading what went over the wire in interop tests: plaintext handshake messages."""

from __future__ import annotations

from collections.abc import Iterator


def plaintext_handshake_messages(stream: bytes) -> Iterator[tuple[int, bytes]]:
    """The handshake messages of the plaintext records at the start of ``stream``.

    Records of type 22 are joined (a ChangeCipherSpec, 20, may sit in between);
    the first record of another type ends the plaintext part.  In TLS 1.2 the
    encrypted Finished after the ChangeCipherSpec is type 22 too: its bytes come
    after every plaintext message, so a search for one of those ends first.
    """
    body = bytearray()
    pos = 0
    while pos + 5 <= len(stream) and stream[pos] in (20, 22):
        n = int.from_bytes(stream[pos + 3 : pos + 5], "big")
        if stream[pos] == 22:
            body += stream[pos + 5 : pos + 5 + n]
        pos += 5 + n
    i = 0
    while i + 4 <= len(body):
        n = int.from_bytes(body[i + 1 : i + 4], "big")
        if i + 4 + n > len(body):
            break
        yield body[i], bytes(body[i + 4 : i + 4 + n])
        i += 4 + n


def certificate_request_types(stream: bytes) -> bytes:
    """certificate_types of the first CertificateRequest among ``stream``'s plaintext
    handshake messages (a TLS 1.2 server flight)."""
    for msg_type, body in plaintext_handshake_messages(stream):
        if msg_type == 13:  # certificate_request
            return body[1 : 1 + body[0]]
    raise AssertionError("no CertificateRequest in the server's plaintext flight")
