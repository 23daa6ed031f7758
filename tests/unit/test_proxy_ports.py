"""Local ports: deterministic, in range, and sticky as services come and go."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bosun.proxy import (
    LOCAL_PORT_RANGE,
    ProxyMinion,
    allocate_local_ports,
    read_local_ports,
    render,
)
from tests.unit.test_proxy_render import port, service

KEYS = [f"default/svc-{i}:http" for i in range(50)]


def test_same_keys_same_ports_in_any_order():
    assert allocate_local_ports(KEYS) == allocate_local_ports(reversed(KEYS))


def test_ports_are_unique_and_in_range():
    ports = allocate_local_ports(KEYS)
    first, last = LOCAL_PORT_RANGE
    assert sorted(ports) == sorted(KEYS)
    assert len(set(ports.values())) == len(KEYS)
    assert all(first <= p <= last for p in ports.values())


def test_range_is_outside_ephemeral_and_nodeport_ranges():
    first, last = LOCAL_PORT_RANGE
    assert last < 30000  # NodePort's default range 30000-32767, ephemeral from 32768


def test_adding_a_service_moves_no_other_without_collision():
    before = allocate_local_ports(KEYS)
    after = allocate_local_ports([*KEYS, "default/new:http"])
    assert {k: after[k] for k in KEYS} == before


@pytest.mark.parametrize("change", ["add", "remove"])
def test_previous_ports_are_kept_through_collisions(change):
    # Five ports for four keys: collisions are certain, and probing order would move ports.
    keys = ["a", "b", "c", "d"]
    small = (100, 104)
    before = allocate_local_ports(keys, port_range=small)
    changed = [*keys, "e"] if change == "add" else keys[1:]
    after = allocate_local_ports(changed, previous=before, port_range=small)
    assert {k: after[k] for k in changed if k in before} == {k: before[k] for k in changed
                                                             if k in before}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sets(st.text("abcdefgh", min_size=1, max_size=2), max_size=8),
                min_size=1, max_size=6))
def test_sticky_through_any_history(histories):
    small = (1000, 1009)
    ports: dict[str, int] = {}
    for keys in histories:
        new = allocate_local_ports(keys, previous=ports, port_range=small)
        for key in keys:
            if key in ports:
                assert new[key] == ports[key], key
        assert len(set(new.values())) == len(new)
        ports = new


def test_reserved_ports_never_given_and_win_over_previous():
    key = "default/web:http"
    natural = allocate_local_ports([key])[key]
    moved = allocate_local_ports([key], reserved=[natural], previous={key: natural})
    assert moved[key] != natural


def test_previous_out_of_range_or_taken_twice_is_ignored():
    ports = allocate_local_ports(["a", "b", "c"], previous={"a": 5, "b": 20001, "c": 20001})
    assert ports["a"] != 5
    assert ports["b"] == 20001 and ports["c"] != 20001  # sorted first keeps it


def test_full_range_leaves_keys_out():
    ports = allocate_local_ports(["a", "b", "c"], port_range=(100, 101))
    assert len(ports) == 2 and set(ports.values()) == {100, 101}


def test_node_ports_inside_the_range_are_reserved():
    node_port = allocate_local_ports(["default/web:http"])["default/web:http"]
    services = [service("web", [port(80, "http")]),
                service("np", [port(80, node_port=node_port)], kind="NodePort", ip="10.0.0.11")]
    config = render(services, [], ProxyMinion("m"))
    assert node_port not in config.local_ports.values()


def test_render_reports_service_ports_without_a_local_port():
    first, last = LOCAL_PORT_RANGE
    count = last - first + 2  # one more service port than the range holds
    services = [service(f"s{i:05}", [port(80)], ip=f"10.0.{i // 256}.{i % 256}")
                for i in range(count)]
    config = render(services, [], ProxyMinion("m"))
    assert len(config.local_ports) == count - 1
    assert config.skipped == [f"default/s{count - 1:05}:80: no free local port in the proxy's "
                              "range; not proxied"]
    assert f"s{count - 1:05}" not in config.haproxy + config.iptables


def test_read_local_ports_round_trip():
    services = [service("web", [port(80, "http"), port(443, "https")], kind="NodePort"),
                service("redis", [port(6379)], ns="kube-system", ip="10.0.0.11")]
    config = render(services, [], ProxyMinion("m"))
    assert read_local_ports(config.haproxy) == config.local_ports


def test_read_local_ports_ignores_foreign_config():
    foreign = "global\n    daemon\nlisten stats\n    bind 0.0.0.0:8404\nlisten a.b\n" \
              "    bind 0.0.0.0:1\nlisten a._zz.c\n    bind 0.0.0.0:2\n"
    assert read_local_ports(foreign) == {}
    assert read_local_ports("") == {}


def test_rerender_with_previous_ports_keeps_ports_and_bytes():
    services = [service(f"s{i}", [port(80)], ip=f"10.0.0.{i + 1}") for i in range(30)]
    first = render(services, [], ProxyMinion("m"))
    again = render(services, [], ProxyMinion("m"), read_local_ports(first.haproxy))
    assert again == first
    grown = render([*services, service("late", [port(80)], ip="10.0.0.99")], [],
                   ProxyMinion("m"), read_local_ports(first.haproxy))
    assert {k: grown.local_ports[k] for k in first.local_ports} == first.local_ports
