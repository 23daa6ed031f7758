#!/usr/bin/env python3
"""Latency of the API server over HTTPS as a client sees it: create, get, update (PUT),
strategic-merge patch and delete of single pods, list of 1,000 pods (JSON and Table), and watch
delivery; p50/p99/max at concurrency 1 and 8, in a table. Goal (issue 3): p99 < 50 ms for
single-object calls.

Starts its own etcd and `orchestrator.py serve` (TLS, token) in a temporary folder, or uses a
running server given by --kubeconfig (then it works in fresh namespaces and deletes them). The
client is `requests`: one kept-alive Session per client thread, `concurrency` threads with a call
in flight at once, each on its own pods. Everything it starts is stopped through its Popen handle
at the end, Ctrl-C and SIGTERM included.

    .venv/bin/python bench/api_latency.py [-n 400] [--concurrency 1 8] [--kubeconfig FILE]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3
import yaml

from bosun.store.local import LocalEtcd, free_port

ROOT = Path(__file__).resolve().parents[1]
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
SMP = "application/strategic-merge-patch+json"
IMAGE = "gcr.io/google_samples/gb-frontend"
LIST_SIZE = 1000
SINGLE_OBJECT_GOAL_MS = 50
Action = Callable[["Client", int], object]


# -- the server ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    url: str
    token: str
    verify: str | bool  # CA bundle path, or False for insecure-skip-tls-verify


def endpoint_from_kubeconfig(path: Path, folder: Path) -> Endpoint:
    """The current context's server, token and CA (CA data is written into `folder`).

    Raises SystemExit for a kubeconfig this benchmark cannot use (client certificates).
    """
    config = yaml.safe_load(path.read_text())
    context = _named(config["contexts"], config["current-context"])["context"]
    cluster = _named(config["clusters"], context["cluster"])["cluster"]
    user = _named(config["users"], context["user"])["user"]
    if "token" not in user:
        raise SystemExit(f"{path}: the user needs a bearer token")
    verify: str | bool = True
    if cluster.get("insecure-skip-tls-verify"):
        verify = False
    elif "certificate-authority-data" in cluster:
        ca = folder / "ca.crt"
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        verify = str(ca)
    elif "certificate-authority" in cluster:
        verify = str((path.parent / cluster["certificate-authority"]).resolve())
    return Endpoint(cluster["server"].rstrip("/"), user["token"], verify)


def _named(entries: list[dict], name: str) -> dict:
    return next(entry for entry in entries if entry["name"] == name)


@contextmanager
def local_server(folder: Path) -> Iterator[tuple[Endpoint, dict[str, int]]]:
    """etcd and `orchestrator.py serve` (TLS, token) of our own, stopped by handle on exit;
    the endpoint and the two processes' pids."""
    with LocalEtcd(folder / "etcd") as etcd:
        port, kubeconfig = free_port(), folder / "kubeconfig"
        argv = [sys.executable, str(ROOT / "orchestrator.py"), "serve",
                "--data-dir", str(folder / "serve"), "--etcd", etcd.endpoint,
                "--port", str(port), "--kubeconfig", str(kubeconfig)]
        with open(folder / "serve.log", "ab") as log:
            server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            endpoint = _wait_for(server, kubeconfig, folder)
            print(f"serve pid {server.pid} on {endpoint.url}, etcd {etcd.endpoint}, "
                  f"log {folder / 'serve.log'}", file=sys.stderr)
            yield endpoint, {"serve": server.pid, "etcd": etcd.process.pid}
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for(server: subprocess.Popen, kubeconfig: Path, folder: Path) -> Endpoint:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        if kubeconfig.exists():
            endpoint = endpoint_from_kubeconfig(kubeconfig, folder)
            try:
                if requests.get(endpoint.url + "/version", verify=endpoint.verify,
                                timeout=1).ok:
                    return endpoint
            except requests.RequestException:
                pass
        time.sleep(0.1)
    log = (folder / "serve.log").read_text(errors="replace")[-3000:]
    raise RuntimeError(f"serve did not come up:\n{log}")


