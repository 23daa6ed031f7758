#!/usr/bin/env python3
"""Issue 4's kubelet benchmark, all in one run on one 3-minion lab of its own.

(a) one pod alone: API create -> Running with a pod IP; (b) a burst of 30 pods, 10 per minion,
next to the floor: Docker alone creating and starting the same containers (30, and 60 for infra +
app) over the same kept-open channels; (c) `docker kill` of a pod's container over SSH -> its
replacement Running, each kill on another pod; (d) one no-op sync pass over the 3 minions with the
30 pods, MinionWorkers run in-process while the lab's server is stopped, with a breakdown (and a
cProfile when over the goal); (e) the same 30 containers converged by `ansible-playbook` with
community.docker.docker_container: cold, no-op re-run, repair of one killed container, beside
Bosun's figures. Prints two tables.

It brings the lab up (`orchestrator.py lab up --index K --state-dir DIR`) and takes it down at the
end, also on failure or SIGTERM, unless --keep-lab. Root, like the lab. Ansible lives in a venv of
its own (made when missing: ansible-core from PyPI, community.docker taken from the `ansible`
wheel), never in Bosun's. It measures the lib/ beside it: to measure a commit while others
edit lib/, run it from a `git worktree` of that commit with PYTHONPATH=WORKTREE/lib and
WORKTREE/.venv a symlink to the venv (the report names the commit).

    .venv/bin/python bench/kubelet.py [--index 3] [--state-dir /tmp/bosun-bench-kubelet]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml
from report import (
    lab,
    log,
    median,
    percentile,
    print_table,
    source_version,
    stop_api_server,
    wait_until,
)

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.inventory import load_inventory
from bosun.kubelet.cluster import ServiceView
from bosun.kubelet.loop import MinionWorker
from bosun.kubelet.model import LABEL_CONTAINER, LABEL_POD_UID
from bosun.kubelet.observe import parse_docker_time
from bosun.kubelet.spec import INFRA_COMMAND
from bosun.lab.build import api_program
from bosun.lab.image import IMAGE
from bosun.lab.spec import LabSpec
from bosun.lab.system import running_pid
from bosun.minion import Fleet, Minion
from bosun.minion import containers as docker_ops
from bosun.store import Store

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "default"
APP = "web"
HTTPD = ["httpd", "-f", "-p", "80", "-h", "/www"]
POD_LABELS = {"bosun-bench": "kubelet"}
FLOOR_LABELS = {"bosun-bench": "floor"}
ANSIBLE_LABELS = {"bosun-bench": "ansible"}
MINION_SITE = ".bosun-bench-site"  # under each minion's /root: what community.docker imports
ANSIBLE_REFERENCE = {"cold": 15.9, "noop": 10.8, "repair": 11.4}  # ../shared/LAB.md
ONE_POD_GOAL, RESTART_GOAL, FLOOR_RATIO_GOAL, SYNC_GOAL = 1.0, 1.0, 1.3, 0.100
BURST_P99_GOAL = 5.0  # Kubernetes v1.0's target for pod startup






# -- the lab --------------------------------------------------------------------------------------
class CpuMeter:
    """CPU seconds over a block: the lab's API server process (API + kubelet), and the whole
    machine's busy time (all cores; other work on the machine included)."""

    def __init__(self, spec: LabSpec) -> None:
        self.pid = running_pid(spec.api_pid_file, api_program())
        self.server = self.machine = self.wall = 0.0

    @staticmethod
    def _machine() -> float:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait

    def _server(self) -> float:
        if self.pid is None:
            return 0.0
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def __enter__(self) -> CpuMeter:
        self._start = (self._server(), self._machine(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        server, machine, wall = self._server(), self._machine(), time.perf_counter()
        self.server, self.machine, self.wall = (server - self._start[0],
                                                machine - self._start[1], wall - self._start[2])

    def summary(self) -> str:
        return (f"{self.wall:.2f} s: API server {self.server:.2f} CPU-s, machine "
                f"{self.machine / self.wall:.2f} of {os.cpu_count()} cores busy")


# -- the API over HTTPS ---------------------------------------------------------------------------
class Client:
    """The lab's API with its kubeconfig's token and CA; one kept-alive session."""

    def __init__(self, kubeconfig: Path, folder: Path) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        ca = folder / "bench-ca.crt"
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        self.url = cluster["server"].rstrip("/")
        self.headers = {"Authorization": f"Bearer {config['users'][0]['user']['token']}"}
        self.verify = str(ca)
        self.session = self.new_session()
        self.pods = f"/api/v1/namespaces/{NAMESPACE}/pods"

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(self.headers)
        return session

    def call(self, method: str, path: str, body: dict | None = None,
             session: requests.Session | None = None) -> dict:
        reply = (session or self.session).request(method, f"{self.url}{path}", json=body,
                                                  timeout=30, verify=self.verify)
        if not reply.ok:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
        return reply.json()

    def create_pod(self, name: str, node: str) -> str:
        """POST the bench pod; returns its uid."""
        return self.call("POST", self.pods, pod_manifest(name, node))["metadata"]["uid"]

    def delete_pod(self, name: str) -> None:
        self.call("DELETE", f"{self.pods}/{name}")

    def bench_pods(self) -> list[dict]:
        selector = ",".join(f"{k}={v}" for k, v in POD_LABELS.items())
        return self.call("GET", f"{self.pods}?labelSelector={selector}")["items"]


def pod_manifest(name: str, node: str) -> dict:
    # Grace 0: busybox httpd as PID 1 ignores SIGTERM, and tear-down is not what is measured.
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": dict(POD_LABELS)},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": APP, "image": IMAGE, "command": HTTPD}]}}


