"""The kubernetes Python client (strict pydantic models) reads every object Bosun would store.

This is what catches a missing required field (a node's nodeInfo, an RC's status.replicas, an
event's involvedObject) or a quantity left as a number.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from kubernetes.client import ApiClient

from bosun.objects.allocation import allocate_service
from bosun.objects.defaults import apply_defaults
from bosun.objects.meta import prepare_create
from bosun.objects.registry import info
from bosun.objects.subresources import apply_binding, scale_of
from bosun.objects.validation import validate

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

MANIFESTS = [
    ("pods", "V1Pod", {"metadata": {"name": "web"}, "spec": {"containers": [{
        "name": "web", "image": "nginx", "ports": [{"containerPort": 80}],
        "resources": {"limits": {"cpu": 1, "memory": 134217728}}}]}}),
    ("services", "V1Service", {"metadata": {"name": "web"}, "spec": {
        "type": "NodePort", "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
    ("replicationcontrollers", "V1ReplicationController", {"metadata": {"name": "web"}, "spec": {
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}),
    ("nodes", "V1Node", {"metadata": {"name": "minion-1"}, "status": {
        "capacity": {"cpu": 2, "memory": "2048Mi", "pods": 110}}}),
    ("endpoints", "V1Endpoints", {"metadata": {"name": "web"}, "subsets": [
        {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}]}),
    ("events", "CoreV1Event", {"metadata": {"name": "web.1"}, "reason": "Scheduled",
                               "involvedObject": {"kind": "Pod", "name": "web"}}),
    ("namespaces", "V1Namespace", {"metadata": {"name": "team"}}),
]


def stored(resource: str, manifest: dict) -> dict:
    namespace = "default" if info(resource).namespaced else None
    obj = prepare_create(resource, apply_defaults(resource, manifest), namespace, NOW, "uid-1")
    if resource == "services":
        obj = allocate_service(obj, "10.0.0.0/24", set(), set())
    validate(resource, obj)
    return obj


def read(obj: dict, model: str):
    return ApiClient().deserialize(json.dumps(obj), model, "application/json")


@pytest.mark.parametrize(("resource", "model", "manifest"), MANIFESTS,
                         ids=[m[0] for m in MANIFESTS])
def test_client_reads_our_stored_objects(resource, model, manifest):
    obj = stored(resource, manifest)
    parsed = read(obj, model)
    assert parsed.metadata.name == manifest["metadata"]["name"]
    assert parsed.metadata.uid == "uid-1"


def test_client_sees_defaults_and_canonical_quantities():
    pod = read(stored(*MANIFESTS[0][::2]), "V1Pod")
    container = pod.spec.containers[0]
    assert container.resources.limits == {"cpu": "1", "memory": "134217728"}
    assert container.resources.requests == {"cpu": "1", "memory": "134217728"}
    assert (container.image_pull_policy, container.ports[0].protocol) == ("Always", "TCP")
    assert (pod.status.phase, pod.status.qos_class) == ("Pending", "Guaranteed")
    node = read(stored("nodes", MANIFESTS[3][2]), "V1Node")
    assert node.status.allocatable == {"cpu": "2", "memory": "2Gi", "pods": "110"}
    assert node.status.node_info.kubelet_version == ""


def test_client_reads_scale_and_bound_pod():
    rc = stored("replicationcontrollers", MANIFESTS[2][2])
    scale = read(scale_of(rc), "V1Scale")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (1, 0, "app=web")
    pod = apply_binding(stored("pods", MANIFESTS[0][2]),
                        {"target": {"kind": "Node", "name": "minion-1"}}, NOW)
    parsed = read(pod, "V1Pod")
    assert parsed.spec.node_name == "minion-1"
    assert parsed.status.conditions[0].type == "PodScheduled"
