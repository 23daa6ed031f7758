"""The few protobuf request bodies kubectl's typed client sends, read as their JSON shape.

kubectl sends DeleteOptions as protobuf when it deletes through its typed client (`kubectl drain
--disable-eviction`, and drain on servers without pods/eviction), and a Namespace for `kubectl
create namespace`. Kubernetes wraps a protobuf body in the magic `k8s\\0` and a runtime.Unknown
(typeMeta, raw). Only those kinds are read; any other protobuf body stays a 415. Pure: bytes in,
dict out.
"""

from __future__ import annotations

from bosun.objects.status import BadRequest, UnsupportedMediaType

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"

# field number -> (JSON name, kind); a kind is a scalar type name or a nested message's fields.
Message = dict[int, tuple[str, object]]
TYPE_META: Message = {1: ("apiVersion", "string"), 2: ("kind", "string")}
UNKNOWN: Message = {1: ("typeMeta", TYPE_META), 2: ("raw", "bytes"),
                    3: ("contentEncoding", "string"), 4: ("contentType", "string")}
PRECONDITIONS: Message = {1: ("uid", "string"), 2: ("resourceVersion", "string")}
DELETE_OPTIONS: Message = {
    1: ("gracePeriodSeconds", "int64"), 2: ("preconditions", PRECONDITIONS),
    3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"),
    5: ("dryRun", "repeated string"),
    6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool"),
}
# What an Eviction's metadata and `kubectl create namespace NAME [--dry-run]` send; the server
# fills the rest (uid, creationTimestamp, ...), as it does for a JSON body.
OBJECT_META: Message = {1: ("name", "string"), 2: ("generateName", "string"),
                        3: ("namespace", "string"), 5: ("uid", "string"),
                        6: ("resourceVersion", "string"), 11: ("labels", "map"),
                        12: ("annotations", "map"), 14: ("finalizers", "repeated string")}
EVICTION: Message = {1: ("metadata", OBJECT_META), 2: ("deleteOptions", DELETE_OPTIONS)}
NAMESPACE: Message = {1: ("metadata", OBJECT_META),
                      2: ("spec", {1: ("finalizers", "repeated string")})}
KINDS: dict[tuple[str, str], Message] = {
    ("v1", "DeleteOptions"): DELETE_OPTIONS, ("meta.k8s.io/v1", "DeleteOptions"): DELETE_OPTIONS,
    ("policy/v1", "Eviction"): EVICTION, ("v1", "Namespace"): NAMESPACE,
}
_MAP_ENTRY: Message = {1: ("key", "string"), 2: ("value", "string")}


def decode(body: bytes) -> dict:
    """A `k8s\\0`-wrapped DeleteOptions, Eviction or Namespace as JSON would carry it.

    Raises UnsupportedMediaType for other kinds, BadRequest for malformed bytes."""
    if not body.startswith(MAGIC):
        raise BadRequest("the protobuf request body does not start with Kubernetes' magic")
    envelope = _message(body[len(MAGIC):], UNKNOWN)
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    fields = KINDS.get((api_version, kind))
    if fields is None or envelope.get("contentEncoding"):
        raise UnsupportedMediaType(["application/json", "application/yaml"])
    return {"apiVersion": api_version, "kind": kind,
            **_message(envelope.get("raw", b""), fields)}


def _message(data: bytes, fields: Message) -> dict:
    out: dict = {}
    for number, value in _fields(data):
        if number not in fields:
            continue  # a field Bosun does not read, as protobuf readers skip unknown fields
        name, kind = fields[number]
        if isinstance(kind, dict):
            out[name] = _message(_bytes(value, name), kind)
        elif kind == "repeated string":
            out.setdefault(name, []).append(_text(value, name))
        elif kind == "map":  # map<string, string>: one entry message per pair
            entry = _message(_bytes(value, name), _MAP_ENTRY)
            out.setdefault(name, {})[entry.get("key", "")] = entry.get("value", "")
        elif kind == "string":
            out[name] = _text(value, name)
        elif kind == "bytes":
            out[name] = _bytes(value, name)
        elif kind == "bool":
            out[name] = bool(_int(value, name))
        else:  # int64, two's complement in a varint
            number_value = _int(value, name)
            out[name] = number_value - (1 << 64) if number_value >= 1 << 63 else number_value
    return out


def _fields(data: bytes):
    """(field number, int or bytes) for every field of one message."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise BadRequest("the protobuf request body is truncated")
            value, at = data[at:at + size], at + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, at = int.from_bytes(data[at:at + width], "little"), at + width
        else:
            raise BadRequest(f"the protobuf request body has wire type {wire}, unknown")
        yield number, value


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data) and shift < 70:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at
    raise BadRequest("the protobuf request body has a malformed varint")


def _bytes(value: int | bytes, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise BadRequest(f"the protobuf field {name} is not length-delimited")
    return value


def _text(value: int | bytes, name: str) -> str:
    try:
        return _bytes(value, name).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"the protobuf field {name} is not UTF-8") from None


def _int(value: int | bytes, name: str) -> int:
    if isinstance(value, bytes):
        raise BadRequest(f"the protobuf field {name} is not a number")
    return value
