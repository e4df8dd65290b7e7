"""The ``schannel-py`` command: ``demo``, ``connect``, ``replay`` and ``diagram``.

``demo`` starts a TLS 1.3 server (Python's ``ssl``) on 127.0.0.1 with a
throwaway CA trusted in-process, runs the SSPI loop against it and prints
every InitializeSecurityContext call and TLS message.  ``connect`` runs the
same loop against any server, like ``openssl s_client``.  With ``--trace``
both print the full structured trace (:mod:`schannel_py.trace`); with
``--keylog FILE`` they write an NSS key log (:mod:`schannel_py.keylog`).
``replay`` walks a published TLS 1.3 trace (RFC 8448, The Illustrated TLS 1.3
Connection) message by message with every derived secret; ``diagram`` prints
the handshake state machines as Mermaid.  ``--html FILE`` on ``demo``,
``connect`` and ``replay`` writes the illustrated connection as one
self-contained page (:mod:`schannel_py.illustrate`); secret values are on it
only with ``--show-secrets``.
"""

from __future__ import annotations

import argparse
import socket
import ssl
import sys
import tempfile
import threading
from pathlib import Path
from typing import TextIO

from . import constants as C
from . import crypt32, keylog
from . import trace as T
from .constants import SecStatus
from .crypt32.revocation import RevocationEvent
from .sspi import functions as F
from .sspi import observe
from .sspi.types import SecPkgContext_CipherInfo, SecPkgContext_ConnectionInfo
from .stream import SChannelError, SChannelStream, acquire_default_credential

ISC_FLAG_NAMES = sorted(
    (
        (name, value)
        for name, value in vars(C).items()
        if name.startswith("ISC_REQ_") and isinstance(value, int) and value and value < 1 << 32
    ),
    key=lambda nv: nv[1],
)
BUFFER_NAMES = {
    value: name
    for name, value in vars(C).items()
    if name.startswith("SECBUFFER_")
    and isinstance(value, int)
    and value < 64
    and name != "SECBUFFER_VERSION"
}


def flag_names(value: int) -> str:
    names = [n for n, v in ISC_FLAG_NAMES if value & v == v and bin(v).count("1") == 1]
    return "|".join(n.removeprefix("ISC_REQ_") for n in names) or "0"


def buffer_list(bufs: object) -> str:
    items = bufs if isinstance(bufs, list) else []
    return "[" + ", ".join(f"{BUFFER_NAMES.get(t, t)}:{n}" for t, n in items) + "]"


class Printer:
    """Prints SSPI calls and the TLS messages they moved, as a two-column ladder.

    The driver reports each call (``__call__``); the messages come from the SSPI
    layer's observer (:meth:`observe`, registered by :meth:`watching`), for the
    context of ``stream_ref[0]`` only."""

    def __init__(self, stream_ref: list[SChannelStream], out: TextIO | None = None) -> None:
        self.stream_ref = stream_ref
        self.pending: list[observe.Message] = []
        self.checks: list[RevocationEvent] = []
        self.out: TextIO = out or sys.stdout

    def watching(self) -> observe.Registration:
        """Observe the SSPI layer until the returned registration is called or exited."""
        return observe.add_observer(self.observe)

    def observe(self, call: observe.SspiCall) -> None:
        if not self.stream_ref or call.context is None:
            return
        ctx = self.stream_ref[0].ctx
        if call.context == (ctx.dwLower, ctx.dwUpper):
            self.pending.extend(call.messages)
            self.checks.extend(call.revocation)

    def __call__(self, event: str, details: dict[str, object]) -> None:
        write = self.out.write
        if event == "isc":
            status = SecStatus(int(details["status"]))  # type: ignore[call-overload]
            write(
                f"ISC  flags={flag_names(int(details['flags']))}  "  # type: ignore[call-overload]
                f"in={buffer_list(details['input'])} -> in'={buffer_list(details['input_after'])} "
                f"out={buffer_list(details['output'])}  => {status!r}\n"
            )
        elif event in ("encrypt", "decrypt"):
            status = SecStatus(int(details["status"]))  # type: ignore[call-overload]
            name = "EncryptMessage" if event == "encrypt" else "DecryptMessage"
            write(f"{name} => {status!r}\n")
        self.messages()

    def messages(self) -> None:
        """Print the handshake messages observed since the last call."""
        pending, self.pending = self.pending, []
        checks, self.checks = self.checks, []
        write = self.out.write
        for check in checks:
            write(f"    {T.revocation_line(check)}\n")
        for m in pending:
            name, size = m.name, len(m.data)
            if m.direction == "out":
                write(f"    client  {name} ({size} bytes)  ------------>\n")
            else:
                write(f"    <------------  {name} ({size} bytes)  server\n")


