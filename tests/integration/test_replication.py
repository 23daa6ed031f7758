"""Replication controllers in the lab: counts kept, spread over minions, cascade on delete."""

from __future__ import annotations

from collections import Counter

import pytest
from kubernetes import client, config

from bosun.minion import Fleet

from .test_kubelet import NS, wait_for

LABEL_POD_NAME = "io.bosun.pod.name"


@pytest.fixture(scope="module")
def v1(lab):
    api_client = config.new_client_from_config(str(lab.spec.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def rc(name: str, replicas: int) -> dict:
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
            "spec": {"replicas": replicas, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                    {"name": "web", "image": "bosun/busybox:1"}]}}}}


def running_by_node(v1, app: str, count: int) -> Counter:
    def placed():
        pods = v1.list_namespaced_pod(NS, label_selector=f"app={app}").items
        live = [p for p in pods if p.status.phase == "Running" and not
                p.metadata.deletion_timestamp]
        return Counter(p.spec.node_name for p in live) if len(pods) == len(live) == count \
            else None

    return wait_for(placed, 90, f"{count} running pods of {app}")


def test_rc_spreads_scales_and_cascades(v1, lab):
    v1.create_namespaced_replication_controller(NS, rc("spread", 6))
    assert sorted(running_by_node(v1, "spread", 6).values()) == [2, 2, 2]
    v1.patch_namespaced_replication_controller_scale("spread", NS, {"spec": {"replicas": 9}})
    assert sorted(running_by_node(v1, "spread", 9).values()) == [3, 3, 3]
    v1.patch_namespaced_replication_controller_scale("spread", NS, {"spec": {"replicas": 2}})
    running_by_node(v1, "spread", 2)
    status = wait_for(lambda: (lambda s: s if s.ready_replicas == 2 and s.replicas == 2 else None)(
        v1.read_namespaced_replication_controller("spread", NS).status), 30, "rc status")
    assert status.observed_generation == 3
    pods = v1.list_namespaced_pod(NS, label_selector="app=spread").items
    assert all(p.metadata.owner_references[0].kind == "ReplicationController" for p in pods)

    v1.delete_namespaced_replication_controller("spread", NS)
    wait_for(lambda: not v1.list_namespaced_pod(NS, label_selector="app=spread").items, 60,
             "the rc's pods to go")
    with Fleet(lab.inventory.minions()) as fleet:
        wait_for(lambda: all(not [c for c in m.containers() if c["Labels"].get(
            LABEL_POD_NAME, "").startswith("spread-")] for m in fleet), 60, "containers gone")


def test_replacement_for_a_deleted_pod(v1):
    v1.create_namespaced_replication_controller(NS, rc("healer", 2))
    running_by_node(v1, "healer", 2)
    victim = v1.list_namespaced_pod(NS, label_selector="app=healer").items[0].metadata.name
    v1.delete_namespaced_pod(victim, NS)
    running_by_node(v1, "healer", 2)
    names = {p.metadata.name for p in v1.list_namespaced_pod(NS, label_selector="app=healer").items}
    assert victim not in names
    events = v1.list_namespaced_event(NS, field_selector="involvedObject.name=healer").items
    assert sum(1 for e in events if e.reason == "SuccessfulCreate") >= 1
    v1.delete_namespaced_replication_controller("healer", NS)