Test = Callable[[str, dict], bool]


def running_with_ip(kind: str, pod: dict) -> bool:
    status = pod.get("status") or {}
    return kind != "DELETED" and status.get("phase") == "Running" and bool(status.get("podIP"))


def deleted(kind: str, pod: dict) -> bool:
    return kind == "DELETED"


def app_status(pod: dict) -> dict:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return next((s for s in statuses if s.get("name") == APP), {})


def restarted(count: int) -> Test:
    def test(kind: str, pod: dict) -> bool:
        status = app_status(pod)
        return status.get("restartCount", 0) >= count and status.get("ready") is True
    return test


class PodWatch:
    """A watch on the namespace's pods in a thread of its own; every event stamped on arrival
    (perf_counter), so a wait answers when the API first showed the pod in the state asked."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.session = client.new_session()
        self.events: dict[str, list[tuple[float, str, dict]]] = {}
        self.changed = threading.Condition()
        self.closing = threading.Event()
        self.reply: requests.Response | None = None
        self.version = client.call("GET", client.pods)["metadata"]["resourceVersion"]
        self.thread = threading.Thread(target=self._follow, name="bench-watch", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.closing.is_set():
            try:
                self.reply = self.session.get(
                    f"{self.client.url}{self.client.pods}?watch=1&resourceVersion={self.version}",
                    stream=True, timeout=(5, None), verify=self.client.verify)
                for line in self.reply.iter_lines(chunk_size=None):
                    if line:
                        self._record(time.perf_counter(), json.loads(line))
            except (requests.RequestException, OSError, ValueError):
                if self.closing.is_set():
                    return
            time.sleep(0.1)  # the stream ended: watch again from the last version seen

    def _record(self, arrived: float, event: dict) -> None:
        pod = event["object"]
        if event["type"] == "ERROR":  # too old a version: start from now
            listed = self.client.call("GET", self.client.pods, session=self.session)
            self.version = listed["metadata"]["resourceVersion"]
            return
        self.version = pod["metadata"]["resourceVersion"]
        with self.changed:
            self.events.setdefault(pod["metadata"]["name"], []).append(
                (arrived, event["type"], pod))
            self.changed.notify_all()

    def wait(self, name: str, test: Test, since: float, timeout: float = 120) -> float:
        """When an event at or after `since` first passed `test`. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for arrived, kind, pod in self.events.get(name, []):
                    if arrived >= since and test(kind, pod):
                        return arrived
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"pod {name}: not in the state waited for in {timeout} s")
                self.changed.wait(left)

    def latest(self, name: str) -> dict:
        with self.changed:
            return self.events[name][-1][2]

    def __enter__(self) -> PodWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        reply = self.reply
        connection = reply.raw.connection if reply is not None else None
        if connection is not None and connection.sock is not None:
            connection.sock.shutdown(2)  # ends the thread's blocked read
        self.thread.join(5)


def delete_pods(client: Client, watch: PodWatch, fleet: Fleet,
                pods: list[tuple[str, str, str]]) -> None:
    """Delete (name, node, uid) pods and wait until their containers left the minions."""
    began = time.perf_counter()
    for name, _, _ in pods:
        client.delete_pod(name)
    for name, _, _ in pods:
        watch.wait(name, deleted, began, 60)
    for _, node, uid in pods:
        wait_until(lambda n=node, u=uid: not fleet[n].containers({LABEL_POD_UID: u}), 180,
                   f"the containers of pod {uid} to leave {node}")


