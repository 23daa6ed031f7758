#!/usr/bin/env python3
"""Issue 5's rollout benchmark: an RC of 30 replicas on a 3-minion lab, from its creation until
all 30 pods are Running (with a pod IP), driven (a) by `orchestrator.py serve` and (b) by
`orchestrator.py reconcile --once` runs one after another (how many runs, how long).

(a) The lab's own `serve` (leader: controllers, scheduler, kubelet) runs the cluster; the RC is
created through the Api and the pods' states are followed with an etcd watch (no polling).
Timed: RC created -> all 30 bound to minions -> all 30 Running with IPs, and the serve process's
CPU meanwhile. Then the RC is deleted and the round ends when the minions hold no container of
it. (b) The lab's `serve` is stopped; the RC is created the same way and `reconcile --once` is
run back to back (as a cron with no pause would) until it exits 0 (converged); the pods are
read after each run. Timed: the runs' wall time until all Running and until converged, the
number of runs, and their CPU. Deleting the RC is converged the same way (a run's garbage
collection and teardowns), then the minions are checked empty.

Pods are busybox httpd (`bosun/busybox:1`), terminationGracePeriodSeconds 0; each is an infra
and an app container, so 30 pods are 60 containers. It brings its lab up (`lab up --index K
--state-dir DIR`; index 6 by default) and down at the end, failure and SIGTERM included, unless
--keep-lab. Root, like the lab. It measures the lib/ beside it (see bench/kubelet.py's note on
measuring a commit from a `git worktree`).

    .venv/bin/python bench/rc_rollout.py [--index 6] [--state-dir /tmp/bosun-bench-rollout]
                                          [--replicas 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from report import (
    lab,
    log,
    machine,
    median,
    print_table,
    source_version,
    stop_api_server,
    wait_until,
)

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.inventory import load_inventory
from bosun.kubelet.model import LABEL_POD_NAMESPACE, LABEL_POD_UID
from bosun.lab.build import api_program
from bosun.lab.spec import LabSpec
from bosun.lab.system import running_pid
from bosun.minion import Fleet
from bosun.store import Store

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "default"
RC_NAME = "rollout"
LABELS = {"app": "bench-rollout"}
HTTPD = ["httpd", "-f", "-p", "80", "-h", "/www"]
RECONCILE_CONVERGED, RECONCILE_LOCKED = 0, 3
MAX_RUNS = 30


def rc_manifest(replicas: int) -> dict:
    return {"apiVersion": "v1", "kind": "ReplicationController",
            "metadata": {"name": RC_NAME, "namespace": NAMESPACE},
            "spec": {"replicas": replicas, "selector": dict(LABELS), "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [
                    {"name": "web", "image": "bosun/busybox:1", "command": HTTPD}]}}}}


def running(pod: dict) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and bool(status.get("podIP"))


# -- the lab --------------------------------------------------------------------------------------
def serve_pid(spec: LabSpec) -> int | None:
    return running_pid(spec.api_pid_file, api_program())


def proc_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def containers_left(fleet: Fleet) -> int:
    """Containers of pods of the bench's namespace still on the minions."""
    return sum(len(fleet[name].containers({LABEL_POD_UID: None,
                                           LABEL_POD_NAMESPACE: NAMESPACE}))
               for name in fleet.names)


# -- following the pods ---------------------------------------------------------------------------
class Pods:
    """The bench RC's pods as an etcd watch shows them, each change stamped on arrival."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pods: dict[str, dict] = {}
        self.changed = threading.Condition()
        self.stream = store.watch(f"/registry/pods/{NAMESPACE}/", store.current_revision())
        self.thread = threading.Thread(target=self._follow, name="bench-pods", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        try:
            for event in self.stream:
                pod = event.object
                if (pod.get("metadata") or {}).get("labels") != LABELS:
                    continue
                with self.changed:
                    if event.type == "DELETED":
                        self.pods.pop(pod["metadata"]["name"], None)
                    else:
                        self.pods[pod["metadata"]["name"]] = pod
                    self.changed.notify_all()
        except Exception as error:  # the stream closed under us at the end: nothing to follow
            if not self.stream.closed:
                log(f"pod watch ended: {error}")

    def wait(self, test: Callable[[dict[str, dict]], bool], timeout: float) -> float:
        """perf_counter when `test(pods by name)` first held. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not test(self.pods):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"pods: not in the state waited for in {timeout:g} s "
                                       f"({len(self.pods)} pods, {self.count(running)} Running)")
                self.changed.wait(left)
            return time.perf_counter()

    def count(self, test: Callable[[dict], bool]) -> int:
        return sum(1 for pod in self.pods.values() if test(pod))

    def close(self) -> None:
        self.stream.close()
        self.thread.join(5)


