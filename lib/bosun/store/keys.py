"""Where objects live in etcd: `/registry/<resource>/<namespace>/<name>`, or
`/registry/<resource>/<name>` for cluster-scoped kinds, and `/bosun/locks/<name>` for locks.

Pure helpers; every prefix ends with "/" so that namespace `a` never matches namespace `ab`.
"""

from __future__ import annotations

REGISTRY = "/registry/"
LOCKS = "/bosun/locks/"


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"invalid {what} for an etcd key: {value!r}")
    return value


def object_key(resource: str, name: str, namespace: str | None = None) -> str:
    """The key of one object; `namespace=None` for cluster-scoped kinds (nodes, namespaces)."""
    return resource_prefix(resource, namespace) + _segment(name, "name")


def resource_prefix(resource: str, namespace: str | None = None) -> str:
    """The prefix of every object of a resource, in one namespace or (None) in all of them."""
    prefix = REGISTRY + _segment(resource, "resource") + "/"
    if namespace is not None:
        prefix += _segment(namespace, "namespace") + "/"
    return prefix


def lock_key(name: str) -> str:
    return LOCKS + _segment(name, "lock name")


def split_key(key: str) -> tuple[str, str | None, str]:
    """(resource, namespace or None, name) of an object key.

    Raises ValueError for a key outside /registry/ or of the wrong depth.
    """
    if not key.startswith(REGISTRY):
        raise ValueError(f"not a registry key: {key!r}")
    parts = key[len(REGISTRY):].split("/")
    if len(parts) == 2 and all(parts):
        return parts[0], None, parts[1]
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    raise ValueError(f"not an object key: {key!r}")


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with `prefix` (etcd's range_end).

    An empty result (all bytes 0xff, or an empty prefix) is "\\0": to the end of the keyspace.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return b"\0"
    return stripped[:-1] + bytes([stripped[-1] + 1])
