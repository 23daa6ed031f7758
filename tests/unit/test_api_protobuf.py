"""The protobuf bodies kubectl's typed client sends (DeleteOptions, Eviction, Namespace), read
as JSON."""

from __future__ import annotations

import base64

import pytest

from bosun.api import negotiation, protobuf
from bosun.objects.status import BadRequest, UnsupportedMediaType


def field(number: int, value: int | bytes | str) -> bytes:
    """One protobuf field: a varint for ints, length-delimited for bytes and strings."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value % (1 << 64))
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def wrapped(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return protobuf.MAGIC + field(1, type_meta) + field(2, raw) + field(3, encoding) + \
        field(4, "")


# Captured from kubectl 1.32: `drain --disable-eviction`, and with --grace-period 3
# --dry-run=server.
KUBECTL_PLAIN = "azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxIAGgAiAA=="
KUBECTL_DRY_RUN = "azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxIHCAMqA0FsbBoAIgA="
# `kubectl create namespace captured`
KUBECTL_NAMESPACE = ("azhzAAoPCgJ2MRIJTmFtZXNwYWNlEiAKGAoIY2FwdHVyZWQSABoAIgAqADIAOABCABIAGgIKABoA"
                     "IgA=")


@pytest.mark.parametrize(("body", "expected"), [
    (base64.b64decode(KUBECTL_PLAIN), {"apiVersion": "v1", "kind": "DeleteOptions"}),
    (base64.b64decode(KUBECTL_DRY_RUN), {"apiVersion": "v1", "kind": "DeleteOptions",
                                         "gracePeriodSeconds": 3, "dryRun": ["All"]}),
    (wrapped("v1", "DeleteOptions", field(2, field(1, "u-1") + field(2, "42")) + field(3, 1)
             + field(4, "Foreground") + field(1, -1) + field(9, "later field")),
     {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": -1,
      "preconditions": {"uid": "u-1", "resourceVersion": "42"}, "orphanDependents": True,
      "propagationPolicy": "Foreground"}),
    (wrapped("policy/v1", "Eviction", field(1, field(1, "web-1") + field(3, "default")
                                             + field(13, b"\x0a\x01a")) + field(2, field(1, 0))),
     {"apiVersion": "policy/v1", "kind": "Eviction",
      "metadata": {"name": "web-1", "namespace": "default"},
      "deleteOptions": {"gracePeriodSeconds": 0}}),
    (base64.b64decode(KUBECTL_NAMESPACE),
     {"apiVersion": "v1", "kind": "Namespace", "spec": {},
      "metadata": {"name": "captured", "generateName": "", "namespace": "", "uid": "",
                   "resourceVersion": ""}}),
    (wrapped("v1", "Namespace", field(1, field(1, "team") + field(11, field(1, "env")
                                                                + field(2, "prod"))
                                      + field(11, field(1, "tier")) + field(12, field(2, "x")))
             + field(2, field(1, "kubernetes"))),
     {"apiVersion": "v1", "kind": "Namespace", "spec": {"finalizers": ["kubernetes"]},
      "metadata": {"name": "team", "labels": {"env": "prod", "tier": ""},
                   "annotations": {"": "x"}}}),
], ids=["kubectl-plain", "kubectl-dry-run", "every-option", "eviction", "kubectl-namespace",
        "namespace-maps"])
def test_decodes_what_kubectl_sends(body, expected):
    assert protobuf.decode(body) == expected
    assert negotiation.decode_object(body, protobuf.PROTOBUF + "; charset=binary") == expected


@pytest.mark.parametrize("body", [
    wrapped("v1", "Pod", field(1, field(1, "p"))),
    wrapped("v1", "DeleteOptions", b"", encoding="gzip"),
], ids=["other-kind", "encoded"])
def test_other_protobuf_bodies_stay_unsupported(body):
    with pytest.raises(UnsupportedMediaType):
        negotiation.decode_object(body, protobuf.PROTOBUF)


@pytest.mark.parametrize("body", [
    b'{"kind": "DeleteOptions"}',
    protobuf.MAGIC + b"\x0a\x7f",
    protobuf.MAGIC + b"\x0a\x02\x08",
    protobuf.MAGIC + b"\x0b",
    protobuf.MAGIC + b"\x08" + b"\xff" * 11,
    wrapped("v1", "DeleteOptions", field(4, b"\xff\xfe")),
    wrapped("v1", "DeleteOptions", field(4, 7)),
    wrapped("v1", "DeleteOptions", field(3, b"yes")),
], ids=["json", "truncated", "varint-cut", "wire-type-3", "long-varint", "not-utf8",
        "number-for-string", "bytes-for-bool"])
def test_malformed_bodies_are_bad_requests(body):
    with pytest.raises(BadRequest):
        protobuf.decode(body)
