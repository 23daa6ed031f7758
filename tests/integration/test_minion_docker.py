"""Docker over the kept-open SSH connection, facts and fleet fan-out, against the lab's minions."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest

from bosun.minion import DockerNotFound, Fleet, Minion, MinionUnreachable

pytestmark = pytest.mark.integration
LAB_IMAGE = "bosun/busybox:1"


@pytest.fixture(scope="module")
def fleet(lab) -> Iterator[Fleet[Minion]]:
    with Fleet(lab.inventory.minions(), max_workers=8, timeout=20) as f:
        yield f


@pytest.fixture
def minion(fleet: Fleet[Minion]) -> Minion:
    return fleet[fleet.names[0]]


def test_many_api_calls_share_one_connection_and_one_channel(minion: Minion):
    minion.docker.ping()
    dials, connects = minion.docker.dials, minion.ssh.connects
    for _ in range(10):
        minion.docker.ping()
        minion.docker.version()
        minion.docker.containers({"bosun.test/none": None})
        minion.docker.call("list images", lambda c: c.api.images())
    assert (minion.docker.dials, minion.ssh.connects) == (dials, connects)


def test_calls_over_a_kept_open_channel_are_fast(minion: Minion):
    minion.docker.ping()
    started = time.monotonic()
    for _ in range(20):
        minion.docker.ping()
    per_call = (time.monotonic() - started) / 20
    assert per_call < 0.05  # a new exec per call would cost more than this on every minion


def test_label_filter_lists_only_matching_containers(minion: Minion):
    run = uuid.uuid4().hex
    client = minion.docker.client
    made = []
    try:
        for which in ("a", "b"):
            c = client.containers.create(
                LAB_IMAGE,
                ["sleep", "600"],
                labels={"bosun.test/run": run, "bosun.test/which": which},
            )
            made.append(c)
        made[0].start()
        both = minion.containers({"bosun.test/run": run})
        only_a = minion.containers({"bosun.test/run": run, "bosun.test/which": "a"})
        assert sorted(c["Id"] for c in both) == sorted(c.id for c in made)
        assert [c["Id"] for c in only_a] == [made[0].id]
        assert only_a[0]["State"] == "running"
        assert only_a[0]["Labels"]["bosun.test/which"] == "a"
        assert {c["State"] for c in both} == {"running", "created"}
    finally:
        for c in made:
            c.remove(force=True)
    assert minion.containers({"bosun.test/run": run}) == []


def test_missing_container_is_docker_not_found_naming_the_host(minion: Minion):
    with pytest.raises(DockerNotFound) as caught:
        minion.docker.call("inspect", lambda c: c.api.inspect_container("bosun-no-such-thing"))
    assert caught.value.status_code == 404
    assert str(caught.value).startswith(f"{minion.name}: docker inspect failed (404)")


def test_docker_reconnects_when_the_ssh_connection_dropped(minion: Minion):
    minion.docker.ping()
    connects, dials = minion.ssh.connects, minion.docker.dials
    minion.abort()  # as if the minion's sshd had gone away under us
    minion.docker.ping()
    assert (minion.ssh.connects, minion.docker.dials) == (connects + 1, dials + 1)


def test_facts_of_every_minion(fleet: Fleet[Minion]):
    outcomes = fleet.map(lambda m: m.facts())
    facts = {name: o.result() for name, o in outcomes.items()}
    assert {name: f.hostname for name, f in facts.items()} == {n: n for n in fleet.names}
    assert len({f.machine_id for f in facts.values()}) == len(facts)
    for name, f in facts.items():
        version = fleet[name].docker.version()
        assert f.docker_version == version["Version"]
        assert f.docker_api_version == version["ApiVersion"]
        assert f.cpus >= 1 and f.memory_bytes > 0 and f.boot_id


def test_an_unreachable_minion_does_not_hold_the_others_back(lab):
    addresses = lab.inventory.minions()
    dead = dataclasses.replace(addresses[0], name="minion-dead", port=2)  # nothing listens
    with Fleet([*addresses, dead], timeout=5) as f:
        started = time.monotonic()
        outcomes = f.map(lambda m: m.check(["hostname"]).text.strip())
        elapsed = time.monotonic() - started
    assert {n: o.value for n, o in outcomes.items() if o.ok} == {a.name: a.name for a in addresses}
    assert isinstance(outcomes["minion-dead"].error, MinionUnreachable)
    assert "minion-dead (" in str(outcomes["minion-dead"].error)
    assert elapsed < 3
