"""The kubelet's shared view of Services and Endpoints, and the heartbeat comparison."""

from __future__ import annotations

import threading
import time

from bosun.kubelet.cluster import PodView, ServiceView
from bosun.kubelet.nodes import same_but_heartbeat


class RecordingApi:
    """Answers `list` from a dict of resource -> items, recording each call."""

    def __init__(self) -> None:
        self.items = {"services": [svc("default", "a")], "endpoints": []}
        self.calls: list[str] = []

    def list(self, target, query) -> dict:
        self.calls.append(target.resource)
        return {"items": [dict(item) for item in self.items[target.resource]]}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def svc(namespace: str, name: str) -> dict:
    return {"metadata": {"namespace": namespace, "name": name}}


def test_one_listing_serves_every_caller_until_a_change():
    api = RecordingApi()
    view = ServiceView(api, clock=Clock())
    first = view.get()
    assert view.get() is first and view.get() is first
    assert api.calls == ["services", "endpoints"]
    view.changed()
    api.items["services"].append(svc("other", "b"))
    second = view.get()
    assert api.calls == ["services", "endpoints"] * 2
    assert second.generation > first.generation
    assert [s["metadata"]["name"] for s in second.services_in("other")] == ["b"]


def test_a_change_that_lists_the_same_keeps_the_generation():
    api = RecordingApi()
    view = ServiceView(api, clock=Clock())
    first = view.get()
    view.changed()  # e.g. an event for an object written with the same content
    again = view.get()
    assert len(api.calls) == 4  # listed again...
    assert again.generation == first.generation  # ...but nothing for the proxy to do


def test_an_old_listing_is_taken_again_without_any_change():
    api, clock = RecordingApi(), Clock()
    view = ServiceView(api, max_age=30.0, clock=clock)
    view.get()
    clock.now += 29.0
    view.get()
    assert len(api.calls) == 2
    clock.now += 2.0
    view.get()
    assert len(api.calls) == 4


def test_max_age_zero_lists_on_every_call():
    api = RecordingApi()
    view = ServiceView(api, max_age=0.0, clock=Clock())
    view.get()
    view.get()
    assert api.calls == ["services", "endpoints"] * 2


def test_a_change_during_a_listing_is_not_lost():
    """A change reported while a worker lists must make the next get list again."""
    api = RecordingApi()
    view = ServiceView(api, clock=Clock())
    listing_started, go_on = threading.Event(), threading.Event()
    inner = api.list

    def slow_list(target, query):
        listed = inner(target, query)  # read before the change below
        if target.resource == "services" and not listing_started.is_set():
            listing_started.set()
            go_on.wait(5)
        return listed

    api.list = slow_list
    worker = threading.Thread(target=view.get)
    worker.start()
    listing_started.wait(5)
    api.items["services"].append(svc("default", "late"))
    view.changed()
    go_on.set()
    worker.join(5)
    assert len(api.calls) == 2  # the slow listing is done, without "late"
    names = [s["metadata"]["name"] for s in view.get().services]
    assert "late" in names


def test_generations_are_never_reused():
    api = RecordingApi()
    view = ServiceView(api, max_age=0.0, clock=Clock())
    seen = []
    for name in ("b", "c", "d"):
        api.items["services"].append(svc("default", name))
        seen.append(view.get().generation)
    assert len(set(seen)) == 3 and seen == sorted(seen)


def pod(name: str, node: str | None) -> dict:
    return {"metadata": {"namespace": "default", "name": name},
            "spec": {"nodeName": node} if node else {}, "status": {"phase": "Running"}}


def test_every_minion_takes_its_pods_from_one_listing():
    api = RecordingApi()
    api.items["pods"] = [pod("a", "minion-1"), pod("b", "minion-2"), pod("c", "minion-1"),
                         pod("pending", None)]
    view = PodView(api, clock=Clock())
    on = {node: [p["metadata"]["name"] for p in view.get().pods_on(node)]
          for node in ("minion-1", "minion-2", "minion-3")}
    assert on == {"minion-1": ["a", "c"], "minion-2": ["b"], "minion-3": []}
    assert api.calls == ["pods"]  # one listing for three minions
    view.changed()  # the pod watch saw a change
    api.items["pods"].append(pod("d", "minion-3"))
    assert [p["metadata"]["name"] for p in view.get().pods_on("minion-3")] == ["d"]
    assert api.calls == ["pods", "pods"]


def test_workers_asking_together_wait_for_one_listing():
    api = RecordingApi()
    api.items["pods"] = [pod("a", "minion-1")]
    release = threading.Event()
    inner = api.list

    def slow_list(target, query):
        release.wait(5)
        return inner(target, query)

    api.list = slow_list
    view = PodView(api, clock=Clock())
    got: list = []
    workers = [threading.Thread(target=lambda: got.append(view.get())) for _ in range(5)]
    for worker in workers:
        worker.start()
    time.sleep(0.3)  # all five are asking now
    release.set()
    for worker in workers:
        worker.join(5)
    assert api.calls == ["pods"]
    assert len(got) == 5 and all(listing is got[0] for listing in got)


def test_a_failed_listing_lets_the_waiting_workers_list_themselves():
    api = RecordingApi()
    api.items["pods"] = []
    view = PodView(api, clock=Clock())
    inner, failed = api.list, threading.Event()

    def failing_once(target, query):
        if not failed.is_set():
            failed.set()
            time.sleep(0.2)
            raise OSError("etcd is down")
        return inner(target, query)

    api.list = failing_once
    errors: list = []
    first = threading.Thread(target=lambda: _catch(view.get, errors))
    first.start()
    failed.wait(5)
    assert view.get().pods_on("minion-1") == []  # waited, then listed itself
    first.join(5)
    assert [type(e) for e in errors] == [OSError]


def _catch(call, errors: list) -> None:
    try:
        call()
    except OSError as error:
        errors.append(error)


def test_a_worker_changing_its_pods_does_not_change_the_shared_listing():
    api = RecordingApi()
    api.items["pods"] = [pod("a", "minion-1")]
    view = PodView(api, clock=Clock())
    mine = view.get().pods_on("minion-1")
    mine[0]["status"]["phase"] = "Failed"
    assert view.get().pods_on("minion-1")[0]["status"]["phase"] == "Running"


READY = {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-11-27T10:00:00Z",
         "lastTransitionTime": "2026-11-27T09:00:00Z", "reason": "KubeletReady"}


def status(**ready) -> dict:
    return {"capacity": {"cpu": "2"}, "conditions": [{**READY, **ready}]}


def test_only_a_moved_heartbeat_is_the_same():
    assert same_but_heartbeat(status(lastHeartbeatTime="2026-11-27T10:00:05Z"), status())


def test_a_changed_condition_or_capacity_is_not_the_same():
    assert not same_but_heartbeat(status(status="Unknown"), status())
    assert not same_but_heartbeat({**status(), "capacity": {"cpu": "4"}}, status())
    assert not same_but_heartbeat({**status(), "conditions": []}, status())
