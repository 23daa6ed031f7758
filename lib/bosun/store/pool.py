"""Kept-open HTTP/1.1 connections to etcd's JSON gateway, shared by threads: the transport under
the gateway's unary calls and the watch streams. Standard library only: each request goes out
in one write and its reply is parsed by http.client.

A call takes an idle connection (or opens one), reads the whole reply and puts the connection
back; one that failed, or that etcd marked for closing, is closed instead. An idle connection
that has turned readable was closed by etcd (a restart) and is dropped before use.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

POOL_SIZE = 32  # the API server's worker threads; beyond it connections are not kept

# Dead peers (host gone, cable pulled) show up on idle connections and watch streams within
# about 10 s; a live etcd answers keepalive probes from its kernel.
SOCKET_OPTIONS = [
    (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 5),
    (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 2),
    (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3),
]

# What a refused, timed-out, broken or cut-off exchange raises (timeouts and TLS errors are
# OSErrors; a reply cut short or garbled is an HTTPException).
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Pool:
    """Connections to one endpoint (http(s)://host:port) with `timeout` seconds to connect and
    for every read and write; at most `size` are kept open while idle."""

    def __init__(self, endpoint: str, timeout: float, size: int = POOL_SIZE) -> None:
        url = urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"etcd endpoint must be http(s)://host:port, not {endpoint!r}")
        self.host = url.hostname
        self.port = url.port or 2379
        self.timeout = timeout
        self.size = size
        self._authority = url.netloc.rpartition("@")[2]
        self._tls = ssl.create_default_context() if url.scheme == "https" else None
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()
        self._opened = 0

    @property
    def opened(self) -> int:
        """Connections opened so far for request() (keep-alive check)."""
        return self._opened

    def connect(self) -> socket.socket:
        """A new connection of its own to etcd, with Bosun's TCP options.

        Raises OSError (ssl.SSLError included) when etcd cannot be reached.
        """
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            for level, option, value in SOCKET_OPTIONS:
                sock.setsockopt(level, option, value)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return sock

    def start(self, sock: socket.socket, method: str, path: str,
              body: bytes = b"") -> http.client.HTTPResponse:
        """Write one request on `sock` and read the head of its reply; the body is left to read.

        Raises OSError or http.client.HTTPException.
        """
        head = f"{method} {path} HTTP/1.1\r\nHost: {self._authority}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode("ascii") + b"\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response

    def request(self, method: str, path: str, body: bytes = b"") -> Reply:
        """One exchange on a kept-open connection; the whole reply.

        Raises OSError or http.client.HTTPException (the connection is then closed).
        """
        sock = self._take()
        try:
            response = self.start(sock, method, path, body)
            reply = Reply(response.status, response.read())
        except BaseException:
            sock.close()
            raise
        if response.will_close:
            sock.close()
        else:
            self._give_back(sock)
        return reply

    def _take(self) -> socket.socket:
        while True:
            with self._lock:
                sock = self._idle.pop() if self._idle else None
            if sock is None:
                sock = self.connect()
                with self._lock:
                    self._opened += 1
                return sock
            if not _readable(sock):
                return sock
            sock.close()

    def _give_back(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(sock)
                return
        sock.close()

    def close(self) -> None:
        """Close the idle connections; later requests open new ones."""
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()


def _readable(sock: socket.socket) -> bool:
    # Between requests etcd has nothing to say: anything readable is the end of the connection.
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
