"""How objects travel to and from etcd's JSON gateway: keys and values in base64, values as
compact JSON without `metadata.resourceVersion`, which is etcd's mod_revision set on the way out.

Pure functions; the store and the watch both decode etcd's key-value records through here.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from bosun.store.errors import InvalidResourceVersion, Rejected


def b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def unb64(data: str) -> bytes:
    return base64.b64decode(data, validate=True)


def encode_object(obj: dict) -> str:
    """The base64 value stored for `obj`: its JSON without metadata.resourceVersion."""
    if not isinstance(obj, dict):
        raise TypeError(f"the store keeps JSON objects, not {type(obj).__name__}")
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and "resourceVersion" in metadata:
        obj = dict(obj, metadata={k: v for k, v in metadata.items() if k != "resourceVersion"})
    return b64(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def with_resource_version(obj: dict, revision: int) -> dict:
    """A copy of `obj` (new top level and metadata) whose resourceVersion is `revision`."""
    metadata = obj.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata["resourceVersion"] = str(revision)
    return dict(obj, metadata=metadata)


def decode_object(kv: dict[str, Any], revision: int | None = None) -> dict:
    """The object in an etcd key-value record, with resourceVersion = `revision` or, by default,
    the record's mod_revision.

    Raises Rejected when the stored value is not a JSON object.
    """
    key = decode_key(kv)
    try:
        obj = json.loads(unb64(kv.get("value", "")))
    except (ValueError, binascii.Error) as exc:
        raise Rejected(f"stored value is not JSON: {exc}", key) from exc
    if not isinstance(obj, dict):
        raise Rejected("stored value is not a JSON object", key)
    return with_resource_version(obj, revision if revision is not None else mod_revision(kv))


def decode_key(kv: dict[str, Any]) -> str:
    return unb64(kv["key"]).decode()


# The gateway writes int64 fields as strings and leaves out fields whose value is zero.
def mod_revision(kv: dict[str, Any]) -> int:
    return int(kv.get("mod_revision", 0))


def create_revision(kv: dict[str, Any]) -> int:
    return int(kv.get("create_revision", 0))


def header_revision(reply: dict[str, Any]) -> int:
    return int(reply.get("header", {}).get("revision", 0))


def parse_resource_version(value: object, key: str | None = None) -> int:
    """The etcd revision a resourceVersion string names.

    Raises InvalidResourceVersion unless it is a positive decimal integer.
    """
    if isinstance(value, str) and value.isdigit() and value.isascii() and int(value) > 0:
        return int(value)
    raise InvalidResourceVersion(key, value)
