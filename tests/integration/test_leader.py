"""Two `serve` processes over the lab's etcd: one leads; SIGKILL of the leader at random moments
during scale-ups, ten times, and the cluster still converges to exactly the desired pods and
containers, with no duplicates and no orphans."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.controllers.leader import LOCK_NAME
from bosun.lab import build
from bosun.minion import Fleet
from bosun.store import Store
from bosun.store.local import free_port

from .conftest import ROOT
from .test_kubelet import wait_for

LABEL_POD_UID = "io.bosun.pod.uid"
RC = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "churn"},
      "spec": {"replicas": 2, "template": {
          "metadata": {"labels": {"app": "churn"}},
          "spec": {"terminationGracePeriodSeconds": 1, "containers": [
              {"name": "c", "image": "bosun/busybox:1", "command": ["sleep", "3600"]}]}}}}


class SecondServer:
    """Another `serve` for the lab's inventory and etcd, on its own port and data folder."""

    def __init__(self, lab, folder) -> None:
        self.argv = [sys.executable, str(ROOT / "orchestrator.py"), "serve", "--data-dir",
                     str(folder), "--etcd", lab.spec.etcd_client_url, "--port", str(free_port()),
                     "--inventory", str(lab.spec.inventory_path)]
        self.log = open(folder / "serve.log", "ab")  # the child writes here until stop()
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, stdout=self.log, stderr=self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture()
def two_servers(lab, tmp_path):
    second = SecondServer(lab, tmp_path)
    second.start()
    try:
        yield second
    finally:
        second.stop()
        second.log.close()
        build.ensure_api_server(lab.spec)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is a child of ours
    except ChildProcessError:
        pass
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def leader_pid(store: Store) -> int:
    """The pid of the live leader (a killed one's lease lingers until its TTL)."""

    def live_holder():
        holder = store.lock_holder(LOCK_NAME)
        pid = int(holder.split("/")[1]) if holder else None
        return pid if pid is not None and _alive(pid) else None

    return wait_for(live_holder, 30, "a live leader")


def test_leader_killed_during_scale_ups_converges_exactly(lab, two_servers):
    store = Store(lab.spec.etcd_client_url)
    api = Api(store)
    api.create(Target("replicationcontrollers", "default"), RC, Query())
    rng = random.Random(1234)
    desired = 2
    for _ in range(10):
        desired = rng.randint(1, 6)
        rc = api.read("replicationcontrollers", "default", "churn")
        rc["spec"]["replicas"] = desired
        api.update(Target("replicationcontrollers", "default", "churn"), rc, Query())
        time.sleep(rng.uniform(0.0, 1.5))
        pid = leader_pid(store)
        os.kill(pid, signal.SIGKILL)
        if two_servers.process is not None and pid == two_servers.process.pid:
            two_servers.process.wait()
            two_servers.start()
        else:
            build.ensure_api_server(lab.spec)

    def converged():
        pods = api.list(Target("pods", "default"), Query(label_selector="app=churn"))["items"]
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        return pods if len(pods) == len(running) == desired else None

    pods = wait_for(converged, 120, f"{desired} running pods")
    uids = {p["metadata"]["uid"] for p in pods}
    with Fleet(lab.inventory.minions()) as fleet:
        def containers_match():
            seen = [c for m in fleet for c in m.containers({LABEL_POD_UID: None})]
            ours = [c for c in seen if c["Labels"].get("io.bosun.pod.name", "").startswith(
                "churn-")]
            live = [c for c in ours if c["State"] == "running"]
            by_pod = {}
            for c in live:
                by_pod.setdefault(c["Labels"][LABEL_POD_UID], []).append(
                    c["Labels"]["io.bosun.container.name"])
            return (set(by_pod) == uids and all(sorted(v) == ["POD", "c"]
                                                 for v in by_pod.values())
                    and len(ours) == len(live))

        wait_for(containers_match, 90, "exactly one infra and one app container per pod")
    api.delete(Target("replicationcontrollers", "default", "churn"), Query(), {})