def describe_connection(stream: SChannelStream) -> str:
    ci = SecPkgContext_CipherInfo()
    F.QueryContextAttributes(stream.ctx, C.SECPKG_ATTR_CIPHER_INFO, ci)
    conn = SecPkgContext_ConnectionInfo()
    F.QueryContextAttributes(stream.ctx, C.SECPKG_ATTR_CONNECTION_INFO, conn)
    alpn = stream.negotiated_alpn()
    return (
        f"protocol 0x{ci.dwProtocol:04x} (dwProtocol SP_PROT 0x{conn.dwProtocol:x}), suite {ci.szCipherSuite}, "
        f"group 0x{ci.dwKeyType:04x}, certificate {ci.szCertificate}, ALPN {alpn!r}"
    )


# --- demo -----------------------------------------------------------------------


def _make_pki(directory: Path) -> tuple[Path, Path, bytes]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost (testing.pki)."""
    from .testing.pki import make_pki

    pki = make_pki(
        dns_names=["localhost"],
        ip_addresses=["127.0.0.1"],
        intermediate=False,
        root_name="schannel-py demo CA",
    )
    paths = pki.write(directory, stem="server-")
    return paths.cert, paths.key, pki.root.der


def _serve_once(listener: socket.socket, ctx: ssl.SSLContext, errors: list[str]) -> None:
    try:
        conn, _ = listener.accept()
        conn.settimeout(10)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            data = tls.recv(65536)
            tls.sendall(b"server echoes: " + data)
            try:
                tls.unwrap()
            except (ssl.SSLError, OSError):
                pass
    except Exception as e:  # reported by the demo
        errors.append(f"server: {e!r}")


def demo(args: argparse.Namespace) -> int:
    out = sys.stdout
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path, ca_der = _make_pki(Path(tmp))
        root = crypt32.CertOpenSystemStore(None, "ROOT")
        crypt32.CertAddEncodedCertificateToStore(
            root,
            crypt32.X509_ASN_ENCODING,
            ca_der,
            len(ca_der),
            crypt32.CERT_STORE_ADD_USE_EXISTING,
            None,
        )
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        server_ctx.load_cert_chain(cert_path, key_path)
        server_ctx.set_alpn_protocols(["http/1.1"])
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(10)
        port = listener.getsockname()[1]
        errors: list[str] = []
        thread = threading.Thread(
            target=_serve_once, args=(listener, server_ctx, errors), daemon=True
        )
        thread.start()
        out.write(
            f"schannel-py demo: TLS 1.3 server (Python ssl) on 127.0.0.1:{port}, demo CA trusted in-process\n"
        )
        out.write(
            "AcquireCredentialsHandle(SCH_CREDENTIALS v5, SCH_USE_STRONG_CRYPTO) => SEC_E_OK\n"
        )
        ref: list[SChannelStream] = []
        printer = None if args.trace else Printer(ref, out)
        cred = acquire_default_credential()
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        stream = SChannelStream(sock, "localhost", cred, alpn=[b"http/1.1"], tracer=printer)
        ref.append(stream)
        watch = printer.watching() if printer is not None else None
        try:
            stream.handshake()
            out.write(f"handshake complete: {describe_connection(stream)}\n")
            stream.send(b"hello over SSPI")
            reply = stream.recv()
            out.write(f"application data received: {reply!r}\n")
            stream.shutdown()
            out.write("close_notify sent (ApplyControlToken SCHANNEL_SHUTDOWN + ISC)\n")
            rest = stream.recv()
            if stream.closed:
                out.write("DecryptMessage => SEC_I_CONTEXT_EXPIRED: server close_notify received\n")
            elif rest:
                out.write(f"unexpected data after shutdown: {rest!r}\n")
        except SChannelError as e:
            out.write(f"demo failed: {e}\n")
            return 1
        finally:
            if watch is not None:
                watch()
            stream.close()
            sock.close()
            F.FreeCredentialsHandle(cred)
            thread.join(10)
            listener.close()
        if errors:
            out.write("\n".join(errors) + "\n")
            return 1
    out.write("demo finished: OK\n")
    return 0


#: ``connect --revocation``: the SCH_CRED_REVOCATION_CHECK_* flag of each choice.
REVOCATION_FLAGS = {
    "end": C.SCH_CRED_REVOCATION_CHECK_END_CERT,
    "chain": C.SCH_CRED_REVOCATION_CHECK_CHAIN,
    "chain-exclude-root": C.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
}


def connect_cmd(args: argparse.Namespace) -> int:
    host, _, port_text = args.target.rpartition(":")
    if not host or not port_text.isdigit():
        host, port = args.target, 443
    else:
        port = int(port_text)
    host = host.strip("[]")
    flags = C.SCH_CRED_MANUAL_CRED_VALIDATION if args.insecure else 0
    flags |= REVOCATION_FLAGS.get(args.revocation or "", 0)
    if args.ignore_offline:
        flags |= C.SCH_CRED_IGNORE_REVOCATION_OFFLINE
    if args.ignore_no_check:
        flags |= C.SCH_CRED_IGNORE_NO_REVOCATION_CHECK
    cred = acquire_default_credential(flags)
    ref: list[SChannelStream] = []
    tracer = None  # --trace: the structured trace (installed by main) replaces the Printer
    try:
        sock = socket.create_connection((host, port), timeout=args.timeout)
    except OSError as e:
        print(f"connect failed: {e}", file=sys.stderr)
        return 1
    alpn = [args.alpn.encode()] if args.alpn else None
    stream = SChannelStream(sock, args.servername or host, cred, alpn=alpn, tracer=tracer)
    ref.append(stream)

    def print_checks(call: observe.SspiCall) -> None:
        for event in call.revocation:
            print(T.revocation_line(event))

    # --trace logs the checks itself; otherwise they are printed as they happen.
    checks = observe.add_observer(print_checks) if args.revocation and not args.trace else None
    try:
        stream.handshake()
        print(f"handshake complete: {describe_connection(stream)}")
        if args.send is not None:
            stream.send(args.send.encode().decode("unicode_escape").encode("latin-1"))
            sock.settimeout(args.idle)
            try:
                while True:
                    data = stream.recv()
                    if not data:
                        break
                    sys.stdout.write(data.decode("utf-8", "replace"))
            except TimeoutError:
                pass
        stream.shutdown()
        return 0
    except SChannelError as e:
        print(f"failed: {e}", file=sys.stderr)
        return 1
    finally:
        if checks is not None:
            checks()
        stream.close()
        sock.close()
        F.FreeCredentialsHandle(cred)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="schannel-py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run the SSPI loop against an embedded TLS 1.3 server")
    p_demo.add_argument(
        "--trace",
        action="store_true",
        help="print the full structured trace (every SSPI call and TLS record, decoded)",
    )
    p_demo.add_argument("--keylog", metavar="FILE", help="append an NSS key log to FILE")
    p_conn = sub.add_parser("connect", help="connect to HOST[:PORT] like openssl s_client")
    p_conn.add_argument("target", metavar="HOST[:PORT]")
    p_conn.add_argument("--alpn", help="offer this ALPN protocol")
    p_conn.add_argument(
        "--insecure", action="store_true", help="skip server certificate validation"
    )
    p_conn.add_argument("--servername", help="target name (SNI and name check); default HOST")
    p_conn.add_argument(
        "--revocation",
        choices=sorted(REVOCATION_FLAGS),
        help="check revocation (SCH_CRED_REVOCATION_CHECK_END_CERT / _CHAIN / _CHAIN_EXCLUDE_ROOT)",
    )
    p_conn.add_argument(
        "--ignore-offline",
        action="store_true",
        help="SCH_CRED_IGNORE_REVOCATION_OFFLINE: an unreachable CRL/OCSP server is not an error",
    )
    p_conn.add_argument(
        "--ignore-no-check",
        action="store_true",
        help="SCH_CRED_IGNORE_NO_REVOCATION_CHECK: a certificate without revocation information passes",
    )
    p_conn.add_argument(
        "--send", help="send this text (backslash escapes allowed) and print the reply"
    )
    p_conn.add_argument(
        "--trace", action="store_true", help="print every SSPI call and TLS message, decoded"
    )
    p_conn.add_argument("--keylog", metavar="FILE", help="append an NSS key log to FILE")
    p_conn.add_argument(
        "--timeout", type=float, default=10.0, help="connect and handshake timeout (s)"
    )
    p_conn.add_argument(
        "--idle", type=float, default=2.0, help="stop reading after this many idle seconds"
    )
    p_replay = sub.add_parser(
        "replay", help="walk a published TLS 1.3 trace step by step, with every secret"
    )
    p_replay.add_argument(
        "trace_name",
        nargs="?",
        default="rfc8448",
        choices=["rfc8448", "illustrated13"],
        help="which trace (default rfc8448: RFC 8448 section 3)",
    )
    for p in (p_demo, p_conn, p_replay):
        p.add_argument(
            "--html",
            metavar="FILE",
            help="write the illustrated connection to FILE: one self-contained HTML page",
        )
        p.add_argument(
            "--show-secrets",
            action="store_true",
            help="with --html: print secret values (traffic secrets, keys, IVs) on the page",
        )
    sub.add_parser("diagram", help="print the handshake state machines as Mermaid text")
    args = parser.parse_args(argv)
    if getattr(args, "show_secrets", False) and not args.html:
        parser.error("--show-secrets only applies to the page: add --html FILE")
    if args.command == "replay":
        from . import replay

        replay.print_replay(args.trace_name, sys.stdout)
        if args.html:
            from . import illustrate

            ill = illustrate.from_replay(args.trace_name)
            illustrate.write_html(ill, args.html, args.show_secrets)
            sys.stdout.write(f"illustrated connection written to {args.html}\n")
        return 0
    if args.command == "diagram":
        from . import diagram

        sys.stdout.write(diagram.mermaid())
        return 0
    return _with_trace_and_keylog(args)


def _with_trace_and_keylog(args: argparse.Namespace) -> int:
    """Run demo or connect with ``--trace`` / ``--keylog`` in effect for the call."""
    handler = None
    recorder = None
    if args.html:
        from .illustrate import Recorder

        recorder = Recorder().start()
    if args.keylog:
        keylog.set_keylog_file(args.keylog)
    if args.trace:
        handler = T.print_to(sys.stdout)
        T.install()
        sys.stdout.write(T.header() + "\n")
    try:
        if args.command == "demo":
            return demo(args)
        return connect_cmd(args)
    finally:
        if args.trace:
            T.uninstall()
            if handler is not None:
                T.log.removeHandler(handler)
        if args.keylog:
            keylog.set_keylog_file(None)
        if recorder is not None:
            recorder.stop()
            _write_page(args, recorder)


def _write_page(args: argparse.Namespace, recorder: object) -> None:
    """``--html FILE``: the page of the connection the recorder saw (a failed one too)."""
    from .illustrate import Recorder, write_html

    assert isinstance(recorder, Recorder)
    if args.command == "demo":
        title = "schannel-py demo: the SSPI client against a local TLS 1.3 server"
    else:
        title = f"schannel-py connect {args.target}"
    try:
        write_html(recorder.illustration(title), args.html, args.show_secrets)
    except Exception as e:  # the connection's own result stands; say why the page is missing
        print(f"--html: could not write {args.html}: {e!r}", file=sys.stderr)
        return
    sys.stdout.write(f"illustrated connection written to {args.html}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
