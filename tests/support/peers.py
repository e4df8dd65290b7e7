"""Real TLS peers on loopback for interop tests: OpenSSL, GnuTLS and Python ``ssl``.

Every server listens on 127.0.0.1 or ::1 only, and everything here is bounded in
time: start-up waits at most ``startup_timeout``, shutdown terminates then kills,
and threads stop by themselves.

* :class:`OpenSSLServer` runs ``openssl s_server`` in interactive mode (or
  ``-rev``).  Lines written with :meth:`OpenSSLServer.send_line` go to the client;
  a line holding only ``k`` / ``K`` makes the server send a KeyUpdate (not
  requested / requested, see :meth:`OpenSSLServer.key_update`); ``q`` ends the
  connection, ``Q`` the server.  What the client sends is printed verbatim on the
  server's stdout, see :meth:`OpenSSLServer.output`.
* :class:`GnuTLSServer` runs ``gnutls-serv``.  ``gnutls-serv`` has no option to
  choose its listening address (it binds the wildcard addresses), so it runs in a
  private network namespace (``unshare --net``) where only a loopback interface
  exists, and a small relay in that namespace forwards connections made to our
  loopback port; the relay only copies bytes and passes on FIN and RST.
* :class:`PythonTLSServer` is a Python ``ssl`` server in a background thread.
* :func:`require_tool` skips a test when a tool is missing, but fails it when
  the environment variable ``CI`` is set: an interop test must not silently skip
  in CI.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import fcntl
import functools
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import NoReturn, TypedDict

import pytest

from schannel_py.testing.pki import INTERMEDIATE_NAME, Issued, make_ca, make_leaf

StrPath = str | os.PathLike[str]

#: The only addresses a peer may listen on.
LOOPBACK_HOSTS = ("127.0.0.1", "::1")

DEFAULT_STARTUP_TIMEOUT = 10.0
DEFAULT_STOP_TIMEOUT = 5.0
DEFAULT_IO_TIMEOUT = 5.0


class PeerError(RuntimeError):
    """A peer failed to start, died, or did not do what was asked in time."""


# --------------------------------------------------------------------------- #
# Environment helpers
# --------------------------------------------------------------------------- #


def in_ci() -> bool:
    """True when the environment variable CI is set to a true-ish value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def unavailable(reason: str) -> NoReturn:
    """Skip the current test, or fail it in CI (where every peer must be present)."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: interop tests must not be skipped)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Return the path of executable ``name``; skip the test if missing, fail it in CI."""
    path = shutil.which(name)
    if path is None:
        unavailable(
            f"required tool {name!r} not found on PATH "
            "(Debian: apt-get install openssl gnutls-bin util-linux)"
        )
    return path


