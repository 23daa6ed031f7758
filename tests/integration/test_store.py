"""bosun.store against a real etcd (/usr/bin/etcd on free ports, data in tmp_path): the
concurrency promises (no lost update, conflicts), watches, leases, and an etcd outage."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator

import pytest

from bosun.store import (
    ADDED,
    DELETED,
    MODIFIED,
    AlreadyExists,
    Conflict,
    Gone,
    LockLost,
    NotFound,
    Store,
    StoreUnavailable,
    Watch,
    WatchEvent,
    object_key,
    resource_prefix,
)
from bosun.store import store as store_module
from bosun.store.local import LocalEtcd

TIMEOUT = 1.0


def _gone_for_good(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _run_etcd(data_dir) -> Iterator[LocalEtcd]:
    server = LocalEtcd(data_dir)
    server.start()
    pid = server.process.pid
    try:
        yield server
    finally:
        server.stop()
        assert _gone_for_good(pid), f"etcd pid {pid} still running"


@pytest.fixture(scope="module")
def etcd(tmp_path_factory) -> Iterator[LocalEtcd]:
    yield from _run_etcd(tmp_path_factory.mktemp("etcd") / "data")


@pytest.fixture
def own_etcd(tmp_path) -> Iterator[LocalEtcd]:
    """An etcd for one test, which it may stop, freeze and restart."""
    yield from _run_etcd(tmp_path / "data")


@pytest.fixture
def store(etcd) -> Iterator[Store]:
    with Store(etcd.endpoint, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def resource(request) -> str:
    """A resource name of this test's own, so tests on the shared etcd never see each other."""
    return "t-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")


def _pod(name: str, **fields) -> dict:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "default"}, **fields}


def _rv(obj: dict) -> str:
    return obj["metadata"]["resourceVersion"]


def collect(watch: Watch, count: int, within: float = 5.0) -> list[WatchEvent]:
    """The first `count` events, or fewer if they do not come `within` seconds."""
    events: list[WatchEvent] = []
    timer = threading.Timer(within, watch.close)
    timer.start()
    try:
        for event in watch:
            events.append(event)
            if len(events) == count:
                break
    finally:
        timer.cancel()
    return events


# -- objects -------------------------------------------------------------------------------------

def test_create_get_and_already_exists(store, resource):
    key = object_key(resource, "a", "default")
    created = store.create(key, _pod("a", spec={"n": 1}))
    assert int(_rv(created)) == store.current_revision()
    assert store.get(key) == created
    with pytest.raises(AlreadyExists) as caught:
        store.create(key, _pod("a", spec={"n": 2}))
    assert caught.value.key == key
    assert store.get(key) == created


def test_get_missing_is_not_found(store, resource):
    with pytest.raises(NotFound):
        store.get(object_key(resource, "missing", "default"))


def test_list_is_sorted_limited_to_the_prefix_and_says_its_revision(store, resource):
    for name in ("c", "a", "b"):
        store.create(object_key(resource, name, "default"), _pod(name))
    store.create(object_key(resource, "z", "default-2"), _pod("z"))
    objects, revision = store.list(resource_prefix(resource, "default"))
    assert [o["metadata"]["name"] for o in objects] == ["a", "b", "c"]
    assert revision == store.current_revision()
    assert max(int(_rv(o)) for o in objects) < revision  # the default-2 object came after
    everything, _ = store.list(resource_prefix(resource))
    assert len(everything) == 4


def test_list_reads_many_pages(store, resource, monkeypatch):
    monkeypatch.setattr(store_module, "LIST_PAGE", 3)
    names = [f"p{i:02d}" for i in range(10)]
    for name in reversed(names):
        store.create(object_key(resource, name, "default"), _pod(name))
    objects, revision = store.list(resource_prefix(resource, "default"))
    assert [o["metadata"]["name"] for o in objects] == names
    assert revision == store.current_revision()


def test_update_with_a_stale_resource_version_conflicts_and_changes_nothing(store, resource):
    key = object_key(resource, "a", "default")
    first = store.create(key, _pod("a", spec={"n": 1}))
    second = store.update(key, _pod("a", spec={"n": 2}), _rv(first))
    assert int(_rv(second)) > int(_rv(first))
    with pytest.raises(Conflict) as caught:
        store.update(key, _pod("a", spec={"n": 3}), _rv(first))
    assert (caught.value.expected, caught.value.actual) == (_rv(first), _rv(second))
    assert store.get(key) == second


