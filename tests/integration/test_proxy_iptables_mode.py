"""iptables mode (`bosun_proxy_mode: iptables`) held to the real iptables and the lab.

First the rendered chains in a throwaway network namespace (no lab): loaded, read back equal,
stale chains deleted, the user's rules untouched, everything of Bosun's removable. Then the lab
with every minion switched to iptables mode (the inventory changed and the lab's `serve`
restarted): a VIP from every minion and container reaches pods on all minions, node ports
answer on every minion, ClientIP affinity sticks, a port without pods is refused at once, pod
changes reach the rules, and switching back to haproxy mode leaves no DNAT chain.

Requests go through `nc -w 2` as in test_proxy: a failed request prints nothing.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

from bosun.kubelet.model import LABEL_CONTAINER, LABEL_POD_NAME
from bosun.kubelet.proxyworker import ProxyWorker
from bosun.lab import build
from bosun.minion import Fleet
from bosun.proxy.haproxy import HAPROXY_CFG, PIDFILE, STATS_SOCKET, listening_ports
from bosun.proxy.iptables import unhook_rules
from bosun.proxy.mode import RemoveChains, plan_minion, render_minion
from bosun.proxy.model import ProxyMinion
from bosun.proxy.ports import LOCAL_PORT_RANGE
from bosun.proxy.saved import bosun_chains

from .test_kubelet import NS, wait_for
from .test_proxy import (
    FETCH,
    RecordingEvents,
    _all_answered,
    _answers,
    _loop,
    _only_live_pods_answer,
    _pod_ips,
    echo_service,  # noqa: F401 - a fixture
    v1,  # noqa: F401 - a fixture
)
from .test_proxy_render_tools import (
    WORLDS,
    _add_user_rules,
    _apply_rules,
    _in,
    _run,
    _user_rules_intact,
    netns,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.integration

DNAT_MINION = ProxyMinion("minion-1", proxy_mode="iptables")
HAPROXY_MINION = ProxyMinion("minion-1")
_TARGET = re.compile(r"--to-destination (\d+\.\d+\.\d+\.\d+):\d+")


def _saved(run) -> str:
    """iptables-save of the nat and filter tables, as the proxy worker observes them."""
    return run(["iptables-save", "-t", "nat"]) + run(["iptables-save", "-t", "filter"])


def _in_ns(ns: str):
    return lambda argv: _run(_in(ns, argv)).stdout


def _apply(ns: str, actions) -> None:
    _apply_rules(ns, actions)
    for action in actions:
        if isinstance(action, RemoveChains):
            for argv in action.argv:
                _run(_in(ns, argv))


# --- the rules against the real iptables, in a namespace of our own ---

@pytest.mark.parametrize("world", WORLDS.values(), ids=WORLDS.keys())
def test_rendered_rules_load_and_read_back_equal(world, netns):  # noqa: F811
    rendered = render_minion(*world, DNAT_MINION)
    _apply(netns, plan_minion(rendered, None, _saved(_in_ns(netns)), haproxy_running=False))
    # The kernel's listing now plans nothing: every rule is rendered as iptables-save prints it.
    assert plan_minion(rendered, None, _saved(_in_ns(netns)), haproxy_running=False) == []


def test_stale_chains_go_user_rules_stay_and_everything_can_be_removed(netns):  # noqa: F811
    _add_user_rules(netns)
    services, endpoint_list = WORLDS["every-unit-case"]
    first = render_minion(services, endpoint_list, DNAT_MINION)
    _apply(netns, plan_minion(first, None, _saved(_in_ns(netns)), haproxy_running=False))
    before = set(bosun_chains(_saved(_in_ns(netns))))

    fewer = render_minion(services[: len(services) // 2], endpoint_list, DNAT_MINION)
    _apply(netns, plan_minion(fewer, None, _saved(_in_ns(netns)), haproxy_running=False))
    after = _saved(_in_ns(netns))
    assert set(bosun_chains(after)) == set(bosun_chains(fewer.iptables)) < before
    assert plan_minion(fewer, None, after, haproxy_running=False) == []
    assert _user_rules_intact(netns)

    # back to haproxy mode: only haproxy mode's chain and its two jumps are left
    haproxy = render_minion(services, endpoint_list, HAPROXY_MINION)
    actions = plan_minion(haproxy, haproxy.haproxy, after, haproxy_running=True)
    _apply(netns, actions)
    saved = _saved(_in_ns(netns))
    assert set(bosun_chains(saved)) == {("nat", "BOSUN-SERVICES")}
    assert saved.count("BOSUN-") == saved.count("BOSUN-SERVICES")
    assert plan_minion(haproxy, haproxy.haproxy, saved, haproxy_running=True) == []

    _apply(netns, plan_minion(first, None, saved, haproxy_running=False))  # and iptables again
    for argv in unhook_rules(_saved(_in_ns(netns))):
        _run(_in(netns, argv))
    assert "BOSUN" not in _saved(_in_ns(netns))
    assert _user_rules_intact(netns)


# --- the lab in iptables mode ---

def _dnat_targets(minion, service: str) -> set[str] | None:
    """Pod IPs a minion's rules DNAT the service's port to, once haproxy is gone; else None."""
    if minion.run(["test", "-e", HAPROXY_CFG]).exit_code == 0:
        return None
    saved = minion.check(["iptables-save", "-t", "nat"]).text
    return {m.group(1) for line in saved.splitlines() if f'"{NS}/{service}:' in line
            for m in [_TARGET.search(line)] if m}


@pytest.fixture(scope="module")
def iptables_mode(lab, echo_service):  # noqa: F811 - the echo service first: a switch with pods
    build.set_proxy_mode(lab.spec, "iptables")  # the inventory changed, serve restarted
    try:
        yield
    finally:
        if "bosun_proxy_mode=iptables" in lab.spec.inventory_path.read_text():
            build.set_proxy_mode(lab.spec, None)


def test_switching_to_iptables_mode_stops_haproxy_and_forwards_in_the_kernel(
        v1, lab, echo_service, iptables_mode):  # noqa: F811
    _, pods = echo_service
    ips = set(_pod_ips(v1))
    assert len(set(pods.values())) == 3, pods  # one pod per minion
    with Fleet(lab.inventory.minions()) as fleet:
        for minion in fleet:
            wait_for(lambda m=minion: _dnat_targets(m, "echo") == ips, 30,
                     f"DNAT to the echo pods on {minion.name}")
            assert minion.run(["test", "-e", PIDFILE]).exit_code == 1
            assert minion.run(["test", "-e", STATS_SOCKET]).exit_code == 1
            # the old haproxy soft-stopped: it no longer listens on its local ports
            listening = listening_ports(minion.check(["ss", "-Htln"]).text)
            assert not [p for p in listening if LOCAL_PORT_RANGE[0] <= p <= LOCAL_PORT_RANGE[1]]
            assert "REDIRECT" not in minion.check(["iptables-save", "-t", "nat"]).text
        # a pass with nothing changed writes nothing
        client = v1.api_client
        services = client.sanitize_for_serialization(v1.list_service_for_all_namespaces())
        endpoints = client.sanitize_for_serialization(v1.list_endpoints_for_all_namespaces())
        worker = ProxyWorker(fleet["minion-1"], RecordingEvents(), lambda: {}, "iptables")
        assert worker.sync(services["items"], endpoints["items"]) == []


def test_vip_reaches_pods_on_all_minions_from_minions_and_containers(
        lab, echo_service, iptables_mode):  # noqa: F811
    service, pods = echo_service
    loop = _loop(service.spec.cluster_ip)  # 30 requests; each pod is missed with p = 5e-6
    with Fleet(lab.inventory.minions()) as fleet:
        for minion in fleet:
            assert _all_answered(minion, ["busybox", "sh", "-c", loop], pods), minion.name
            assert _all_answered(minion, ["docker", "run", "--rm", "bosun/busybox:1", "sh", "-c",
                                          loop], pods), f"a container on {minion.name}"


def test_a_pod_reaches_itself_through_its_own_service(lab, echo_service, iptables_mode):  # noqa: F811
    """A third of the DNAT picks send a pod's connection back to the pod itself, out of the
    bridge port it came in on: the lab's dockerd sets hairpin mode on its ports for that."""
    service, pods = echo_service
    loop = _loop(service.spec.cluster_ip)
    with Fleet(lab.inventory.minions()) as fleet:
        for minion in fleet:
            pod = next(name for name, node in pods.items() if node == minion.name)
            app = minion.check(["docker", "ps", "-q", "--filter", f"label={LABEL_POD_NAME}={pod}",
                                "--filter", f"label={LABEL_CONTAINER}=web"]).text.split()
            assert len(app) == 1, app
            answers = _all_answered(minion, ["docker", "exec", app[0], "sh", "-c", loop], pods)
            assert answers and answers[pod] > 0, (pod, answers)


