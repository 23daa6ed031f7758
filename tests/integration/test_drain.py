"""Cordon, drain and uncordon in the lab with real kubectl: a cordoned minion gets no new pods,
drain moves a replication controller's pods to the other minions (and leaves no container
behind), uncordon lets pods back."""

from __future__ import annotations

import os
import subprocess
from collections import Counter

import pytest
from kubernetes import client, config

from bosun.minion import Fleet

from .test_kubelet import LABEL_POD_UID, NS, wait_for
from .test_replication import rc, running_by_node

APP = "drained"
NODE = "minion-1"


@pytest.fixture(scope="module")
def v1(lab):
    api_client = config.new_client_from_config(str(lab.spec.kubeconfig))
    yield client.CoreV1Api(api_client)
    api_client.close()


def kubectl(lab, *args: str) -> subprocess.CompletedProcess:
    env = {"HOME": str(lab.state_dir), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "KUBECONFIG": str(lab.spec.kubeconfig)}
    done = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done


def scale(v1, replicas: int) -> None:
    v1.patch_namespaced_replication_controller_scale(APP, NS, {"spec": {"replicas": replicas}})


def containers_on(lab, node: str, uids: set[str]) -> int:
    with Fleet([m for m in lab.inventory.minions() if m.name == node]) as fleet:
        return sum(1 for c in fleet[node].containers({LABEL_POD_UID: None})
                   if c["Labels"][LABEL_POD_UID] in uids)


def test_cordon_drain_uncordon_move_an_rcs_pods(v1, lab):
    v1.create_namespaced_replication_controller(NS, rc(APP, 6))
    try:
        assert running_by_node(v1, APP, 6)[NODE] == 2
        assert kubectl(lab, "cordon", NODE).stdout.strip() == f"node/{NODE} cordoned"
        scale(v1, 9)
        assert running_by_node(v1, APP, 9)[NODE] == 2  # the 3 new ones went elsewhere

        was_there = {p.metadata.uid for p in v1.list_namespaced_pod(
            NS, label_selector=f"app={APP}", field_selector=f"spec.nodeName={NODE}").items}
        drained = kubectl(lab, "drain", NODE, "--ignore-daemonsets", "--timeout", "90s")
        assert f"node/{NODE} drained" in drained.stdout
        after = running_by_node(v1, APP, 9)
        assert after[NODE] == 0 and sum(after.values()) == 9
        wait_for(lambda: containers_on(lab, NODE, was_there) == 0, 60,
                 "the drained pods' containers to leave the minion")

        assert kubectl(lab, "uncordon", NODE).stdout.strip() == f"node/{NODE} uncordoned"
        scale(v1, 12)
        # Spreading sends all three new pods to the emptied minion.
        assert running_by_node(v1, APP, 12) == Counter(
            {NODE: 3, **{n: c for n, c in after.items() if n != NODE}})
    finally:
        kubectl(lab, "uncordon", NODE)
        v1.delete_namespaced_replication_controller(APP, NS)
        wait_for(lambda: not v1.list_namespaced_pod(NS, label_selector=f"app={APP}").items, 60,
                 "the rc's pods to go")
