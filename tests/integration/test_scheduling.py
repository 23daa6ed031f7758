"""The scheduler in the lab's serve: pending pods land on minions, or say why they cannot."""

from __future__ import annotations

import pytest
from kubernetes import client, config

from .test_kubelet import NS, running, wait_for, web


@pytest.fixture(scope="module")
def v1(lab):
    api_client = config.new_client_from_config(str(lab.spec.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [web()], "terminationGracePeriodSeconds": 1, **spec}}


def test_pending_pod_is_bound_and_runs(v1, lab):
    v1.create_namespaced_pod(NS, pod("placed"))
    placed = running(v1, "placed")
    assert placed.spec.node_name in {m.name for m in lab.minions}
    events = v1.list_namespaced_event(NS, field_selector="involvedObject.name=placed").items
    scheduled = [e for e in events if e.reason == "Scheduled"]
    assert scheduled and placed.spec.node_name in scheduled[0].message


def test_node_selector_is_honoured(v1):
    v1.create_namespaced_pod(NS, pod("picky", nodeSelector={"kubernetes.io/hostname":
                                                            "minion-3"}))
    assert running(v1, "picky").spec.node_name == "minion-3"


def test_pod_that_fits_nowhere_stays_pending_and_says_why(v1, lab):
    v1.create_namespaced_pod(NS, pod("nowhere", nodeSelector={"disk": "ssd"}))
    event = wait_for(lambda: next((e for e in v1.list_namespaced_event(
        NS, field_selector="involvedObject.name=nowhere").items
        if e.reason == "FailedScheduling"), None), 20, "FailedScheduling")
    assert event.type == "Warning"
    assert event.message.startswith(f"0/{len(lab.minions)} nodes are available: "
                                     f"{len(lab.minions)} node(s) didn't match Pod's node "
                                     f"affinity/selector.")
    current = v1.read_namespaced_pod("nowhere", NS)
    assert current.spec.node_name is None and current.status.phase == "Pending"
