#!/usr/bin/env python3
"""Time of the pure scheduling decision: schedule_all for a batch of pending pods over 10, 100 and
1,000 minions, with as many pods already running; best of a few runs, in a table.

The pending pods are replicas of ten ReplicationControllers (each with its Service), asking for
CPU and memory, one in ten with a host port; no I/O is involved, so this is the scheduler's CPU
cost per pass.

    .venv/bin/python bench/scheduler_plan.py [--pods 300] [--nodes 10 100 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from bosun.scheduler import Bind, schedule_all

APPS = 10


def minion(i: int) -> dict[str, Any]:
    offered = {"cpu": "8", "memory": "32Gi", "pods": "110"}
    return {"metadata": {"name": f"minion-{i}", "labels": {"kubernetes.io/hostname": f"minion-{i}",
                                                          "zone": "abc"[i % 3]}},
            "spec": {}, "status": {"capacity": offered, "allocatable": offered,
                                   "conditions": [{"type": "Ready", "status": "True"}]}}


def replica(app: int, i: int, node_name: str | None = None) -> dict[str, Any]:
    ports = [{"containerPort": 8080, "hostPort": 9000 + app}] if i // APPS % 10 == 0 else []
    spec: dict[str, Any] = {"containers": [{
        "name": "app", "image": f"app-{app}",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "500m", "memory": "256Mi"}},
        "ports": ports}]}
    if node_name:
        spec["nodeName"] = node_name
    return {"metadata": {"name": f"app-{app}-{i}", "namespace": "default",
                         "uid": f"uid-{app}-{i}-{node_name or 'pending'}",
                         "labels": {"app": f"app-{app}"}},
            "spec": spec, "status": {"phase": "Running" if node_name else "Pending"}}


def world(nodes: int, pods: int) -> tuple[list, list, list, list, list]:
    """(nodes, running pods, pending pods, services, rcs)."""
    minions = [minion(i) for i in range(nodes)]
    running = [replica(k % APPS, 1000 + k, f"minion-{k % nodes}") for k in range(pods)]
    pending = [replica(k % APPS, k) for k in range(pods)]
    selectors = [{"app": f"app-{a}"} for a in range(APPS)]
    services = [{"metadata": {"name": f"app-{a}", "namespace": "default"},
                 "spec": {"selector": s}} for a, s in enumerate(selectors)]
    rcs = [{"metadata": {"name": f"app-{a}", "namespace": "default"},
            "spec": {"replicas": pods // APPS, "selector": s}} for a, s in enumerate(selectors)]
    return minions, running, pending, services, rcs


def run(nodes: int, pods: int, repeat: int) -> tuple[float, int, int]:
    """(best seconds, pods bound, most pods bound on one node)."""
    minions, running, pending, services, rcs = world(nodes, pods)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        decisions = schedule_all(pending, minions, running, services, rcs)
        best = min(best, time.perf_counter() - start)
    per_node = Counter(d.node_name for _, d in decisions if isinstance(d, Bind))
    return best, sum(per_node.values()), max(per_node.values(), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=300, help="pending pods (and as many running)")
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best counts")
    args = parser.parse_args()
    print(f"schedule_all: {args.pods} pending pods, {args.pods} running, {APPS} RCs + Services")
    print(f"{'nodes':>6} {'total s':>9} {'per pod ms':>11} {'per node-pod us':>16} "
          f"{'bound':>6} {'max/node':>9}")
    for nodes in args.nodes:
        seconds, bound, most = run(nodes, args.pods, args.repeat)
        print(f"{nodes:>6} {seconds:>9.3f} {seconds / args.pods * 1e3:>11.2f} "
              f"{seconds / (args.pods * nodes) * 1e6:>16.2f} {bound:>6} {most:>9}")


if __name__ == "__main__":
    main()