# -- (a) one pod alone ----------------------------------------------------------------------------
def one_pod(client: Client, watch: PodWatch, fleet: Fleet, runs: int) -> list[float]:
    """create -> Running with a pod IP, `runs` times after one warm-up, minions in turn."""
    samples = []
    for i in range(runs + 1):
        name, node = f"bench-alone-{i}", fleet.names[i % len(fleet)]
        began = time.perf_counter()
        uid = client.create_pod(name, node)
        running = watch.wait(name, running_with_ip, began)
        if i > 0:
            samples.append(running - began)
        delete_pods(client, watch, fleet, [(name, node, uid)])
    return samples


# -- (b) a burst of pods, and the floor -----------------------------------------------------------
def burst(client: Client, watch: PodWatch, fleet: Fleet, per_minion: int,
          tag: str) -> tuple[float, list[float], list[tuple[str, str, str]], float]:
    """Create per_minion pods on every minion at once; (until all Running, per-pod create ->
    Running, the pods as (name, node, uid), wall clock of the first POST), pods listed minion
    by minion in turn."""
    plan = [(f"bench-burst-{tag}-{i:02d}", fleet.names[i % len(fleet)])
            for i in range(per_minion * len(fleet))]
    began: dict[str, float] = {}
    pods = []
    wall, start = time.time(), time.perf_counter()
    for name, node in plan:
        began[name] = time.perf_counter()
        pods.append((name, node, client.create_pod(name, node)))
    running = {name: watch.wait(name, running_with_ip, began[name]) for name, _ in plan}
    return max(running.values()) - start, [running[n] - began[n] for n, _ in plan], pods, wall


def docker_span(fleet: Fleet, pods: list[tuple[str, str, str]], since: float) -> dict:
    """Per minion, from the containers' own times: (first created, last started) in seconds
    after `since` (the first POST, wall clock; minions share this machine's clock)."""

    def span(m: Minion) -> tuple[float, float]:
        uids = {uid for _, node, uid in pods if node == m.name}
        created, started = [], []
        for entry in m.containers({LABEL_POD_UID: None}):
            if entry["Labels"].get(LABEL_POD_UID) in uids:
                details = docker_ops.inspect(m.docker, entry["Id"])
                created.append(parse_docker_time(details["Created"]).timestamp())
                started.append(parse_docker_time(details["State"]["StartedAt"]).timestamp())
        return min(created) - since, max(started) - since

    return {name: outcome.result() for name, outcome in fleet.map(span).items()}


def floor(fleet: Fleet, per_minion: int, with_infra: bool, names: list[str] | None = None,
          meter: CpuMeter | None = None) -> float:
    """Docker alone: create+start per_minion containers (pairs of infra + app when with_infra)
    on each minion (or those named), the minions in parallel, over the same kept-open channels;
    then remove them. Returns the seconds until every minion had started all of them."""

    def start_all(m: Minion) -> None:
        for i in range(per_minion):
            network = "bridge"
            if with_infra:
                infra = _create_started(m, f"bench-floor-infra-{i}", list(INFRA_COMMAND),
                                        "bridge", "shareable")
                network = f"container:{infra}"
            _create_started(m, f"bench-floor-app-{i}", HTTPD, network,
                            network if with_infra else None)

    with meter or contextlib.nullcontext():
        began = time.perf_counter()
        outcomes = fleet.map(start_all, timeout=600, names=names)
        took = time.perf_counter() - began
    remove_labelled(fleet, FLOOR_LABELS)
    for outcome in outcomes.values():
        outcome.result()  # raises a minion's error
    return took


def _create_started(m: Minion, name: str, entrypoint: list[str], network: str,
                    ipc: str | None) -> str:
    container_id = docker_ops.create(m.docker, name=name, image=IMAGE, entrypoint=entrypoint,
                                     cmd=[], env=[], labels=FLOOR_LABELS, network_mode=network,
                                     ipc_mode=ipc)
    docker_ops.start(m.docker, container_id)
    return container_id


def remove_labelled(fleet: Fleet, labels: dict[str, str]) -> None:
    def remove(m: Minion) -> None:
        # Newest first: app containers before the infra containers whose namespaces they share.
        for entry in sorted(m.containers(labels), key=lambda c: c["Created"], reverse=True):
            docker_ops.remove(m.docker, entry["Id"])

    for outcome in fleet.map(remove, timeout=600).values():
        outcome.result()


