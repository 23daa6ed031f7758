"""ObjectMeta on create and update: what the server sets, keeps and refuses."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bosun.objects.defaults import apply_defaults
from bosun.objects.meta import format_time, generate_name, prepare_create, prepare_update
from bosun.objects.status import BadRequest, Conflict

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
POD = {"metadata": {"name": "web"},
       "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
RC = {"metadata": {"name": "web"},
      "spec": {"selector": {"app": "web"}, "template": {
          "metadata": {"labels": {"app": "web"}},
          "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def create(resource: str, obj: dict, namespace: str | None = "default", **kw) -> dict:
    return prepare_create(resource, apply_defaults(resource, obj), namespace, NOW, "uid-1", **kw)


@pytest.mark.parametrize(("moment", "text"), [
    (NOW, "2026-11-27T14:00:00Z"),
    (datetime(2026, 11, 27, 15, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1))),
     "2026-11-27T14:00:00Z"),
    (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
], ids=["utc", "offset-and-micros", "naive-is-utc"])
def test_format_time(moment, text):
    assert format_time(moment) == text


def test_create_sets_server_fields():
    meta = create("pods", POD)["metadata"]
    assert meta == {"name": "web", "namespace": "default", "uid": "uid-1",
                    "creationTimestamp": "2026-11-27T14:00:00Z", "generation": 1}


def test_create_replaces_what_the_client_claimed():
    claimed = copy.deepcopy(POD)
    claimed["metadata"].update(uid="mine", creationTimestamp="2000-01-01T00:00:00Z",
                               generation=7, deletionTimestamp="2000-01-01T00:00:00Z",
                               selfLink="/x", managedFields=[{"manager": "me"}])
    claimed["status"] = {"phase": "Running", "podIP": "10.244.1.5"}
    out = create("pods", claimed)
    assert out["metadata"] == {"name": "web", "namespace": "default", "uid": "uid-1",
                               "creationTimestamp": "2026-11-27T14:00:00Z", "generation": 1}
    assert out["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_create_does_not_touch_its_input():
    obj = apply_defaults("pods", POD)
    before = copy.deepcopy(obj)
    prepare_create("pods", obj, "default", NOW, "uid-1")
    assert obj == before


def test_generate_name_appends_five_characters():
    obj = {"metadata": {"generateName": "web-"}, "spec": POD["spec"]}
    assert create("pods", obj, suffix=lambda: "x7k2p")["metadata"]["name"] == "web-x7k2p"
    assert len(generate_name("a" * 80, "bcdfg")) == 63
    real = create("pods", obj)["metadata"]["name"]
    assert real.startswith("web-") and len(real) == 9


def test_an_explicit_name_wins_over_generate_name():
    obj = {"metadata": {"name": "web", "generateName": "x-"}, "spec": POD["spec"]}
    assert create("pods", obj)["metadata"]["name"] == "web"


def test_create_refuses_resource_version_and_foreign_namespace():
    with pytest.raises(BadRequest, match="resourceVersion should not be set"):
        create("pods", {**POD, "metadata": {"name": "web", "resourceVersion": "5"}})
    with pytest.raises(BadRequest, match="does not match the namespace sent on the request"):
        create("pods", {**POD, "metadata": {"name": "web", "namespace": "other"}})


def test_cluster_scoped_objects_lose_any_namespace_and_nodes_keep_status():
    node = {"metadata": {"name": "m1", "namespace": "x"},
            "status": {"capacity": {"cpu": "2"}, "conditions": [{"type": "Ready",
                                                                 "status": "True"}]}}
    out = create("nodes", node, namespace=None)
    assert "namespace" not in out["metadata"]
    assert "generation" not in out["metadata"]
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"}]


@pytest.mark.parametrize(("resource", "obj", "status"), [
    ("replicationcontrollers", {**RC, "status": {"replicas": 9}}, {"replicas": 0}),
    ("services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 1}]},
                  "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}},
     {"loadBalancer": {}}),
    ("namespaces", {"metadata": {"name": "n"}, "status": {"phase": "Terminating"}},
     {"phase": "Active"}),
], ids=["rc", "service", "namespace"])
def test_create_starts_status_afresh(resource, obj, status):
    namespace = "default" if resource != "namespaces" else None
    assert create(resource, obj, namespace)["status"] == status


def test_namespace_create_keeps_kubernetes_finalizer_and_labels_generated_name():
    obj = {"metadata": {"generateName": "team-"}, "spec": {"finalizers": ["example.com/x"]}}
    out = create("namespaces", obj, None, suffix=lambda: "bcdfg")
    assert out["spec"]["finalizers"] == ["example.com/x", "kubernetes"]
    assert out["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-bcdfg"}


# --- updates -----------------------------------------------------------------------------------

def test_update_keeps_server_fields_and_status_and_bumps_generation_on_spec_change():
    old = create("replicationcontrollers", RC)
    old["status"] = {"replicas": 2}
    old["metadata"]["resourceVersion"] = "7"
    new = apply_defaults("replicationcontrollers", copy.deepcopy(RC))
    new["spec"]["replicas"] = 5
    new["status"] = {"replicas": 99}
    new["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z"
    out = prepare_update("replicationcontrollers", old, new)
    assert out["metadata"]["uid"] == "uid-1"
    assert out["metadata"]["creationTimestamp"] == "2026-11-27T14:00:00Z"
    assert out["metadata"]["generation"] == 2
    assert out["status"] == {"replicas": 2}
    assert out["spec"]["replicas"] == 5


def test_update_without_spec_change_keeps_generation():
    old = create("replicationcontrollers", RC)
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"app": "web", "tier": "front"}
    assert prepare_update("replicationcontrollers", old, new)["metadata"]["generation"] == 1


def test_status_update_keeps_spec_and_takes_status():
    old = create("pods", POD)
    new = copy.deepcopy(old)
    new["spec"]["nodeName"] = "sneaky"
    new["status"] = {"phase": "Running", "podIP": "10.244.1.5"}
    out = prepare_update("pods/status", old, new)
    assert out["spec"] == old["spec"]
    assert out["status"] == {"phase": "Running", "podIP": "10.244.1.5"}
    assert out["metadata"]["generation"] == 1


def test_update_naming_another_uid_is_a_conflict():
    old = create("pods", POD)
    new = copy.deepcopy(old)
    new["metadata"]["uid"] = "other"
    with pytest.raises(Conflict) as err:
        prepare_update("pods", old, new)
    assert err.value.to_status()["message"] == (
        'Operation cannot be fulfilled on pods "web": Precondition failed: UID in precondition: '
        "other, UID in object meta: uid-1")


def test_update_fills_name_and_namespace_from_stored_object():
    old = create("pods", POD)
    new = copy.deepcopy(old)
    del new["metadata"]["name"], new["metadata"]["namespace"], new["metadata"]["uid"]
    out = prepare_update("pods", old, new)
    assert (out["metadata"]["name"], out["metadata"]["namespace"]) == ("web", "default")
    assert out["metadata"]["uid"] == "uid-1"


def test_namespace_update_keeps_finalizers_and_finalize_changes_only_them():
    old = create("namespaces", {"metadata": {"name": "team"}}, None)
    new = copy.deepcopy(old)
    new["spec"]["finalizers"] = []
    new["status"]["phase"] = "Terminating"
    assert prepare_update("namespaces", old, new)["spec"]["finalizers"] == ["kubernetes"]
    finalized = prepare_update("namespaces/finalize", old, new)
    assert finalized["spec"]["finalizers"] == []
    assert finalized["status"] == {"phase": "Active"}


def test_service_update_keeps_allocated_ip_and_node_ports():
    old = create("services", {"metadata": {"name": "s"}, "spec": {
        "type": "NodePort", "ports": [{"port": 80}, {"name": "b", "port": 81}]}})
    old["spec"].update(clusterIP="10.0.0.9", clusterIPs=["10.0.0.9"])
    old["spec"]["ports"][0]["nodePort"] = 30001
    new = apply_defaults("services", {"metadata": {"name": "s"}, "spec": {
        "type": "NodePort", "ports": [{"port": 80}, {"name": "b", "port": 81}]}})
    out = prepare_update("services", old, new)
    assert (out["spec"]["clusterIP"], out["spec"]["clusterIPs"]) == ("10.0.0.9", ["10.0.0.9"])
    assert out["spec"]["ports"][0]["nodePort"] == 30001
    assert "nodePort" not in out["spec"]["ports"][1]


def test_status_only_is_the_status_subresource():
    old = create("pods", POD)
    new = copy.deepcopy(old)
    new["spec"]["nodeName"] = "sneaky"
    new["status"] = {"phase": "Running"}
    assert prepare_update("pods", old, new, status_only=True) == prepare_update(
        "pods/status", old, new)


def test_generation_ignores_fields_that_defaults_fill():
    old = create("replicationcontrollers", RC)
    bare = copy.deepcopy(RC)
    assert prepare_update("replicationcontrollers", old, bare)["metadata"]["generation"] == 1
    bare["spec"]["replicas"] = 4
    assert prepare_update("replicationcontrollers", old, bare)["metadata"]["generation"] == 2
