"""The store's connection pool: kept-open connections shared by threads against a real etcd, and
the errors of a broken exchange against a scripted loopback server that plays a failing etcd or
a proxy in front of it (cut-off replies, 5xx pages, silence), which a real etcd cannot be made
to produce on demand."""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass

import pytest

from bosun.store import Gone, NotFound, Rejected, Store, StoreUnavailable, object_key
from bosun.store.local import LocalEtcd, free_port
from bosun.store.pool import SOCKET_OPTIONS, Pool

KEY = object_key("pods", "a", "default")
RANGE_REPLY = b'{"header":{"revision":"7"},"count":"0"}'
NO_LEADER = b'{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}'
COMPACTED = (b'{"error":"etcdserver: mvcc: required revision has been compacted","message":'
             b'"etcdserver: mvcc: required revision has been compacted","code":11}')


def http_reply(status: str, body: bytes, *headers: str) -> bytes:
    head = "".join(f"{header}\r\n" for header in headers)
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


OK = http_reply("200 OK", RANGE_REPLY)


@dataclass(frozen=True)
class Answer:
    """What the scripted server does with one request: send `data`, then close the connection
    if `close`; `data` None means say nothing until the test ends."""

    data: bytes | None
    close: bool = False


class ScriptedServer:
    """A loopback HTTP server answering each request with the next scripted Answer, or a 200
    with an empty range reply when the script has run out. Counts connections and requests."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.script: queue.Queue[Answer] = queue.Queue()
        self.connections = 0
        self.requests: list[bytes] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def answer(self, *answers: Answer) -> None:
        for answer in answers:
            self.script.put(answer)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while (request := _read_request(reader)) is not None:
                self.requests.append(request)
                try:
                    answer = self.script.get_nowait()
                except queue.Empty:
                    answer = Answer(OK)
                if answer.data is None:
                    self.stopped.wait()
                    return
                conn.sendall(answer.data)
                if answer.close:
                    return

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()


def _read_request(reader) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                   if line.startswith(b"content-length:")), 0)
    return head + reader.read(length)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture
def store(server) -> Iterator[Store]:
    with Store(server.endpoint, timeout=0.5) as client:
        yield client


# -- failures, translated -------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "expected"), [
    (Answer(http_reply("502 Bad Gateway", b"<html>bad gateway</html>")), StoreUnavailable),
    (Answer(http_reply("500 Internal Server Error", b"")), StoreUnavailable),
    (Answer(http_reply("503 Service Unavailable", NO_LEADER)), StoreUnavailable),
    (Answer(http_reply("400 Bad Request", COMPACTED)), Gone),
    (Answer(http_reply("404 Not Found", b"<html>no such page</html>")), Rejected),
    (Answer(http_reply("200 OK", b"<html>not json</html>")), StoreUnavailable),
    (Answer(http_reply("200 OK", b"[]")), StoreUnavailable),
    (Answer(OK[:-10], close=True), StoreUnavailable),
    (Answer(OK[:20], close=True), StoreUnavailable),
    (Answer(b"", close=True), StoreUnavailable),
    (Answer(b"SSH-2.0-OpenSSH_9.2\r\n", close=True), StoreUnavailable),
], ids=["proxy-502", "bare-500", "503-no-leader", "400-compacted", "proxy-404", "200-not-json",
        "200-not-an-object", "body-cut-off", "head-cut-off", "closed-without-reply", "not-http"])
def test_failed_exchanges_become_store_errors_and_the_pool_recovers(server, store, answer,
                                                                     expected):
    server.answer(answer)
    with pytest.raises(expected) as caught:
        store.get(KEY)
    assert caught.value.key == KEY
    with pytest.raises(NotFound):  # the next call works (the empty range reply: not found)
        store.get(KEY)


def test_a_silent_server_times_out(server, store):
    server.answer(Answer(None))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.get(KEY)
    assert 0.4 < time.monotonic() - started < 1.5
    assert "TimeoutError" in str(caught.value)


def test_a_refused_connection_is_unavailable_at_once():
    with Store(f"http://127.0.0.1:{free_port()}", timeout=2) as store:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            store.get(KEY)
        assert time.monotonic() - started < 0.5
        assert "ConnectionRefusedError" in str(caught.value)
        with pytest.raises(StoreUnavailable):
            store.watch("/registry/", 0)
        assert not store.healthy()


def test_requests_carry_host_length_and_the_json_payload(server, store):
    with pytest.raises(NotFound):
        store.get(KEY)
    request = server.requests[-1]
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v3/kv/range HTTP/1.1"
    assert b"Host: " + server.endpoint.removeprefix("http://").encode() in lines
    assert b"Content-Length: %d" % len(body) in lines
    assert body.startswith(b'{"key":')


# -- keeping connections ----------------------------------------------------------------------

def test_a_connection_etcd_closed_while_idle_is_replaced_without_an_error(server, store):
    server.answer(Answer(OK, close=True))  # a keep-alive reply, then the server goes away
    with pytest.raises(NotFound):
        store.get(KEY)
    time.sleep(0.1)  # the close reaches our idle socket
    for _ in range(3):
        with pytest.raises(NotFound):
            store.get(KEY)
    assert server.connections == 2 and store.connections_opened() == 2


def test_connection_close_replies_are_not_kept(server, store):
    server.answer(*[Answer(http_reply("200 OK", RANGE_REPLY, "Connection: close"), close=True)
                    for _ in range(3)])
    for _ in range(3):
        with pytest.raises(NotFound):
            store.get(KEY)
    assert server.connections == 3


def test_close_drops_idle_connections_and_later_calls_open_new_ones(server, store):
    with pytest.raises(NotFound):
        store.get(KEY)
    store.close()
    with pytest.raises(NotFound):
        store.get(KEY)
    assert server.connections == 2


@pytest.fixture(scope="module")
def etcd(tmp_path_factory) -> Iterator[LocalEtcd]:
    with LocalEtcd(tmp_path_factory.mktemp("etcd") / "data") as server:
        yield server


def test_threads_share_kept_connections(etcd):
    threads, calls = 8, 40
    with Store(etcd.endpoint) as store:
        key = object_key("pods", "shared", "default")
        created = store.create(key, {"metadata": {"name": "shared"}})
        start = threading.Barrier(threads)
        results: list[object] = []

        def worker() -> None:
            start.wait()
            for _ in range(calls):
                results.append(store.get(key))

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(30)
        assert results == [created] * (threads * calls)
        opened = store.connections_opened()
        assert 1 <= opened <= threads
        for _ in range(50):
            store.get(key)
        assert store.connections_opened() == opened


def established_to(port: int) -> int:
    """How many TCP connections this process has established to 127.0.0.1:`port`, in the
    kernel's view (etcd's gateway keeps connections of its own to the same port)."""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with suppress(OSError):  # closed meanwhile
            ours.add(os.readlink(f"/proc/self/fd/{fd}"))
    count = 0
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            count += (remote == f"0100007F:{port:04X}" and state == "01"
                      and f"socket:[{inode}]" in ours)
    return count


def test_idle_connections_beyond_the_pool_size_are_closed(etcd):
    pool = Pool(etcd.endpoint, timeout=5, size=2)
    start = threading.Barrier(6)
    statuses: list[int] = []

    def worker() -> None:
        start.wait()
        for _ in range(20):
            statuses.append(pool.request("GET", "/health").status)

    workers = [threading.Thread(target=worker) for _ in range(6)]
    try:
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(30)
        assert statuses == [200] * 120
        assert pool.opened > 2  # the threads did overlap
        time.sleep(0.2)
        assert established_to(etcd.client_port) <= 2
    finally:
        pool.close()
    time.sleep(0.2)
    assert established_to(etcd.client_port) == 0


def test_connections_carry_the_keepalive_options(etcd):
    pool = Pool(etcd.endpoint, timeout=3)
    sock = pool.connect()
    try:
        for level, option, value in SOCKET_OPTIONS:
            assert sock.getsockopt(level, option) == value, option
        assert sock.gettimeout() == 3
    finally:
        sock.close()


def test_watch_streams_have_their_own_connection(etcd):
    baseline = established_to(etcd.client_port)
    with Store(etcd.endpoint) as store:
        store.current_revision()
        before = store.connections_opened()
        with store.watch("/registry/pods/", store.current_revision()) as watch:
            assert established_to(etcd.client_port) == baseline + 2
            timer = threading.Timer(5, watch.close)  # no event: end the test, not hang it
            timer.start()
            store.create(object_key("pods", "watched", "default"), {"metadata": {}})
            assert next(watch).key == object_key("pods", "watched", "default")
            timer.cancel()
        assert store.connections_opened() == before
        time.sleep(0.2)
        assert established_to(etcd.client_port) == baseline + 1
