#!/usr/bin/env python3
"""Issue 5's controller benchmark: the CPU one no-op pass costs with 300 pods on 10, 100 and
1,000 minions, by stage, to show how the cost grows with the fleet.

Everything but the minions is real and in this process: a throwaway etcd (LocalEtcd), Bosun's
store and Api, the loops `reconcile --once` runs (build_loops: node lifecycle, replication
manager, scheduler, endpoints) and one kubelet MinionWorker per minion, whose heartbeats and
syncs run in parallel through reconcile's own helpers, in reconcile._once's order. The minions
are FakeMinions (bench/fakeminion.py): a recording fake of bosun.minion.Minion whose container
list holds running containers matching their pods, and which plays the proxy's files and rules,
so a pass on the converged cluster acts on nothing.
The pods are 10 ReplicationControllers (each with a Service) of pods/10 replicas, created through
the Api and placed by the scheduler, then converged with full passes before anything is timed.

Two kinds of pass are timed on the converged cluster, each `--repeat` times (the median shown):
- cron: one `reconcile --once` run: fresh workers, as a new process has them (nothing cached, the
  Node statuses not remembered, services listed anew), then the same stages as reconcile._once.
- serve: the next pass of the same workers, as a leading `serve` resyncs (caches warm).
CPU is this process's time.process_time (all threads); etcd's own CPU is read from /proc. Per
kubelet step, CPU is each worker thread's thread_time summed over the minions. Writes are etcd
revisions the pass made.

    .venv/bin/python bench/controller_scale.py [--minions 10 100 1000] [--pods 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from fakeminion import FakeMinion, address
from report import log, machine, print_table, source_version

from bosun import reconcile
from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.controllers.loops import build_loops
from bosun.kubelet.cluster import PodView, ServiceView
from bosun.kubelet.loop import MinionWorker
from bosun.store import Store
from bosun.store.local import LocalEtcd

APPS = 10
NAMESPACE = "default"
CONVERGE_PASSES = 6
# Steps of MinionWorker.sync, timed per worker thread: (label, attribute holding it, method).
KUBELET_STEPS = (("observe (container list, images, inspects)", "observer", "observe"),
                 ("heartbeat (Node read/write)", None, "_heartbeat"),
                 ("list the minion's pods", None, "_pods"),
                 ("plan", None, "plan"),
                 ("pod statuses", None, "_write_statuses"),
                 ("service proxy (list, render, plan)", None, "sync_proxy"))
API_CALLS = ("list", "read", "create", "update", "patch", "delete")
HEARTBEATS = "heartbeats: every minion, in parallel"
KUBELET = "kubelet sync: every minion, in parallel"


# -- the cluster ----------------------------------------------------------------------------------
def rc(app: int, replicas: int) -> dict:
    labels = {"app": f"app-{app}"}
    return {"apiVersion": "v1", "kind": "ReplicationController",
            "metadata": {"name": f"app-{app}", "namespace": NAMESPACE},
            "spec": {"replicas": replicas, "selector": labels, "template": {
                "metadata": {"labels": labels},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "web", "image": "bosun/busybox:1",
                    "command": ["httpd", "-f", "-p", "80", "-h", "/www"],
                    "ports": [{"containerPort": 80, "name": "http"}]}]}}}}


def service(app: int) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"app-{app}", "namespace": NAMESPACE},
            "spec": {"selector": {"app": f"app-{app}"},
                     "ports": [{"port": 80, "targetPort": "http"}]}}


def pods_by_node(api: Api) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for pod in api.list(Target("pods"), Query())["items"]:
        out.setdefault(pod["spec"].get("nodeName") or "", []).append(pod)
    return out


# -- measuring ------------------------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stage:
    cpu: float
    wall: float


@dataclass
class PassResult:
    stages: dict[str, Stage] = field(default_factory=dict)
    stage_calls: dict[str, Counter] = field(default_factory=dict)  # stage -> Api calls in it
    steps: Counter = field(default_factory=Counter)  # kubelet step -> CPU s over all minions
    calls: Counter = field(default_factory=Counter)  # "list pods" -> count
    minion_calls: Counter = field(default_factory=Counter)
    writes: int = 0
    etcd_cpu: float = 0.0
    actions: Counter = field(default_factory=Counter)  # action type -> count
    converged: bool = False


class Instrumented:
    """Counts the Api's calls and times the kubelet's steps by replacing bound methods on the
    instances (the classes are untouched); undone by `undo`."""

    def __init__(self, api: Api, workers: list[MinionWorker]) -> None:
        self.calls: Counter = Counter()
        self.steps: Counter = Counter()
        self._lock = threading.Lock()
        self._undo: list[tuple[object, str]] = []
        for method in API_CALLS:
            self._wrap(api, method, self._counted(method, getattr(api, method)))
        for worker in workers:
            for label, attribute, method in KUBELET_STEPS:
                owner = getattr(worker, attribute) if attribute else worker
                self._wrap(owner, method, self._timed(label, getattr(owner, method)))

    def _wrap(self, owner: object, method: str, wrapper: Callable) -> None:
        setattr(owner, method, wrapper)
        self._undo.append((owner, method))

    def undo(self) -> None:
        for owner, method in self._undo:
            delattr(owner, method)

    def _counted(self, method: str, inner: Callable) -> Callable:
        def counted(*args, **kwargs):
            first = args[0] if args else None
            resource = first.resource if isinstance(first, Target) else first
            with self._lock:
                self.calls[f"{method} {resource}"] += 1
            return inner(*args, **kwargs)
        return counted

    def _timed(self, label: str, inner: Callable) -> Callable:
        def timed(*args, **kwargs):
            began = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent = time.thread_time() - began
                with self._lock:
                    self.steps[label] += spent
        return timed


def timed(result: PassResult, name: str, fn: Callable, probe: Instrumented | None = None):
    calls = Counter(probe.calls) if probe is not None else Counter()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        return fn()
    finally:
        result.stages[name] = Stage(time.process_time() - cpu, time.perf_counter() - wall)
        if probe is not None:
            result.stage_calls[name] = probe.calls - calls


def one_pass(api: Api, store: Store, workers: list[MinionWorker], etcd_pid: int,
             instrument: bool) -> PassResult:
    """What reconcile._once does, stage by stage: every minion's heartbeat in parallel, every
    loop, the kubelet on every minion in parallel, then the endpoints loop again."""
    result = PassResult()
    loops = {loop.name: loop for loop in build_loops(api)}
    probe = Instrumented(api, workers) if instrument else None
    fakes = [w.minion for w in workers]
    before_calls = [Counter(f.calls) for f in fakes]
    revision, etcd_cpu = store.current_revision(), proc_cpu(etcd_pid)
    beats = timed(result, HEARTBEATS, lambda: reconcile._each(workers, MinionWorker.heartbeat),
                  probe)
    converged = [timed(result, name, loop.run, probe) for name, loop in loops.items()]
    outcomes = timed(result, KUBELET, lambda: reconcile._kubelet_pass(workers, check=False),
                     probe)
    converged.append(timed(result, "endpoints, after the kubelet", loops["endpoints"].run,
                           probe))
    result.etcd_cpu = proc_cpu(etcd_pid) - etcd_cpu
    result.writes = store.current_revision() - revision
    errors = [r for r in (*beats.values(), *outcomes.values()) if isinstance(r, Exception)]
    if errors:
        raise errors[0]
    result.actions = Counter(type(a).__name__ for r in outcomes.values() for a in r)
    result.converged = all(converged) and not result.actions
    for fake, before in zip(fakes, before_calls, strict=True):
        result.minion_calls.update(fake.calls - before)
    if probe is not None:
        probe.undo()
        result.calls, result.steps = probe.calls, probe.steps
    return result


# -- one fleet size -------------------------------------------------------------------------------
def new_workers(api: Api, fakes: list[FakeMinion]) -> list[MinionWorker]:
    """Workers as a fresh `reconcile --once` process builds them, on the fakes."""
    view, pods = ServiceView(api), PodView(api)
    return [MinionWorker(api, f.address, view=view, pods=pods, minion=f) for f in fakes]


def close(workers: list[MinionWorker]) -> None:
    for worker in workers:
        worker.close(wait=True)


def build(api: Api, store: Store, fakes: list[FakeMinion], pods: int, etcd_pid: int) -> None:
    """Nodes (from a first kubelet pass), RCs and Services, then passes as `reconcile --once`
    runs them until one changes nothing, the fakes running whatever pods the scheduler gave
    them."""
    for attempt in range(1, CONVERGE_PASSES + 1):
        if attempt == 2:  # the Nodes are there (and Ready): the scheduler can place pods
            for app in range(APPS):
                api.create(Target("replicationcontrollers", NAMESPACE),
                           rc(app, pods // APPS), Query())
                api.create(Target("services", NAMESPACE), service(app), Query())
            for loop in build_loops(api):  # replicas made and bound
                loop.run()
        placed = pods_by_node(api)
        for fake in fakes:
            fake.run_pods(placed.get(fake.name, []))
        workers = new_workers(api, fakes)
        try:
            done = one_pass(api, store, workers, etcd_pid, instrument=False)
        finally:
            close(workers)
        log(f"  converging: pass {attempt}: {done.writes} writes, actions {dict(done.actions)}")
        if attempt > 2 and done.converged and not placed.get(""):
            return
    log(f"  not converged after {CONVERGE_PASSES} passes: measuring anyway (the tables say "
        f"what each measured pass did)")


def measure(size: int, pods: int, repeat: int, folder: Path) -> dict:
    log(f"{size} minions: etcd, {pods} pods, converging")
    with ExitStack() as stack:
        etcd = stack.enter_context(LocalEtcd(folder / f"etcd-{size}"))
        store = Store(etcd.endpoint)
        stack.callback(store.close)
        api = Api(store)
        api.ensure_default_namespaces()
        fakes = [FakeMinion(address(i)) for i in range(1, size + 1)]
        began = time.perf_counter()
        build(api, store, fakes, pods, etcd.process.pid)
        log(f"  converged in {time.perf_counter() - began:.0f} s")
        placed = pods_by_node(api)
        cron, serve = [], []
        for round_ in range(repeat):
            workers = new_workers(api, fakes)
            try:
                cron.append(one_pass(api, store, workers, etcd.process.pid, instrument=True))
                serve.append(one_pass(api, store, workers, etcd.process.pid, instrument=True))
            finally:
                close(workers)
            log(f"  round {round_ + 1}: cron {total(cron[-1]).cpu:.2f} CPU-s, actions "
                f"{dict(cron[-1].actions)}; serve {total(serve[-1]).cpu:.2f} CPU-s, actions "
                f"{dict(serve[-1].actions)}")
        return {"size": size, "pods": sum(len(p) for n, p in placed.items() if n),
                "most": max((len(p) for n, p in placed.items() if n), default=0),
                "cron": cron, "serve": serve}


def total(result: PassResult) -> Stage:
    return Stage(sum(s.cpu for s in result.stages.values()),
                 sum(s.wall for s in result.stages.values()))


def median_result(results: list[PassResult]) -> PassResult:
    """The pass whose total CPU is the median one (its breakdown stays consistent)."""
    ordered = sorted(results, key=lambda r: total(r).cpu)
    return ordered[len(ordered) // 2]


# -- the report -----------------------------------------------------------------------------------
def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def stage_table(runs: list[dict], mode: str) -> None:
    chosen = [median_result(run[mode]) for run in runs]
    header = ["stage (CPU ms / wall ms)", *(f"{run['size']:,} minions" for run in runs)]
    rows = [[name, *(f"{ms(r.stages[name].cpu)} / {ms(r.stages[name].wall)}" for r in chosen)]
            for name in chosen[0].stages]
    rows.append(["whole pass", *(f"{ms(total(r).cpu)} / {ms(total(r).wall)}" for r in chosen)])
    rows.append(["  spread of whole-pass CPU over the rounds", *(
        f"{ms(min(total(r).cpu for r in run[mode]))}-{ms(max(total(r).cpu for r in run[mode]))}"
        for run in runs)])
    rows.append(["etcd's own CPU", *(ms(r.etcd_cpu) for r in chosen)])
    rows.append(["heartbeats + kubelet sync, CPU per minion", *(
        ms((r.stages[HEARTBEATS].cpu + r.stages[KUBELET].cpu) / run["size"])
        for r, run in zip(chosen, runs, strict=True))])
    for label, *_ in KUBELET_STEPS:
        rows.append([f"  kubelet step: {label}", *(ms(r.steps[label]) for r in chosen)])
    rows.append(["node lifecycle: Node / pod writes (minions found silent)", *(
        f"{lifecycle(r, 'nodes')} / {lifecycle(r, 'pods')}" for r in chosen)])
    rows.append(["etcd writes in the pass", *(str(r.writes) for r in chosen)])
    rows.append(["Api calls (list / read / update+create)", *(
        f"{calls(r, 'list')} / {calls(r, 'read')} / {calls(r, 'update') + calls(r, 'create')}"
        for r in chosen)])
    rows.append(["minion calls (container lists / inspects / execs)", *(
        f"{r.minion_calls['containers']} / {r.minion_calls['inspect']} / "
        f"{sum(v for k, v in r.minion_calls.items() if k.startswith('exec'))}" for r in chosen)])
    rows.append(["what the kubelet and proxy did", *(
        ", ".join(f"{n} {k}" for k, n in sorted(r.actions.items())) or "nothing"
        for r in chosen)])
    print_table(header, rows)


def lifecycle(result: PassResult, resource: str) -> int:
    """The node lifecycle stage's writes to `resource` (NotReady, taints, pods NotReady)."""
    made = result.stage_calls.get("node-lifecycle", Counter())
    return sum(made[f"{verb} {resource}"] for verb in ("update", "patch", "delete"))


def calls(result: PassResult, verb: str) -> int:
    return sum(v for k, v in result.calls.items() if k.startswith(verb + " "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minions", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--pods", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="cron+serve rounds per size")
    args = parser.parse_args()
    load = machine()
    with tempfile.TemporaryDirectory(prefix="bosun-bench-controllers-") as folder:
        runs = [measure(size, args.pods, args.repeat, Path(folder)) for size in args.minions]
    print(f"One no-op pass, {args.pods} pods ({APPS} RCs with a Service each), fake minions; "
          f"{source_version()}; {load} at the start, {machine()} at the end")
    print("pods per minion at most: "
          + ", ".join(f"{run['size']:,} minions: {run['most']}" for run in runs))
    for mode, title in (("cron", "reconcile --once on a converged cluster (fresh process)"),
                        ("serve", "the next pass of the same workers (serve's resync)")):
        print(f"\n{title}; median of {args.repeat} by whole-pass CPU")
        stage_table(runs, mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
