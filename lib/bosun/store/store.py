"""The Store: Kubernetes objects in etcd with optimistic concurrency. Every write is one etcd
transaction, conditioned on the key's revision when the caller gives a resourceVersion, so no
update is ever lost; reads are linearizable.

Synchronous and thread-safe; keeps no state about etcd beyond a pool of kept-open connections,
so it recovers by itself once etcd is back after an outage.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from bosun.store.codec import (
    b64,
    decode_object,
    encode_object,
    header_revision,
    mod_revision,
    parse_resource_version,
    unb64,
    with_resource_version,
)
from bosun.store.errors import AlreadyExists, Conflict, Gone, NotFound, StoreError
from bosun.store.gateway import Gateway
from bosun.store.keys import lock_key, prefix_end
from bosun.store.lock import Lock
from bosun.store.watch import Watch

DEFAULT_ENDPOINT = "http://127.0.0.1:23790"
LIST_PAGE = 1000  # keys per range request; later pages are read at the first page's revision
GUARANTEED_UPDATE_RETRIES = 16


# Transaction parts, in the gateway's JSON form.
def _absent(key: str) -> dict:
    return {"key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": 0}


def _present(key: str) -> dict:
    return {"key": b64(key), "target": "CREATE", "result": "GREATER", "create_revision": 0}


def _unchanged_since(key: str, revision: int) -> dict:
    return {"key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": revision}


def _put(key: str, obj: dict) -> dict:
    return {"request_put": {"key": b64(key), "value": encode_object(obj)}}


def _read(key: str) -> dict:
    return {"request_range": {"key": b64(key)}}


def _first_kv(reply: dict, kind: str, field: str) -> dict | None:
    """The first key-value record in the first response of a txn reply, if any."""
    responses = reply.get("responses") or [{}]
    records = responses[0].get(kind, {}).get(field) or []
    return records[0] if records else None


class Store:
    """The only door to etcd. Methods raise StoreError subclasses: NotFound, AlreadyExists,
    Conflict, InvalidResourceVersion, Gone, Rejected, LockLost, and StoreUnavailable (temporary)
    for a refused connection, a timeout, no leader or a 5xx."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 5.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._gateway = Gateway(endpoint, timeout)

    # -- objects -------------------------------------------------------------------------------

    def create(self, key: str, obj: dict) -> dict:
        """Store `obj` under a new key; a copy carrying its resourceVersion.

        Raises AlreadyExists when the key exists.
        """
        reply = self._gateway.txn([_absent(key)], [_put(key, obj)], [], key)
        if not reply.get("succeeded"):
            raise AlreadyExists(key)
        return with_resource_version(obj, header_revision(reply))

    def get(self, key: str) -> dict:
        """The object under `key`. Raises NotFound."""
        kvs = self._gateway.call("kv/range", {"key": b64(key)}, key).get("kvs")
        if not kvs:
            raise NotFound(key)
        return decode_object(kvs[0])

    def list(self, prefix: str) -> tuple[list[dict], int]:
        """Every object under `prefix`, sorted by key, and the revision they were read at
        (watch from it to miss nothing)."""
        for _ in range(3):
            with suppress(Gone):  # compacted between two pages: read it all again
                return self._list_pages(prefix)
        return self._list_pages(prefix)

    def _list_pages(self, prefix: str) -> tuple[list[dict], int]:
        end = b64(prefix_end(prefix.encode()))
        objects: list[dict] = []
        request: dict[str, Any] = {"key": b64(prefix), "range_end": end, "limit": LIST_PAGE}
        while True:
            reply = self._gateway.call("kv/range", request, prefix)
            request.setdefault("revision", header_revision(reply))
            kvs = reply.get("kvs", [])
            objects.extend(decode_object(kv) for kv in kvs)
            if not reply.get("more") or not kvs:
                return objects, request["revision"]
            request["key"] = b64(unb64(kvs[-1]["key"]) + b"\0")

    def update(self, key: str, obj: dict, resource_version: str | None = None) -> dict:
        """Replace the object under `key`; a copy carrying its new resourceVersion.

        With `resource_version`, only if the stored object still has it: Conflict otherwise.
        Without, unconditionally (for retry loops only). Raises NotFound if the key is absent,
        InvalidResourceVersion for a malformed one.
        """
        if resource_version is None:
            condition = _present(key)
        else:
            condition = _unchanged_since(key, parse_resource_version(resource_version, key))
        written, current = self._put_if(key, obj, condition)
        if written is not None:
            return written
        if current is None:
            raise NotFound(key)
        raise Conflict(key, resource_version, current["metadata"]["resourceVersion"])

    def _put_if(self, key: str, obj: dict, condition: dict) -> tuple[dict | None, dict | None]:
        """(stored object, None) if `condition` held, else (None, current object or None)."""
        reply = self._gateway.txn([condition], [_put(key, obj)], [_read(key)], key)
        if reply.get("succeeded"):
            return with_resource_version(obj, header_revision(reply)), None
        current = _first_kv(reply, "response_range", "kvs")
        return None, (decode_object(current) if current else None)

    def guaranteed_update(self, key: str, mutate: Callable[[dict], dict],
                          retries: int = GUARANTEED_UPDATE_RETRIES) -> dict:
        """Read, apply `mutate` to a private copy, write back if unchanged meanwhile; on a
        conflict, again with the fresh object (read in the same transaction). The stored object.

        `mutate` may raise to give up. Unchanged output means no write. Raises NotFound, and
        Conflict after `retries` lost races.
        """
        current = self.get(key)
        for _ in range(max(retries, 0) + 1):
            version = current["metadata"]["resourceVersion"]
            desired = mutate(copy.deepcopy(current))
            if with_resource_version(desired, int(version)) == current:
                return current
            written, latest = self._put_if(key, desired, _unchanged_since(key, int(version)))
            if written is not None:
                return written
            if latest is None:
                raise NotFound(key)
            current = latest
        raise Conflict(key, version, current["metadata"]["resourceVersion"])

    def delete(self, key: str, resource_version: str | None = None) -> dict:
        """Delete the object; its last stored content, with resourceVersion = the delete's
        revision (as a DELETED watch event carries it).

        Raises NotFound, Conflict when `resource_version` no longer matches.
        """
        if resource_version is None:
            condition = _present(key)
        else:
            condition = _unchanged_since(key, parse_resource_version(resource_version, key))
        delete = {"request_delete_range": {"key": b64(key), "prev_kv": True}}
        reply = self._gateway.txn([condition], [delete], [_read(key)], key)
        if reply.get("succeeded"):
            previous = _first_kv(reply, "response_delete_range", "prev_kvs")
            if previous is None:  # deleted by a lease expiring between compare and delete
                raise NotFound(key)
            return decode_object(previous, header_revision(reply))
        current = _first_kv(reply, "response_range", "kvs")
        if current is None:
            raise NotFound(key)
        raise Conflict(key, resource_version, str(mod_revision(current)))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under `prefix` (which must end with "/"); how many went."""
        if not prefix.endswith("/") or prefix == "/":
            raise ValueError(f"refusing to delete under {prefix!r}: give a prefix ending in '/'")
        request = {"key": b64(prefix), "range_end": b64(prefix_end(prefix.encode()))}
        return int(self._gateway.call("kv/deleterange", request, prefix).get("deleted", 0))

    # -- revisions and watches -----------------------------------------------------------------

    def watch(self, prefix: str, revision: int) -> Watch:
        """Events under `prefix` after `revision` (e.g. a list's revision), on a new stream.

        Raises StoreUnavailable when the watch cannot be opened; the Watch itself raises Gone
        if `revision` was compacted.
        """
        if not isinstance(revision, int) or revision < 0:
            raise ValueError(f"watch revision must be a non-negative int, not {revision!r}")
        return Watch(self._gateway.pool, prefix, revision)

    def current_revision(self) -> int:
        """etcd's revision now (a linearizable read)."""
        return header_revision(self._gateway.call("kv/range", {"key": b64("\0"),
                                                               "count_only": True}))

    def compact(self, revision: int) -> None:
        """Forget history before `revision` (tests; etcd's own auto-compaction in production).

        Raises Gone if that revision was already compacted.
        """
        self._gateway.call("kv/compaction", {"revision": revision, "physical": True})

    # -- locks ---------------------------------------------------------------------------------

    def acquire_lock(self, name: str, holder: str, ttl: int) -> Lock | None:
        """The lock `name` for `holder` (unique per process) for `ttl` seconds unless refreshed,
        or None while anyone holds it. etcd raises a ttl under its minimum (2 s by default)."""
        key = lock_key(name)
        granted_at = time.monotonic()
        lease_id = self._gateway.grant(ttl)
        claim = {"request_put": {"key": b64(key), "value": b64(holder), "lease": lease_id}}
        try:
            reply = self._gateway.txn([_absent(key)], [claim], [], key)
        except StoreError:
            # The claim may or may not have landed: dropping the lease undoes it either way,
            # and if that fails too the lease expires at ttl.
            with suppress(StoreError):
                self._gateway.revoke(lease_id)
            raise
        if not reply.get("succeeded"):
            self._gateway.revoke(lease_id)
            return None
        return Lock(self._gateway, name, holder, key, lease_id, ttl, granted_at)

    def lock_holder(self, name: str) -> str | None:
        """Who holds the lock `name` now, or None."""
        key = lock_key(name)
        kvs = self._gateway.call("kv/range", {"key": b64(key)}, key).get("kvs")
        return unb64(kvs[0].get("value", "")).decode() if kvs else None

    # -- health and lifetime -------------------------------------------------------------------

    def healthy(self) -> bool:
        """True when etcd answers its health check within the timeout; never raises."""
        return self._gateway.healthy()

    def connections_opened(self) -> int:
        """TCP connections opened so far for unary calls (keep-alive check)."""
        return self._gateway.connections_opened()

    def close(self) -> None:
        self._gateway.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
