"""Locks and leader election on etcd leases: the lock is a key that exists only while its
holder keeps the lease alive, so a holder that dies frees it within the TTL.

A holder refreshes about every ttl/3 and stops acting as soon as refresh() raises or `held`
turns false (the lease may be gone while etcd is out of reach).
"""

from __future__ import annotations

import time
from contextlib import suppress

from bosun.store.codec import b64
from bosun.store.errors import LockLost, NotFound, StoreError
from bosun.store.gateway import Gateway


class Lock:
    """A lock held by `holder`; release() or leave the `with` block to free it."""

    def __init__(self, gateway: Gateway, name: str, holder: str, key: str, lease_id: int,
                 ttl: int, granted_at: float) -> None:
        self.name = name
        self.holder = holder
        self.key = key
        self.lease_id = lease_id
        self.ttl = ttl
        self._gateway = gateway
        self._deadline = granted_at + ttl
        self._released = False

    @property
    def held(self) -> bool:
        """True until release(), and until the TTL has run out since the last good refresh."""
        return not self._released and time.monotonic() < self._deadline

    def refresh(self) -> None:
        """Renew the lease and check that the lock key is still ours.

        Raises LockLost when the lease expired or the key belongs to another lease,
        StoreUnavailable when etcd cannot be reached (the lock may still be ours: see `held`).
        """
        if self._released:
            raise LockLost(self.key)
        started = time.monotonic()
        ttl = self._gateway.keepalive(self.lease_id)
        if ttl <= 0:
            self._lost()
        kvs = self._gateway.call("kv/range", {"key": b64(self.key)}, self.key).get("kvs", [])
        if not kvs or int(kvs[0].get("lease", 0)) != self.lease_id:
            self._lost()
        self._deadline = started + ttl

    def _lost(self) -> None:
        self._released = True
        # Our key is gone already; the lease only needs to go too, and expires if this fails.
        with suppress(StoreError):
            self._gateway.revoke(self.lease_id)
        raise LockLost(self.key)

    def release(self) -> None:
        """Free the lock (revoking the lease deletes the key). Harmless when already lost.

        Raises StoreUnavailable if etcd cannot be reached: the lock then frees itself at TTL.
        """
        if self._released:
            return
        self._released = True
        with suppress(NotFound):  # the lease expired already, and took the key with it
            self._gateway.revoke(self.lease_id)

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lock({self.key!r}, holder={self.holder!r}, lease={self.lease_id:x})"
