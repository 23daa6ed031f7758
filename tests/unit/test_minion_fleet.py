"""Fleet fan-out with a recording fake of our own minion interface (no SSH)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bosun.minion.errors import MinionTimeout, MinionUnreachable
from bosun.minion.fleet import Fleet


@dataclass(frozen=True)
class Address:
    name: str
    host: str = "10.200.0.1"
    port: int = 22
    user: str = "root"
    private_key_file: str | None = None
    known_hosts_file: str | None = None
    host_key_policy: str = "strict"
    pod_cidr: str | None = None


class FakeMinion:
    """Records what Fleet does to it; `aborted` is set when Fleet drops its connection."""

    def __init__(self, address: Address) -> None:
        self.name = address.name
        self.aborted = threading.Event()
        self.closed = 0
        self.calls = 0

    def abort(self) -> None:
        self.aborted.set()

    def close(self) -> None:
        self.closed += 1

    def hang(self) -> str:
        """What a call stuck on a dead connection does: fail once the connection is dropped."""
        self.aborted.wait(10)
        raise MinionUnreachable(f"{self.name}: connection dropped", host=self.name)


def fleet_of(*names: str, **kwargs) -> Fleet[FakeMinion]:
    return Fleet([Address(n) for n in names], member=FakeMinion, **kwargs)


def by_name(behaviour: dict[str, Callable[[FakeMinion], object]]):
    def call(m: FakeMinion) -> object:
        m.calls += 1
        return behaviour[m.name](m)

    return call


def test_every_minion_answers_in_fleet_order():
    with fleet_of("m3", "m1", "m2") as fleet:
        outcomes = fleet.map(lambda m: m.name.upper())
    assert list(outcomes) == ["m3", "m1", "m2"]
    assert {n: o.result() for n, o in outcomes.items()} == {"m3": "M3", "m1": "M1", "m2": "M2"}


def test_a_failing_minion_is_its_own_outcome():
    boom = MinionUnreachable("m2 (10.200.0.1:22): cannot connect: refused", host="m2")

    def fail(m: FakeMinion) -> str:
        raise boom

    with fleet_of("m1", "m2") as fleet:
        outcomes = fleet.map(by_name({"m1": lambda m: "ok", "m2": fail}))
    assert outcomes["m1"].ok and outcomes["m1"].value == "ok"
    assert not outcomes["m2"].ok and outcomes["m2"].error is boom
    with pytest.raises(MinionUnreachable):
        outcomes["m2"].result()


def test_a_hung_minion_costs_only_its_timeout_and_is_aborted():
    with fleet_of("fast", "hung", max_workers=4, timeout=0.3) as fleet:
        started = time.monotonic()
        outcomes = fleet.map(by_name({"fast": lambda m: "ok", "hung": FakeMinion.hang}))
        elapsed = time.monotonic() - started
        assert outcomes["fast"].value == "ok" and outcomes["fast"].seconds < 0.1
        error = outcomes["hung"].error
        assert isinstance(error, MinionTimeout)
        assert str(error) == "hung (10.200.0.1:22): no answer within 0.3 s"
        assert 0.3 <= elapsed < 0.6
        assert fleet["hung"].aborted.wait(1)  # its connection was dropped, freeing the worker


def test_the_freed_worker_serves_the_next_map():
    with fleet_of("hung", max_workers=1, timeout=0.2) as fleet:
        assert isinstance(fleet.map(FakeMinion.hang)["hung"].error, MinionTimeout)
        assert fleet.map(lambda m: "again")["hung"].value == "again"


def test_at_most_max_workers_run_at_once():
    running, peak, lock = 0, 0, threading.Lock()

    def work(m: FakeMinion) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    with fleet_of(*[f"m{i}" for i in range(6)], max_workers=2) as fleet:
        outcomes = fleet.map(work)
    assert all(o.ok for o in outcomes.values())
    assert peak == 2


def test_a_minion_that_never_got_a_worker_gives_up_after_the_batches_before_it():
    stuck = threading.Event()  # a call that ignores abort: the worker stays busy

    def wedge(m: FakeMinion) -> None:
        stuck.wait(10)

    try:
        with fleet_of("first", "second", max_workers=1, timeout=0.2) as fleet:
            started = time.monotonic()
            outcomes = fleet.map(wedge)
            elapsed = time.monotonic() - started
    finally:
        stuck.set()
    assert str(outcomes["first"].error) == "first (10.200.0.1:22): no answer within 0.2 s"
    assert str(outcomes["second"].error) == (
        "second (10.200.0.1:22): not started, all 1 workers busy for 0.4 s"
    )
    assert 0.4 <= elapsed < 0.7  # two batches' worth of timeout, not forever


def test_members_are_kept_across_maps_and_closed_once():
    fleet = fleet_of("m1", "m2")
    first = fleet["m1"]
    fleet.map(by_name({"m1": lambda m: None, "m2": lambda m: None}))
    fleet.map(by_name({"m1": lambda m: None, "m2": lambda m: None}), names=["m1"])
    assert fleet["m1"] is first
    assert (fleet["m1"].calls, fleet["m2"].calls) == (2, 1)
    fleet.close()
    assert [m.closed for m in fleet] == [1, 1]


def test_empty_fleet():
    with fleet_of() as fleet:
        assert fleet.map(lambda m: 1) == {}