def test_update_needs_the_key(store, resource):
    key = object_key(resource, "a", "default")
    with pytest.raises(NotFound):
        store.update(key, _pod("a"))
    created = store.create(key, _pod("a"))
    store.delete(key)
    with pytest.raises(NotFound):
        store.update(key, _pod("a"), _rv(created))


def test_unconditional_update(store, resource):
    key = object_key(resource, "a", "default")
    store.create(key, _pod("a", spec={"n": 1}))
    updated = store.update(key, _pod("a", spec={"n": 2}))
    assert store.get(key) == updated


def _increment(obj: dict) -> dict:
    obj["spec"]["n"] += 1
    return obj


def test_two_racing_threads_lose_no_increment(store, resource):
    key = object_key(resource, "counter", "default")
    store.create(key, _pod("counter", spec={"n": 0}))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            for _ in range(50):
                store.guaranteed_update(key, _increment, retries=100)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert store.get(key)["spec"]["n"] == 100


def test_guaranteed_update_retries_with_the_fresh_object(store, resource):
    key = object_key(resource, "a", "default")
    store.create(key, _pod("a", spec={"n": 0}))
    calls: list[int] = []

    def mutate_while_someone_else_writes(obj: dict) -> dict:
        calls.append(obj["spec"]["n"])
        if len(calls) == 1:  # another writer slips in between our read and our write
            store.update(key, _pod("a", spec={"n": 10}))
        return _increment(obj)

    result = store.guaranteed_update(key, mutate_while_someone_else_writes)
    assert calls == [0, 10]
    assert result["spec"]["n"] == 11 and store.get(key) == result


def test_guaranteed_update_without_change_does_not_write(store, resource):
    key = object_key(resource, "a", "default")
    created = store.create(key, _pod("a"))
    assert store.guaranteed_update(key, lambda obj: obj) == created
    assert _rv(store.get(key)) == _rv(created)


def test_delete_returns_the_object_and_then_it_is_gone(store, resource):
    key = object_key(resource, "a", "default")
    created = store.create(key, _pod("a", spec={"n": 1}))
    deleted = store.delete(key, _rv(created))
    assert deleted["spec"] == {"n": 1}
    assert int(_rv(deleted)) == store.current_revision() > int(_rv(created))
    with pytest.raises(NotFound):
        store.get(key)
    with pytest.raises(NotFound):
        store.delete(key)


def test_delete_with_a_stale_resource_version_conflicts(store, resource):
    key = object_key(resource, "a", "default")
    first = store.create(key, _pod("a", spec={"n": 1}))
    second = store.update(key, _pod("a", spec={"n": 2}), _rv(first))
    with pytest.raises(Conflict):
        store.delete(key, _rv(first))
    assert store.get(key) == second


def test_delete_prefix(store, resource):
    for name in ("a", "b"):
        store.create(object_key(resource, name, "default"), _pod(name))
    other = store.create(object_key(resource, "c", "default-2"), _pod("c"))
    assert store.delete_prefix(resource_prefix(resource, "default")) == 2
    assert store.list(resource_prefix(resource))[0] == [other]
    with pytest.raises(ValueError):
        store.delete_prefix("/registry/t")


def test_unary_calls_share_one_kept_alive_connection(store):
    before = store.connections_opened()
    for _ in range(50):
        store.current_revision()
    assert store.connections_opened() - before <= 1


# -- watches -------------------------------------------------------------------------------------

def test_watch_from_a_list_revision_replays_and_follows_in_order(store, resource):
    prefix = resource_prefix(resource, "default")
    a, b = object_key(resource, "a", "default"), object_key(resource, "b", "default")
    first = store.create(a, _pod("a", spec={"n": 1}))
    _, listed_at = store.list(prefix)
    # Before the watch is opened: it must still see these.
    store.update(a, _pod("a", spec={"n": 2}), _rv(first))
    store.create(b, _pod("b"))
    store.create(object_key(resource, "x", "default-2"), _pod("x"))  # outside the prefix
    last_a = store.get(a)
    store.delete(a)
    with store.watch(prefix, listed_at) as watch:
        store.update(b, _pod("b", spec={"n": 5}))
        events = collect(watch, 4)
    assert [(e.type, e.key) for e in events] == [
        (MODIFIED, a), (ADDED, b), (DELETED, a), (MODIFIED, b)]
    revisions = [e.revision for e in events]
    assert revisions == sorted(revisions) and revisions[0] > listed_at
    assert all(_rv(e.object) == str(e.revision) for e in events)
    assert events[2].object["spec"] == last_a["spec"] and events[2].revision > int(_rv(last_a))
    assert events[3].object["spec"] == {"n": 5}
    assert watch.revision == events[3].revision


