"""drain's sorting of a node's pods (kubectl's filters) and its --timeout."""

from __future__ import annotations

import pytest

from bosun.ctl.drain import (
    LOCAL_STORAGE_FATAL,
    LOCAL_STORAGE_WARNING,
    UNMANAGED_FATAL,
    UNMANAGED_WARNING,
    parse_timeout,
    plan,
)
from bosun.ctl.session import CtlError

RC_REF = {"apiVersion": "v1", "kind": "ReplicationController", "name": "web", "uid": "u",
          "controller": True}


def pod(name: str, owned: bool = True, scratch: bool = False, phase: str = "Running",
        owner: dict | None = None) -> dict:
    refs = [owner or RC_REF] if owned else []
    volumes = [{"name": "s", "emptyDir": {}}] if scratch else [{"name": "h", "hostPath": {}}]
    return {"metadata": {"name": name, "namespace": "default", "ownerReferences": refs},
            "spec": {"volumes": volumes}, "status": {"phase": phase}}


@pytest.mark.parametrize(("pods", "force", "data", "evicted", "warnings", "errors"), [
    ([pod("a"), pod("b")], False, False, ["a", "b"], {}, {}),
    ([pod("a"), pod("bare", owned=False)], False, False, ["a"], {},
     {UNMANAGED_FATAL: ["default/bare"]}),
    ([pod("bare", owned=False)], True, False, ["bare"],
     {UNMANAGED_WARNING: ["default/bare"]}, {}),
    ([pod("s", scratch=True)], True, False, [], {}, {LOCAL_STORAGE_FATAL: ["default/s"]}),
    ([pod("s", scratch=True)], False, True, ["s"], {LOCAL_STORAGE_WARNING: ["default/s"]}, {}),
    ([pod("both", owned=False, scratch=True)], True, False, [],
     {UNMANAGED_WARNING: ["default/both"]}, {LOCAL_STORAGE_FATAL: ["default/both"]}),
    ([pod("done", owned=False, scratch=True, phase="Succeeded")], False, False, ["done"], {},
     {}),
    ([pod("ref", owner={**RC_REF, "controller": False})], False, False, [], {},
     {UNMANAGED_FATAL: ["default/ref"]}),
], ids=["managed", "unmanaged-refused", "unmanaged-forced", "emptydir-refused",
        "emptydir-allowed", "forced-but-emptydir", "finished-always", "owner-not-controller"])
def test_plan_sorts_pods_as_kubectl(pods, force, data, evicted, warnings, errors):
    decided = plan(pods, force, data)
    assert [p["metadata"]["name"] for p in decided.evict] == evicted
    assert decided.warnings == warnings
    assert decided.errors == errors


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("5m", 300), ("1h", 3600), ("2.5s", 2.5), ("20", 20), ("0", float("inf")),
    ("0s", float("inf")),
])
def test_timeout(text, seconds):
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5s", "5d", "1m30s"])
def test_bad_timeout(text):
    with pytest.raises(CtlError):
        parse_timeout(text)