# -- (a) serve ------------------------------------------------------------------------------------
@dataclass
class ServeRound:
    bound: float
    all_running: float
    serve_cpu: float
    spread: dict[str, int]
    teardown: float


def serve_round(api: Api, store: Store, fleet: Fleet, spec: LabSpec,
                replicas: int) -> ServeRound:
    pid = serve_pid(spec)
    pods = Pods(store)
    try:
        cpu = proc_cpu(pid)
        began = time.perf_counter()
        api.create(Target("replicationcontrollers", NAMESPACE), rc_manifest(replicas), Query())
        bound = pods.wait(lambda p: sum(bool(x["spec"].get("nodeName")) for x in p.values())
                          >= replicas, 120)
        all_running = pods.wait(lambda p: sum(map(running, p.values())) >= replicas, 300)
        cpu = proc_cpu(pid) - cpu
        spread = Counter(p["spec"]["nodeName"] for p in pods.pods.values())
        gone = time.perf_counter()
        api.delete(Target("replicationcontrollers", NAMESPACE, RC_NAME), Query(), {})
        pods.wait(lambda p: not p, 120)
        wait_until(lambda: containers_left(fleet) == 0, 180, "the RC's containers to go")
        return ServeRound(bound - began, all_running - began, cpu, dict(spread),
                          time.perf_counter() - gone)
    finally:
        pods.close()


# -- (b) reconcile --once -------------------------------------------------------------------------
@dataclass
class Run:
    seconds: float
    exit_code: int
    running: int  # pods Running with an IP after the run
    cpu: float


@dataclass
class ReconcileRound:
    runs: list[Run] = field(default_factory=list)
    teardown: list[Run] = field(default_factory=list)

    def until(self, test: Callable[[Run], bool]) -> tuple[int, float]:
        """(runs, seconds) up to and including the first run passing `test`."""
        for index, run in enumerate(self.runs, 1):
            if test(run):
                return index, sum(r.seconds for r in self.runs[:index])
        return len(self.runs), float("nan")


def reconcile_once(spec: LabSpec, api: Api) -> Run:
    argv = [sys.executable, str(ROOT / "orchestrator.py"), "reconcile", "--once",
            "-i", str(spec.inventory_path), "--etcd", spec.etcd_client_url]
    cpu, began = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 2, RECONCILE_LOCKED):
        raise RuntimeError(f"reconcile --once exited {done.returncode}: {done.stderr[-2000:]}")
    listed = api.list(Target("pods", NAMESPACE), Query(label_selector="app=bench-rollout"))
    return Run(seconds, done.returncode, sum(map(running, listed["items"])),
               children_cpu() - cpu)


def converge(spec: LabSpec, api: Api) -> list[Run]:
    """reconcile --once runs until one exits 0 (a locked run waits a second and counts)."""
    runs: list[Run] = []
    while not runs or runs[-1].exit_code != RECONCILE_CONVERGED:
        if len(runs) == MAX_RUNS:
            raise RuntimeError(f"reconcile --once: not converged after {MAX_RUNS} runs")
        runs.append(reconcile_once(spec, api))
        if runs[-1].exit_code == RECONCILE_LOCKED:
            time.sleep(1)
    return runs