def test_watch_from_a_compacted_revision_is_gone(store, resource):
    key = object_key(resource, "a", "default")
    old = store.create(key, _pod("a", spec={"n": 0}))
    for n in range(1, 4):
        store.update(key, _pod("a", spec={"n": n}))
    now = store.current_revision()
    store.compact(now)
    with store.watch(resource_prefix(resource), int(_rv(old))) as watch:
        with pytest.raises(Gone) as caught:
            next(watch)
    assert caught.value.compact_revision == now
    with store.watch(resource_prefix(resource), now) as fresh:
        store.update(key, _pod("a", spec={"n": 9}))
        assert [e.object["spec"] for e in collect(fresh, 1)] == [{"n": 9}]


def test_close_from_another_thread_ends_the_iterator_at_once(store, resource):
    watch = store.watch(resource_prefix(resource), store.current_revision())
    seen: list[WatchEvent] = []
    reader = threading.Thread(target=lambda: seen.extend(watch))
    reader.start()
    time.sleep(0.3)
    assert reader.is_alive()  # blocked on a quiet stream
    started = time.monotonic()
    watch.close()
    reader.join(2)
    assert not reader.is_alive()
    assert time.monotonic() - started < 0.5
    assert seen == [] and watch.closed


# -- locks ---------------------------------------------------------------------------------------

def test_lock_excludes_others_and_hands_over_on_release(store, resource):
    first = store.acquire_lock(resource, "holder-a", ttl=5)
    assert first is not None and first.held
    assert store.acquire_lock(resource, "holder-b", ttl=5) is None
    assert store.lock_holder(resource) == "holder-a"
    first.refresh()
    first.release()
    assert not first.held
    assert store.lock_holder(resource) is None
    with store.acquire_lock(resource, "holder-b", ttl=5) as second:
        assert store.lock_holder(resource) == "holder-b"
        assert second.held
    assert store.lock_holder(resource) is None


def test_lock_expires_without_refresh(store, resource):
    lock = store.acquire_lock(resource, "holder-a", ttl=2)
    assert lock is not None
    deadline = time.monotonic() + 8
    while store.lock_holder(resource) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.lock_holder(resource) is None
    assert not lock.held
    with pytest.raises(LockLost):
        lock.refresh()
    taker = store.acquire_lock(resource, "holder-b", ttl=2)
    assert taker is not None and store.lock_holder(resource) == "holder-b"
    taker.release()


def test_refreshed_lock_outlives_its_ttl(store, resource):
    lock = store.acquire_lock(resource, "holder-a", ttl=2)
    for _ in range(6):
        time.sleep(0.7)
        lock.refresh()
    assert store.lock_holder(resource) == "holder-a"
    lock.release()


# -- outages -------------------------------------------------------------------------------------

def test_stopped_etcd_is_unavailable_at_once_and_the_same_store_recovers(own_etcd):
    store = Store(own_etcd.endpoint, timeout=TIMEOUT)
    key = object_key("pods", "a", "default")
    created = store.create(key, _pod("a"))
    watch = store.watch("/registry/", int(_rv(created)))
    own_etcd.stop()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.get(key)
    assert time.monotonic() - started <= TIMEOUT
    with pytest.raises(StoreUnavailable):
        collect(watch, 1)
    with pytest.raises(StoreUnavailable):
        store.watch("/registry/", int(_rv(created)))
    assert not store.healthy()

    own_etcd.start()
    assert store.get(key) == created
    assert store.healthy()
    with store.watch("/registry/", int(_rv(created))) as again:
        store.update(key, _pod("a", spec={"n": 1}), _rv(created))
        assert [e.type for e in collect(again, 1)] == [MODIFIED]
    store.close()


def test_frozen_etcd_times_out_and_then_answers(own_etcd):
    store = Store(own_etcd.endpoint, timeout=TIMEOUT)
    key = object_key("pods", "a", "default")
    created = store.create(key, _pod("a"))
    own_etcd.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.get(key)
        assert time.monotonic() - started < TIMEOUT + 0.5
    finally:
        own_etcd.thaw()
    assert store.get(key) == created
    store.close()
