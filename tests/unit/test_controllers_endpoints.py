"""The endpoints controller's plan: which pods, which ports, how subsets pack, when to write.

Expected objects are written out in full, as Kubernetes 1.32's endpoints controller builds them
(targetRef without resourceVersion, no trigger-time annotation, Bosun's readable order).
"""

from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.client import ApiClient

from bosun.controllers.endpoints import (
    HEADLESS_LABEL,
    MAX_CAPACITY,
    OVER_CAPACITY_ANNOTATION,
    TRIGGER_TIME_ANNOTATION,
    DeleteEndpoints,
    WriteEndpoints,
    endpoints_for,
    plan,
)
from bosun.objects.defaults import apply_defaults
from bosun.objects.validation import validate
from tests.unit.test_controllers_world import NS, pod, port, service, uid_of

HTTP = {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
METRICS = {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"}


def address(name: str, ip: str, node: str = "minion-1", **extra) -> dict:
    return {"ip": ip, "nodeName": node, **extra,
            "targetRef": {"kind": "Pod", "namespace": NS, "name": name,
                          "uid": uid_of(f"pod/{NS}/{name}")}}


def web(name: str, ip: str, **kwargs) -> dict:
    return pod(name, ip=ip, ports=[port("http", 8080)], **kwargs)


def subsets(svc: dict, pods: list[dict]) -> list[dict]:
    action = plan(svc, pods, None)
    assert isinstance(action, WriteEndpoints)
    return action.endpoints.get("subsets", [])


# -- which pods ------------------------------------------------------------------------------------

def test_ready_and_not_ready_pods():
    svc = service(ports=[HTTP])
    pods = [web("b", "10.244.1.7", ready=False), web("a", "10.244.1.6")]
    assert subsets(svc, pods) == [{
        "addresses": [address("a", "10.244.1.6")],
        "notReadyAddresses": [address("b", "10.244.1.7")],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]


LEFT_OUT = [
    pytest.param(web("x", None), id="no-ip-yet"),
    pytest.param(web("x", "10.244.1.9", phase="Succeeded", ready=False), id="succeeded"),
    pytest.param(web("x", "10.244.1.9", phase="Failed", ready=False), id="failed"),
    pytest.param(web("x", "10.244.1.9", deleting=True), id="being-deleted"),
    pytest.param(web("x", "10.244.1.9", labels={"app": "db"}), id="selector-does-not-match"),
    pytest.param(web("x", "10.244.1.9", namespace="prod"), id="other-namespace"),
]


@pytest.mark.parametrize("other", LEFT_OUT)
def test_pods_left_out(other):
    svc = service(ports=[HTTP])
    assert subsets(svc, [web("a", "10.244.1.6"), other]) == subsets(svc, [web("a", "10.244.1.6")])
    assert "10.244.1.9" not in json.dumps(subsets(svc, [web("a", "10.244.1.6"), other]))


def test_publish_not_ready_addresses_counts_everything_ready_even_terminating():
    svc = service(ports=[HTTP], publish_not_ready=True)
    pods = [web("a", "10.244.1.6", ready=False), web("b", "10.244.1.7", deleting=True)]
    assert subsets(svc, pods) == [{
        "addresses": [address("a", "10.244.1.6"), address("b", "10.244.1.7")],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]


def test_hostname_only_when_the_subdomain_names_the_service():
    svc = service(ports=[METRICS])
    pods = [pod("a", ip="10.244.1.6", hostname="a0", subdomain="web"),
            pod("b", ip="10.244.1.7", hostname="b0", subdomain="other")]
    assert subsets(svc, pods)[0]["addresses"] == [address("a", "10.244.1.6", hostname="a0"),
                                                  address("b", "10.244.1.7")]


def test_ip_of_the_service_family():
    svc = service(ports=[METRICS])
    dual = pod("a", ip="fd00::6")
    dual["status"]["podIPs"] = [{"ip": "fd00::6"}, {"ip": "10.244.1.6"}]
    v6_only = pod("b", ip="fd00::7")
    assert subsets(svc, [dual, v6_only])[0]["addresses"] == [address("a", "10.244.1.6")]


# -- ports -----------------------------------------------------------------------------------------

def test_named_ports_resolve_per_pod():
    svc = service(ports=[HTTP])
    pods = [pod("a", ip="10.244.1.6", ports=[port("http", 8080)]),
            pod("b", ip="10.244.1.7", ports=[port("http", 8081)])]
    assert subsets(svc, pods) == [
        {"addresses": [address("a", "10.244.1.6")],
         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
        {"addresses": [address("b", "10.244.1.7")],
         "ports": [{"name": "http", "port": 8081, "protocol": "TCP"}]}]


def test_a_pod_without_the_named_port_is_left_out_for_that_port_only():
    svc = service(ports=[HTTP, METRICS])
    pods = [pod("a", ip="10.244.1.6", ports=[port("http", 8080)]),
            pod("b", ip="10.244.1.7", ports=[port("http", 8080, protocol="UDP")])]
    assert subsets(svc, pods) == [
        {"addresses": [address("a", "10.244.1.6")],
         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
        {"addresses": [address("a", "10.244.1.6"), address("b", "10.244.1.7")],
         "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"}]}]


def test_ports_reaching_the_same_addresses_share_a_subset():
    svc = service(ports=[METRICS, HTTP, {"name": "dns", "port": 53, "targetPort": 5353,
                                         "protocol": "UDP", "appProtocol": "dns"}])
    pods = [web("b", "10.244.1.7", ready=False), web("a", "10.244.1.6")]
    assert subsets(svc, pods) == [{
        "addresses": [address("a", "10.244.1.6")],
        "notReadyAddresses": [address("b", "10.244.1.7")],
        "ports": [{"name": "dns", "port": 5353, "protocol": "UDP", "appProtocol": "dns"},
                  {"name": "http", "port": 8080, "protocol": "TCP"},
                  {"name": "metrics", "port": 9100, "protocol": "TCP"}]}]


def test_named_port_of_a_sidecar_init_container():
    svc = service(ports=[HTTP])
    sidecar = pod("a", ip="10.244.1.6")
    sidecar["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy",
                                          "restartPolicy": "Always",
                                          "ports": [port("http", 15001)]}]
    assert subsets(svc, [sidecar])[0]["ports"] == [{"name": "http", "port": 15001,
                                                    "protocol": "TCP"}]


def test_no_pods_means_no_subsets():
    action = plan(service(), [], None)
    assert isinstance(action, WriteEndpoints) and "subsets" not in action.endpoints


# -- headless and selectorless ---------------------------------------------------------------------

def test_headless_service_without_ports():
    svc = service(cluster_ip="None", ports=[])
    action = plan(svc, [pod("a", ip="10.244.1.6"), pod("b", ip="10.244.1.7", ready=False)], None)
    assert action.endpoints["subsets"] == [{"addresses": [address("a", "10.244.1.6")],
                                            "notReadyAddresses": [address("b", "10.244.1.7")]}]
    assert action.endpoints["metadata"]["labels"] == {HEADLESS_LABEL: ""}


def test_a_cluster_ip_service_without_ports_gets_no_addresses():
    assert "subsets" not in plan(service(ports=[]), [pod("a")], None).endpoints


@pytest.mark.parametrize("svc", [
    pytest.param(service(selector={}), id="no-selector"),
    pytest.param(service(kind="ExternalName"), id="external-name"),
])
def test_user_managed_endpoints_are_untouched(svc):
    current = {"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": "web", "namespace": NS, "resourceVersion": "9"},
               "subsets": [{"addresses": [{"ip": "192.168.1.1"}], "ports": [{"port": 5432}]}]}
    assert plan(svc, [web("a", "10.244.1.6")], current) is None
    assert plan(svc, [web("a", "10.244.1.6")], None) is None


def test_endpoints_of_a_deleted_service_are_deleted():
    current = endpoints_for(service(), [])
    assert plan(None, [], current) == DeleteEndpoints(NS, "web")
    assert plan(None, [], None) is None


# -- the object ------------------------------------------------------------------------------------

def test_labels_come_from_the_service_and_the_object_is_valid():
    svc = service(ports=[HTTP, METRICS], labels={"app": "web", "tier": "front"})
    action = plan(svc, [web("a", "10.244.1.6"), web("b", "10.244.1.7", ready=False)], None)
    assert action.create is True
    assert action.endpoints["metadata"] == {"name": "web", "namespace": NS,
                                            "labels": {"app": "web", "tier": "front"}}
    validate("endpoints", apply_defaults("endpoints", copy.deepcopy(action.endpoints)))


def test_endpoints_deserialize_in_the_kubernetes_client():
    svc = service(ports=[HTTP, METRICS])
    action = plan(svc, [web("a", "10.244.1.6"), web("b", "10.244.1.7", ready=False)], None)
    read = ApiClient().deserialize(json.dumps(action.endpoints), "V1Endpoints",
                                   "application/json")
    assert read.metadata.name == "web"
    subset = read.subsets[0]
    assert subset.addresses[0].ip == "10.244.1.6"
    assert subset.addresses[0].target_ref.uid == uid_of("pod/default/a")
    assert subset.addresses[0].target_ref.resource_version is None
    assert subset.not_ready_addresses[0].node_name == "minion-1"
    assert sorted(p.port for p in subset.ports) == [8080, 9100]


# -- writing only on change ------------------------------------------------------------------------

PODS = [web("a", "10.244.1.6"), web("b", "10.244.1.7", ready=False)]


def stored(svc: dict, pods: list[dict]) -> dict:
    """What the API holds after the controller wrote: server metadata, a pod resourceVersion in
    targetRefs (an older writer), a trigger-time annotation Kubernetes would have written."""
    obj = copy.deepcopy(plan(svc, pods, None).endpoints)
    obj["metadata"].update(resourceVersion="42", uid="e-1",
                           creationTimestamp="2025-01-01T00:00:00Z",
                           annotations={TRIGGER_TIME_ANNOTATION: "2025-01-01T00:00:00Z"})
    for subset in obj["subsets"]:
        for key in ("addresses", "notReadyAddresses"):
            for entry in subset.get(key, []):
                entry["targetRef"]["resourceVersion"] = "77"
    return obj


def test_no_write_when_equal():
    svc = service(ports=[HTTP])
    assert plan(svc, PODS, stored(svc, PODS)) is None


def test_a_pod_turning_ready_is_written_as_an_update():
    svc = service(ports=[HTTP])
    current = stored(svc, PODS)
    action = plan(svc, [web("a", "10.244.1.6"), web("b", "10.244.1.7")], current)
    assert isinstance(action, WriteEndpoints) and action.create is False
    assert action.endpoints["metadata"]["resourceVersion"] == "42"
    assert TRIGGER_TIME_ANNOTATION not in action.endpoints["metadata"]
    assert "annotations" not in action.endpoints["metadata"]
    assert [a["ip"] for a in action.endpoints["subsets"][0]["addresses"]] == [
        "10.244.1.6", "10.244.1.7"]


def test_changed_service_labels_are_written():
    svc = service(ports=[HTTP])
    relabelled = service(ports=[HTTP], labels={"team": "a"})
    action = plan(relabelled, PODS, stored(svc, PODS))
    assert action.endpoints["metadata"]["labels"] == {"team": "a"}


def test_other_annotations_survive_and_do_not_trigger_writes():
    svc = service(ports=[HTTP])
    current = stored(svc, PODS)
    current["metadata"]["annotations"]["note"] = "kept"
    assert plan(svc, PODS, current) is None
    action = plan(svc, PODS[:1], current)
    assert action.endpoints["metadata"]["annotations"] == {"note": "kept"}


def test_over_capacity_is_truncated_and_annotated():
    svc = service(ports=[METRICS])
    many = [pod(f"p{i:04}", ip=f"10.244.{i // 250}.{i % 250 + 1}", ready=i % 3 != 0)
            for i in range(MAX_CAPACITY + 200)]
    action = plan(svc, many, None)
    (subset,) = action.endpoints["subsets"]
    ready = sum(1 for i in range(MAX_CAPACITY + 200) if i % 3 != 0)
    assert len(subset["addresses"]) == ready
    assert len(subset["addresses"]) + len(subset["notReadyAddresses"]) == MAX_CAPACITY
    assert action.endpoints["metadata"]["annotations"] == {OVER_CAPACITY_ANNOTATION: "truncated"}
    assert plan(svc, many, action.endpoints) is None


# -- determinism -----------------------------------------------------------------------------------

WORLD = [web("c", "10.244.2.3", node="minion-2"), web("a", "10.244.1.6", ready=False),
         pod("b", ip="10.244.1.7", ports=[port("http", 8081)]), pod("d", ip="10.244.1.10"),
         web("e", "10.244.1.11", deleting=True), pod("f", ip=None)]


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False),
       st.sampled_from([[HTTP], [HTTP, METRICS], [METRICS, HTTP], []]))
def test_same_endpoints_whatever_the_input_order(rnd: random.Random, ports: list[dict]):
    svc = service(ports=ports)
    shuffled = WORLD[:]
    rnd.shuffle(shuffled)
    assert plan(svc, shuffled, None) == plan(svc, WORLD, None)


def test_plan_does_not_change_its_input():
    svc, world = service(ports=[HTTP, METRICS]), copy.deepcopy(WORLD)
    action = plan(svc, world, None)
    action.endpoints["subsets"][0]["addresses"][0]["targetRef"]["name"] = "changed"
    assert world == WORLD and svc == service(ports=[HTTP, METRICS])


def test_failure_events_use_kubernetes_words():
    create = plan(service(), [], None)
    assert create.failure_event("forbidden").reason == "FailedToCreateEndpoint"
    assert create.failure_event("forbidden").message == (
        "Failed to create endpoint for service default/web: forbidden")
    update = WriteEndpoints(create.endpoints, create=False)
    assert update.failure_event("conflict").message == (
        "Failed to update endpoint default/web: conflict")
    assert create.event() is None
