#!/usr/bin/env python3
"""Issue 6's service proxy benchmark, both parts in one run on one 3-minion lab of its own.

(1) Requests per second through a service's VIP against straight to its pods: an RC of 3 echo
pods (busybox httpd answering its pod name, one pod per minion) behind a ClusterIP service; one
client, `bench/proxy_load.py`, run inside minion-1's network namespace (`nsenter --net`: the
iptables REDIRECT and haproxy are per namespace, so only a client there goes through the VIP).
Every request is a new TCP connection, `GET / HTTP/1.0`, read to EOF, body checked. Each
round alternates 0.5 s slices of direct (round robin over the 3 pod IP:8080) and VIP (cluster
IP:80), so both see the same machine load even while other work comes and goes.
(2) Time from an Endpoints change to every minion's haproxy serving it, for RC scale 3->4, scale
4->3 and a deleted pod (its removal, then its replacement): the change is timed from when a
watch on the Endpoints object (through the API, kubernetes client) shows it to when every
minion's running haproxy sends connections to exactly those pods (its runtime API's `show
servers state`) and its haproxy.cfg lists the same pods (IP and, from the server's comment,
name: a replacement often gets its predecessor's IP), polled on all 3 minions in parallel over
kept-open SSH connections (bosun.minion). The mtimes of haproxy.cfg and the pidfile tell when the
cfg was written and whether haproxy was restarted for the change (an endpoints-only change
should reach the running haproxy through its runtime API, with no restart).

`--proxy-mode iptables` puts the lab's minions in iptables mode (bosun_proxy_mode: the kernel
DNATs the VIP, no haproxy) and runs (1) only: (2) polls haproxy.cfg. `--direct-from-bridge`
makes the direct slices' connections come from minion-1's docker0 address instead of its lab
address: with DNAT, the client's TCP stack sees the VIP, not the pod, so a direct and a VIP
connection from one address and port to one pod get unrelated sequence numbers and timestamps,
and a SYN that reuses the 4-tuple of a connection still in TIME_WAIT on the pod is refused
(PAWS) and retried after 1 s. Alternating direct and VIP slices from one client makes that
common; real clients rarely reach one pod both ways. (haproxy's connections to the pods come
from the same address pair as the direct ones, so haproxy mode never shows it.)
`--random-direct` adds a third kind of slice, straight to the pods like direct but picking a pod
at random as iptables mode's DNAT does: the VIP's cost apart from the balancing.

It brings the lab up (`orchestrator.py lab up --index 8 --state-dir DIR`) and takes it down at
the end, also on failure or SIGTERM, unless --keep-lab; the RC and the service are deleted in any
case. Root, like the lab. Prints one table. It measures the lib/ beside it: to measure a commit
while others edit lib/, run it from a `git worktree` of that commit with PYTHONPATH=WORKTREE/lib
and WORKTREE/.venv a symlink to the venv (the report names the commit).

    .venv/bin/python bench/proxy.py [--index 8] [--state-dir /tmp/bosun-bench-proxy]
        [--concurrency 16] [--duration 5] [--slice 0.5] [--rounds 3] [--changes 10]
        [--poll-ms 50] [--proxy-mode haproxy|iptables] [--direct-from-bridge]
        [--random-direct]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client, config, watch
from report import (
    lab,
    log,
    median,
    percentile,
    print_table,
    source_version,
    wait_until,
)

from bosun.inventory import load_inventory
from bosun.lab.build import set_proxy_mode
from bosun.lab.spec import LabSpec
from bosun.lab.system import in_netns
from bosun.minion import Fleet, Minion
from bosun.proxy.haproxy import HAPROXY_CFG, PIDFILE, STATS_SOCKET, read_servers_state
from bosun.proxy.saved import bosun_chains

ROOT = Path(__file__).resolve().parents[1]
LOAD_SCRIPT = ROOT / "bench" / "proxy_load.py"
NS = "default"
NAME = "bench-echo"
LABELS = {"app": NAME}
SELECTOR = f"app={NAME}"
IMAGE = "bosun/busybox:1"
POD_PORT = 8080
SERVICE_PORT = 80
SERVE = f"hostname > /www/index.html && exec httpd -f -p {POD_PORT} -h /www"
RATIO_GOAL, CONVERGE_GOAL = 0.90, 1.0
V1_USERSPACE, V1_IPTABLES = 0.36, 0.96  # Kubernetes v1.0's proxies, as issue 6 quotes them
# Fixed text, no value from any object: the running haproxy's servers (runtime API), haproxy.cfg,
# then the mtimes of it and of the pidfile. The kubelet tells the running haproxy first and
# writes the cfg after, so a poll counts a change as served once both show it.
POLL_SEPARATOR = "----bench-poll----"
POLL_SCRIPT = (f"echo 'show servers state' | socat -t 2 stdio unix-connect:{STATS_SOCKET}; "
               f"echo {POLL_SEPARATOR}; cat {HAPROXY_CFG} && stat -c %.9Y {HAPROXY_CFG} {PIDFILE}")
# perf_counter() + WALL_OFFSET = time.time(): file times on the minions (same kernel clock) are
# compared with the watch's arrival times.
WALL_OFFSET = time.time() - time.perf_counter()
_LISTEN = re.compile(r"^listen (\S+)")
# `server IP:PORT IP:PORT  # pod NAMESPACE/NAME on MINION` (the comment names the pod)
_SERVER = re.compile(r"^\s+server (\d+\.\d+\.\d+\.\d+):\d+ \S+(?:\s+# pod (\S+))?")
# A ready endpoint as "IP NAMESPACE/POD": Docker gives a replacement pod on the same minion the
# IP its predecessor had, so the IP alone does not tell them apart.
Backend = str






def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- the echo RC and service through the API ------------------------------------------------------
def rc_manifest(replicas: int) -> dict:
    # Grace 1 s: busybox httpd as PID 1 ignores SIGTERM; the pod leaves Endpoints at once anyway.
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": NAME},
            "spec": {"replicas": replicas, "selector": dict(LABELS), "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                    "name": "web", "image": IMAGE, "command": ["sh", "-c", SERVE],
                    "ports": [{"name": "http", "containerPort": POD_PORT}]}]}}}}


def service_manifest() -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": NAME},
            "spec": {"selector": dict(LABELS),
                     "ports": [{"port": SERVICE_PORT, "targetPort": "http"}]}}


def echo_pods(v1: client.CoreV1Api) -> list[client.V1Pod]:
    return v1.list_namespaced_pod(NS, label_selector=SELECTOR).items


def settled(v1: client.CoreV1Api, replicas: int) -> list[client.V1Pod] | None:
    """The RC's pods when exactly `replicas` exist, all Running with an IP, none terminating."""
    pods = echo_pods(v1)
    if len(pods) != replicas or any(p.metadata.deletion_timestamp or not p.status.pod_ip
                                    or p.status.phase != "Running" for p in pods):
        return None
    return pods


