"""A replication controller's Scale, and Bindings of pods to nodes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bosun.objects.status import Conflict
from bosun.objects.subresources import apply_binding, apply_scale, scale_of, selector_string

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
RC = {"apiVersion": "v1", "kind": "ReplicationController",
      "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "12",
                   "creationTimestamp": "2026-11-27T14:00:00Z", "labels": {"app": "web"}},
      "spec": {"replicas": 3, "selector": {"tier": "fe", "app": "web"}},
      "status": {"replicas": 2}}
POD = {"metadata": {"name": "web", "namespace": "default", "uid": "p1"},
       "spec": {"containers": [{"name": "web", "image": "nginx"}]},
       "status": {"phase": "Pending"}}


def test_scale_of_replication_controller():
    assert scale_of(RC) == {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "12",
                     "creationTimestamp": "2026-11-27T14:00:00Z"},
        "spec": {"replicas": 3}, "status": {"replicas": 2, "selector": "app=web,tier=fe"}}


def test_apply_scale_sets_replicas_only():
    out = apply_scale(RC, {"spec": {"replicas": 5}})
    assert out["spec"] == {"replicas": 5, "selector": {"tier": "fe", "app": "web"}}
    assert RC["spec"]["replicas"] == 3


@pytest.mark.parametrize("meta", [{"uid": "other"}, {"resourceVersion": "11"}],
                         ids=["uid", "stale"])
def test_apply_scale_conflicts(meta):
    with pytest.raises(Conflict):
        apply_scale(RC, {"metadata": meta, "spec": {"replicas": 5}})


def test_binding_assigns_node_and_marks_scheduled():
    out = apply_binding(POD, {"metadata": {"name": "web", "annotations": {"a": "b"}},
                              "target": {"kind": "Node", "name": "minion-2"}}, NOW)
    assert out["spec"]["nodeName"] == "minion-2"
    assert out["metadata"]["annotations"] == {"a": "b"}
    assert out["status"]["conditions"] == [
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
         "lastTransitionTime": "2026-11-27T14:00:00Z"}]
    assert "nodeName" not in POD["spec"]


def test_binding_an_assigned_pod_is_the_kubernetes_conflict():
    bound = apply_binding(POD, {"target": {"name": "minion-1"}}, NOW)
    with pytest.raises(Conflict) as err:
        apply_binding(bound, {"target": {"name": "minion-2"}}, NOW)
    assert err.value.to_status()["message"] == (
        'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to '
        'node "minion-1"')


def test_selector_string():
    assert selector_string({"b": "2", "a": "1"}) == "a=1,b=2"
    assert selector_string(None) == ""