def _check_host(host: str) -> str:
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"peers listen on loopback only ({LOOPBACK_HOSTS}), not {host!r}")
    return host


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (racy; prefer port 0)."""
    with socket.socket(_family(_check_host(host)), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _combined_pem(directory: Path, cert_file: StrPath, chain_file: StrPath | None) -> Path:
    """``cert_file`` followed by ``chain_file``, in one PEM file (for servers taking one file)."""
    if chain_file is None:
        return Path(cert_file)
    out = directory / "cert_and_chain.pem"
    data = Path(cert_file).read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    out.write_bytes(data + Path(chain_file).read_bytes())
    return out


_live: weakref.WeakSet[_ProcessServer | PythonTLSServer] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:  # pragma: no cover - only matters after a crash
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


# --------------------------------------------------------------------------- #
# Subprocess servers
# --------------------------------------------------------------------------- #


class _ProcessServer:
    """A server subprocess in its own process group, with its output collected by a thread."""

    name = "server"

    def __init__(
        self,
        *,
        host: str,
        startup_timeout: float,
        stop_timeout: float,
    ) -> None:
        self.host = _check_host(host)
        self.port = 0
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.argv: list[str] = []
        #: Offset in :meth:`output` where start-up messages end (for ``wait_for_output(start=)``).
        self.ready_offset = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._reader: threading.Thread | None = None
        self._tmpdir = Path(tempfile.mkdtemp(prefix=f"peers-{self.name}-"))

    # -- lifecycle --------------------------------------------------------- #

    def _spawn(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.argv = list(argv)
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=tuple(pass_fds),
            start_new_session=True,  # own process group: stop() signals the group
            cwd=self._tmpdir,
        )
        _live.add(self)
        self._reader = threading.Thread(
            target=self._read_output, name=f"{self.name}-output", daemon=True
        )
        self._reader.start()

    def _read_output(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                with self._cond:
                    self._buf += chunk
                    self._cond.notify_all()
        except OSError:
            pass
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def stop(self) -> None:
        """Terminate the server (SIGTERM to its process group, then SIGKILL); bounded."""
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=self.stop_timeout)
        if self._reader is not None:
            self._reader.join(timeout=self.stop_timeout)
        if proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()
        _live.discard(self)
        shutil.rmtree(self._tmpdir, ignore_errors=True)

    def _signal_group(self, sig: signal.Signals) -> None:
        proc = self._proc
        # Only while the leader is not reaped: its pid is then still our group's id.
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)

    def __enter__(self) -> _ProcessServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- state ------------------------------------------------------------- #

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to connect to."""
        return (self.host, self.port)

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended, else None."""
        return None if self._proc is None else self._proc.poll()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def output_bytes(self) -> bytes:
        """Everything the server printed so far (stdout and stderr merged)."""
        with self._cond:
            return bytes(self._buf)

    def output(self) -> str:
        """:meth:`output_bytes` decoded as UTF-8 (undecodable bytes replaced)."""
        return self.output_bytes().decode("utf-8", "replace")

    def wait_for_output(
        self, pattern: str | re.Pattern[str], timeout: float = DEFAULT_IO_TIMEOUT, *, start: int = 0
    ) -> re.Match[str]:
        """Wait until the output (from character ``start``) matches ``pattern``.

        Raises :class:`PeerError`, with the output so far, after ``timeout``
        seconds or when the server exits without printing it.
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._buf.decode("utf-8", "replace"), start)
                if m is not None:
                    return m
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.2))
        why = "exited" if self._eof else f"did not print it within {timeout:g} s"
        raise PeerError(
            f"{self.name}: waiting for {rx.pattern!r}, but the server {why}.\n{self._describe()}"
        )

    def wait_exit(self, timeout: float = DEFAULT_IO_TIMEOUT) -> int:
        """Wait for the server to exit by itself (e.g. after ``-naccept``); return its status."""
        assert self._proc is not None
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(
                f"{self.name} still running after {timeout:g} s\n{self._describe()}"
            ) from None

    def _describe(self) -> str:
        rc = self.returncode
        status = "running" if rc is None else f"exit status {rc}"
        out = self.output()
        if len(out) > 8000:
            out = "[...]\n" + out[-8000:]
        return f"command: {' '.join(self.argv)}\nstatus: {status}\noutput:\n{out}"

    # -- stdin ------------------------------------------------------------- #

    def send_bytes(self, data: bytes) -> None:
        """Write raw bytes to the server's stdin."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
        except (BrokenPipeError, ValueError) as e:
            raise PeerError(f"{self.name}: cannot write to stdin ({e})\n{self._describe()}") from e

    def send_line(self, text: str) -> None:
        """Write ``text`` and a newline to the server's stdin."""
        self.send_bytes(text.encode() + b"\n")

    def stdin_pending(self) -> int:
        """Bytes written to stdin that the server has not read yet."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            raw = fcntl.ioctl(proc.stdin.fileno(), termios.FIONREAD, b"\0\0\0\0")
        except (OSError, ValueError):
            return 0
        pending: int = struct.unpack("i", raw)[0]
        return pending

    def wait_stdin_drained(self, timeout: float = DEFAULT_IO_TIMEOUT) -> None:
        """Wait until the server has read everything written to its stdin."""
        deadline = time.monotonic() + timeout
        while self.stdin_pending() > 0:
            if not self.is_running():
                raise PeerError(f"{self.name} exited with unread stdin\n{self._describe()}")
            if time.monotonic() > deadline:
                raise PeerError(
                    f"{self.name} did not read its stdin within {timeout:g} s "
                    f"(is a client connected?)\n{self._describe()}"
                )
            time.sleep(0.01)

    # -- start-up ---------------------------------------------------------- #

    def _await_ready(self, pattern: str) -> re.Match[str]:
        try:
            return self.wait_for_output(pattern, self.startup_timeout)
        except PeerError as e:
            self.stop()
            raise PeerError(f"{self.name} did not start: {e}") from None


class OpenSSLServer(_ProcessServer):
    """``openssl s_server`` on loopback, interactive (default), ``-rev`` or ``-www``.

    Interactive mode: what the client sends is printed on the server's stdout,
    lines given to :meth:`send_line` are sent to the client, and single-letter
    lines are commands (:meth:`key_update`, :meth:`end_connection`,
    :meth:`quit`).  ``rev=True``: the server sends back each line reversed (and
    closes the connection on a line ``CLOSE``); stdin is not read.
    ``www=True``: the server answers ``GET / HTTP/1.0`` with a status page, which
    says ``Reused, `` or ``New, `` for the session (OpenSSL 3.0), then closes
    the connection; stdin is not read.

    ``port=0`` (default) lets the kernel choose; the chosen port is read from
    the ``ACCEPT host:port`` line s_server prints once it listens, so there is
    no race and no probe connection (which would count against ``naccept``).
    """

    name = "openssl s_server"

    def __init__(
        self,
        cert_file: StrPath,
        key_file: StrPath,
        *,
        chain_file: StrPath | None = None,
        tls13: bool = True,
        tls12: bool = True,
        ciphersuites: str | None = None,
        cipher: str | None = None,
        groups: str | None = None,
        alpn: str | None = None,
        num_tickets: int | None = None,
        keylog: StrPath | None = None,
        verify_client: bool = False,
        client_ca_file: StrPath | None = None,
        rev: bool = False,
        www: bool = False,
        naccept: int | None = None,
        extra_args: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    ) -> None:
        super().__init__(host=host, startup_timeout=startup_timeout, stop_timeout=stop_timeout)
        openssl = require_tool("openssl")
        # s_server writes received data with write(2) but its own messages with
        # stdio, which is block-buffered on a pipe: line-buffer stdio so that
        # messages show up at once and in order with the data.
        stdbuf = shutil.which("stdbuf")
        argv = [stdbuf, "-oL", "-eL"] if stdbuf else []
        argv += [openssl, "s_server", "-accept", f"{_bracket(self.host)}:{port}"]
        argv += ["-cert", os.fspath(cert_file), "-key", os.fspath(key_file)]
        if chain_file is not None:
            argv += ["-cert_chain", os.fspath(chain_file)]
        if tls13 and not tls12:
            argv.append("-tls1_3")
        elif tls12 and not tls13:
            argv.append("-tls1_2")
        elif not (tls12 or tls13):
            raise ValueError("enable at least one of tls12 / tls13")
        if ciphersuites is not None:
            argv += ["-ciphersuites", ciphersuites]
        if cipher is not None:
            argv += ["-cipher", cipher]
        if groups is not None:
            argv += ["-groups", groups]
        if alpn is not None:
            argv += ["-alpn", alpn]
        if num_tickets is not None:
            argv += ["-num_tickets", str(num_tickets)]
        if keylog is not None:
            argv += ["-keylogfile", os.fspath(keylog)]
        if verify_client:
            if client_ca_file is None:
                raise ValueError("verify_client needs client_ca_file")
            argv += ["-Verify", "4", "-verify_return_error", "-CAfile", os.fspath(client_ca_file)]
        if rev and www:
            raise ValueError("choose one of rev / www")
        if rev:
            argv.append("-rev")
        if www:
            argv.append("-www")
        if naccept is not None:
            argv += ["-naccept", str(naccept)]
        argv += list(extra_args)
        self._spawn(argv)
        m = self._await_ready(r"(?m)^ACCEPT (?:\[[^\]]*\]|[^:\s]*):(\d+)\s*$")
        self.port = int(m.group(1))
        self.ready_offset = m.end()  # output before this is start-up noise

    def __enter__(self) -> OpenSSLServer:
        return self

    def _command(self, letter: str, timeout: float) -> None:
        # s_server looks at the first byte of each read() from stdin, so a command
        # must not share a read with other input: wait for stdin to be drained
        # before and after writing it.  Stdin is only read while a client is
        # connected.
        self.wait_stdin_drained(timeout)
        self.send_line(letter)
        self.wait_stdin_drained(timeout)

    def key_update(self, requested: bool = False, timeout: float = DEFAULT_IO_TIMEOUT) -> None:
        """Make the server send a KeyUpdate now (``K``: update_requested, ``k``: not).

        Needs a connected TLS 1.3 client.  Returns once s_server has sent it
        (OpenSSL 3.0 then prints ``SSL_do_handshake -> 1``).
        """
        marker = re.compile(r"SSL_do_handshake -> (-?\d+)|KEYUPDATE")
        before = len(marker.findall(self.output()))
        self._command("K" if requested else "k", timeout)
        deadline = time.monotonic() + timeout
        while len(marker.findall(self.output())) <= before:
            if time.monotonic() > deadline or not self.is_running():
                raise PeerError(f"{self.name}: KeyUpdate not confirmed\n{self._describe()}")
            time.sleep(0.01)
        results = marker.findall(self.output())
        if results and results[-1] not in ("", "1"):
            raise PeerError(f"{self.name}: KeyUpdate failed\n{self._describe()}")

    def end_connection(self, timeout: float = DEFAULT_IO_TIMEOUT) -> None:
        """``q``: drop the current connection (the server keeps accepting).

        s_server closes the socket *without* sending close_notify (a truncation,
        as the client sees it).  For a clean close, let the client send
        close_notify: s_server answers with its own.
        """
        self._command("q", timeout)

    def quit(self, timeout: float = DEFAULT_IO_TIMEOUT) -> None:
        """``Q``: drop the current connection (no close_notify) and exit."""
        self._command("Q", timeout)


# The relay that runs inside gnutls-serv's private network namespace.
# argv: listening fd (a socket of *our* namespace), inner port, gnutls-serv argv...
_NETNS_RELAY = r"""
import fcntl, os, select, socket, struct, subprocess, sys, threading, time