def scale(v1: client.CoreV1Api, replicas: int) -> None:
    v1.patch_namespaced_replication_controller_scale(NAME, NS, {"spec": {"replicas": replicas}})


def remove_echo(v1: client.CoreV1Api) -> None:
    """Scale the RC to 0, wait for its pods to go, delete it and the service (each if there)."""
    try:
        scale(v1, 0)
        wait_until(lambda: not echo_pods(v1), 120, "the echo pods to go")
        v1.delete_namespaced_replication_controller(NAME, NS)
    except client.ApiException as error:
        if error.status != 404:
            raise
    try:
        v1.delete_namespaced_service(NAME, NS)
    except client.ApiException as error:
        if error.status != 404:
            raise


def backend(ip: str, pod: str | None) -> Backend:
    return f"{ip} {pod or '?'}"


def ready_backends(endpoints: client.V1Endpoints) -> frozenset[Backend]:
    return frozenset(backend(a.ip, f"{a.target_ref.namespace}/{a.target_ref.name}"
                             if a.target_ref else None)
                     for s in endpoints.subsets or [] for a in s.addresses or [])


def pod_backends(pods: list[client.V1Pod]) -> frozenset[Backend]:
    return frozenset(backend(p.status.pod_ip, f"{p.metadata.namespace}/{p.metadata.name}")
                     for p in pods)


