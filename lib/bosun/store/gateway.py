"""The one place Bosun calls etcd3gw: unary calls to etcd's JSON gateway (/v3/kv/..., leases)
over one keep-alive connection pool, with every failure turned into a bosun.store error.

Thread-safe: requests' pool hands each concurrent call its own kept-open connection.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import etcd3gw
import requests
from etcd3gw import exceptions as gwexc
from requests.adapters import HTTPAdapter

from bosun.store.errors import StoreError, error_from_reply

API_PATH = "/v3/"  # etcd >= 3.4; fixed so that no call waits on version discovery
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

# Failures on the way or 5xx: no answer from etcd about the request itself.
_SERVER_SIDE = (gwexc.ConnectionFailedError, gwexc.ConnectionTimeoutError,
                gwexc.InternalServerError)


class _KeepAliveAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["socket_options"] = SOCKET_OPTIONS
        super().init_poolmanager(*args, **kwargs)


def new_session(pool_size: int = POOL_SIZE) -> requests.Session:
    """A session that keeps connections, sets TCP options, and ignores proxy settings and
    ~/.netrc (read on every request otherwise, and never meant for etcd)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _KeepAliveAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class Gateway:
    """Unary calls to one etcd endpoint; raises only StoreError subclasses."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        url = urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"etcd endpoint must be http(s)://host:port, not {endpoint!r}")
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.session = new_session()
        self._client = etcd3gw.client(
            host=url.hostname, port=url.port or 2379, protocol=url.scheme, timeout=timeout,
            api_path=API_PATH, session=self.session)

    def url(self, path: str) -> str:
        return self._client.get_url(path)

    def call(self, path: str, payload: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """POST `payload` to /v3/<path>; the decoded reply.

        Raises StoreUnavailable (refused, timed out, 5xx, no leader), Gone (compacted),
        NotFound (lease), Rejected (anything else etcd refuses).
        """
        try:
            reply = self._client.post(self.url(path), json=payload)
        except gwexc.Etcd3Exception as exc:
            raise translate(exc, key) from exc
        except (requests.RequestException, ValueError) as exc:
            # A reply cut short or not JSON: the connection broke under it.
            raise error_from_reply(str(exc), server_error=True, key=key) from exc
        if "error" in reply:
            # Streaming endpoints (lease/keepalive) report failures inside a 200 reply.
            raise error_from_reply(json.dumps(reply), server_error=False, key=key)
        return reply

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
            reply = self.session.get(self.endpoint + "/health", timeout=self.timeout)
            return reply.status_code == 200 and reply.json().get("health") == "true"
        except (requests.RequestException, ValueError):
            return False

    def connections_opened(self) -> int:
        """TCP connections opened so far by unary calls (keep-alive check for tests, bench)."""
        pools = self.session.get_adapter(self.endpoint).poolmanager.pools
        return sum(pools[key].num_connections for key in pools.keys())

    def close(self) -> None:
        self.session.close()


def translate(exc: gwexc.Etcd3Exception, key: str | None = None) -> StoreError:
    """The StoreError for an etcd3gw exception (the reply body is its detail_text)."""
    return error_from_reply(exc.detail_text, isinstance(exc, _SERVER_SIDE), key)
