"""curl's SChannel loop (lib/vtls/schannel.c), written against schannel_py's SSPI functions.

Usage::

    python examples/curl_loop.py HOST[:PORT] [--insecure] [--path /]

Every call below is the one curl makes, with the same structures and the
same buffer layouts; the C function in curl's source that makes it is named
in the comments.  See docs/porting-from-windows.md for the mapping.
Set SSLKEYLOGFILE to get a key log; the SSPI layer writes it.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys

import schannel_py as S


def fail(call: str, status: int) -> None:
    raise SystemExit(f"{call} failed: {S.SecStatus(status)!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("target", metavar="HOST[:PORT]")
    ap.add_argument("--insecure", action="store_true", help="SCH_CRED_MANUAL_CRED_VALIDATION")
    ap.add_argument("--servername", help="pszTargetName (default HOST)")
    ap.add_argument("--path", default="/", help="HTTP path to GET")
    args = ap.parse_args(argv)
    host, _, port_text = args.target.rpartition(":")
    if not host or not port_text.isdigit():
        host, port_text = args.target, "443"
    host, port = host.strip("[]"), int(port_text)
    target = args.servername or host

    # schannel_acquire_credential_handle(): SCH_CREDENTIALS + AcquireCredentialsHandle.
    flags = S.SCH_USE_STRONG_CRYPTO | (S.SCH_CRED_MANUAL_CRED_VALIDATION if args.insecure else 0)
    creds = S.SCH_CREDENTIALS(dwVersion=S.SCH_CREDENTIALS_VERSION, dwFlags=flags)
    hcred, expiry = S.CredHandle(), S.TimeStamp()
    status = S.AcquireCredentialsHandle(
        None, S.UNISP_NAME, S.SECPKG_CRED_OUTBOUND, None, creds, None, None, hcred, expiry
    )
    if status != S.SEC_E_OK:
        fail("AcquireCredentialsHandle", status)

    sock = socket.create_connection((host, port), timeout=10)
    req = (
        S.ISC_REQ_SEQUENCE_DETECT
        | S.ISC_REQ_REPLAY_DETECT
        | S.ISC_REQ_CONFIDENTIALITY
        | S.ISC_REQ_ALLOCATE_MEMORY
        | S.ISC_REQ_STREAM
        | S.ISC_REQ_USE_SUPPLIED_CREDS
    )
    ctxt, attrs = S.CtxtHandle(), S.ULONG()

    # schannel_connect_step1(): first ISC, ALPN list in, one EMPTY buffer out.
    alpn = S.pack_application_protocols([b"http/1.1"])
    inbuf = S.SecBufferDesc([S.SecBuffer(len(alpn), S.SECBUFFER_APPLICATION_PROTOCOLS, alpn)])
    outbuf = S.SecBufferDesc([S.SecBuffer(0, S.SECBUFFER_EMPTY, None)])
    status = S.InitializeSecurityContext(
        hcred, None, target, req, 0, 0, inbuf, 0, ctxt, outbuf, attrs, expiry
    )
    if status != S.SEC_I_CONTINUE_NEEDED:
        fail("InitializeSecurityContext", status)
    sock.sendall(bytes(outbuf.pBuffers[0].pvBuffer[: outbuf.pBuffers[0].cbBuffer]))
    S.FreeContextBuffer(outbuf.pBuffers[0].pvBuffer)

    # schannel_connect_step2(): [TOKEN, EMPTY] in, [TOKEN, ALERT, EMPTY] out, until SEC_E_OK.
    encdata = bytearray()
    encdata_ready = False
    while True:
        if not encdata_ready:
            chunk = sock.recv(16384)
            if not chunk:
                raise SystemExit("server closed the connection during the handshake")
            encdata += chunk
        inbuf = S.SecBufferDesc(
            [
                S.SecBuffer(len(encdata), S.SECBUFFER_TOKEN, bytes(encdata)),
                S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
            ]
        )
        outbuf = S.SecBufferDesc(
            [
                S.SecBuffer(0, S.SECBUFFER_TOKEN, None),
                S.SecBuffer(0, S.SECBUFFER_ALERT, None),
                S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
            ]
        )
        status = S.InitializeSecurityContext(
            hcred, ctxt, target, req, 0, 0, inbuf, 0, None, outbuf, attrs, expiry
        )
        encdata_ready = False
        if status == S.SEC_E_INCOMPLETE_MESSAGE:
            continue
        if status not in (S.SEC_E_OK, S.SEC_I_CONTINUE_NEEDED):
            alert = outbuf.pBuffers[1]
            if alert.cbBuffer:
                sock.sendall(bytes(alert.pvBuffer[: alert.cbBuffer]))
            fail("InitializeSecurityContext", status)
        token = outbuf.pBuffers[0]
        if token.cbBuffer:
            sock.sendall(bytes(token.pvBuffer[: token.cbBuffer]))
            S.FreeContextBuffer(token.pvBuffer)
        extra = inbuf.pBuffers[1]
        if extra.BufferType == S.SECBUFFER_EXTRA:
            del encdata[: len(encdata) - extra.cbBuffer]  # keep the tail, like curl's memmove
            if status == S.SEC_I_CONTINUE_NEEDED:
                status = S.SEC_E_INCOMPLETE_MESSAGE  # next record is already here: no read
                encdata_ready = True
                continue
        else:
            encdata.clear()
        if status == S.SEC_E_OK:
            break

    # schannel_connect_step3(): what was negotiated.
    info = S.SecPkgContext_ConnectionInfo()
    S.QueryContextAttributes(ctxt, S.SECPKG_ATTR_CONNECTION_INFO, info)
    cipher = S.SecPkgContext_CipherInfo()
    S.QueryContextAttributes(ctxt, S.SECPKG_ATTR_CIPHER_INFO, cipher)
    print(f"* SSL connection using {cipher.szCipherSuite} (dwProtocol 0x{info.dwProtocol:x})")

    # schannel_send(): EncryptMessage over [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY].
    sizes = S.SecPkgContext_StreamSizes()
    S.QueryContextAttributes(ctxt, S.SECPKG_ATTR_STREAM_SIZES, sizes)
    request = f"GET {args.path} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n".encode()
    buf = bytearray(sizes.cbHeader + len(request) + sizes.cbTrailer)
    buf[sizes.cbHeader : sizes.cbHeader + len(request)] = request
    mv = memoryview(buf)
    end = sizes.cbHeader + len(request)
    msg = S.SecBufferDesc(
        [
            S.SecBuffer(sizes.cbHeader, S.SECBUFFER_STREAM_HEADER, mv[: sizes.cbHeader]),
            S.SecBuffer(len(request), S.SECBUFFER_DATA, mv[sizes.cbHeader : end]),
            S.SecBuffer(sizes.cbTrailer, S.SECBUFFER_STREAM_TRAILER, mv[end:]),
            S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
        ]
    )
    status = S.EncryptMessage(ctxt, 0, msg, 0)
    if status != S.SEC_E_OK:
        fail("EncryptMessage", status)
    sock.sendall(bytes(buf[: sum(b.cbBuffer for b in msg.pBuffers[:3])]))

    # schannel_recv(): DecryptMessage over [DATA, EMPTY, EMPTY, EMPTY].
    encdata = bytearray()
    closed = False
    while not closed:
        if not encdata:
            chunk = sock.recv(16384)
            if not chunk:
                break
            encdata += chunk
        msg = S.SecBufferDesc(
            [S.SecBuffer(len(encdata), S.SECBUFFER_DATA, encdata)]
            + [S.SecBuffer(0, S.SECBUFFER_EMPTY, None) for _ in range(3)]
        )
        status = S.DecryptMessage(ctxt, msg, 0, None)
        if status == S.SEC_E_INCOMPLETE_MESSAGE:
            chunk = sock.recv(16384)
            if not chunk:
                break
            encdata += chunk
            continue
        if status not in (S.SEC_E_OK, S.SEC_I_RENEGOTIATE, S.SEC_I_CONTEXT_EXPIRED):
            fail("DecryptMessage", status)
        data, extra = msg.pBuffers[1], msg.pBuffers[3]
        if data.BufferType == S.SECBUFFER_DATA and data.cbBuffer:
            sys.stdout.write(bytes(data.pvBuffer[: data.cbBuffer]).decode("utf-8", "replace"))
        tail = extra.cbBuffer if extra.BufferType == S.SECBUFFER_EXTRA else 0
        msg.release()  # drop the views into encdata before resizing it (C has no such rule)
        del encdata[: len(encdata) - tail]
        if status == S.SEC_I_RENEGOTIATE:
            # TLS 1.3 NewSessionTicket / KeyUpdate: ISC with the leftover bytes.
            inbuf = S.SecBufferDesc(
                [
                    S.SecBuffer(len(encdata), S.SECBUFFER_TOKEN, bytes(encdata)),
                    S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
                ]
            )
            outbuf = S.SecBufferDesc(
                [
                    S.SecBuffer(0, S.SECBUFFER_TOKEN, None),
                    S.SecBuffer(0, S.SECBUFFER_ALERT, None),
                    S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
                ]
            )
            status = S.InitializeSecurityContext(
                hcred, ctxt, target, req, 0, 0, inbuf, 0, None, outbuf, attrs, expiry
            )
            if status != S.SEC_E_OK:
                fail("InitializeSecurityContext (renegotiate)", status)
            token = outbuf.pBuffers[0]
            if token.cbBuffer:
                sock.sendall(bytes(token.pvBuffer[: token.cbBuffer]))
        closed = status == S.SEC_I_CONTEXT_EXPIRED

    # schannel_shutdown(): ApplyControlToken(SCHANNEL_SHUTDOWN) + ISC for close_notify.
    token_bytes = struct.pack("<I", S.SCHANNEL_SHUTDOWN)
    S.ApplyControlToken(ctxt, S.SecBufferDesc([S.SecBuffer(4, S.SECBUFFER_TOKEN, token_bytes)]))
    outbuf = S.SecBufferDesc([S.SecBuffer(0, S.SECBUFFER_EMPTY, None)])
    status = S.InitializeSecurityContext(
        hcred, ctxt, target, req, 0, 0, None, 0, ctxt, outbuf, attrs, expiry
    )
    if status == S.SEC_E_OK and outbuf.pBuffers[0].cbBuffer:
        try:
            sock.sendall(bytes(outbuf.pBuffers[0].pvBuffer[: outbuf.pBuffers[0].cbBuffer]))
        except OSError:
            pass
    # Curl_schannel_cleanup(): DeleteSecurityContext + FreeCredentialsHandle.
    S.DeleteSecurityContext(ctxt)
    S.FreeCredentialsHandle(hcred)
    sock.close()
    print("\n* connection closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
