#!/usr/bin/env python3
"""Per-call latency of bosun.store against a real etcd: create, get, update, list of 1000 objects,
and write-to-watch-event delivery; p50/p99 in a table, with the CPU each call cost this process
(the store's own work) and etcd (when the script started it), which a busy machine does not blur
the way it blurs latency.

Starts its own etcd (free ports, temporary data folder) unless given --endpoint; on an
--endpoint it works under a fresh /registry/bench-<pid>/ prefix and deletes it at the end.

    .venv/bin/python bench/store_latency.py [--endpoint http://127.0.0.1:23790] [-n 300]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bosun.store import Store, object_key, resource_prefix
from bosun.store.local import LocalEtcd


def pod(name: str, generation: int = 0) -> dict:
    """A pod about the size of a real one (~1 KB of JSON)."""
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                     "labels": {"app": "guestbook", "tier": "frontend", "gen": str(generation)},
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"nodeName": "minion-1", "restartPolicy": "Always", "containers": [{
            "name": "php-redis", "image": "gcr.io/google_samples/gb-frontend:v3",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "env": [{"name": "GET_HOSTS_FROM", "value": "dns"}],
            "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}]},
        "status": {"phase": "Running", "podIP": "10.244.1.17", "hostIP": "10.200.0.11",
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "php-redis", "ready": True, "restartCount": 0,
                                          "containerID": "docker://" + "f" * 64}]},
    }


def timed(calls: int, action: Callable[[int], object]) -> list[float]:
    """Milliseconds of each of `calls` calls of action(i)."""
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def threaded(threads: int, calls: int, action: Callable[[int], object]) -> list[float]:
    results: list[list[float]] = [[] for _ in range(threads)]
    workers = [threading.Thread(target=lambda r=r: r.extend(timed(calls, action)))
               for r in results]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [sample for result in results for sample in result]


def watch_delivery(store: Store, resource: str, calls: int) -> list[float]:
    """Milliseconds from the start of an update to its event reaching a watching thread."""
    key = object_key(resource, "watched", "default")
    store.create(key, pod("watched"))
    arrivals: queue.Queue[float] = queue.Queue()
    watch = store.watch(resource_prefix(resource), store.current_revision())
    reader = threading.Thread(target=lambda: [arrivals.put(time.perf_counter()) for _ in watch])
    reader.start()
    samples = []
    try:
        for i in range(calls):
            started = time.perf_counter()
            store.update(key, pod("watched", i))
            samples.append((arrivals.get(timeout=5) - started) * 1000)
    finally:
        watch.close()
        reader.join()
    return samples


class CpuMeter:
    """CPU seconds used so far by this process (all threads) and by etcd, if its pid is known."""

    def __init__(self, etcd_pid: int | None) -> None:
        self.etcd_pid = etcd_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def read(self) -> tuple[float, float | None]:
        etcd = None
        if self.etcd_pid is not None:
            fields = Path(f"/proc/{self.etcd_pid}/stat").read_text().rpartition(")")[2].split()
            etcd = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return time.process_time(), etcd


@dataclass
class Row:
    name: str
    samples: list[float]
    client_cpu: float  # ms per call
    etcd_cpu: float | None


def measure(store: Store, resource: str, calls: int, list_size: int, threads: int,
            meter: CpuMeter) -> list[Row]:
    rows: list[Row] = []

    def row(name: str, run: Callable[[], list[float]]) -> None:
        (own, etcd), samples = meter.read(), run()
        own_after, etcd_after = meter.read()
        rows.append(Row(name, samples, (own_after - own) * 1000 / len(samples),
                        None if etcd is None else (etcd_after - etcd) * 1000 / len(samples)))

    keys = [object_key(resource, f"pod-{i:05d}", "default") for i in range(calls)]
    row("create", lambda: timed(calls, lambda i: store.create(keys[i], pod(keys[i]))))
    row("get", lambda: timed(calls, lambda i: store.get(keys[i])))
    versions = [store.get(key)["metadata"]["resourceVersion"] for key in keys]
    row("update (with rv)",
        lambda: timed(calls, lambda i: store.update(keys[i], pod(keys[i], 1), versions[i])))
    row("guaranteed_update", lambda: timed(calls, lambda i: store.guaranteed_update(
        keys[i], lambda obj: pod(keys[i], 2))))
    row(f"get, {threads} threads",
        lambda: threaded(threads, calls // threads + 1, lambda i: store.get(keys[i])))
    row("current_revision", lambda: timed(calls, lambda i: store.current_revision()))
    listed = resource + "-list"
    for i in range(list_size):
        store.create(object_key(listed, f"pod-{i:05d}", "default"), pod(f"pod-{i}"))
    row(f"list({list_size})", lambda: timed(30, lambda i: store.list(resource_prefix(listed))))
    row("update -> watch event", lambda: watch_delivery(store, resource + "-watch", calls))
    return rows


def table(rows: list[Row]) -> str:
    lines = [f"{'operation':<24}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
             f"{'CPU ms/call (store / etcd)':>30}"]
    for r in rows:
        p99 = (statistics.quantiles(r.samples, n=100, method="inclusive")[98]
               if len(r.samples) > 1 else r.samples[0])
        etcd = "-" if r.etcd_cpu is None else f"{r.etcd_cpu:.2f}"
        cpu = f"{r.client_cpu:.2f} / {etcd}"
        lines.append(f"{r.name:<24}{len(r.samples):>6}{statistics.median(r.samples):>10.2f}"
                     f"{p99:>10.2f}{max(r.samples):>10.2f}{cpu:>30}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="an etcd to use instead of starting one")
    parser.add_argument("-n", "--calls", type=int, default=300)
    parser.add_argument("--list-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with ExitStack() as stack:
        endpoint, etcd_pid = args.endpoint, None
        if endpoint is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bosun-bench-")))
            etcd = stack.enter_context(LocalEtcd(folder / "data"))
            endpoint, etcd_pid = etcd.endpoint, etcd.process.pid
        store = stack.enter_context(Store(endpoint))
        resource = f"bench-{os.getpid()}"
        try:
            rows = measure(store, resource, args.calls, args.list_size, args.threads,
                           CpuMeter(etcd_pid))
        finally:
            for suffix in ("", "-list", "-watch"):
                store.delete_prefix(resource_prefix(resource + suffix))
        print(f"etcd {endpoint}, {args.calls} calls each, objects ~1 KB of JSON, "
              f"load average {os.getloadavg()[0]:.1f}")
        print(table(rows))
        print(f"TCP connections opened for unary calls: {store.connections_opened()} "
              f"(keep-alive; at most one per concurrent thread)")


if __name__ == "__main__":
    main()