# -- the client ------------------------------------------------------------------------------
class Client:
    """One kept-alive HTTPS connection (a requests.Session); one per client thread."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.url = endpoint.url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = endpoint.verify
        self.session.headers.update({"Authorization": f"Bearer {endpoint.token}",
                                     "Accept": "application/json"})

    def call(self, method: str, path: str, body: object = None, *,
             content_type: str = "application/json", accept: str | None = None,
             timeout: float = 30) -> dict:
        """The decoded reply. Raises RuntimeError for any answer but 2xx."""
        headers = {"Content-Type": content_type} if body is not None else {}
        if accept:
            headers["Accept"] = accept
        data = None if body is None else json.dumps(body)
        reply = self.session.request(method, self.url + path, data=data, headers=headers,
                                     timeout=timeout)
        if not reply.ok:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
        return reply.json()

    def close(self) -> None:
        self.session.close()


def pod(name: str) -> dict:
    """A pod manifest about the size of a real one (~0.6 KB; ~1 KB once the server fills it)."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "guestbook", "tier": "frontend"}},
            "spec": {"containers": [{
                "name": "php-redis", "image": f"{IMAGE}:v3",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "env": [{"name": "GET_HOSTS_FROM", "value": "dns"}],
                "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}]}}


def smp(i: int) -> dict:
    """A strategic merge patch that merges the container list by name."""
    return {"metadata": {"labels": {"rev": str(i)}},
            "spec": {"containers": [{"name": "php-redis", "image": f"{IMAGE}:v{i % 7 + 4}"}]}}


# -- measuring -------------------------------------------------------------------------------
@dataclass
class Row:
    operation: str
    concurrency: int
    samples: list[float]  # ms per call
    cpu: dict[str, float] | None = None  # ms of CPU per call, by process
    single_object: bool = False


class CpuMeter:
    """CPU time used so far by this process (the client) and by the server's processes when we
    started them (read from /proc), to tell where each call's work is done."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def read(self) -> dict[str, float]:
        used = {"client": time.process_time()}
        for name, pid in self.pids.items():
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used

    @staticmethod
    def per_call(before: dict[str, float], after: dict[str, float],
                 calls: int) -> dict[str, float]:
        return {name: (after[name] - before[name]) * 1000 / calls for name in before}


def concurrently(endpoint: Endpoint, concurrency: int, calls: int,
                 action: Action) -> list[float]:
    """action(client, i) for i in range(calls), spread over `concurrency` threads that each
    have their own kept-alive client and start together; milliseconds of each call."""
    samples: list[float] = []
    failures: list[BaseException] = []
    start = threading.Barrier(concurrency)

    def work(worker: int) -> None:
        client = Client(endpoint)
        try:
            client.call("GET", "/version")  # the TLS handshake, outside the samples
            start.wait()
            for i in range(worker, calls, concurrency):
                began = time.perf_counter()
                action(client, i)
                samples.append((time.perf_counter() - began) * 1000)
        except BaseException as error:  # reported by the main thread
            failures.append(error)
            start.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        real = [f for f in failures if not isinstance(f, threading.BrokenBarrierError)]
        raise RuntimeError(f"a client thread failed: {(real or failures)[0]!r}")
    return samples


@dataclass
class Phase:
    """The measurements at one concurrency, in one namespace."""

    endpoint: Endpoint
    concurrency: int
    meter: CpuMeter

    def timed(self, operation: str, calls: int, action: Action,
              single_object: bool = False) -> Row:
        before = self.meter.read()
        samples = concurrently(self.endpoint, self.concurrency, calls, action)
        return Row(operation, self.concurrency, samples,
                   CpuMeter.per_call(before, self.meter.read(), calls), single_object)


def single_object_rows(phase: Phase, namespace: str, calls: int) -> list[Row]:
    base = f"/api/v1/namespaces/{namespace}/pods"
    names = [f"c{phase.concurrency}-pod-{i:05d}" for i in range(calls)]
    latest: dict[int, dict] = {}

    def create(client: Client, i: int) -> None:
        latest[i] = client.call("POST", base, pod(names[i]))

    def update(client: Client, i: int) -> None:
        obj = latest[i]
        obj["metadata"]["labels"]["updated"] = "yes"
        latest[i] = client.call("PUT", f"{base}/{names[i]}", obj)

    def patch(client: Client, i: int) -> None:
        client.call("PATCH", f"{base}/{names[i]}", smp(i), content_type=SMP)

    return [phase.timed("create pod", calls, create, True),
            phase.timed("get pod", calls, lambda c, i: c.call("GET", f"{base}/{names[i]}"),
                        True),
            phase.timed("update pod (PUT)", calls, update, True),
            phase.timed("patch pod (strategic merge)", calls, patch, True),
            phase.timed("delete pod", calls,
                        lambda c, i: c.call("DELETE", f"{base}/{names[i]}"), True)]


def list_rows(phase: Phase, namespace: str, calls: int) -> list[Row]:
    path = f"/api/v1/namespaces/{namespace}/pods"

    def listed(accept: str | None, kind: str) -> Action:
        def action(client: Client, _i: int) -> None:
            reply = client.call("GET", path, accept=accept)
            count = len(reply["rows" if kind == "Table" else "items"])
            if reply["kind"] != kind or count != LIST_SIZE:
                raise RuntimeError(f"expected a {kind} of {LIST_SIZE}, got {reply['kind']} "
                                   f"of {count}")
        return action

    return [phase.timed(f"list {LIST_SIZE} pods (JSON)", calls, listed(None, "PodList")),
            phase.timed(f"list {LIST_SIZE} pods (Table)", calls, listed(TABLE_ACCEPT, "Table"))]


def watch_rows(phase: Phase, namespace: str, calls: int) -> list[Row]:
    """One watcher on the namespace; `concurrency` clients patch a pod each. Events are matched
    to writes by resourceVersion, so the order of their arrival does not matter."""
    base = f"/api/v1/namespaces/{namespace}/pods"
    width = phase.concurrency
    names = [f"c{width}-watched-{w}" for w in range(width)]
    concurrently(phase.endpoint, width, width, lambda c, i: c.call("POST", base, pod(names[i])))
    writes: dict[str, tuple[float, float]] = {}

    def write(client: Client, i: int) -> None:
        began = time.perf_counter()
        reply = client.call("PATCH", f"{base}/{names[i % width]}", smp(i), content_type=SMP)
        writes[reply["metadata"]["resourceVersion"]] = (began, time.perf_counter())

    with Watcher(phase.endpoint, base) as watcher:
        concurrently(phase.endpoint, 1, 1, write)  # the etcd watch is surely open after this
        watcher.wait_for(set(writes), 10)
        writes.clear()
        before = phase.meter.read()
        concurrently(phase.endpoint, width, calls, write)
        arrivals = watcher.wait_for(set(writes), 30)
        cpu = CpuMeter.per_call(before, phase.meter.read(), calls)
    after_return = [(arrivals[rv] - returned) * 1000 for rv, (_, returned) in writes.items()]
    early = sum(1 for ms in after_return if ms < 0)
    print(f"concurrency {width}: {early} of {len(after_return)} watch events arrived before "
          f"their write's reply (counted as 0 ms)", file=sys.stderr)
    return [Row("watch: patch sent -> event", width,
                [(arrivals[rv] - began) * 1000 for rv, (began, _) in writes.items()], cpu),
            Row("watch: patch returned -> event", width, [max(ms, 0.0) for ms in after_return])]


class Watcher:
    """A watch on `path` in a thread of its own; when each resourceVersion arrived."""

    def __init__(self, endpoint: Endpoint, path: str) -> None:
        self.client = Client(endpoint)
        since = self.client.call("GET", f"{path}?limit=1")["metadata"]["resourceVersion"]
        self.reply = self.client.session.get(
            f"{endpoint.url}{path}?watch=1&resourceVersion={since}", stream=True,
            timeout=(5, None))
        if not self.reply.ok:
            raise RuntimeError(f"watch {path}: {self.reply.status_code} {self.reply.text[:300]}")
        self.arrivals: dict[str, float] = {}
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.reply.iter_lines(chunk_size=None):
                arrived = time.perf_counter()
                event = json.loads(line)
                with self.changed:
                    self.arrivals[event["object"]["metadata"]["resourceVersion"]] = arrived
                    self.changed.notify_all()
        except (requests.RequestException, urllib3.exceptions.HTTPError, AttributeError,
                ValueError):
            pass  # closed by __exit__ (AttributeError: urllib3 after its socket is gone)

    def wait_for(self, versions: set[str], timeout: float) -> dict[str, float]:
        """Arrival times of `versions`. Raises RuntimeError if some do not come in time."""
        with self.changed:
            if not self.changed.wait_for(lambda: versions <= self.arrivals.keys(), timeout):
                missing = len(versions - self.arrivals.keys())
                raise RuntimeError(f"{missing} watch events did not arrive in {timeout} s")
            return {rv: self.arrivals[rv] for rv in versions}

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Closing the response alone would wait for the reading thread's lock: shut the socket
        # first, which ends the thread's read.
        connection = self.reply.raw.connection
        if connection is not None and connection.sock is not None:
            connection.sock.shutdown(socket.SHUT_RDWR)
        self.reply.close()
        self.client.close()
        self.thread.join(5)


# -- the table -------------------------------------------------------------------------------
def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def table(rows: list[Row]) -> str:
    processes = next((list(row.cpu) for row in rows if row.cpu), [])
    lines = ["| operation | concurrency | n | p50 ms | p99 ms | max ms | CPU ms/call "
             f"({' / '.join(processes)}) |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        cpu = " / ".join(f"{row.cpu[p]:.1f}" for p in processes) if row.cpu else ""
        lines.append(f"| {row.operation} | {row.concurrency} | {len(row.samples)} | "
                     f"{percentile(row.samples, 50):.1f} | {percentile(row.samples, 99):.1f} | "
                     f"{max(row.samples):.1f} | {cpu} |")
    return "\n".join(lines)


def goal_line(rows: list[Row]) -> str:
    single = [row for row in rows if row.single_object]
    worst = max(single, key=lambda row: percentile(row.samples, 99))
    p99 = percentile(worst.samples, 99)
    verdict = "met" if p99 < SINGLE_OBJECT_GOAL_MS else "NOT met"
    return (f"goal p99 < {SINGLE_OBJECT_GOAL_MS} ms for single-object calls: {verdict} "
            f"(worst: {worst.operation} at concurrency {worst.concurrency}, p99 {p99:.1f} ms)")


# -- main ------------------------------------------------------------------------------------
def measure(endpoint: Endpoint, meter: CpuMeter, namespaces: list[str],
            args: argparse.Namespace) -> list[Row]:
    work, listed = namespaces
    admin = Client(endpoint)
    for namespace in namespaces:
        admin.call("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    admin.close()
    concurrently(endpoint, 8, LIST_SIZE, lambda c, i: c.call(
        "POST", f"/api/v1/namespaces/{listed}/pods", pod(f"listed-{i:05d}")))
    concurrently(endpoint, 1, 20, lambda c, i: c.call(  # warm-up: first-call costs
        "GET", f"/api/v1/namespaces/{listed}/pods/listed-{i:05d}"))
    rows = []
    for concurrency in args.concurrency:
        phase = Phase(endpoint, concurrency, meter)
        rows += [*single_object_rows(phase, work, args.calls),
                 *list_rows(phase, listed, args.list_calls),
                 *watch_rows(phase, work, args.calls)]
    return rows


def remove_namespaces(endpoint: Endpoint, namespaces: list[str]) -> None:
    """Best effort on a server we did not start: report, do not raise."""
    admin = Client(endpoint)
    for namespace in namespaces:
        try:
            admin.call("DELETE", f"/api/v1/namespaces/{namespace}", timeout=300)
        except (RuntimeError, requests.RequestException) as error:
            print(f"could not delete namespace {namespace}: {error}", file=sys.stderr)
    admin.close()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, help="a running server to measure instead")
    parser.add_argument("--server-pid", type=int,
                        help="with --kubeconfig: that server's pid, to count its CPU too")
    parser.add_argument("-n", "--calls", type=int, default=400,
                        help="calls per single-object operation and concurrency (default 400)")
    parser.add_argument("--list-calls", type=int, default=40,
                        help=f"lists of {LIST_SIZE} pods per format and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    return parser.parse_args()


def main() -> int:
    args = arguments()
    signal.signal(signal.SIGTERM, _interrupt)  # stop what we started on SIGTERM too
    namespaces = [f"bench-api-{os.getpid()}", f"bench-api-{os.getpid()}-list"]
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bosun-api-")))
        if args.kubeconfig:
            endpoint = endpoint_from_kubeconfig(args.kubeconfig, folder)
            pids = {"serve": args.server_pid} if args.server_pid else {}
            stack.callback(remove_namespaces, endpoint, namespaces)
        else:
            endpoint, pids = stack.enter_context(local_server(folder))
        try:
            rows = measure(endpoint, CpuMeter(pids), namespaces, args)
        except KeyboardInterrupt:
            print("interrupted; stopping what was started", file=sys.stderr)
            return 130
    print(f"server {urllib.parse.urlsplit(endpoint.url).netloc} (TLS, bearer token); client: "
          f"one kept-alive requests.Session per client thread; pods ~1 KB")
    print(table(rows))
    print(goal_line(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
