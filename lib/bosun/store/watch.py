"""Watches: one etcd watch stream per Watch, read from /v3/watch as newline-separated JSON,
turned into Kubernetes-style ADDED / MODIFIED / DELETED events.

Each Watch reads its stream on a connection of its own, opened by the store's pool but never
returned to it. close() shuts that socket down, which wakes a reader blocked in another thread
at once.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from bosun.store.codec import (
    b64,
    create_revision,
    decode_key,
    decode_object,
    header_revision,
    mod_revision,
    with_resource_version,
)
from bosun.store.errors import Gone, StoreError, StoreUnavailable, error_from_reply
from bosun.store.gateway import API_PATH, server_side
from bosun.store.keys import prefix_end, split_key
from bosun.store.pool import TRANSPORT_ERRORS, Pool

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


@dataclass(frozen=True)
class WatchEvent:
    """One change: `object` carries resourceVersion == `revision`; a DELETED object is the last
    stored value with the revision of the delete."""

    type: str
    object: dict
    revision: int
    key: str


def event_from_etcd(event: dict[str, Any]) -> WatchEvent:
    """The WatchEvent for one etcd event (asked for with prev_kv)."""
    kv = event["kv"]
    key = decode_key(kv)
    revision = mod_revision(kv)
    if event.get("type") == "DELETE":
        previous = event.get("prev_kv")
        obj = decode_object(previous, revision) if previous else _tombstone(key, revision)
        return WatchEvent(DELETED, obj, revision, key)
    kind = ADDED if create_revision(kv) == revision else MODIFIED
    return WatchEvent(kind, decode_object(kv), revision, key)


def _tombstone(key: str, revision: int) -> dict:
    # etcd leaves prev_kv out when it could not read the old value (compacted meanwhile): the
    # key still says which object went.
    try:
        _, namespace, name = split_key(key)
    except ValueError:
        return with_resource_version({}, revision)
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return with_resource_version({"metadata": metadata}, revision)


def check_message(message: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The `result` of one streamed watch message.

    Raises Gone when etcd cancelled the watch for compaction, StoreUnavailable when it
    cancelled it otherwise or wrote a stream error.
    """
    if "error" in message:
        raise error_from_reply(json.dumps(message), server_error=True, key=prefix)
    result = message.get("result", {})
    if result.get("canceled"):
        compacted = int(result.get("compact_revision", 0))
        if compacted:
            raise Gone(f"watch on {prefix}: revisions before {compacted} were compacted",
                       prefix, compacted)
        reason = result.get("cancel_reason", "no reason given")
        raise StoreUnavailable(f"etcd cancelled the watch on {prefix}: {reason}", prefix)
    return result


def _lines(response: http.client.HTTPResponse) -> Iterator[bytes]:
    buffer = bytearray()
    # read1 returns what has arrived (within one chunk of the reply) without waiting for more.
    while chunk := response.read1(65536):
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            if line.strip():
                yield line
    if buffer.strip():
        yield bytes(buffer)


class Watch:
    """Iterator of WatchEvents for every key under a prefix, from just after a revision.

    Iterate in one thread; close() from any thread. Iteration ends after close(); it raises
    Gone when the revision was compacted and StoreUnavailable when the stream broke. `revision`
    is the last revision delivered (or reported by etcd as complete): watch again from there.
    """

    def __init__(self, pool: Pool, prefix: str, revision: int) -> None:
        self.prefix = prefix
        self._revision = revision
        self._pending: deque[WatchEvent] = deque()
        self._closed = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._response: http.client.HTTPResponse | None = None
        try:
            self._open(pool, revision)
        except BaseException:
            self.close()
            raise

    def _open(self, pool: Pool, revision: int) -> None:
        request = {"create_request": {
            "key": b64(self.prefix), "range_end": b64(prefix_end(self.prefix.encode())),
            "start_revision": revision + 1, "prev_kv": True, "progress_notify": True}}
        try:
            self._socket = pool.connect()
            self._response = pool.start(self._socket, "POST", API_PATH + "watch",
                                        json.dumps(request).encode())
            if self._response.status != 200:
                body = self._response.read().decode("utf-8", "replace")
                raise error_from_reply(body, server_side(self._response.status), self.prefix)
        except TRANSPORT_ERRORS as exc:
            raise StoreUnavailable(f"cannot watch {self.prefix}: {type(exc).__name__}: {exc}",
                                   self.prefix) from exc
        self._stream = _lines(self._response)
        created = self._next_message()
        if created is None or not check_message(created, self.prefix).get("created"):
            raise StoreUnavailable(f"etcd did not create the watch on {self.prefix}", self.prefix)
        self._socket.settimeout(None)  # the timeout was for the reply; events may be rare

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def closed(self) -> bool:
        return self._closed

    def __iter__(self) -> Watch:
        return self

    def __next__(self) -> WatchEvent:
        while not self._pending:
            if self._closed:
                raise StopIteration
            try:
                message = self._next_message()
                if message is None:
                    raise StopIteration
                self._take(check_message(message, self.prefix))
            except StoreError:
                self.close()
                raise
        return self._pending.popleft()

    def _take(self, result: dict[str, Any]) -> None:
        events = [event_from_etcd(event) for event in result.get("events", [])]
        if events:
            self._pending.extend(events)
            self._revision = events[-1].revision
        elif not result.get("created"):
            # A progress notification: everything up to its revision has been delivered.
            self._revision = max(self._revision, header_revision(result))

    def _next_message(self) -> dict[str, Any] | None:
        """The next JSON message; None once closed. Raises StoreUnavailable if the stream broke."""
        try:
            line = next(self._stream, None)
        except Exception as exc:
            if self._closed:
                return None  # close() cut the stream under the reader: that is the way out
            if isinstance(exc, TRANSPORT_ERRORS):
                message = f"watch on {self.prefix} broke: {type(exc).__name__}: {exc}"
                raise StoreUnavailable(message, self.prefix) from exc
            raise
        if line is None:
            if self._closed:
                return None
            raise StoreUnavailable(f"etcd ended the watch on {self.prefix}", self.prefix)
        try:
            return json.loads(line)
        except ValueError as exc:
            raise StoreUnavailable(f"garbled watch message on {self.prefix}", self.prefix) from exc

    def close(self) -> None:
        """End the watch; a reader blocked in next() in another thread returns at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._socket is not None:
            with suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        if self._response is not None:
            self._response.close()
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
