"""The kubelet over SSH: one worker per minion, woken by pod changes and Docker events.

Work is keyed by minion: the pod watch and each minion's `docker events` stream only wake that
minion's worker, which then runs one sync pass (observe, plan, act, write pod status). A
periodic pass is the safety net. A minion that does not answer costs only its own worker.
The service proxy of each minion has a thread of its own, woken by the services and endpoints
watches, so that an endpoints change never waits behind a pod's containers being started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from bosun.api.paths import Target
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.errors import BosunError
from bosun.events import EventRecorder
from bosun.kubelet import nodes, plan, status
from bosun.kubelet.cluster import PodView, ServiceView
from bosun.kubelet.execute import Executor, MinionState
from bosun.kubelet.model import LABEL_CONTAINER, LABEL_POD_UID, Observed
from bosun.kubelet.observe import Observer
from bosun.kubelet.plan import PullImage
from bosun.kubelet.proxyworker import ProxyRefused, ProxyWorker
from bosun.minion import Minion
from bosun.minion import containers as docker_ops
from bosun.objects.status import ApiError, BadRequest, Conflict, NotFound
from bosun.store import errors as store_errors

log = logging.getLogger(__name__)

RESYNC_SECONDS = 10.0
# The Node's heartbeat, written when nothing else in its status changed (the node lifecycle
# controller's grace period is 20 s; a worker wakes at least this often to beat).
HEARTBEAT_SECONDS = 5.0
# The proxy looks at its minion (config, rules, haproxy alive) when services or endpoints
# changed, and at least this often (kube-proxy's iptables resync period is 30 s as well).
PROXY_RESYNC_SECONDS = 30.0
FACTS_SECONDS = 60.0
RETRY_SECONDS = 2.0
DIE_SETTLE_SECONDS = 0.4
# A look taken for a heartbeat (reconcile --once beats every minion before the controllers run)
# is the next pass's own if that pass starts within this long: one look per minion per run.
LOOK_REUSE_SECONDS = 5.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class MinionWorker:
    """Everything the kubelet does for one minion."""

    def __init__(self, api: Api, address, clock=utcnow, view: ServiceView | None = None, *,
                 pods: PodView | None = None, minion: Minion | None = None) -> None:
        self.api = api
        # Without views shared with watches (the Kubelet's), list on every pass.
        self.view = view if view is not None else ServiceView(api, max_age=0.0)
        self.pods = pods if pods is not None else PodView(api, max_age=0.0)
        self.address = address
        self.name = address.name
        self.clock = clock
        # Any object with Minion's methods will do (bench/fakeminion.py's, say).
        self.minion = minion if minion is not None else Minion(address)
        self.observer = Observer(self.minion)
        self.state = MinionState()
        self.recorder = EventRecorder("kubelet", self.name, self._create_event,
                                      self._update_event, clock)
        self.executor = Executor(self.minion, self.observer, self.recorder, self._services,
                                 self.state, clock)
        self.wake = threading.Event()
        self.proxy_wake = threading.Event()
        self.executor.done = self.wake.set  # a finished teardown: look again
        self.proxy = ProxyWorker(self.minion, self.recorder,
                                 lambda: self.api.read("nodes", None, self.name),
                                 getattr(address, "proxy_mode", "haproxy"))
        self.facts = None
        self._facts_at = 0.0
        self._node_status: dict | None = None  # as last written by this worker
        self._beat_at = float("-inf")
        self._proxy_generation = 0  # the ServiceView listing the proxy was last synced to
        self._proxy_at = float("-inf")
        self._look: tuple[float, Observed] | None = None  # a heartbeat's, for the next pass

    # -- one pass ------------------------------------------------------------------------------
    def sync(self) -> list:
        """One full pass, pods then proxy; returns the actions it carried out. Raises
        TemporaryError when the minion cannot be reached."""
        return self.sync_pods() + self.sync_proxy()

    def sync_pods(self) -> list:
        """The pods of the minion: observe, plan, act, write their status; the actions."""
        observed = self._recent_look() or self.observer.observe()
        self._heartbeat()  # only once the minion answered: a heartbeat says it is alive
        pods = self._pods()
        actions = self.plan(observed, pods)
        if any(isinstance(action, PullImage) for action in actions):
            # The images were listed up to IMAGES_TTL ago: one shipped since (`image build`,
            # `image push`) needs no pull, and no registry would have it anyway.
            self.observer.forget_images()
            observed = self.observer.observe()
            actions = self.plan(observed, pods)
        if actions:
            by_uid = {p["metadata"]["uid"]: p for p in pods}
            self.executor.run(actions, by_uid, observed)
            observed = self.observer.observe()
        self._write_statuses(pods, observed)
        return actions

    def heartbeat(self) -> None:
        """Look at the minion and, since it answered, write its Node's heartbeat (what a pass
        starts with); a pass within LOOK_REUSE_SECONDS starts from this look. Raises
        TemporaryError when the minion cannot be reached."""
        self._look = (time.monotonic(), self.observer.observe())
        self._heartbeat()

    def _recent_look(self) -> Observed | None:
        look, self._look = self._look, None
        if look is not None and time.monotonic() - look[0] <= LOOK_REUSE_SECONDS:
            return look[1]
        return None

    def sync_proxy(self) -> list:
        """The minion's service proxy, when services or endpoints changed since the last pass
        or PROXY_RESYNC_SECONDS passed; the actions."""
        listing = self.view.get()
        due = time.monotonic() - self._proxy_at >= PROXY_RESYNC_SECONDS
        if listing.generation == self._proxy_generation and not due:
            return []
        try:
            actions = self.proxy.sync(listing.services, listing.endpoints)
        except ProxyRefused as error:
            log.warning("%s", error)  # the event is recorded; the old config keeps serving
            actions = []
        self._proxy_generation, self._proxy_at = listing.generation, time.monotonic()
        return actions

    def plan(self, observed: Observed, pods: list[dict]) -> list:
        """What a pass would do now (also for `reconcile --check`)."""
        return plan.plan(self.name, pods, observed, self.clock(), self.state.image_problems)

    def check(self) -> list:
        """The actions a pass would take, doing nothing (no heartbeat, no status)."""
        return self.plan(self.observer.observe(), self._pods())

    def _pods(self) -> list[dict]:
        return self.pods.get().pods_on(self.name)

    def _services(self, namespace: str) -> list[dict]:
        """The namespace's services, for the containers' service variables."""
        return self.view.get().services_in(namespace)

    def _write_statuses(self, pods: list[dict], observed: Observed) -> None:
        by_pod: dict[str, list] = {}
        for container in observed.containers:
            by_pod.setdefault(container.pod_uid, []).append(container)
        now = self.clock()
        for pod in pods:
            uid = pod["metadata"]["uid"]
            backoffs = {c: until for (u, c), until in self.state.backoffs.items() if u == uid}
            problems = {k: v for k, v in self.state.image_problems.items() if k[0] == uid}
            new = status.pod_status(pod, by_pod.get(uid, []), self.address.host, now, problems,
                                    backoffs, images=observed.images)
            if new != pod.get("status"):
                self._put_status(pod, new)

    def _put_status(self, pod: dict, new_status: dict) -> None:
        meta = pod["metadata"]
        try:
            self.api.update(Target("pods", meta["namespace"], meta["name"], "status"),
                            {**pod, "status": new_status}, Query())
        except (Conflict, NotFound):
            self.wake.set()  # changed or gone meanwhile: look again

    # -- the Node ------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        """Write the Node's status when it changed or a beat is due; otherwise touch nothing
        (no read either: the status this worker last wrote stands for the Node's)."""
        if self.facts is None or time.monotonic() - self._facts_at > FACTS_SECONDS:
            self.facts = self.minion.facts()
            self._facts_at = time.monotonic()
        if self._node_status is not None and self.heartbeat_due_in() > 0:
            expected = nodes.node_status(self.address, self.facts, self.clock(),
                                         self._node_status)
            if nodes.same_but_heartbeat(expected, self._node_status):
                return
        written = self._write_node(lambda previous: nodes.node_status(
            self.address, self.facts, self.clock(), previous))
        if written is not None:
            self._node_status, self._beat_at = written, time.monotonic()

    def heartbeat_due_in(self) -> float:
        """Seconds until the Node's next heartbeat is due (0 when it is)."""
        return max(0.0, self._beat_at + HEARTBEAT_SECONDS - time.monotonic())

    def mark_unreachable(self, why: str) -> None:
        """Ready=Unknown with the reason (the node lifecycle controller takes it from there)."""

        def unknown(previous: dict | None) -> dict:
            previous = previous or {}
            conditions = previous.get("conditions") or []
            ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            condition = nodes.ready_condition(False, why, self.clock(), ready)
            if ready is not None:
                condition["lastHeartbeatTime"] = ready.get("lastHeartbeatTime")
            return {**previous, "conditions": [condition]}

        self._node_status = None  # the next pass that reaches the minion writes Ready again
        try:
            self._write_node(unknown)
        except BosunError as error:
            log.warning("%s: could not mark the node unreachable: %s", self.name, error)

    def _write_node(self, make_status) -> dict | None:
        """Read the Node (create it if missing), write `make_status(old status)` if it differs;
        the status the Node now has, or None when it could not be written."""
        try:
            node = self.api.read("nodes", None, self.name)
        except NotFound:
            if self.facts is None:
                return None
            pod_cidr = getattr(self.address, "pod_cidr", None)
            node, _ = self.api.create(Target("nodes"),
                                      nodes.node_object(self.address, self.facts, pod_cidr),
                                      Query())
        new_status = make_status(node.get("status"))
        if new_status != node.get("status"):
            try:
                self.api.update(Target("nodes", None, self.name, "status"),
                                {**node, "status": new_status}, Query())
            except Conflict:
                return None  # someone else wrote it (cordon, say): the next pass writes again
        return new_status

    # -- events through the API ----------------------------------------------------------------
    def _create_event(self, namespace: str, event: dict) -> dict:
        return self.api.create(Target("events", namespace), event, Query())[0]

    def _update_event(self, namespace: str, name: str, event: dict) -> dict:
        return self.api.update(Target("events", namespace, name), event, Query())[0]

    def close(self, wait: bool = False) -> None:
        """Drop the connection; with wait, after the pod teardowns under way are done."""
        self.executor.close(wait)
        self.minion.close()


class Kubelet:
    """Workers for every minion of the inventory, plus the watches that wake them."""

    def __init__(self, api: Api, addresses: Iterable, resync: float = RESYNC_SECONDS) -> None:
        self.api = api
        self.view = ServiceView(api)
        # Marked stale by the pod watch before it wakes a worker; a missed event costs at most
        # one resync, as when every pass listed its pods.
        self.pods = PodView(api, max_age=resync)
        self.workers = {a.name: MinionWorker(api, a, view=self.view, pods=self.pods)
                        for a in addresses}
        self.resync = resync
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._streams: dict[str, object] = {}

    def start(self) -> None:
        for name, worker in self.workers.items():
            self._spawn(f"kubelet-{name}", self._run_worker, worker)
            self._spawn(f"proxy-{name}", self._run_proxy, worker)
            self._spawn(f"docker-events-{name}", self._follow_docker, worker)
        self._spawn("kubelet-pod-watch", self._follow_pods)
        for resource in ("services", "endpoints"):
            self._spawn(f"kubelet-{resource}-watch", self._follow_all, resource)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for worker in self.workers.values():
            worker.wake.set()
            worker.proxy_wake.set()
        for stream in list(self._streams.values()):
            stream.close()
        for worker in self.workers.values():
            worker.close()

    def _run_worker(self, worker: MinionWorker) -> None:
        delay = RETRY_SECONDS
        while not self.stopping.is_set():
            worker.wake.clear()
            try:
                worker.sync_pods()
                delay = RETRY_SECONDS
                wait = min(self.resync, max(worker.heartbeat_due_in(), 0.1))
            except (BosunError, ApiError) as error:
                log.warning("%s: sync failed: %s", worker.name, error)
                worker.mark_unreachable(f"Bosun cannot reach the minion: {error}")
                wait, delay = delay, min(delay * 2, 30.0)
            except Exception:
                log.exception("%s: sync crashed", worker.name)
                wait = RETRY_SECONDS
            worker.wake.wait(wait)

    def _run_proxy(self, worker: MinionWorker) -> None:
        """The minion's proxy pass whenever services or endpoints change, and every
        PROXY_RESYNC_SECONDS (the pass itself skips a look when nothing changed)."""
        while not self.stopping.is_set():
            worker.proxy_wake.clear()
            wait = PROXY_RESYNC_SECONDS
            try:
                worker.sync_proxy()
            except (BosunError, ApiError) as error:
                # The pods worker marks the Node; here only retry soon.
                log.warning("%s: proxy pass failed: %s", worker.name, error)
                wait = RETRY_SECONDS
            except Exception:
                log.exception("%s: proxy pass crashed", worker.name)
                wait = RETRY_SECONDS
            worker.proxy_wake.wait(wait)

    def _follow_docker(self, worker: MinionWorker) -> None:
        """Wake the worker on every container event (a death above all)."""
        while not self.stopping.is_set():
            try:
                stream = docker_ops.EventStream(worker.minion.docker, {LABEL_POD_UID: None})
                self._streams[worker.name] = stream
                for event in stream:
                    status = event.get("status")
                    if status in ("die", "oom", "destroy", "start"):
                        worker.wake.set()
                    if status == "die":
                        # Docker sends `die` before its container list shows the container
                        # exited (measured: 70-180 ms later): look once more after that.
                        threading.Timer(DIE_SETTLE_SECONDS, worker.wake.set).start()
            except BosunError as error:
                log.info("%s: docker events ended: %s", worker.name, error)
            except Exception:
                log.exception("%s: docker events crashed", worker.name)
            self.stopping.wait(RETRY_SECONDS)

    def _follow_all(self, resource: str) -> None:
        """Wake every minion's worker on a change of `resource` (the proxy runs everywhere)."""
        while not self.stopping.is_set():
            try:
                revision = self.api.store.current_revision()
                with self.api.store.watch(f"/registry/{resource}/", revision) as stream:
                    self._streams[resource] = stream
                    self._services_changed()  # whatever happened while no watch was open
                    for _event in stream:
                        self._services_changed()
            except (store_errors.StoreError, BosunError) as error:
                log.info("%s watch ended (%s); watching again", resource, error)
            except Exception:
                log.exception("%s watch crashed", resource)
            self.stopping.wait(RETRY_SECONDS)

    def _services_changed(self) -> None:
        self.view.changed()
        for worker in self.workers.values():
            worker.proxy_wake.set()

    def _follow_pods(self) -> None:
        """Wake the worker of every minion a pod change concerns."""
        while not self.stopping.is_set():
            try:
                revision = self.api.store.current_revision()
                with self.api.store.watch("/registry/pods/", revision) as stream:
                    self._streams["pods"] = stream
                    self.pods.changed()  # whatever happened while no watch ran
                    for event in stream:
                        self.pods.changed()  # before the wake: the woken worker lists anew
                        node = (event.object.get("spec") or {}).get("nodeName")
                        worker = self.workers.get(node or "")
                        if worker is not None:
                            worker.wake.set()
            except (store_errors.StoreError, BosunError) as error:
                log.info("pod watch ended (%s); watching again", error)
            except Exception:
                log.exception("pod watch crashed")
            self.stopping.wait(RETRY_SECONDS)


class LogReader:
    """pods/log for any minion of the inventory, on connections of its own (any API server
    answers logs, leader or not)."""

    def __init__(self, addresses: Iterable) -> None:
        self.addresses = {a.name: a for a in addresses}
        self._minions: dict[str, Minion] = {}
        self._lock = threading.Lock()

    def _minion(self, name: str) -> Minion:
        with self._lock:
            if name not in self._minions:
                self._minions[name] = Minion(self.addresses[name])
            return self._minions[name]

    def close(self) -> None:
        with self._lock:
            for minion in self._minions.values():
                minion.close()
            self._minions.clear()

    # -- logs ----------------------------------------------------------------------------------
    def logs(self, pod: dict, query: Query):
        """The log stream of one of the pod's containers (pods/log)."""
        name = pod["metadata"]["name"]
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in self.addresses:
            raise BadRequest(f'pod "{name}" is not running on a minion yet')
        spec_names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.container or (spec_names[0] if len(spec_names) == 1 else "")
        if container not in spec_names:
            raise BadRequest(f"a container name must be specified for pod {name}, choose one "
                               f"of: [{' '.join(spec_names)}]")
        minion = self._minion(node)
        found = minion.containers({LABEL_POD_UID: pod["metadata"]["uid"],
                                          LABEL_CONTAINER: container})
        attempts = sorted(found, key=lambda c: c["Created"], reverse=True)
        index = 1 if query.previous else 0
        if len(attempts) <= index:
            raise BadRequest(f'container "{container}" in pod "{name}" is waiting to start: '
                               f"ContainerCreating" if not query.previous else
                               f'previous terminated container "{container}" in pod "{name}" '
                               f"not found")
        return docker_ops.logs(minion.docker, attempts[index]["Id"], follow=query.follow,
                               tail=query.tail_lines, timestamps=query.timestamps)
