"""Names in objects cannot break the rendered configs, whatever characters they hold."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bosun.proxy import ProxyMinion, read_local_ports, render
from bosun.proxy.haproxy import proxy_name
from bosun.proxy.iptables import saved_rules
from bosun.proxy.model import ServicePort, comment_text
from tests.unit.test_proxy_render import endpoints, port, service, subset

# Every line a listen section may have; anything else would be injected config.
LISTEN_LINE = re.compile(
    r"(#[^\n]*|listen [a-z0-9_.-]+"
    r"|    bind 0\.0\.0\.0:\d+|    balance (roundrobin|source)|    hash-type consistent"
    r"|    server [0-9.:]+ [0-9.]+:\d+(  # [A-Za-z0-9_./:@ -]*)?|)")
RULE_LINE = re.compile(
    r'-A BOSUN-SERVICES -d [0-9.]+/32 -p tcp -m tcp --dport \d+ '
    r'-m comment --comment "[A-Za-z0-9_./:@-]{1,200}" -j REDIRECT --to-ports \d+')
NASTY = ['a"b', "a\nlisten evil", "a\r\n    bind 0.0.0.0:22", "a # b", "ä/ö:ü", "a\\", "a b",
         "'", "\x00", "-j ACCEPT", "x" * 300, "a.b", "a_2eb"]


def _settings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


EMPTY_SETTINGS = _settings(render([], [], ProxyMinion("m")).haproxy)


def _check(config):
    """global and defaults as always, then only well-formed listen lines and rules."""
    head, _, tail = config.haproxy.partition("\nlisten ")
    assert _settings(head) == EMPTY_SETTINGS
    for line in ("listen " + tail if tail else "").splitlines():
        assert LISTEN_LINE.fullmatch(line), repr(line)
    for line in config.iptables.splitlines():
        assert line.startswith("#") or line in ("*nat", ":BOSUN-SERVICES - [0:0]", "COMMIT") \
            or RULE_LINE.fullmatch(line), repr(line)


@pytest.mark.parametrize("name", NASTY, ids=[f"nasty-{i}" for i in range(len(NASTY))])
def test_nasty_names_render_safely_and_round_trip(name):
    services = [service(name, [port(80, name)], ns=name)]
    eps = [endpoints(name, [{"addresses": [{"ip": "10.244.1.5", "nodeName": name,
                                            "targetRef": {"namespace": name, "name": name}}],
                             "ports": [{"name": name, "port": 8080}]}], ns=name)]
    config = render(services, eps, ProxyMinion(name, (name,)))
    _check(config)
    assert read_local_ports(config.haproxy) == config.local_ports == {
        f"{name}/{name}:{name}": config.local_ports[f"{name}/{name}:{name}"]}
    assert "server 10.244.1.5:8080" in config.haproxy


def test_minion_name_and_addresses_stay_in_comments():
    config = render([], [], ProxyMinion("m\nglobal\n    daemon", ("1.2.3.4\n    daemon",)))
    assert "\n    daemon" not in config.haproxy
    assert all(line.startswith("#") or line in ("*nat", ":BOSUN-SERVICES - [0:0]", "COMMIT")
               for line in config.iptables.splitlines())


def test_proxy_names_are_one_to_one():
    # Without escaping these would all be "a.b.c" or collide with one another.
    ports = [ServicePort(ns, svc, label, "10.0.0.1", 1, None, False)
             for ns, svc, label in [("a", "b", "c"), ("a.b", "", "c"), ("a", "b.c", ""),
                                    ("a_2eb", "c", "d"), ("a.b", "c", "d"), ("A", "b", "c")]]
    names = [proxy_name(p) for p in ports]
    assert len(set(names)) == len(names)
    assert names[0] == "a.b.c"


def test_comment_text_keeps_dns_names_and_drops_the_rest():
    assert comment_text("default/web:http") == "default/web:http"
    assert comment_text('a"b\nc d') == "a_b_c_d"
    assert len(comment_text("x" * 1000)) == 200


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40),
       st.text(max_size=20), st.text(max_size=40))
def test_any_text_in_names_is_contained(ns, name, port_name, pod):
    services = [service(name, [port(80, port_name), port(81, port_name + "x")], ns=ns,
                        kind="NodePort")]
    eps = [endpoints(name, [subset(["10.244.1.5"], [(port_name, 8080)])], ns=ns)]
    eps[0]["subsets"][0]["addresses"][0]["targetRef"]["name"] = pod
    config = render(services, eps, ProxyMinion(pod))
    _check(config)
    assert read_local_ports(config.haproxy) == config.local_ports
    assert len(saved_rules(config.iptables)) == 1 + len(config.local_ports)