class EndpointsWatch:
    """A watch on the echo service's Endpoints in a thread of its own, on a client of its own;
    every event stamped on arrival (perf_counter) with its ready backends."""

    def __init__(self, kubeconfig: Path) -> None:
        self.api_client = config.new_client_from_config(str(kubeconfig))
        self.v1 = client.CoreV1Api(self.api_client)
        self.events: list[tuple[float, frozenset[Backend]]] = []
        self.changed = threading.Condition()
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="bench-endpoints", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        fields = f"metadata.name={NAME}"
        while not self.closing.is_set():
            try:
                listed = self.v1.list_namespaced_endpoints(NS, field_selector=fields)
                for item in listed.items:
                    self._record(time.perf_counter(), item)
                stream = watch.Watch().stream(
                    self.v1.list_namespaced_endpoints, NS, field_selector=fields,
                    resource_version=listed.metadata.resource_version, timeout_seconds=2)
                for event in stream:
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._record(time.perf_counter(), event["object"])
                    elif event["type"] == "DELETED":
                        self._record_set(time.perf_counter(), frozenset())
                    if self.closing.is_set():
                        return
            except (client.ApiException, OSError, ValueError) as error:
                if not self.closing.is_set():
                    log(f"endpoints watch ended ({error}); watching again")
                time.sleep(0.1)

    def _record(self, arrived: float, endpoints: client.V1Endpoints) -> None:
        if endpoints.metadata.name == NAME:
            self._record_set(arrived, ready_backends(endpoints))

    def _record_set(self, arrived: float, backends: frozenset[Backend]) -> None:
        with self.changed:
            if not self.events or self.events[-1][1] != backends:
                self.events.append((arrived, backends))
            self.changed.notify_all()

    def wait(self, test: Callable[[frozenset[Backend]], bool], since: float,
             timeout: float = 120) -> tuple[float, frozenset[Backend]]:
        """(arrival, ready backends) of the first event at or after `since` passing `test`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for arrived, backends in self.events:
                    if arrived >= since and test(backends):
                        return arrived, backends
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"Endpoints {NAME}: not as waited for in {timeout} s; "
                                       f"last {self.latest()}")
                self.changed.wait(left)

    def latest(self) -> frozenset[Backend]:
        with self.changed:
            return self.events[-1][1] if self.events else frozenset()

    def close(self) -> None:
        self.closing.set()
        self.thread.join(10)
        self.api_client.close()


# -- what each minion's haproxy serves ------------------------------------------------------------
def served_servers(config_text: str) -> frozenset[Backend]:
    """Backends (pod IP and name) of the echo service's listener in a haproxy.cfg."""
    found, ours = set(), False
    for line in config_text.splitlines():
        if listen := _LISTEN.match(line):
            ours = listen.group(1).startswith(f"{NS}.{NAME}.")
        elif ours and (server := _SERVER.match(line)):
            found.add(backend(server.group(1), server.group(2)))
    return frozenset(found)


@dataclass
class Poll:
    sent: float  # perf_counter() when the poll was sent and its reply received
    received: float
    servers: frozenset[Backend] | None  # None: the running haproxy and its cfg disagree
    written: float = 0.0  # haproxy.cfg's and the pidfile's mtimes, on the perf_counter() clock
    started: float = 0.0


def poll(minion: Minion) -> Poll:
    """What the minion's haproxy serves for the echo service, in one exec."""
    sent = time.perf_counter()
    done = minion.run(["sh", "-c", POLL_SCRIPT])
    received = time.perf_counter()
    if done.exit_code != 0:
        return Poll(sent, received, None)
    state, rest = done.text.split(POLL_SEPARATOR + "\n", 1)
    config_text, written_at, started_at, _ = rest.rsplit("\n", 3)
    written, started = float(written_at) - WALL_OFFSET, float(started_at) - WALL_OFFSET
    listed = served_servers(config_text)
    running = read_servers_state(state) or {}
    serving = {name.split(":")[0] for listener, servers in running.items()
               if listener.startswith(f"{NS}.{NAME}.") for name, up in servers.items() if up}
    agree = serving == {b.split()[0] for b in listed}
    return Poll(sent, received, listed if agree else None, written, started)


def served(minion: Minion) -> frozenset[Backend] | None:
    return poll(minion).servers


def dnat_targets(minion: Minion) -> frozenset[str]:
    """Pod IPs the minion's iptables-mode rules send the echo service's VIP to."""
    saved = minion.check(["iptables-save", "-t", "nat"]).text
    return frozenset(rule[rule.index("--to-destination") + 1].rsplit(":", 1)[0]
                     for rules in bosun_chains(saved).values() for rule in rules
                     if "--to-destination" in rule and f"{NS}/{NAME}:{SERVICE_PORT}" in rule)