def lo_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, req))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH22x", b"lo", flags | 0x1 | 0x40))  # IFF_UP|RUNNING

lo_up()
listener = socket.socket(fileno=int(sys.argv[1]))
inner_port = int(sys.argv[2])
child = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL)

def watch():
    code = child.wait()
    sys.stdout.flush()
    os._exit(code if code >= 0 else 128 - code)

threading.Thread(target=watch, daemon=True).start()

def abort(*socks):
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass

def relay(client):
    deadline = time.monotonic() + 10
    while True:
        try:
            upstream = socket.create_connection(("127.0.0.1", inner_port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                abort(client)
                client.close()
                return
            time.sleep(0.05)
    peer = {client: upstream, upstream: client}
    for s in peer:
        s.settimeout(30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reading = {client, upstream}
    try:
        while reading:
            ready, _, _ = select.select(list(reading), [], [], 120)
            if not ready:
                abort(client, upstream)
                break
            for s in ready:
                data = s.recv(65536)
                if data:
                    peer[s].sendall(data)
                else:
                    reading.discard(s)
                    peer[s].shutdown(socket.SHUT_WR)
    except OSError:
        abort(client, upstream)
    finally:
        client.close()
        upstream.close()

while True:
    conn, _ = listener.accept()
    threading.Thread(target=relay, args=(conn,), daemon=True).start()
"""

_GNUTLS_INNER_PORT = 5556


@functools.cache
def _netns_prefix() -> tuple[str, ...] | str:
    """The ``unshare`` command giving a private network namespace, or why there is none."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "'unshare' (util-linux) not found"
    candidates: list[tuple[str, ...]] = [(unshare, "--net")] if os.geteuid() == 0 else []
    candidates.append((unshare, "--user", "--map-root-user", "--net"))
    errors = []
    for prefix in candidates:
        try:
            r = subprocess.run(
                [*prefix, "--", "true"],
                capture_output=True,
                timeout=DEFAULT_IO_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            errors.append(f"{' '.join(prefix)}: {e}")
            continue
        if r.returncode == 0:
            return prefix
        errors.append(f"{' '.join(prefix)}: {r.stderr.decode(errors='replace').strip()}")
    return "cannot create a private network namespace: " + "; ".join(errors)


#: A TLS 1.2 server that accepts AES-256-GCM alone (an AES-128-only ALG_ID list must not
#: connect to it): the ``cipher`` of OpenSSLServer (with ``tls13=False``) and the
#: ``priority`` of GnuTLSServer.
OPENSSL_AES256_GCM_ONLY = "ECDHE-ECDSA-AES256-GCM-SHA384"
GNUTLS_AES256_GCM_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM"


def gnutls_only(tls13: bool) -> str:
    """The GnuTLS priority string that offers TLS 1.3 alone (``tls13``) or TLS 1.2 alone."""
    return "NORMAL:-VERS-ALL:+VERS-TLS1.3" if tls13 else "NORMAL:-VERS-ALL:+VERS-TLS1.2"


class GnuTLSServer(_ProcessServer):
    """``gnutls-serv`` (Debian package gnutls-bin), reachable on our loopback.

    ``gnutls-serv`` always binds the wildcard addresses, so it runs in a private
    network namespace (loopback only) with a relay forwarding our
    ``host:port``; the relay copies bytes both ways and passes on FIN/RST.
    Needs ``unshare --net`` (root) or unprivileged user namespaces; when that is
    impossible the test is skipped (failed in CI) rather than listening on a
    public address.

    ``echo=True``: the server sends back every record it receives.
    ``priority`` is a GnuTLS priority string, e.g. ``"NORMAL:-VERS-ALL:+VERS-TLS1.3"``
    or ``"NORMAL:-GROUP-ALL:+GROUP-SECP384R1"``.  Client certificates are not
    requested unless ``verify_client`` is set.
    """

    name = "gnutls-serv"

    def __init__(
        self,
        cert_file: StrPath,
        key_file: StrPath,
        *,
        chain_file: StrPath | None = None,
        priority: str | None = None,
        echo: bool = True,
        alpn: str | Sequence[str] | None = None,
        tickets: bool = True,
        keylog: StrPath | None = None,
        verify_client: bool = False,
        client_ca_file: StrPath | None = None,
        extra_args: Iterable[str] = (),
        host: str = "127.0.0.1",
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    ) -> None:
        super().__init__(host=host, startup_timeout=startup_timeout, stop_timeout=stop_timeout)
        gnutls_serv = require_tool("gnutls-serv")
        prefix = _netns_prefix()
        if isinstance(prefix, str):
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            unavailable(f"gnutls-serv needs a private network namespace: {prefix}")
        cert = _combined_pem(self._tmpdir, cert_file, chain_file)
        inner = [gnutls_serv, "--port", str(_GNUTLS_INNER_PORT)]
        inner += ["--x509certfile", os.fspath(cert), "--x509keyfile", os.fspath(key_file)]
        inner.append("--echo" if echo else "--http")
        if priority is not None:
            inner.append(f"--priority={priority}")
        if alpn is not None:
            for proto in alpn.split(",") if isinstance(alpn, str) else alpn:
                inner.append(f"--alpn={proto}")
        if not tickets:
            inner.append("--noticket")
        if verify_client:
            if client_ca_file is None:
                raise ValueError("verify_client needs client_ca_file")
            inner += ["--require-client-cert", "--verify-client-cert"]
            inner += ["--x509cafile", os.fspath(client_ca_file)]
        else:
            inner.append("--disable-client-cert")
        inner += list(extra_args)
        env = dict(os.environ)
        if keylog is not None:
            env["SSLKEYLOGFILE"] = os.fspath(keylog)

        listener = socket.create_server((self.host, 0), family=_family(self.host))
        try:
            self.port = listener.getsockname()[1]
            argv = [*prefix, "--", sys.executable, "-c", _NETNS_RELAY, str(listener.fileno())]
            argv += [str(_GNUTLS_INNER_PORT), *inner]
            self._spawn(argv, env=env, pass_fds=[listener.fileno()])
        finally:
            listener.close()  # the relay holds its own copy
        self.inner_argv = inner
        m = self._await_ready(r"listening on IPv4 \S+ port \d+\.\.\.done")
        self.ready_offset = m.end()

    def __enter__(self) -> GnuTLSServer:
        return self


_OCSP_INNER_PORT = 5557


def _index_time(when: datetime.datetime) -> str:
    return when.astimezone(datetime.timezone.utc).strftime("%y%m%d%H%M%SZ")


class OpenSSLOcspResponder(_ProcessServer):
    """``openssl ocsp -index ... -port``: a real OCSP responder, reachable on our loopback.

    ``openssl ocsp -port`` binds the wildcard addresses, so, like
    :class:`GnuTLSServer`, it runs in a private network namespace (loopback
    only) behind the relay.  ``certificates`` are (certificate, revoked?) pairs
    written to its index (a certificate it does not list is "unknown");
    ``signer`` signs the responses (the issuing CA, or a delegated responder
    with the OCSP-signing EKU); ``ca`` is the issuing CA.  :attr:`url` is the
    responder's URL; pass ``port`` (e.g. from :func:`free_port`) to know it before
    issuing certificates that name it.
    """

    name = "openssl ocsp"

    def __init__(
        self,
        ca: Issued,
        certificates: Iterable[tuple[Issued, bool]],
        *,
        signer: Issued | None = None,
        next_update_minutes: int = 60,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    ) -> None:
        super().__init__(host=host, startup_timeout=startup_timeout, stop_timeout=stop_timeout)
        openssl = require_tool("openssl")
        prefix = _netns_prefix()
        if isinstance(prefix, str):
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            unavailable(f"openssl ocsp needs a private network namespace: {prefix}")
        signer = signer if signer is not None else ca
        lines = []
        for issued, revoked in certificates:
            cert = issued.cert
            expiry = _index_time(cert.not_valid_after_utc)
            when = _index_time(cert.not_valid_before_utc) if revoked else ""
            subject = cert.subject.rfc4514_string()
            serial = f"{cert.serial_number:X}"
            serial = ("0" + serial) if len(serial) % 2 else serial
            lines.append(
                "\t".join(["R" if revoked else "V", expiry, when, serial, "unknown", subject])
            )
        d = self._tmpdir
        (d / "index.txt").write_text("".join(line + "\n" for line in lines))
        (d / "ca.pem").write_bytes(ca.pem)
        (d / "signer.pem").write_bytes(signer.pem)
        (d / "signer-key.pem").write_bytes(signer.key_pem)
        inner = [openssl, "ocsp", "-index", os.fspath(d / "index.txt")]
        inner += ["-port", str(_OCSP_INNER_PORT), "-CA", os.fspath(d / "ca.pem")]
        inner += ["-rsigner", os.fspath(d / "signer.pem"), "-rkey", os.fspath(d / "signer-key.pem")]
        inner += ["-nmin", str(next_update_minutes), "-ignore_err"]
        listener = socket.create_server((self.host, port), family=_family(self.host))
        try:
            self.port = listener.getsockname()[1]
            argv = [*prefix, "--", sys.executable, "-c", _NETNS_RELAY, str(listener.fileno())]
            argv += [str(_OCSP_INNER_PORT), *inner]
            self._spawn(argv, pass_fds=[listener.fileno()])
        finally:
            listener.close()
        self.inner_argv = inner
        m = self._await_ready(r"waiting for OCSP client connections")
        self.ready_offset = m.end()

    @property
    def url(self) -> str:
        return f"http://{_bracket(self.host)}:{self.port}/"

    def __enter__(self) -> OpenSSLOcspResponder:
        return self


# --------------------------------------------------------------------------- #
# Python ssl server
# --------------------------------------------------------------------------- #


@dataclass
class ConnectionRecord:
    """What :class:`PythonTLSServer` saw on one connection."""

    peer: tuple[str, int]
    handshake_ok: bool = False
    version: str | None = None
    cipher: str | None = None
    alpn: str | None = None
    #: True when the client resumed a session (TLS 1.3 PSK / TLS 1.2 session or ticket).
    session_reused: bool = False
    received: bytearray = field(default_factory=bytearray)
    #: True when the client sent close_notify (False: TCP EOF/reset without it).
    clean_close: bool = False
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)


Handler = Callable[[ssl.SSLSocket, ConnectionRecord], None]


def echo_handler(conn: ssl.SSLSocket, record: ConnectionRecord) -> None:
    """Send back everything received until the client's close_notify, then close cleanly."""
    while True:
        data = conn.recv(65536)
        if not data:  # close_notify (a bare TCP EOF raises SSLEOFError instead)
            record.clean_close = True
            break
        record.received += data
        conn.sendall(data)
    conn.unwrap()  # send our close_notify


class PythonTLSServer:
    """A Python ``ssl`` server on loopback, in a background thread.

    Accepts up to ``max_connections`` connections (each in its own thread) and
    runs ``handler(tls_socket, record)`` after a successful handshake
    (:func:`echo_handler` by default).  Every socket operation times out after
    ``io_timeout`` and the server stops accepting after ``lifetime`` seconds.
    Results are in :attr:`connections` (see :meth:`wait_connections`).
    """

    def __init__(
        self,
        cert_file: StrPath,
        key_file: StrPath,
        *,
        chain_file: StrPath | None = None,
        min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
        max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        ciphers: str | None = None,
        alpn: Sequence[str] | None = None,
        num_tickets: int | None = None,
        ecdh_curve: str | None = None,
        keylog: StrPath | None = None,
        verify_client: bool = False,
        client_ca_file: StrPath | None = None,
        handler: Handler | None = None,
        max_connections: int = 1,
        host: str = "127.0.0.1",
        io_timeout: float = DEFAULT_IO_TIMEOUT,
        lifetime: float = 60.0,
    ) -> None:
        self.host = _check_host(host)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="peers-python-"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = min_version
        ctx.maximum_version = max_version
        ctx.load_cert_chain(_combined_pem(self._tmpdir, cert_file, chain_file), os.fspath(key_file))
        if ciphers is not None:
            ctx.set_ciphers(ciphers)
        if alpn is not None:
            ctx.set_alpn_protocols(list(alpn))
        if num_tickets is not None:
            ctx.num_tickets = num_tickets
        if ecdh_curve is not None:
            ctx.set_ecdh_curve(ecdh_curve)  # also the only TLS 1.3 group offered
        if keylog is not None:
            ctx.keylog_filename = os.fspath(keylog)
        if verify_client:
            if client_ca_file is None:
                raise ValueError("verify_client needs client_ca_file")
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(os.fspath(client_ca_file))
        self.context = ctx
        self.handler: Handler = handler or echo_handler
        self.max_connections = max_connections
        self.io_timeout = io_timeout
        self.lifetime = lifetime
        self.connections: list[ConnectionRecord] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._listener = socket.create_server((self.host, 0), family=_family(self.host))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._accept_loop, name="python-tls-accept", daemon=True
        )
        _live.add(self)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _accept_loop(self) -> None:
        deadline = time.monotonic() + self.lifetime
        accepted = 0
        try:
            while accepted < self.max_connections and not self._stop.is_set():
                if time.monotonic() > deadline:
                    break
                try:
                    raw, addr = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                accepted += 1
                record = ConnectionRecord(peer=(addr[0], addr[1]))
                with self._lock:
                    self.connections.append(record)
                t = threading.Thread(
                    target=self._serve, args=(raw, record), name="python-tls-conn", daemon=True
                )
                self._workers.append(t)
                t.start()
        finally:
            self._listener.close()

    def _serve(self, raw: socket.socket, record: ConnectionRecord) -> None:
        raw.settimeout(self.io_timeout)
        conn: ssl.SSLSocket | None = None
        try:
            conn = self.context.wrap_socket(
                raw, server_side=True, do_handshake_on_connect=False, suppress_ragged_eofs=False
            )
            conn.do_handshake()
            record.handshake_ok = True
            record.version = conn.version()
            cipher = conn.cipher()
            record.cipher = cipher[0] if cipher else None
            record.alpn = conn.selected_alpn_protocol()
            record.session_reused = bool(conn.session_reused)
            self.handler(conn, record)
        except Exception as e:  # recorded for the test to inspect
            record.error = e
        finally:
            with contextlib.suppress(OSError):
                (conn if conn is not None else raw).close()
            raw.close()
            record.finished.set()

    def wait_connections(
        self, count: int | None = None, timeout: float = DEFAULT_IO_TIMEOUT
    ) -> list[ConnectionRecord]:
        """Wait until ``count`` (default ``max_connections``) connections are finished."""
        count = self.max_connections if count is None else count
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                records = list(self.connections)
            if len(records) >= count and all(r.finished.is_set() for r in records[:count]):
                return records
            if time.monotonic() > deadline:
                raise PeerError(
                    f"python server: {count} connection(s) not finished after {timeout:g} s: {records}"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop accepting and wait (bounded) for the connection threads."""
        self._stop.set()
        self._thread.join(timeout=DEFAULT_STOP_TIMEOUT)
        for t in self._workers:
            t.join(timeout=self.io_timeout + 1)
        _live.discard(self)
        shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> PythonTLSServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- #
# Test PKI (built with schannel_py.testing.pki)
# --------------------------------------------------------------------------- #


class CertFiles(TypedDict):
    """The certificate arguments shared by every server class."""

    cert_file: Path
    key_file: Path
    chain_file: Path | None


@dataclass(frozen=True)
class ServerCert:
    """A server certificate written as PEM files."""

    cert: Path  #: the leaf alone
    key: Path  #: its private key (PKCS#8)
    chain: Path | None  #: intermediates only (``-cert_chain``); None when signed by a root
    fullchain: Path  #: leaf then intermediates
    issued: Issued

    def server_kwargs(self) -> CertFiles:
        """``cert_file``/``key_file``/``chain_file`` for the server classes (``**`` it)."""
        return {"cert_file": self.cert, "key_file": self.key, "chain_file": self.chain}


@dataclass(frozen=True)
class ServerPki:
    """The session's test PKI (see ``build_server_pki``)."""

    directory: Path
    root_ca: Path  #: trust anchor PEM (point SCHANNEL_PY_ROOT_CERTS here)
    root: Issued
    intermediate: Issued
    ecdsa: ServerCert  #: P-256, localhost / 127.0.0.1 / ::1, root -> intermediate -> leaf
    rsa: ServerCert  #: RSA-2048, same names and chain
    ecdsa_direct: ServerCert  #: P-256 signed by the root itself (no intermediate)
    expired: ServerCert  #: valid names, expired in 2021
    wrong_name: ServerCert  #: only wrong.example.invalid, no IP addresses
    untrusted: ServerCert  #: valid names, chains to a root not in root_ca
    untrusted_root_ca: Path


LOCAL_NAMES: tuple[str, ...] = ("localhost",)
LOCAL_IPS: tuple[str, ...] = ("127.0.0.1", "::1")


def build_server_pki(directory: Path) -> ServerPki:
    """Generate the test PKI with :mod:`schannel_py.testing.pki` and write it under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)

    def write(stem: str, issued: Issued) -> ServerCert:
        paths = issued.write(directory, f"{stem}-")
        return ServerCert(
            cert=paths.cert,
            key=paths.key,
            chain=paths.chain if issued.intermediates else None,
            fullchain=paths.fullchain,
            issued=issued,
        )

    root = make_ca()
    inter = make_ca(INTERMEDIATE_NAME, issuer=root, path_length=0)
    ecdsa = make_leaf(inter, dns_names=LOCAL_NAMES, ip_addresses=LOCAL_IPS)
    rsa = make_leaf(inter, dns_names=LOCAL_NAMES, ip_addresses=LOCAL_IPS, key_type="rsa2048")
    direct = make_leaf(root, dns_names=LOCAL_NAMES, ip_addresses=LOCAL_IPS)
    expired = make_leaf(
        inter,
        dns_names=LOCAL_NAMES,
        ip_addresses=LOCAL_IPS,
        not_before=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
        not_after=datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc),
    )
    wrong = make_leaf(inter, dns_names=("wrong.example.invalid",))
    other_root = make_ca("schannel_py Untrusted Root CA")
    untrusted = make_leaf(other_root, dns_names=LOCAL_NAMES, ip_addresses=LOCAL_IPS)

    root_ca = directory / "root_ca.pem"
    root_ca.write_bytes(root.pem)
    untrusted_root_ca = directory / "untrusted_root_ca.pem"
    untrusted_root_ca.write_bytes(other_root.pem)
    return ServerPki(
        directory=directory,
        root_ca=root_ca,
        root=root,
        intermediate=inter,
        ecdsa=write("ecdsa", ecdsa),
        rsa=write("rsa", rsa),
        ecdsa_direct=write("ecdsa-direct", direct),
        expired=write("expired", expired),
        wrong_name=write("wrong-name", wrong),
        untrusted=write("untrusted", untrusted),
        untrusted_root_ca=untrusted_root_ca,
    )