# -- (c) a container's death to its replacement running -------------------------------------------
def kill_and_replace(watch: PodWatch, fleet: Fleet,
                     pods: list[tuple[str, str, str]]) -> list[float]:
    """`docker kill` (over SSH, from the minion) of each pod's app container, one pod at a time;
    seconds from issuing the kill to the API showing restartCount+1 and ready."""
    samples = []
    for name, node, uid in pods:
        found = fleet[node].containers({LABEL_POD_UID: uid, LABEL_CONTAINER: APP})
        victim = next(c for c in found if c["State"] == "running")
        count = app_status(watch.latest(name)).get("restartCount", 0)
        began = time.perf_counter()
        fleet[node].check(["docker", "kill", victim["Id"]])
        samples.append(watch.wait(name, restarted(count + 1), began, 60) - began)
    return samples


# -- (d) one no-op sync pass ----------------------------------------------------------------------
class Counted:
    """Counts the calls of an object's methods (instance attributes over the class's), by
    method and, for the Api's writes, by resource."""

    def __init__(self, owner: object, *methods: str) -> None:
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()  # the workers' threads write at once
        for method in methods:
            setattr(owner, method, self._counted(method, getattr(owner, method)))

    def _counted(self, method: str, inner: Callable) -> Callable:
        def counted(*args, **kwargs):
            target = args[0] if args and isinstance(args[0], Target) else None
            key = method if target is None else \
                f"{method} {'/'.join(filter(None, (target.resource, target.subresource)))}"
            with self._lock:
                self.calls[key] = self.calls.get(key, 0) + 1
            return inner(*args, **kwargs)
        return counted


class Phases:
    """Seconds spent in named steps of MinionWorker.sync, summed over passes, per minion."""

    STEPS = (("heartbeat (facts, node read, node write)", None, "_heartbeat"),
             ("observe (container list, images, inspects)", "observer", "observe"),
             ("list the minion's pods (API over etcd)", None, "_pods"),
             ("write pod statuses", None, "_write_statuses"),
             ("service proxy (services, endpoints, SSH read)", None, "sync_proxy"))

    def __init__(self, workers: list[MinionWorker]) -> None:
        self.seconds: dict[tuple[str, str], float] = {}
        for worker in workers:
            for step, attribute, method in self.STEPS:
                owner = getattr(worker, attribute) if attribute else worker
                if not hasattr(owner, method):
                    continue  # a step this version of the kubelet does not have
                setattr(owner, method, self._timed(worker.name, step, getattr(owner, method)))

    def _timed(self, minion: str, step: str, inner: Callable) -> Callable:
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                key = (minion, step)
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - began
        return timed


def noop_sync(spec: LabSpec, passes: int, profile: bool | None) -> dict:
    """MinionWorkers in-process (the lab's server stopped meanwhile), one thread per minion as
    the Kubelet runs them; seconds per parallel pass, with a per-step breakdown and, when the p50
    is over the goal (or `profile` is true), a cProfile of every worker thread."""
    stop_api_server(spec)
    store = Store(spec.etcd_client_url)
    api = Api(store)
    # Shared as the Kubelet shares it: with no watch running here, it lists again every
    # MAX_AGE_SECONDS, as a missed watch event would have it.
    view = ServiceView(api)
    workers = [MinionWorker(api, a, view=view)
               for a in load_inventory(spec.inventory_path).minions()]
    try:
        with ThreadPoolExecutor(len(workers), thread_name_prefix="bench-kubelet") as pool:
            def one_pass(call: Callable[[MinionWorker], object] = MinionWorker.sync) -> float:
                began = time.perf_counter()
                for _ in pool.map(call, workers):
                    pass
                return time.perf_counter() - began

            for _ in range(3):  # facts, inspects and images into the workers' caches
                one_pass()
            acts = [Counted(w.executor, "run") for w in workers]
            writes = Counted(api, "create", "update", "delete")
            samples = [one_pass() for _ in range(passes)]
            result = {"samples": samples, "actions": sum(sum(c.calls.values()) for c in acts),
                      "writes": dict(writes.calls), "pods": len(api_pods(api))}
            phases = Phases(workers)
            breakdown_passes = 20
            result["breakdown"] = ([one_pass() for _ in range(breakdown_passes)],
                                   dict(phases.seconds), breakdown_passes)
            if profile or (profile is None and median(samples) > SYNC_GOAL):
                result["profile"] = profile_passes(workers, one_pass, 20)
        return result
    finally:
        for worker in workers:
            worker.close()
        store.close()