def reconcile_round(api: Api, fleet: Fleet, spec: LabSpec, replicas: int) -> ReconcileRound:
    result = ReconcileRound()
    api.create(Target("replicationcontrollers", NAMESPACE), rc_manifest(replicas), Query())
    result.runs = converge(spec, api)
    api.delete(Target("replicationcontrollers", NAMESPACE, RC_NAME), Query(), {})
    result.teardown = converge(spec, api)
    left = containers_left(fleet)
    if left:
        raise RuntimeError(f"reconcile converged with {left} containers of the RC left")
    return result


# -- the report -----------------------------------------------------------------------------------
def report(serve: list[ServeRound], cron: list[ReconcileRound], replicas: int,
           load: tuple[str, str]) -> None:
    print(f"RC of {replicas} replicas on 3 minions, {source_version()}; {load[0]} at the start, "
          f"{load[1]} at the end; busybox httpd pods (infra + app container each)")
    rows = [[f"serve: RC created -> all {replicas} bound",
             *per_round([r.bound for r in serve])],
            [f"serve: RC created -> all {replicas} Running with IPs",
             *per_round([r.all_running for r in serve])],
            ["serve: CPU-s of the serve process until then", *per_round(
                [r.serve_cpu for r in serve])],
            ["serve: pods per minion", *(
                "/".join(str(n) for _, n in sorted(r.spread.items())) for r in serve), ""],
            ["serve: RC deleted -> no container left", *per_round([r.teardown for r in serve])]]
    for label, test in ((f"all {replicas} Running", lambda r: r.running >= replicas),
                        ("converged (exit 0)", lambda r: r.exit_code == RECONCILE_CONVERGED)):
        counts = [c.until(test) for c in cron]
        rows.append([f"reconcile --once: runs until {label}",
                     *(str(n) for n, _ in counts), str(median([n for n, _ in counts]))])
        rows.append(["reconcile --once: seconds of those runs",
                     *per_round([s for _, s in counts])])
    rows.append(["reconcile --once: seconds per run (each round's runs)", *(
        " ".join(f"{r.seconds:.1f}" for r in c.runs) for c in cron), ""])
    rows.append(["reconcile --once: exit codes", *(
        " ".join(str(r.exit_code) for r in c.runs) for c in cron), ""])
    rows.append(["reconcile --once: CPU-s of the runs until converged", *per_round(
        [sum(r.cpu for r in c.runs) for c in cron])])
    rows.append(["reconcile --once: RC deleted -> converged: runs / s", *(
        f"{len(c.teardown)} / {sum(r.seconds for r in c.teardown):.1f}" for c in cron), ""])
    rounds = max(len(serve), len(cron))
    print_table(["", *(f"round {i + 1}" for i in range(rounds)), "median"], rows)


def per_round(values: list[float]) -> list[str]:
    return [*(f"{v:.2f}" for v in values), f"{median(values):.2f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=int, default=6, help="lab index (default 6)")
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/bosun-bench-rollout"))
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab up at the end")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spec = LabSpec(args.state_dir.resolve(), minions=3, index=args.index)
    serve_rounds: list[ServeRound] = []
    cron_rounds: list[ReconcileRound] = []
    start_load = machine()
    try:
        log(f"lab up: index {spec.index}, {spec.state_dir}")
        lab("up", spec)
        stop_api_server(spec)  # a serve of this lib/, whatever ran before
        lab("up", spec)
        store = Store(spec.etcd_client_url)
        api = Api(store)
        with Fleet(load_inventory(spec.inventory_path).minions(), timeout=600) as fleet:
            for i in range(args.rounds):
                log(f"(a) serve, round {i + 1}")
                serve_rounds.append(serve_round(api, store, fleet, spec, args.replicas))
            log("stopping the lab's serve")
            stop_api_server(spec)
            for i in range(args.rounds):
                log(f"(b) reconcile --once, round {i + 1}")
                cron_rounds.append(reconcile_round(api, fleet, spec, args.replicas))
        store.close()
    finally:
        if not args.keep_lab:
            log("lab down")
            lab("down", spec)
    report(serve_rounds, cron_rounds, args.replicas, (start_load, machine()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