@dataclass
class Poller:
    """Polls one minion every `interval` s in a thread while running; keeps every answer."""

    minion: Minion
    interval: float
    polls: list[Poll] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.running.set()
        self.thread = threading.Thread(target=self._loop, name=f"poll-{self.minion.name}",
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.running.clear()
        if self.thread is not None:
            self.thread.join(30)

    def _loop(self) -> None:
        while self.running.is_set():
            answer = poll(self.minion)
            with self.lock:
                self.polls.append(answer)
            time.sleep(max(0.0, answer.sent + self.interval - time.perf_counter()))

    def first(self, test: Callable[[frozenset[Backend]], bool], since: float) -> Poll | None:
        """The first poll sent at or after `since` whose servers passed `test`."""
        with self.lock:
            for answer in self.polls:
                if answer.sent >= since and answer.servers is not None and test(answer.servers):
                    return answer
        return None


def every_minion(pollers: list[Poller], test: Callable[[frozenset[Backend]], bool], since: float,
                 timeout: float = 60) -> dict[str, Poll]:
    """Minion name -> the first poll that saw its haproxy serve what passes `test`, once all
    of them did."""
    def look() -> dict[str, Poll] | None:
        found = {p.minion.name: p.first(test, since) for p in pollers}
        return found if all(t is not None for t in found.values()) else None  # type: ignore
    return wait_until(look, timeout, "every minion's haproxy to serve the change", 0.02)


# -- (1) requests per second ----------------------------------------------------------------------
def haproxy_pid(spec: LabSpec, minion: int) -> int | None:
    try:
        return int((spec.minion(minion).pid_file("haproxy")).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pod_cgroups(spec: LabSpec) -> list[str]:
    """The cpuacct.usage files of the minions' container cgroups (cgroup v1, as in the lab)."""
    found = []
    for minion in spec.all_minions():
        path = Path("/sys/fs/cgroup/cpuacct") / minion.cgroup_parent / "cpuacct.usage"
        if path.exists():
            found.append(str(path))
    return found


def load_round(spec: LabSpec, args: argparse.Namespace, targets: dict[str, list[str]],
               names: list[str]) -> dict[str, dict]:
    """One run of the load generator in minion-1's network namespace: mode -> its result, with
    minion-1's haproxy CPU counted per mode."""
    argv = [sys.executable, str(LOAD_SCRIPT), "--concurrency", str(args.concurrency),
            "--duration", str(args.duration), "--slice", str(args.slice),
            "--warmup", str(args.warmup)]
    for mode, mode_targets in targets.items():
        argv += ["--mode", f"{mode}={','.join(mode_targets)}"]
    for name in names:
        argv += ["--expect", name]
    if args.direct_from_bridge:
        argv += ["--source", f"direct={spec.minion(1).bridge_ip}",
                 "--source", f"random={spec.minion(1).bridge_ip}"]
    if "random" in targets:
        argv += ["--random", "random"]
    pid = haproxy_pid(spec, 1)
    if pid is not None:
        argv += ["--pid", str(pid)]
    cgroups = pod_cgroups(spec)
    for path in cgroups:
        argv += ["--cgroup", path]
    # nsenter --net, not `ip netns exec`: that one also remounts /sys, which hides the cgroup
    # files; the client needs only the network namespace.
    retransmits = syn_retransmits(spec)
    done = subprocess.run(in_netns(spec.minion(1).netns, argv), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL,
                          timeout=2 * (args.duration + args.warmup) + 120)
    if done.returncode != 0:
        raise RuntimeError(f"load generator exited {done.returncode}: {done.stderr[-2000:]}")
    results = json.loads(done.stdout)
    retransmits = syn_retransmits(spec) - retransmits
    for result in results.values():
        result["syn_retransmits"] = retransmits  # the round's, both modes together
        result["rate"] = result["ok"] / result["seconds"]
        result["haproxy_cpu"] = result["cpu"].get(str(pid), 0.0)
        result["pods_cpu"] = sum(result["cpu"].get(path, 0.0) for path in cgroups)
        result["machine_cores"] = result["cpu"]["machine"] / result["seconds"]
    return results


def syn_retransmits(spec: LabSpec) -> int:
    """SYNs minion-1's network namespace has sent again so far (each one a second's stall)."""
    done = subprocess.run(in_netns(spec.minion(1).netns, ["nstat", "-asz",
                                                          "TcpExtTCPSynRetrans"]),
                          capture_output=True, text=True, check=True)
    return sum(int(line.split()[1]) for line in done.stdout.splitlines()
               if line.startswith("TcpExtTCPSynRetrans"))


def throughput(spec: LabSpec, args: argparse.Namespace, pods: list[client.V1Pod],
               vip: str) -> dict[str, list[dict]]:
    """`rounds` runs of the load generator, each alternating direct and VIP slices."""
    names = [p.metadata.name for p in pods]
    targets = {"direct": [f"{p.status.pod_ip}:{POD_PORT}" for p in pods],
               "vip": [f"{vip}:{SERVICE_PORT}"]}
    if args.random_direct:
        targets["random"] = targets["direct"]
    rounds: dict[str, list[dict]] = {mode: [] for mode in targets}
    for round_ in range(args.rounds):
        results = load_round(spec, args, targets, names)
        for mode, result in results.items():
            rounds[mode].append(result)
        log(f"(1) round {round_ + 1}/{args.rounds}: " + "; ".join(
            f"{mode} {r['rate']:.0f} req/s, {sum(r['errors'].values())} errors, machine "
            f"{r['machine_cores']:.2f} cores busy" for mode, r in results.items())
            + f"; SYNs sent again {results['direct']['syn_retransmits']}")
    return rounds


# -- (2) from an Endpoints change to every minion serving it --------------------------------------
@dataclass
class Change:
    """One Endpoints change; every time after the watch showed it, in seconds."""

    kind: str
    action_to_endpoints: float  # the API call -> the watch shows the change
    endpoints_to_served: float  # -> a poll saw the last minion serve it (its reply's arrival)
    seen: dict[str, float]  # minion -> a poll saw its haproxy serve it
    written: dict[str, float]  # minion -> haproxy.cfg written (its mtime)
    started: dict[str, float]  # minion -> the haproxy serving it started (pidfile mtime)


def measured(kind: str, acted: float, event: float, pollers: list[Poller],
             test: Callable[[frozenset[Backend]], bool]) -> Change:
    """The times of one change; the served time is a poll's reply (an upper bound)."""
    polls = every_minion(pollers, test, acted)
    change = Change(kind, event - acted, max(p.received for p in polls.values()) - event,
                    {n: p.received - event for n, p in polls.items()},
                    {n: p.written - event for n, p in polls.items()},
                    {n: p.started - event for n, p in polls.items()})
    log(f"(2) {kind}: Endpoints {change.action_to_endpoints:.2f} s after the call, every minion "
        f"{change.endpoints_to_served:.3f} s after that; per minion cfg written / haproxy "
        f"(re)started (negative: before the change) / seen: " + ", ".join(
            f"{n} {change.written[n]:.3f}/{change.started[n]:.3f}/{change.seen[n]:.3f}"
            for n in polls))
    return change


def scale_change(v1: client.CoreV1Api, ends: EndpointsWatch, pollers: list[Poller],
                 replicas: int) -> Change:
    before = ends.latest()
    acted = time.perf_counter()
    scale(v1, replicas)
    grows = replicas > len(before)
    event, after = ends.wait(lambda s: len(s) == replicas and (s > before if grows
                                                              else s < before), acted)
    kind = f"scale RC {len(before)}->{replicas}"
    return measured(kind, acted, event, pollers, lambda s: s == after)


def delete_change(v1: client.CoreV1Api, ends: EndpointsWatch, pollers: list[Poller],
                  victim: client.V1Pod) -> list[Change]:
    """Delete one pod: its removal, then its replacement by the RC (often with the same IP)."""
    dead = backend(victim.status.pod_ip, f"{NS}/{victim.metadata.name}")
    acted = time.perf_counter()
    v1.delete_namespaced_pod(victim.metadata.name, NS)
    event, _ = ends.wait(lambda s: dead not in s, acted)
    gone = measured("delete pod: removed", acted, event, pollers, lambda s: dead not in s)
    event, after = ends.wait(lambda s: len(s) == 3 and dead not in s, acted)
    back = measured("delete pod: replacement", acted, event, pollers, lambda s: s == after)
    return [gone, back]


def converge_all(v1: client.CoreV1Api, ends: EndpointsWatch, pollers: list[Poller],
                 replicas: int) -> frozenset[Backend]:
    """Wait for the RC to settle at `replicas` and every minion to serve its pods."""
    pods = wait_until(lambda: settled(v1, replicas), 120, f"{replicas} settled echo pods")
    backends = pod_backends(pods)  # type: ignore[arg-type]
    wait_until(lambda: ends.latest() == backends, 60, "Endpoints to list the settled pods")
    every_minion(pollers, lambda s: s == backends, time.perf_counter())
    return backends


def endpoint_changes(v1: client.CoreV1Api, ends: EndpointsWatch, pollers: list[Poller],
                     count: int) -> list[Change]:
    """`count` rounds, alternating: scale 3->4 then back to 3; delete one pod (minions in turn)."""
    changes: list[Change] = []
    for i in range(count):
        converge_all(v1, ends, pollers, 3)
        if i % 2 == 0:
            changes.append(scale_change(v1, ends, pollers, 4))
            converge_all(v1, ends, pollers, 4)
            changes.append(scale_change(v1, ends, pollers, 3))
        else:
            pods = sorted(echo_pods(v1), key=lambda p: p.spec.node_name or "")
            changes += delete_change(v1, ends, pollers, pods[(i // 2) % len(pods)])
    converge_all(v1, ends, pollers, 3)
    return changes


def poll_cost(pollers: list[Poller], seconds: float = 3.0) -> tuple[float, float]:
    """Start the pollers; (polls per second, this process's CPU-s per second more than while
    they were off) over `seconds` each way. The minions' side (an sshd session, sh, cat and
    stat per poll) is not in it."""
    rates, cpu = [], []
    for on in (False, True):
        if on:
            for p in pollers:
                p.start()
        polls0 = sum(len(p.polls) for p in pollers)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        wall = time.perf_counter() - wall0
        rates.append((sum(len(p.polls) for p in pollers) - polls0) / wall)
        cpu.append((time.process_time() - cpu0) / wall)
    return rates[1], cpu[1] - cpu[0]


# -- the run --------------------------------------------------------------------------------------
def run(spec: LabSpec, args: argparse.Namespace, results: dict) -> None:
    api_client = config.new_client_from_config(str(spec.kubeconfig))
    v1 = client.CoreV1Api(api_client)
    ends = EndpointsWatch(spec.kubeconfig)
    with Fleet(load_inventory(spec.inventory_path).minions(), timeout=120) as fleet:
        pollers = [Poller(m, args.poll_ms / 1000) for m in fleet]
        try:
            remove_echo(v1)  # an earlier run's, on a kept lab
            log("creating the echo RC (3 pods) and its service")
            v1.create_namespaced_replication_controller(NS, rc_manifest(3))
            vip = v1.create_namespaced_service(NS, service_manifest()).spec.cluster_ip
            results["vip"] = vip
            pods = wait_until(lambda: settled(v1, 3), 120, "3 running echo pods")
            backends = pod_backends(pods)  # type: ignore[arg-type]
            wait_until(lambda: ends.latest() == backends, 60, "Endpoints listing the 3 pods")
            if args.proxy_mode == "iptables":
                ips = frozenset(p.status.pod_ip for p in pods)  # type: ignore[union-attr]
                wait_until(lambda: all(dnat_targets(m) == ips for m in fleet), 60,
                           "every minion's rules DNATing to the 3 pods")
            else:
                wait_until(lambda: all(served(m) == backends for m in fleet), 60,
                           "every minion's haproxy serving the 3 pods")
            results["spread"] = sorted(p.spec.node_name for p in pods)  # type: ignore
            log(f"(1) {args.rounds} rounds each, direct and VIP {vip}:{SERVICE_PORT}, "
                f"concurrency {args.concurrency}, {args.duration:g} s")
            results["load"] = throughput(spec, args, pods, vip)  # type: ignore[arg-type]
            if args.proxy_mode == "iptables":
                return  # (2) times haproxy.cfg changes
            log(f"(2) {args.changes} rounds of Endpoints changes, polling every "
                f"{args.poll_ms:g} ms")
            results["poll_cost"] = poll_cost(pollers)
            results["changes"] = endpoint_changes(v1, ends, pollers, args.changes)
            results["poll_rtt"] = [p.received - p.sent for pl in pollers for p in pl.polls]
        finally:
            for p in pollers:
                p.stop()
            ends.close()
            log("deleting the echo RC and service")
            remove_echo(v1)
            api_client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=int, default=8, help="lab index (default 8)")
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/bosun-bench-proxy"))
    parser.add_argument("--concurrency", type=int, default=16, help="(1) requests in flight")
    parser.add_argument("--duration", type=float, default=5.0,
                        help="(1) measured seconds per mode and round")
    parser.add_argument("--slice", type=float, default=0.5,
                        help="(1) seconds per slice; slices alternate direct and VIP")
    parser.add_argument("--warmup", type=float, default=0.5,
                        help="(1) unmeasured seconds per mode before each round")
    parser.add_argument("--rounds", type=int, default=3, help="(1) load generator runs")
    parser.add_argument("--changes", type=int, default=10,
                        help="(2) rounds, alternating scale 3->4->3 and a deleted pod")
    parser.add_argument("--poll-ms", type=float, default=50, help="(2) poll interval per minion")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab up at the end")
    parser.add_argument("--proxy-mode", choices=("haproxy", "iptables"), default="haproxy",
                        help="the minions' bosun_proxy_mode; iptables: (1) only")
    parser.add_argument("--direct-from-bridge", action="store_true",
                        help="(1) direct slices from minion-1's docker0 address (see above)")
    parser.add_argument("--random-direct", action="store_true",
                        help="(1) also slices straight to a pod picked at random")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spec = LabSpec(args.state_dir.resolve(), minions=3, index=args.index)
    results: dict = {"loadavg": [loadavg()], "args": args, "version": source_version()}
    try:
        log(f"lab up: index {spec.index}, {spec.state_dir}; load average {loadavg()}")
        lab("up", spec)
        if args.proxy_mode != "haproxy":
            log(f"proxy mode {args.proxy_mode}: inventory changed, the lab's serve restarted")
            set_proxy_mode(spec, args.proxy_mode)
        run(spec, args, results)
        results["loadavg"].append(loadavg())
    finally:
        if not args.keep_lab:
            take_down(spec)
    report(results)
    return 0


def take_down(spec: LabSpec) -> None:
    """`lab down`, once more if it failed (it removes whatever is left, by recorded name)."""
    for attempt in (1, 2):
        log("lab down")
        try:
            lab("down", spec)
            return
        except subprocess.CalledProcessError as error:
            if attempt == 2:
                raise
            log(f"lab down failed ({error}); trying again")


# -- the table ------------------------------------------------------------------------------------
def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"


def load_rows(label: str, rounds: list[dict]) -> list[list[str]]:
    rates = [r["rate"] for r in rounds]
    latencies = [x for r in rounds for x in r["latencies_ms"]]
    ok = sum(r["ok"] for r in rounds)
    errors = sum(sum(r["errors"].values()) for r in rounds)
    kinds: dict[str, int] = {}
    for r in rounds:
        for kind, n in r["errors"].items():
            kinds[kind] = kinds.get(kind, 0) + n
    why = f" ({', '.join(f'{k}: {n}' for k, n in sorted(kinds.items()))})" if kinds else ""
    return [[f"(1) {label}: req/s per round (median, max)", str(len(rates)),
             f"{median(rates):,.0f}/s", f"{max(rates):,.0f}/s", f"{errors} of {ok + errors}{why}",
             "", ""],
            ["    request latency (p50, p99)", f"{len(latencies):,}",
             f"{median(latencies):.1f} ms", f"{percentile(latencies, 99):.1f} ms", "", "", ""]]


def cpu_per_request(rounds: list[dict]) -> dict[str, float]:
    """Microseconds of CPU per ok request: the client, minion-1's haproxy, the pods' cgroups."""
    ok = sum(r["ok"] for r in rounds)
    parts = {"client": sum(r["cpu"]["client"] for r in rounds) / ok * 1e6,
             "haproxy": sum(r["haproxy_cpu"] for r in rounds) / ok * 1e6,
             "pods (3 httpds)": sum(r["pods_cpu"] for r in rounds) / ok * 1e6}
    return parts | {"total": sum(parts.values())}


def change_rows(changes: list[Change]) -> list[list[str]]:
    rows = []
    labels = {"scale RC 3->4": "scale RC 3->4: new pod in Endpoints -> every minion serves the 4",
              "scale RC 4->3": "scale RC 4->3: pod out of Endpoints -> every minion serves the 3",
              "delete pod: removed": "delete a pod: out of Endpoints -> no minion lists it",
              "delete pod: replacement": "delete a pod: replacement in Endpoints -> every minion"}
    for kind, label in labels.items():
        times = [c.endpoints_to_served for c in changes if c.kind == kind]
        if times:
            rows.append([f"(2) {label}", str(len(times)), seconds(median(times)),
                         seconds(max(times)), "", "< 1 s", "yes" if max(times) < CONVERGE_GOAL
                         else ("p50 only" if median(times) < CONVERGE_GOAL else "NO")])
    return rows


def ratio_rows(load: dict[str, list[dict]], base: str, label: str, goal: bool) -> list[list[str]]:
    """VIP against `base` slices: median req/s, per round and per pair of adjacent slices."""
    ratio = median([r["rate"] for r in load["vip"]]) / median([r["rate"] for r in load[base]])
    paired = ", ".join(f"{v['rate'] / d['rate']:.0%}"
                       for d, v in zip(load[base], load["vip"], strict=True))
    slices = [v / d for dr, vr in zip(load[base], load["vip"], strict=True)
              for d, v in zip(dr["slices"], vr["slices"], strict=True) if d > 0]
    return [[f"(1) VIP / {label}, median req/s (per round: {paired})", "", f"{ratio:.0%}", "",
             "", f">= {RATIO_GOAL:.0%}" if goal else "",
             ("yes" if ratio >= RATIO_GOAL else "NO") if goal else ""],
            [f"    VIP / {label} per pair of adjacent slices (p50, min-max)", str(len(slices)),
             f"{median(slices):.0%}", f"{min(slices):.0%}-{max(slices):.0%}", "", "", ""]]


def report(results: dict) -> None:
    if "load" not in results:
        return
    args, load = results["args"], results["load"]
    cost = {mode: cpu_per_request(load[mode])["total"] for mode in load}
    print(f"Service proxy benchmark of {results['version']}, lab of 3 minions; echo pods are "
          f"busybox httpd ({IMAGE}) on {', '.join(results['spread'])}; load average "
          f"{results['loadavg'][0]} at the start, {results['loadavg'][-1]} at the end\n")
    rows = [*load_rows(f"direct to the 3 pod IPs:{POD_PORT}, round robin", load["direct"]),
            *load_rows(f"through the VIP {results['vip']}:{SERVICE_PORT} ({args.proxy_mode})",
                       load["vip"]),
            *ratio_rows(load, "direct", "direct", goal=True),
            *([*load_rows("direct to a pod picked at random", load["random"]),
               *ratio_rows(load, "random", "direct at random", goal=False)]
              if "random" in load else []),
            ["    CPU per request (client+haproxy+pods), direct / VIP: the ratio if CPU-bound",
             "", f"{cost['direct'] / cost['vip']:.0%}", "", "", "", ""],
            *change_rows(results.get("changes", []))]
    print_table(["step", "n", "p50", "p99/max", "errors", "goal", "met"], rows)
    cores = os.cpu_count()
    print(f"\n(1) One client process (Python asyncio) in minion-1's network namespace, "
          f"concurrency {args.concurrency}, a new TCP connection per request; each round "
          f"{args.duration:g} s per mode in {args.slice:g} s slices alternating between the modes, "
          f"after {args.warmup:g} s of each unmeasured. Everything shares the machine's {cores} "
          f"cores: the client, minion-1's haproxy, the 3 httpds (a fork per connection), 3 "
          f"dockerds, the lab's API server and etcd, and other jobs.")
    print(f"    Kubernetes v1.0 for comparison: userspace proxy {V1_USERSPACE:.0%} of direct, "
          f"iptables mode {V1_IPTABLES:.0%}.")
    print(f"    Proxy mode {args.proxy_mode}; direct slices from minion-1's "
          f"{'docker0' if args.direct_from_bridge else 'lab'} address; SYNs the client sent "
          f"again (1 s stall each), per round: "
          + ", ".join(str(r["syn_retransmits"]) for r in load["direct"]))
    for mode in load:
        parts = cpu_per_request(load[mode])
        busy = ", ".join(f"{r['machine_cores']:.2f}" for r in load[mode])
        print(f"    {mode}: CPU per request: " + ", ".join(
            f"{what} {us:.0f} us" for what, us in parts.items())
            + f"; machine cores busy per round: {busy} of {cores}")
    if "changes" not in results:
        return
    changes = results["changes"]
    print(f"\n(2) Polled every {args.poll_ms:g} ms per minion, 3 minions in parallel; a poll's "
          f"round trip p50 {median(results['poll_rtt']) * 1000:.0f} ms, p99 "
          f"{percentile(results['poll_rtt'], 99) * 1000:.0f} ms (the served time is a poll's "
          f"reply: at most one interval + round trip late). {results['poll_cost'][0]:.0f} polls/s, "
          f"costing this process {results['poll_cost'][1]:.2f} CPU-s/s (plus an sshd session, "
          f"sh, socat, cat and stat on the minion per poll).")
    print("    After the watch showed the change, p50 over the changes and minions: haproxy.cfg "
          "written (its mtime; the running haproxy was told before) / a poll saw it; haproxy "
          "restarted for it (pidfile newer than the change) on how many minions of all; "
          "then every change's time until the last minion:")
    for kind in dict.fromkeys(c.kind for c in changes):
        mine = [c for c in changes if c.kind == kind]
        steps = [median([t for c in mine for t in getattr(c, key).values()])
                 for key in ("written", "seen")]
        restarts = sum(t > 0 for c in mine for t in c.started.values())
        print(f"    {kind}: API call -> Endpoints p50 "
              f"{seconds(median([c.action_to_endpoints for c in mine]))}; "
              + " / ".join(seconds(t) for t in steps)
              + f"; restarts {restarts} of {sum(len(c.started) for c in mine)}; all: "
              + ", ".join(seconds(c.endpoints_to_served) for c in mine))


if __name__ == "__main__":
    sys.exit(main())
