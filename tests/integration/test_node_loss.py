"""A minion lost (sshd and dockerd down): its pods come back on the others within the
documented time, and when it returns nothing stale is left on it."""

from __future__ import annotations

import time

from kubernetes import client, config

from bosun.lab import build
from bosun.lab.system import running_pid, stop_pid
from bosun.minion import Fleet

from .test_kubelet import NS, wait_for
from .test_replication import rc

MOVE_WITHIN = 45  # seconds: 15 s eviction timeout + noticing + start, with room for a slow CI


def test_pods_of_a_lost_minion_run_elsewhere_and_nothing_stale_is_left(lab):
    v1 = client.CoreV1Api(config.new_client_from_config(str(lab.spec.kubeconfig)))
    v1.create_namespaced_replication_controller(NS, rc("survive", 3))
    pods = wait_for(lambda: (lambda items: items if len(items) == 3 and all(
        p.status.phase == "Running" for p in items) else None)(
        v1.list_namespaced_pod(NS, label_selector="app=survive").items), 60, "3 running")
    lost = lab.minion("minion-3")
    assert "minion-3" in {p.spec.node_name for p in pods}
    for daemon, program in (("sshd", build.SSHD), ("docker", build.DOCKERD)):
        stop_pid(running_pid(lost.pid_file(daemon), program))
    started = time.monotonic()

    timeline = []

    def moved():
        items = v1.list_namespaced_pod(NS, label_selector="app=survive").items
        ready = next(c for c in v1.read_node("minion-3").status.conditions if c.type == "Ready")
        timeline.append((round(time.monotonic() - started, 1), ready.status,
                         sorted((p.metadata.name[-5:], p.status.phase, p.spec.node_name)
                                for p in items)))
        live = [p for p in items if p.status.phase == "Running" and p.spec.node_name !=
                "minion-3" and not p.metadata.deletion_timestamp]
        return len(live) == 3 and len(items) == 3

    wait_for(moved, MOVE_WITHIN + 30, "the pods to run on the other minions")
    elapsed = time.monotonic() - started
    assert elapsed < MOVE_WITHIN, f"took {elapsed:.1f} s: " + "\n".join(map(str, timeline))
    node = v1.read_node("minion-3")
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert ready.status == "Unknown"

    build.up(lab.spec, log=lambda *_: None)  # restarts the minion's sshd and dockerd
    with Fleet([a for a in lab.inventory.minions() if a.name == "minion-3"]) as fleet:
        wait_for(lambda: not [c for c in fleet["minion-3"].containers()
                              if c["Labels"].get("io.bosun.pod.name", "").startswith("survive")],
                 60, "stale containers removed from the returning minion")
    wait_for(lambda: next(c for c in v1.read_node("minion-3").status.conditions
                          if c.type == "Ready").status == "True", 60, "minion-3 Ready again")
    v1.delete_namespaced_replication_controller("survive", NS)
