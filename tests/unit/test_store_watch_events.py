"""Watch messages (captured from etcd 3.4.23's /v3/watch stream) to Kubernetes watch events."""

from __future__ import annotations

import base64
import json

import pytest

from bosun.store.codec import b64
from bosun.store.errors import Gone, StoreUnavailable
from bosun.store.watch import ADDED, DELETED, MODIFIED, check_message, event_from_etcd

KEY = b64("/registry/pods/default/a")
HEADER = {"cluster_id": "15875391935852295136", "member_id": "7383792418829112008",
          "revision": "6", "raft_term": "2"}


def _value(obj: dict) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def _kv(create: int, mod: int, obj: dict | None) -> dict:
    kv = {"key": KEY, "mod_revision": str(mod)}
    if obj is not None:
        kv.update(create_revision=str(create), version="1", value=_value(obj))
    return kv


def test_put_of_a_new_key_is_added():
    event = event_from_etcd({"kv": _kv(4, 4, {"metadata": {"name": "a"}})})
    assert (event.type, event.revision, event.key) == (ADDED, 4, "/registry/pods/default/a")
    assert event.object == {"metadata": {"name": "a", "resourceVersion": "4"}}


def test_put_of_an_existing_key_is_modified():
    event = event_from_etcd({"kv": _kv(4, 5, {"n": 2}), "prev_kv": _kv(4, 4, {"n": 1})})
    assert (event.type, event.object) == (MODIFIED, {"n": 2, "metadata": {"resourceVersion": "5"}})


def test_delete_carries_the_last_value_at_the_delete_revision():
    # etcd writes only key and mod_revision for a deleted key; the value is in prev_kv.
    event = event_from_etcd({"type": "DELETE", "kv": _kv(0, 6, None),
                             "prev_kv": _kv(4, 5, {"n": 2, "metadata": {"name": "a"}})})
    assert (event.type, event.revision) == (DELETED, 6)
    assert event.object == {"n": 2, "metadata": {"name": "a", "resourceVersion": "6"}}


def test_delete_without_prev_kv_still_names_the_object():
    event = event_from_etcd({"type": "DELETE", "kv": _kv(0, 6, None)})
    assert event.object == {"metadata": {"name": "a", "namespace": "default",
                                         "resourceVersion": "6"}}


def test_created_and_progress_messages_pass():
    created = {"result": {"header": HEADER, "created": True}}
    assert check_message(created, "/registry/")["created"] is True
    progress = {"result": {"header": HEADER}}
    assert check_message(progress, "/registry/") == {"header": HEADER}


def test_cancel_for_compaction_is_gone():
    message = {"result": {"header": HEADER, "canceled": True, "compact_revision": "4"}}
    with pytest.raises(Gone) as caught:
        check_message(message, "/registry/")
    assert caught.value.compact_revision == 4


@pytest.mark.parametrize("message", [
    {"result": {"header": HEADER, "canceled": True, "cancel_reason": "server shutting down"}},
    {"error": {"grpc_code": 14, "http_code": 503, "message": "transport is closing",
               "http_status": "Service Unavailable"}},
], ids=["cancelled-otherwise", "stream-error"])
def test_other_ends_of_the_stream_are_temporary(message):
    with pytest.raises(StoreUnavailable):
        check_message(message, "/registry/")
