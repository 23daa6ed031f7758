"""`reconcile --once` against the lab, as cron would run it: converge, change nothing when run
again, never act beside another holder of the controller lock, and `--check` touches nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.controllers.leader import LOCK_NAME
from bosun.controllers.nodelifecycle import NODE_MONITOR_GRACE_PERIOD
from bosun.lab import build
from bosun.lab.system import running_pid, wait_for
from bosun.minion import Fleet
from bosun.store import Store

from .conftest import ROOT

LABEL_POD_UID = "io.bosun.pod.uid"


@pytest.fixture(scope="module")
def quiet_lab(lab):
    """The lab with its `serve` stopped, so this module's reconcile runs are the only actor."""
    pid = running_pid(lab.spec.api_pid_file, build.api_program())
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: running_pid(lab.spec.api_pid_file, build.api_program()) is None, 15,
                 "serve to stop")
    store = Store(lab.spec.etcd_client_url)
    wait_for(lambda: store.lock_holder(LOCK_NAME) is None, 15, "the leader lock to be freed")
    api = Api(store)
    # A clean slate: what other modules left (a pod whose image is missing, say) would keep
    # the cluster from converging, which is what these tests look at.
    for resource in ("replicationcontrollers", "services", "pods"):
        api.delete_collection(Target(resource, "default"), Query(), {})
    reconcile(lab)
    yield lab, api, store
    build.ensure_api_server(lab.spec)


def reconcile(lab, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "orchestrator.py"), "reconcile", "--once", "-i",
         str(lab.spec.inventory_path), "--etcd", lab.spec.etcd_client_url, *args],
        capture_output=True, text=True, timeout=180)


def pod_on(node: str, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": "bosun/busybox:1",
                                     "command": ["sleep", "3600"]}]}}


def containers(lab, node: str, uid: str) -> list[str]:
    with Fleet([a for a in lab.inventory.minions() if a.name == node]) as fleet:
        return sorted(c["Id"] for c in fleet[node].containers({LABEL_POD_UID: uid}))


def test_check_prints_the_plan_and_changes_nothing(quiet_lab):
    lab, api, _ = quiet_lab
    pod, _ = api.create(Target("pods", "default"), pod_on("minion-2", "checked"), Query())
    done = reconcile(lab, "--check")
    assert done.returncode == 2, done.stderr
    assert "minion-2: 2 change(s)" in done.stdout
    assert "would StartInfra default/checked" in done.stdout
    assert "would StartContainer default/checked" in done.stdout
    assert containers(lab, "minion-2", pod["metadata"]["uid"]) == []
    api.delete(Target("pods", "default", "checked"), Query(), {})


def test_once_converges_and_a_second_run_changes_nothing(quiet_lab):
    lab, api, _ = quiet_lab
    pod, _ = api.create(Target("pods", "default"), pod_on("minion-3", "cron"), Query())
    first = reconcile(lab)
    assert first.returncode == 2, first.stderr
    assert "minion-3: 2 action(s): StartInfra, StartContainer" in first.stdout
    uid = pod["metadata"]["uid"]
    started = containers(lab, "minion-3", uid)
    assert len(started) == 2
    second = reconcile(lab)
    assert (second.returncode, second.stdout) == (0, ""), second.stderr
    assert containers(lab, "minion-3", uid) == started
    status = api.read("pods", "default", "cron")["status"]
    assert status["phase"] == "Running" and status["podIP"]
    api.delete(Target("pods", "default", "cron"), Query(), {})


def test_a_run_beside_another_lock_holder_does_nothing(quiet_lab):
    lab, api, store = quiet_lab
    pod, _ = api.create(Target("pods", "default"), pod_on("minion-1", "waiting"), Query())
    lock = store.acquire_lock(LOCK_NAME, "test/overlapping-run", 30)
    assert lock is not None
    try:
        done = reconcile(lab)
    finally:
        lock.release()
    assert done.returncode == 3
    assert "test/overlapping-run holds the controller lock" in done.stderr
    assert containers(lab, "minion-1", pod["metadata"]["uid"]) == []
    api.delete(Target("pods", "default", "waiting"), Query(), {})


def test_runs_further_apart_than_the_node_grace_period_still_schedule(quiet_lab):
    """As cron runs it, a minute apart: every heartbeat is stale when a run starts. The run
    must not take its minions for lost (tainted unreachable, so nothing schedules)."""
    lab, api, _ = quiet_lab
    apart = NODE_MONITOR_GRACE_PERIOD.total_seconds() + 1
    time.sleep(apart)
    pending = pod_on("", "cron-placed")
    del pending["spec"]["nodeName"]  # for the scheduler to place
    api.create(Target("pods", "default"), pending, Query())
    first = reconcile(lab)
    assert first.returncode == 2, first.stdout + first.stderr
    placed = api.read("pods", "default", "cron-placed")
    assert placed["spec"].get("nodeName"), first.stdout
    assert "StartInfra, StartContainer" in first.stdout
    time.sleep(apart)
    again = reconcile(lab)
    assert (again.returncode, again.stdout) == (0, ""), again.stderr
    assert not any((n["spec"].get("taints") or []) for n in api.list(Target("nodes"),
                                                                     Query())["items"])
    api.delete(Target("pods", "default", "cron-placed"), Query(), {})
