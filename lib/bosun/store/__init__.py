"""The only door to etcd: Kubernetes objects as JSON under /registry/..., read, written with
optimistic concurrency (resourceVersion = etcd mod_revision), watched, and leases for locks.

Nothing else in Bosun talks to etcd. Its HTTP transport is bosun.store.pool (the standard
library's http.client over kept-open connections).
"""

from bosun.store.errors import (
    AlreadyExists,
    Conflict,
    Gone,
    InvalidResourceVersion,
    LockLost,
    NotFound,
    Rejected,
    StoreError,
    StoreUnavailable,
)
from bosun.store.keys import lock_key, object_key, resource_prefix, split_key
from bosun.store.lock import Lock
from bosun.store.store import Store
from bosun.store.watch import ADDED, DELETED, MODIFIED, Watch, WatchEvent

__all__ = [
    "ADDED", "DELETED", "MODIFIED", "AlreadyExists", "Conflict", "Gone", "InvalidResourceVersion",
    "Lock", "LockLost", "NotFound", "Rejected", "Store", "StoreError", "StoreUnavailable", "Watch",
    "WatchEvent", "lock_key", "object_key", "resource_prefix", "split_key",
]