def test_node_port_answers_on_every_minion(lab, echo_service, iptables_mode):  # noqa: F811
    service, pods = echo_service
    node_port = service.spec.ports[0].node_port
    for minion in lab.minions:
        answers = set()
        for _ in range(12):
            with socket.create_connection((minion.address, node_port), timeout=3) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                answers.add(conn.makefile("rb").read().decode().strip().splitlines()[-1])
        assert answers <= set(pods) and len(answers) >= 2, (minion.name, answers)


def _create_service(v1, name: str, port: int, selector: dict, **spec) -> object:  # noqa: F811
    return v1.create_namespaced_service(NS, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": selector, "ports": [{"port": port, "targetPort": 8080}], **spec}})


def test_client_ip_affinity_sticks(v1, lab, echo_service, iptables_mode):  # noqa: F811
    _, pods = echo_service
    sticky = _create_service(v1, "sticky", 84, {"app": "echo"}, sessionAffinity="ClientIP")
    try:
        with Fleet(lab.inventory.minions()[:1]) as fleet:
            minion = fleet["minion-1"]
            wait_for(lambda: _dnat_targets(minion, "sticky") == set(_pod_ips(v1)), 30,
                     "the sticky service's rules")
            fetch = FETCH.format(ip=sticky.spec.cluster_ip, port=84)
            loop = f"for i in $(seq 20); do {fetch}; done"
            from_minion = _answers(minion, ["busybox", "sh", "-c", loop])
            assert len(from_minion) == 1 and sum(from_minion.values()) == 20, from_minion
            assert set(from_minion) <= set(pods)
    finally:
        v1.delete_namespaced_service("sticky", NS)


def test_a_port_without_pods_is_refused_at_once(v1, lab, echo_service, iptables_mode):  # noqa: F811
    nobody = _create_service(v1, "nobody", 85, {"app": "nobody"}, type="NodePort")
    try:
        node_port = nobody.spec.ports[0].node_port
        with Fleet(lab.inventory.minions()[:1]) as fleet:
            minion = fleet["minion-1"]
            wait_for(lambda: f"--dport {node_port} -j REJECT" in minion.check(
                ["iptables-save", "-t", "filter"]).text, 30, "the REJECT rule")
            started = time.monotonic()
            done = minion.run(["busybox", "nc", "-w", "5", nobody.spec.cluster_ip, "85"])
            assert done.exit_code != 0 and time.monotonic() - started < 1.0, done
        for spec in lab.minions:
            started = time.monotonic()
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((spec.address, node_port), timeout=5)
            assert time.monotonic() - started < 1.0
    finally:
        v1.delete_namespaced_service("nobody", NS)


def test_users_own_rules_survive_a_rules_change(v1, lab, echo_service, iptables_mode):  # noqa: F811
    own = [["-t", "nat", "POSTROUTING", "-d", "192.0.2.99/32", "-m", "comment", "--comment",
            "users-own-rule", "-j", "RETURN"],
           ["-t", "filter", "FORWARD", "-d", "192.0.2.98/32", "-m", "comment", "--comment",
            "users-own-filter-rule", "-j", "RETURN"]]
    with Fleet(lab.inventory.minions()[:1]) as fleet:
        minion = fleet["minion-1"]
        for rule in own:
            minion.check(["iptables", *rule[:2], "-A", *rule[2:]])
        try:
            extra = _create_service(v1, "extra", 86, {"app": "echo"})
            wait_for(lambda: extra.spec.cluster_ip in minion.check(
                ["iptables-save", "-t", "nat"]).text, 30, "the new service's rule")
            saved = _saved(lambda argv: minion.check(argv).text)
            assert "users-own-rule" in saved and "users-own-filter-rule" in saved
            assert "-j DOCKER" in saved
            v1.delete_namespaced_service("extra", NS)
        finally:
            for rule in own:
                minion.check(["iptables", *rule[:2], "-D", *rule[2:]])


def test_killing_and_scaling_pods_update_the_rules(v1, lab, echo_service, iptables_mode):  # noqa: F811
    service, _ = echo_service
    vip = service.spec.cluster_ip
    with Fleet(lab.inventory.minions()) as fleet:
        before = wait_for(lambda: (lambda ips: ips if len(ips) == 3 else None)(_pod_ips(v1)),
                          60, "3 ready echo pods")
        victim = sorted(before.values())[0]
        v1.delete_namespaced_pod(victim, NS)
        after = wait_for(lambda: (lambda ips: ips if len(ips) == 3 and victim not in
                                  ips.values() else None)(_pod_ips(v1)), 60, "a replacement")
        for minion in fleet:
            wait_for(lambda m=minion: _dnat_targets(m, "echo") == set(after), 30,
                     f"the replacement on {minion.name}")
        _only_live_pods_answer(fleet, vip, after)

        v1.patch_namespaced_replication_controller_scale("echo", NS, {"spec": {"replicas": 2}})
        two = wait_for(lambda: (lambda ips: ips if len(ips) == 2 else None)(_pod_ips(v1)), 60,
                       "2 ready echo pods")
        for minion in fleet:
            wait_for(lambda m=minion: _dnat_targets(m, "echo") == set(two), 30,
                     f"scale to 2 on {minion.name}")
        _only_live_pods_answer(fleet, vip, two)


def test_switching_back_to_haproxy_mode_leaves_no_dnat_chain(
        v1, lab, echo_service, iptables_mode):  # noqa: F811
    service, _ = echo_service
    live = _pod_ips(v1)
    build.set_proxy_mode(lab.spec, None)
    with Fleet(lab.inventory.minions()) as fleet:
        for minion in fleet:
            wait_for(lambda m=minion: m.run(["test", PIDFILE, "-nt", HAPROXY_CFG]).exit_code == 0
                     and set(bosun_chains(_saved(lambda argv: m.check(argv).text)))
                     == {("nat", "BOSUN-SERVICES")}, 30, f"haproxy mode on {minion.name}")
            saved = _saved(lambda argv, m=minion: m.check(argv).text)
            assert "BOSUN-SVC-" not in saved and "BOSUN-NO-ENDPOINTS" not in saved
            assert "REDIRECT" in saved
        _only_live_pods_answer(fleet, service.spec.cluster_ip, live)
