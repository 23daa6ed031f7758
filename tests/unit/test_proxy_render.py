"""render: one minion's haproxy.cfg and iptables rules from Services and Endpoints, as data in."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bosun.proxy import ProxyMinion, render, render_haproxy, render_iptables

MINION = ProxyMinion("minion-1", ("10.200.0.11",))


def service(name, ports, *, ns="default", ip="10.0.0.10", kind="ClusterIP", affinity="None"):
    return {"kind": "Service", "metadata": {"namespace": ns, "name": name},
            "spec": {"type": kind, "clusterIP": ip, "ports": ports, "sessionAffinity": affinity}}


def port(number, name="", *, target=None, protocol="TCP", node_port=None):
    result = {"port": number, "targetPort": number if target is None else target,
              "protocol": protocol}
    if name:
        result["name"] = name
    if node_port is not None:
        result["nodePort"] = node_port
    return result


def subset(ips, ports, not_ready=()):
    """ports: (name, number) pairs; ips ready, not_ready not."""
    result = {"addresses": [{"ip": ip, "nodeName": "minion-1",
                             "targetRef": {"kind": "Pod", "namespace": "default",
                                           "name": f"pod-{ip.replace('.', '-')}"}} for ip in ips],
              "ports": [{"name": n, "port": p, "protocol": "TCP"} if n else
                        {"port": p, "protocol": "TCP"} for n, p in ports]}
    if not_ready:
        result["notReadyAddresses"] = [{"ip": ip} for ip in not_ready]
    return result


def endpoints(name, subsets, *, ns="default"):
    return {"kind": "Endpoints", "metadata": {"namespace": ns, "name": name}, "subsets": subsets}


def listens(config: str) -> dict[str, dict]:
    """The listen sections of a rendered haproxy.cfg: binds, balance, servers (comments cut)."""
    found: dict[str, dict] = {}
    current = None
    for line in config.splitlines():
        if line.startswith("listen "):
            current = found.setdefault(line.split()[1], {"binds": [], "balance": [],
                                                         "servers": []})
        elif current is not None and line.startswith("    "):
            words = line.split("#")[0].split()
            if words[0] == "bind":
                current["binds"].append(int(words[1].rsplit(":", 1)[1]))
            elif words[0] in ("balance", "hash-type"):
                current["balance"].append(" ".join(words))
            elif words[0] == "server":
                current["servers"].append(words[2])
        elif not line.startswith("#"):
            current = None
    return found


RULE = re.compile(r'^-A BOSUN-SERVICES -d (\S+)/32 -p tcp -m tcp --dport (\d+) '
                  r'-m comment --comment "([^"]*)" -j REDIRECT --to-ports (\d+)$')


def redirects(rules: str) -> dict[str, tuple[str, int, int]]:
    """comment -> (VIP, port, local port) for each rule of the rendered chain."""
    found = [RULE.match(line) for line in rules.splitlines() if line.startswith("-A ")]
    assert all(found), rules
    return {m.group(3): (m.group(1), int(m.group(2)), int(m.group(4))) for m in found}


RR, AFFINITY = ["balance roundrobin"], ["balance source", "hash-type consistent"]
TWO_PODS = ["10.244.1.5", "10.244.2.5"]

# id, services, endpoints, expected listens {name: (balance, servers, node port)}, skipped
CASES = [
    ("clusterip-single-unnamed-port",
     [service("web", [port(80, target=8080)])],
     [endpoints("web", [subset(TWO_PODS, [("", 8080)])])],
     {"default.web.80": (RR, ["10.244.1.5:8080", "10.244.2.5:8080"], None)}, []),
    ("clusterip-multi-port",
     [service("web", [port(80, "http"), port(443, "https")])],
     [endpoints("web", [subset(TWO_PODS, [("http", 8080), ("https", 8443)])])],
     {"default.web.http": (RR, ["10.244.1.5:8080", "10.244.2.5:8080"], None),
      "default.web.https": (RR, ["10.244.1.5:8443", "10.244.2.5:8443"], None)}, []),
    ("named-targetport-resolved-per-pod-by-endpoint-port-name",
     [service("web", [port(80, "http", target="web-port")])],
     [endpoints("web", [subset(["10.244.1.5"], [("http", 9376)]),
                        subset(["10.244.2.5"], [("http", 9377)])])],
     {"default.web.http": (RR, ["10.244.1.5:9376", "10.244.2.5:9377"], None)}, []),
    ("endpoint-port-of-another-name-is-not-used",
     [service("web", [port(80, "http")])],
     [endpoints("web", [subset(TWO_PODS, [("metrics", 9100)])])],
     {"default.web.http": (RR, [], None)}, []),
    ("session-affinity-clientip",
     [service("redis", [port(6379)], affinity="ClientIP")],
     [endpoints("redis", [subset(TWO_PODS, [("", 6379)])])],
     {"default.redis.6379": (AFFINITY, ["10.244.1.5:6379", "10.244.2.5:6379"], None)}, []),
    ("nodeport-binds-node-port",
     [service("web", [port(80, "http", node_port=30080)], kind="NodePort")],
     [endpoints("web", [subset(["10.244.1.5"], [("http", 8080)])])],
     {"default.web.http": (RR, ["10.244.1.5:8080"], 30080)}, []),
    ("loadbalancer-served-as-nodeport",
     [service("web", [port(80, "http", node_port=30081)], kind="LoadBalancer")],
     [], {"default.web.http": (RR, [], 30081)}, []),
    ("clusterip-ignores-stale-nodeport",
     [service("web", [port(80, "http", node_port=30080)])],
     [], {"default.web.http": (RR, [], None)}, []),
    ("headless-skipped-silently",
     [service("db", [port(5432)], ip="None")],
     [endpoints("db", [subset(TWO_PODS, [("", 5432)])])], {}, []),
    ("externalname-skipped-silently",
     [{"metadata": {"namespace": "default", "name": "ext"},
       "spec": {"type": "ExternalName", "externalName": "example.com"}}], [], {}, []),
    ("service-without-ports-skipped-silently",
     [service("noports", [])], [], {}, []),
    ("udp-port-skipped-and-reported",
     [service("dns", [port(53, "dns", protocol="UDP"), port(53, "dns-tcp")])],
     [endpoints("dns", [subset(["10.244.1.5"], [("dns", 53), ("dns-tcp", 53)])])],
     {"default.dns.dns-tcp": (RR, ["10.244.1.5:53"], None)},
     ["default/dns:dns/UDP: Bosun's service proxy carries TCP only; not proxied"]),
    ("service-without-endpoints-still-listens",
     [service("web", [port(80)])], [],
     {"default.web.80": (RR, [], None)}, []),
    ("not-ready-addresses-excluded",
     [service("web", [port(80)])],
     [endpoints("web", [subset(["10.244.1.5"], [("", 80)], not_ready=["10.244.2.5"])])],
     {"default.web.80": (RR, ["10.244.1.5:80"], None)}, []),
    ("subsets-merged-duplicates-dropped",
     [service("web", [port(80)])],
     [endpoints("web", [subset(["10.244.2.5", "10.244.1.5"], [("", 80)]),
                        subset(["10.244.1.5", "10.244.1.10"], [("", 80)])])],
     {"default.web.80": (RR, ["10.244.1.5:80", "10.244.1.10:80", "10.244.2.5:80"], None)}, []),
    ("endpoints-of-unknown-service-ignored",
     [], [endpoints("ghost", [subset(TWO_PODS, [("", 80)])])], {}, []),
    ("same-name-in-two-namespaces",
     [service("web", [port(80)], ns="a"), service("web", [port(80)], ns="b", ip="10.0.0.11")],
     [endpoints("web", [subset(["10.244.1.5"], [("", 80)])], ns="b")],
     {"a.web.80": (RR, [], None), "b.web.80": (RR, ["10.244.1.5:80"], None)}, []),
    ("clusterip-not-allocated-reported",
     [service("web", [port(80)], ip="")], [], {},
     ["default/web: no clusterIP allocated yet; not proxied"]),
    ("clusterip-not-ipv4-reported",
     [service("web", [port(80)], ip="10.0.0.300")], [], {},
     ["default/web: clusterIP '10.0.0.300' is not an IPv4 address; not proxied"]),
    ("port-out-of-range-reported",
     [service("web", [port(0, "zero"), port(True, "bool"), port(80, "ok")])], [],
     {"default.web.ok": (RR, [], None)},
     ["default/web:bool: port True is not in 1-65535; not proxied",
      "default/web:zero: port 0 is not in 1-65535; not proxied"]),
    ("endpoint-address-not-ipv4-reported-others-kept",
     [service("web", [port(80)])],
     [endpoints("web", [subset(["fd00::5", "10.244.1.5", "10.244.1.5\nlisten x"], [("", 80)])])],
     {"default.web.80": (RR, ["10.244.1.5:80"], None)},
     ["default/web: endpoint address '10.244.1.5\\nlisten x' is not an IPv4 address",
      "default/web: endpoint address 'fd00::5' is not an IPv4 address"]),
    ("endpoint-port-out-of-range-reported",
     [service("web", [port(80)])],
     [endpoints("web", [subset(["10.244.1.5"], [("", 70000)])])],
     {"default.web.80": (RR, [], None)},
     ["default/web: endpoint port 70000 is not in 1-65535"]),
    ("service-listed-twice-keeps-one-deterministically",
     [service("web", [port(80, "http", node_port=30080)], kind="NodePort"),
      service("web", [port(80, "http")])], [],
     {"default.web.http": (RR, [], None)}, ["default/web:http: listed twice; keeping one"]),
    ("duplicate-nodeport-bound-once",
     [service("a", [port(80, node_port=30080)], kind="NodePort"),
      service("b", [port(80, node_port=30080)], kind="NodePort", ip="10.0.0.11")], [],
     {"default.a.80": (RR, [], 30080), "default.b.80": (RR, [], None)},
     ["default/b:80: nodePort 30080 is already default/a:80's; only its clusterIP is proxied"]),
]


@pytest.mark.parametrize("services, endpoint_list, expected, skipped",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_render(services, endpoint_list, expected, skipped):
    config = render(services, endpoint_list, MINION)
    found = listens(config.haproxy)
    assert {name: (s["balance"], s["servers"], s["binds"][1] if len(s["binds"]) > 1 else None)
            for name, s in found.items()} == expected
    assert config.skipped == skipped
    # Both files agree: each listener's first bind is its local port, which its rule targets.
    rules = redirects(config.iptables)
    assert sorted(config.local_ports) == sorted(rules)
    assert sorted(s["binds"][0] for s in found.values()) == sorted(config.local_ports.values())
    for key, (_, _, local_port) in rules.items():
        assert config.local_ports[key] == local_port


def test_rules_redirect_vip_and_service_port_to_local_port():
    services = [service("web", [port(80, "http", node_port=30080), port(443, "https")],
                        kind="NodePort"),
                service("redis", [port(6379)], ip="10.0.0.11")]
    config = render(services, [], MINION)
    ports = config.local_ports
    assert redirects(config.iptables) == {
        "default/web:http": ("10.0.0.10", 80, ports["default/web:http"]),
        "default/web:https": ("10.0.0.10", 443, ports["default/web:https"]),
        "default/redis:6379": ("10.0.0.11", 6379, ports["default/redis:6379"]),
    }


def test_iptables_touches_only_bosun_chain():
    config = render([service("web", [port(80)])], [], MINION)
    lines = [line for line in config.iptables.splitlines() if not line.startswith("#")]
    assert lines[0] == "*nat" and lines[-1] == "COMMIT"
    assert lines[1] == ":BOSUN-SERVICES - [0:0]"
    assert all(line.startswith("-A BOSUN-SERVICES ") for line in lines[2:-1])


def test_empty_cluster_renders_complete_configs():
    config = render([], [], MINION)
    assert "listen " not in config.haproxy
    assert "stats socket /var/run/haproxy.sock" in config.haproxy  # the listener haproxy needs
    assert redirects(config.iptables) == {}
    assert config.local_ports == {} and config.skipped == []


def test_global_and_defaults():
    text = render([], [], MINION).haproxy
    for line in ("pidfile /var/run/haproxy.pid", "mode tcp", "option redispatch 1",
                 "retries 3", "timeout connect 3s"):
        assert f"\n    {line}\n" in text, line
    assert "daemon" not in text.split("defaults")[0].replace("no daemon line", "")
    # a fixed global maxconn keeps haproxy from starting where the open-files limit is lower
    assert "maxconn" not in text.split("defaults")[0].replace("No maxconn", "")


def test_split_renderers_match_render():
    services = [service("web", [port(80, "http")])]
    eps = [endpoints("web", [subset(TWO_PODS, [("http", 8080)])])]
    config = render(services, eps, MINION)
    assert render_haproxy(services, eps, MINION) == config.haproxy
    assert render_haproxy(services, eps, MINION, config.local_ports) == config.haproxy
    assert render_iptables(services, MINION, config.local_ports) == config.iptables


def test_render_haproxy_refuses_bad_local_ports():
    services = [service("a", [port(80)]), service("b", [port(80)], ip="10.0.0.11")]
    with pytest.raises(ValueError, match="two service ports"):
        render_haproxy(services, [], MINION, {"default/a:80": 20000, "default/b:80": 20000})
    with pytest.raises(ValueError, match="1-65535"):
        render_haproxy(services, [], MINION, {"default/a:80": 0})


def test_input_objects_are_not_changed():
    services = [service("web", [port(80, "http", node_port=30080)], kind="NodePort")]
    eps = [endpoints("web", [subset(TWO_PODS, [("http", 8080)], not_ready=["10.244.3.3"])])]
    before = copy.deepcopy((services, eps))
    render(services, eps, MINION)
    assert (services, eps) == before


# --- the same cluster in any order renders the same bytes ---

_names = st.sampled_from(["web", "redis", "db", "api", "cache"])
_ips = st.integers(1, 250).map(lambda i: f"10.244.{i % 3}.{i}")
_subsets = st.builds(
    lambda ips, ports, not_ready: subset(ips, ports, not_ready),
    st.lists(_ips, max_size=4), st.lists(st.tuples(st.sampled_from(["", "http", "https"]),
                                                   st.integers(1, 65535)), max_size=3),
    st.lists(_ips, max_size=2))


@st.composite
def _world(draw):
    services, eps = [], []
    for i, (ns, name) in enumerate(draw(st.sets(st.tuples(st.sampled_from(["a", "b"]), _names),
                                                max_size=6))):
        names = draw(st.sets(st.sampled_from(["", "http", "https", "dns"]), min_size=1,
                             max_size=3))
        ports = [port(80 + j, n, protocol=draw(st.sampled_from(["TCP", "TCP", "UDP"])),
                      node_port=30000 + 10 * i + j) for j, n in enumerate(sorted(names))]
        services.append(service(name, ports, ns=ns, ip=f"10.0.0.{i + 1}",
                                kind=draw(st.sampled_from(["ClusterIP", "NodePort"])),
                                affinity=draw(st.sampled_from(["None", "ClientIP"]))))
        eps.append(endpoints(name, draw(st.lists(_subsets, max_size=3)), ns=ns))
    return services, eps


def _shuffled(world, rnd):
    """A deep copy with every list in it shuffled."""
    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            items = [walk(v) for v in value]
            rnd.shuffle(items)
            return items
        return value
    return walk(world)


@settings(max_examples=200, deadline=None)
@given(_world(), st.randoms(use_true_random=False))
def test_output_is_byte_identical_in_any_order(world, rnd):
    services, eps = world
    first = render(services, eps, MINION)
    services2, eps2 = _shuffled(world, rnd)
    second = render(services2, eps2, ProxyMinion("minion-1", ("10.200.0.11",)))
    assert second == first
    assert second.haproxy.encode() == first.haproxy.encode()


def test_a_node_port_taken_on_the_minion_is_left_out_there_and_reported():
    services = [service("web", [port(80, node_port=30099)], kind="NodePort"),
                service("api", [port(81, node_port=30100)], ip="10.0.0.11", kind="NodePort")]
    eps = [endpoints("web", [subset(["10.244.1.5"], [("", 80)])]),
           endpoints("api", [subset(["10.244.1.6"], [("", 81)])])]
    free = render(services, eps, MINION)
    squatted = render(services, eps, ProxyMinion("minion-1", ("10.200.0.11",),
                                                  taken_ports=frozenset({30099, 22})))
    web = listens(squatted.haproxy)["default.web.80"]
    assert web["binds"] == [free.local_ports["default/web:80"]]  # VIP kept, node port gone
    assert web["servers"] == ["10.244.1.5:80"]
    assert listens(squatted.haproxy)["default.api.81"]["binds"][1] == 30100
    assert squatted.iptables == free.iptables
    assert squatted.skipped == ["default/web:80: nodePort 30099 is taken on minion-1 by another "
                                "process; the node port is not served there"]


def test_local_ports_avoid_ports_taken_on_the_minion():
    services = [service("web", [port(80)])]
    usual = render(services, [], MINION).local_ports["default/web:80"]
    moved = render(services, [], ProxyMinion("minion-1", taken_ports=frozenset({usual})))
    assert moved.local_ports["default/web:80"] not in (usual, None)