def api_pods(api: Api) -> list[dict]:
    return api.list(Target("pods", NAMESPACE), Query())["items"]


def profile_passes(workers: list[MinionWorker], one_pass: Callable, passes: int) -> str:
    """cProfile of each worker thread's sync over `passes` passes, merged; the top functions by
    cumulative time, as text."""
    profiles = {w.name: cProfile.Profile() for w in workers}

    def profiled(worker: MinionWorker) -> object:
        return profiles[worker.name].runcall(worker.sync)

    for _ in range(passes):
        one_pass(profiled)
    out = io.StringIO()
    stats = pstats.Stats(*profiles.values(), stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(25)
    return f"cProfile, {passes} passes x {len(workers)} minions (times summed over all):\n" + \
        out.getvalue()


# -- (e) Ansible ----------------------------------------------------------------------------------
PLAYBOOK = """\
- hosts: minions
  gather_facts: false
  environment:
    PYTHONPATH: /root/{site}
  tasks:
    - name: busybox httpd containers, as Bosun's burst pods run them
      community.docker.docker_container:
        name: "ansible-bench-{{{{ item }}}}"
        image: "{image}"
        command: {httpd}
        labels: {labels}
        restart_policy: "no"
        state: started
      loop: "{{{{ range({per_minion}) | list }}}}"
"""


def ensure_ansible(venv: Path) -> Path:
    """The bench venv: ansible-core 2.19 from PyPI; community.docker taken out of the `ansible`
    12 wheel (galaxy is unreachable here; the whole wheel would install ~100 collections); and
    `requests` for the minions, community.docker's only Python need on the managed host.
    Returns the ansible-playbook path."""
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    if not (venv / "bin" / "python").exists():
        log(f"making the Ansible venv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not (venv / "bin" / "ansible-playbook").exists():
        subprocess.run([*pip, "install", "ansible-core==2.19.*"], check=True)
    collection = venv / "collections" / "ansible_collections" / "community" / "docker"
    if not (collection / "MANIFEST.json").exists():
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([*pip, "download", "--no-deps", "-d", folder, "ansible==12.*"],
                           check=True)
            wheel = next(Path(folder).glob("ansible-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                members = [n for n in archive.namelist()
                           if n.startswith("ansible_collections/community/docker/")]
                archive.extractall(venv / "collections", members)
    if not (venv / "minion-site" / "requests").exists():
        subprocess.run([*pip, "install", "--target", str(venv / "minion-site"), "requests"],
                       check=True)
    return venv / "bin" / "ansible-playbook"


def collection_version(venv: Path) -> str:
    manifest = venv / "collections" / "ansible_collections" / "community" / "docker" / \
        "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


class Ansible:
    """ansible-playbook against the lab's inventory, its key and its known_hosts."""

    def __init__(self, spec: LabSpec, venv: Path, per_minion: int, tuned: bool) -> None:
        self.playbook_bin = ensure_ansible(venv)
        home = venv / "home"
        home.mkdir(exist_ok=True)
        for minion in spec.all_minions():  # the minion sees it as /root/MINION_SITE
            target = minion.root / "root" / MINION_SITE
            if not target.exists():
                shutil.copytree(venv / "minion-site", target)
        self.playbook = home / "bench-containers.yml"
        self.playbook.write_text(PLAYBOOK.format(
            site=MINION_SITE, image=IMAGE, httpd=json.dumps(HTTPD), per_minion=per_minion,
            labels=json.dumps(ANSIBLE_LABELS)))
        self.inventory = spec.inventory_path
        self.env = {**os.environ,
                    "ANSIBLE_HOME": str(home),
                    "ANSIBLE_COLLECTIONS_PATH": str(venv / "collections"),
                    "ANSIBLE_SSH_ARGS": f"-o ControlMaster=auto -o ControlPersist=60s "
                                        f"-o UserKnownHostsFile={spec.known_hosts} "
                                        f"-o StrictHostKeyChecking=yes",
                    "ANSIBLE_HOST_KEY_CHECKING": "True",
                    "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
                    "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_RETRY_FILES_ENABLED": "False"}
        if tuned:  # LAB.md's faster variant: modules over the SSH session's stdin, 10 forks
            self.env |= {"ANSIBLE_PIPELINING": "True", "ANSIBLE_FORKS": "10"}
        self.control_dir = home / "cp"

    def run(self) -> tuple[float, int]:
        """One ansible-playbook run: (seconds, hosts whose task changed something). Raises
        RuntimeError if it failed."""
        began = time.perf_counter()
        done = subprocess.run([str(self.playbook_bin), "-i", str(self.inventory),
                               str(self.playbook)], env=self.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        took = time.perf_counter() - began
        if done.returncode != 0:
            raise RuntimeError(f"ansible-playbook exited {done.returncode}:\n{done.stdout[-3000:]}"
                               f"\n{done.stderr[-2000:]}")
        changed = sum(int(n) for n in re.findall(r"\bchanged=(\d+)", done.stdout))
        return took, changed

    def close(self) -> None:
        """End the ControlMaster connections ansible left for ControlPersist."""
        for socket_path in self.control_dir.glob("*"):
            subprocess.run(["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "x"],
                           capture_output=True, stdin=subprocess.DEVNULL)


def running_count(fleet: Fleet, labels: dict[str, str]) -> int:
    outcomes = fleet.map(lambda m: sum(c["State"] == "running" for c in m.containers(labels)))
    return sum(o.result() for o in outcomes.values())


def ansible_runs(spec: LabSpec, fleet: Fleet, venv: Path, per_minion: int, tuned: bool) -> dict:
    """Cold converge, no-op re-run, repair of one `docker kill`ed container: (seconds, changed)."""
    ansible = Ansible(spec, venv, per_minion, tuned)
    wanted = per_minion * len(fleet)
    try:
        results = {"cold": ansible.run()}
        if running_count(fleet, ANSIBLE_LABELS) != wanted:
            raise RuntimeError("ansible's cold converge did not leave every container running")
        results["noop"] = ansible.run()
        victim = fleet.names[len(fleet) // 2]
        fleet[victim].check(["docker", "kill", f"ansible-bench-{per_minion // 2}"])
        results["repair"] = ansible.run()
        if running_count(fleet, ANSIBLE_LABELS) != wanted:
            raise RuntimeError("ansible's re-run did not repair the killed container")
        results["collection"] = collection_version(venv)
        results["core"] = subprocess.run([str(ansible.playbook_bin), "--version"],
                                         capture_output=True, text=True).stdout.split("\n")[0]
        return results
    finally:
        ansible.close()
        remove_labelled(fleet, ANSIBLE_LABELS)


# -- tables ---------------------------------------------------------------------------------------
def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def goals_table(r: dict) -> None:
    a, c, d = r["one_pod"], r["restart"], r["sync"]["samples"]
    totals, per_pod = r["burst_totals"], r["burst_pods"]
    f1, f30, f60 = r["floor1"], r["floor30"], r["floor60"]
    ratio30, ratio60 = median(totals) / median(f30), median(totals) / median(f60)
    k, n = r["per_minion"], len(r["nodes"])
    rows = [
        ["(a) one pod alone: API create -> Running with pod IP", str(len(a)),
         seconds(median(a)), seconds(percentile(a, 99)), "p50 < 1 s",
         verdict(median(a) < ONE_POD_GOAL)],
        ["    floor: Docker alone, one pod's 2 containers (infra + app) on one minion",
         str(len(f1)), seconds(median(f1)), seconds(percentile(f1, 99)), "", ""],
        [f"(b) burst of {k * n} pods ({k}/minion; {2 * k * n} containers, infra+app): "
         f"per pod create -> Running",
         str(len(per_pod)), seconds(median(per_pod)), seconds(percentile(per_pod, 99)),
         "p99 < 5 s (k8s v1.0)", verdict(percentile(per_pod, 99) < BURST_P99_GOAL)],
        [f"(b) burst of {k * n} pods: until all Running (rounds: median, max)", str(len(totals)),
         seconds(median(totals)), seconds(max(totals)), "", ""],
        [f"    floor: Docker alone, {k * n} containers (create+start, {k}/minion, parallel)",
         str(len(f30)), seconds(median(f30)), seconds(max(f30)), "", ""],
        [f"    floor: Docker alone, {2 * k * n} containers ({k * n} infra + {k * n} app, as Bosun)",
         str(len(f60)),
         seconds(median(f60)), seconds(max(f60)), "", ""],
        [f"    burst / floor of {k * n} containers", "", f"{ratio30:.2f}x", "", "<= 1.3x",
         verdict(ratio30 <= FLOOR_RATIO_GOAL)],
        [f"    burst / floor of {2 * k * n} containers", "", f"{ratio60:.2f}x", "", "<= 1.3x",
         verdict(ratio60 <= FLOOR_RATIO_GOAL)],
        ["(c) docker kill (SSH) -> replacement Running+ready, each on another pod", str(len(c)),
         seconds(median(c)), seconds(percentile(c, 99)), "p50 < 1 s",
         verdict(median(c) < RESTART_GOAL)],
        [f"(d) no-op sync pass, {len(r['nodes'])} minions in parallel, "
         f"{r['sync']['pods']} pods", str(len(d)), seconds(median(d)),
         seconds(percentile(d, 99)), "< 100 ms", verdict(median(d) < SYNC_GOAL)],
    ]
    print_table(["step", "n", "p50", "p99/max", "goal", "met"], rows)


def ansible_table(r: dict) -> None:
    plain, tuned = r["ansible"], r["ansible_tuned"]
    pods = len(r["nodes"]) * r["per_minion"]
    bosun = {"cold": (seconds(median(r["burst_totals"])),
                      f"(b) {pods} pods until all Running ({2 * pods} containers), median"),
             "noop": (seconds(median(r["sync"]["samples"])), "(d) one no-op sync pass, p50"),
             "repair": (seconds(median(r["restart"])),
                        "(c) kill -> Running, p50; no re-run needed")}
    tasks = {"cold": f"cold converge, {pods} containers", "noop": "no-op re-run",
             "repair": "repair of one killed container (re-run)"}
    rows = [[tasks[k], f"{plain[k][0]:.2f} s ({plain[k][1]})",
             f"{tuned[k][0]:.2f} s ({tuned[k][1]})", f"{ANSIBLE_REFERENCE[k]} s", *bosun[k]]
            for k in tasks]
    print_table(["task", "ansible defaults", "ansible pipelining+10 forks", "ansible (LAB.md)",
                 "Bosun", "Bosun measured as"], rows)


def breakdown_table(sync: dict) -> None:
    passes, seconds_by_step, n = sync["breakdown"]
    rows = [[f"{minion}: {step}", f"{total / n * 1000:.1f}"]
            for (minion, step), total in sorted(seconds_by_step.items())]
    rows.append(["parallel pass (wall), p50", f"{median(passes) * 1000:.1f}"])
    print_table([f"no-op pass, where the time goes ({n} passes)", "ms per pass"], rows)


# -- the run --------------------------------------------------------------------------------------
def bosun_steps(spec: LabSpec, fleet: Fleet, args: argparse.Namespace, results: dict) -> None:
    client = Client(spec.kubeconfig, spec.state_dir)
    with PodWatch(client) as watch:
        log(f"(a) one pod alone, {args.runs} runs, and Docker alone for one pod as often")
        results["floor1"] = [floor(fleet, 1, True, [fleet.names[i % len(fleet)]])
                             for i in range(args.runs)]
        results["one_pod"] = one_pod(client, watch, fleet, args.runs)
        pods = burst_rounds(spec, client, watch, fleet, args, results)
        log(f"(c) {args.kills} kills, each on another pod")
        results["restart"] = kill_and_replace(watch, fleet, pods[:args.kills])
    log(f"(d) {args.passes} no-op sync passes (the lab's server stopped meanwhile)")
    results["sync"] = noop_sync(spec, args.passes, args.profile)
    log("starting the lab's server again")
    lab("up", spec)
    with PodWatch(client) as watch:
        delete_pods(client, watch, fleet, pods)


def burst_rounds(spec: LabSpec, client: Client, watch: PodWatch, fleet: Fleet,
                 args: argparse.Namespace, results: dict) -> list[tuple[str, str, str]]:
    """Each round: the two floors, then the burst, back to back, so that each round's ratio
    sees the same load on a shared machine. Returns the last round's pods, left running."""
    for key in ("floor30", "floor60", "floor60_cpu", "burst_totals", "burst_pods",
                "burst_spans", "burst_cpu"):
        results[key] = []
    pods: list[tuple[str, str, str]] = []
    for round_ in range(args.rounds):
        if pods:
            delete_pods(client, watch, fleet, pods)
        log(f"(b) round {round_ + 1} of {args.rounds}: the floors, then the burst")
        results["floor30"].append(floor(fleet, args.per_minion, False))
        meter = CpuMeter(spec)
        results["floor60"].append(floor(fleet, args.per_minion, True, meter=meter))
        results["floor60_cpu"].append(meter.summary())
        with CpuMeter(spec) as meter:
            total, per_pod, pods, wall = burst(client, watch, fleet, args.per_minion,
                                               str(round_))
        results["burst_cpu"].append(meter.summary())
        results["burst_totals"].append(total)
        results["burst_spans"].append(docker_span(fleet, pods, wall))
        results["burst_pods"] += per_pod
    return pods


def clean_leftovers(spec: LabSpec, fleet: Fleet) -> None:
    """Pods and containers of an earlier run on a kept lab."""
    client = Client(spec.kubeconfig, spec.state_dir)
    leftovers = client.bench_pods()
    if leftovers:
        with PodWatch(client) as watch:
            delete_pods(client, watch, fleet, [(p["metadata"]["name"], p["spec"]["nodeName"],
                                                p["metadata"]["uid"]) for p in leftovers])
    for labels in (FLOOR_LABELS, ANSIBLE_LABELS):
        remove_labelled(fleet, labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=int, default=3, help="lab index (default 3)")
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/bosun-bench-kubelet"))
    parser.add_argument("--runs", type=int, default=10, help="(a) runs after one warm-up")
    parser.add_argument("--per-minion", type=int, default=10, help="(b)/(e) pods per minion")
    parser.add_argument("--rounds", type=int, default=3, help="(b) burst and floor rounds")
    parser.add_argument("--kills", type=int, default=10, help="(c) kills, one pod each")
    parser.add_argument("--passes", type=int, default=50, help="(d) no-op sync passes")
    parser.add_argument("--profile", action="store_true", default=None,
                        help="(d) profile even when under the goal")
    parser.add_argument("--ansible-venv", type=Path, default=Path("/tmp/bosun-bench-ansible"))
    parser.add_argument("--skip-ansible", action="store_true")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab up at the end")
    args = parser.parse_args(argv)
    if args.kills > args.per_minion * 3:
        parser.error("--kills must not exceed the number of burst pods")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spec = LabSpec(args.state_dir.resolve(), minions=3, index=args.index)
    results: dict = {"per_minion": args.per_minion, "load": [os.getloadavg()[0]]}
    try:
        log(f"lab up: index {spec.index}, {spec.state_dir}")
        lab("up", spec)
        with Fleet(load_inventory(spec.inventory_path).minions(), timeout=600) as fleet:
            results["nodes"] = fleet.names
            clean_leftovers(spec, fleet)
            bosun_steps(spec, fleet, args, results)
            for tuned in () if args.skip_ansible else (False, True):
                key = "ansible_tuned" if tuned else "ansible"
                log(f"(e) ansible-playbook ({'pipelining, 10 forks' if tuned else 'defaults'}): "
                    f"cold, no-op, repair")
                results[key] = ansible_runs(spec, fleet, args.ansible_venv.resolve(),
                                            args.per_minion, tuned)
        results["load"].append(os.getloadavg()[0])
    finally:
        if not args.keep_lab:
            log("lab down")
            lab("down", spec)
    report(results)
    return 0


def report(results: dict) -> None:
    print(f"Kubelet benchmark of {source_version()}, lab of {len(results['nodes'])} minions; pods "
          f"are busybox httpd ({IMAGE}), each = infra + app container; load average "
          f"{results['load'][0]:.1f} at the start, {results['load'][-1]:.1f} at the end\n")
    goals_table(results)
    print()
    breakdown_table(results["sync"])
    if "profile" in results["sync"]:
        print()
        print(results["sync"]["profile"])
    print("\n(b) Docker's part of each burst round, from the containers' own times (s after the "
          "first POST): first created - last started, per minion; then all Running seen")
    rounds = zip(results["burst_totals"], results["burst_spans"], results["floor30"],
                 results["floor60"], strict=True)
    for total, spans, f30, f60 in rounds:
        parts = ", ".join(f"{name} {a:.2f}-{b:.2f}" for name, (a, b) in spans.items())
        print(f"    {parts}; all Running {total:.2f}; this round's floors {f30:.2f} and "
              f"{f60:.2f}: {total / f30:.2f}x and {total / f60:.2f}x")
    print("CPU during each burst round: " +
          "; ".join(results["burst_cpu"]))
    print("CPU during each infra+app floor round: " +
          "; ".join(results["floor60_cpu"]))
    sync = results["sync"]
    writes = ", ".join(f"{kind}: {n}" for kind, n in sorted(sync["writes"].items())) or "none"
    print(f"\n(d) during the {len(sync['samples'])} measured passes: {sync['actions']} executor "
          f"runs; API writes: {writes}")
    if "ansible" in results:
        e = results["ansible"]
        print(f"\nAnsible: {e['core']}, community.docker {e['collection']}; the module runs on "
              f"each minion (/usr/bin/python3, requests on PYTHONPATH) against its local "
              f"dockerd; SSH ControlPersist 60 s; (n) = hosts with changes\n")
        ansible_table(results)


if __name__ == "__main__":
    sys.exit(main())
