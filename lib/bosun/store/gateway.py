"""Unary calls to etcd's JSON gateway (/v3/kv/..., leases): a JSON POST on a kept-open
connection from the pool, the reply decoded once, and every failure turned into a bosun.store
error.

Thread-safe: the pool hands each concurrent call its own connection.
"""

from __future__ import annotations

import json
from typing import Any

from bosun.store.errors import StoreError, error_from_reply
from bosun.store.pool import TRANSPORT_ERRORS, Pool

API_PATH = "/v3/"  # etcd >= 3.4; fixed so that no call waits on version discovery


def server_side(status: int) -> bool:
    """Whether an HTTP status says the call got no answer from etcd itself (5xx, or a timeout
    on the way): without a gRPC code in the body, it is worth retrying."""
    return status >= 500 or status == 408


def transport_error(exc: BaseException, endpoint: str, key: str | None = None) -> StoreError:
    """The StoreError (StoreUnavailable) for a refused, timed-out or cut-off exchange."""
    return error_from_reply(f"{type(exc).__name__} from {endpoint}: {exc}", server_error=True,
                            key=key)


class Gateway:
    """Unary calls to one etcd endpoint; raises only StoreError subclasses."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.pool = Pool(self.endpoint, timeout)

    def call(self, path: str, payload: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """POST `payload` to /v3/<path>; the decoded reply.

        Raises StoreUnavailable (refused, timed out, cut off, 5xx, no leader), Gone (compacted),
        NotFound (lease), Rejected (anything else etcd refuses).
        """
        body = json.dumps(payload, separators=(",", ":")).encode()
        try:
            reply = self.pool.request("POST", API_PATH + path, body)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, self.endpoint, key) from exc
        if reply.status != 200:
            raise error_from_reply(reply.text(), server_side(reply.status), key)
        try:
            decoded = json.loads(reply.body)
        except ValueError as exc:
            # A 200 whose body is not JSON: something between us and etcd broke it.
            raise error_from_reply(f"reply is not JSON: {exc}", server_error=True,
                                   key=key) from exc
        if not isinstance(decoded, dict):
            raise error_from_reply(f"reply is not a JSON object: {reply.text()[:200]}",
                                   server_error=True, key=key)
        if "error" in decoded:
            # Streaming endpoints (lease/keepalive) report failures inside a 200 reply.
            raise error_from_reply(reply.text(), server_error=False, key=key)
        return decoded

    def txn(self, compare: list[dict], success: list[dict], failure: list[dict],
            key: str | None = None) -> dict[str, Any]:
        return self.call("kv/txn", {"compare": compare, "success": success, "failure": failure},
                         key)

    def grant(self, ttl: int) -> int:
        """A new lease of `ttl` seconds (etcd raises small ones to its minimum); its id."""
        return int(self.call("lease/grant", {"TTL": ttl, "ID": 0})["ID"])

    def keepalive(self, lease_id: int) -> int:
        """Renew a lease; its new TTL, or 0 when it has already expired."""
        reply = self.call("lease/keepalive", {"ID": lease_id})
        return int(reply.get("result", {}).get("TTL", 0))

    def revoke(self, lease_id: int) -> None:
        """Drop a lease and every key attached to it. Raises NotFound if it already expired."""
        self.call("kv/lease/revoke", {"ID": lease_id})

    def healthy(self) -> bool:
        """etcd's own /health: a leader, no alarm, and a read through raft within the timeout."""
        try:
            reply = self.pool.request("GET", "/health")
            return reply.status == 200 and json.loads(reply.body).get("health") == "true"
        except (*TRANSPORT_ERRORS, ValueError, AttributeError):
            return False

    def connections_opened(self) -> int:
        """TCP connections opened so far by unary calls (keep-alive check for tests, bench)."""
        return self.pool.opened

    def close(self) -> None:
        """Close the kept-open connections (a later call opens a new one)."""
        self.pool.close()
