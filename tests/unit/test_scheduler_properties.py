"""Properties of schedule_all over generated clusters: no Bind breaks a predicate, given the
placements before it (and an Unschedulable pod really fits nowhere, its message counting every
node); no node's allocatable is overcommitted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosun.objects.quantity import to_bytes, to_millicores
from bosun.scheduler import Bind, Unschedulable, schedule_all
from bosun.scheduler.plan import cluster_nodes
from bosun.scheduler.predicates import failures, pod_info
from tests.unit.test_scheduler_world import container, host_port, node, pod, rc, service

LABELS = st.fixed_dictionaries({}, optional={"app": st.sampled_from(["web", "db"]),
                                             "tier": st.sampled_from(["front", "back"])})
ZONES = st.sampled_from([{}, {"zone": "a"}, {"zone": "b"}])


@st.composite
def nodes(draw) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 5))
    return [node(f"m{i}",
                 cpu=f"{draw(st.integers(0, 4000))}m",
                 memory=f"{draw(st.integers(0, 8192))}Mi",
                 pods=str(draw(st.integers(0, 6))),
                 labels={"kubernetes.io/hostname": f"m{i}", **draw(ZONES)},
                 ready=draw(st.sampled_from(["True", "True", "True", "False", "Unknown", None])),
                 unschedulable=draw(st.booleans()) and draw(st.booleans()))
            for i in range(count)]


HOST_PORTS = [host_port(port, protocol, ip) for port in (80, 8080) for protocol in (None, "UDP")
              for ip in (None, "10.0.0.1", "10.0.0.2")]
AMOUNTS = {"cpu": st.integers(0, 2500).map(lambda m: f"{m}m"),
           "memory": st.integers(0, 4096).map(lambda m: f"{m}Mi")}


@st.composite
def containers(draw) -> dict[str, Any]:
    requests = draw(st.fixed_dictionaries({}, optional=AMOUNTS))
    limits = draw(st.fixed_dictionaries({}, optional=AMOUNTS))
    ports = {}  # one hostPort per port and protocol in a pod, as validation demands
    for port in draw(st.lists(st.sampled_from(HOST_PORTS), max_size=2)):
        ports.setdefault((port["hostPort"], port.get("protocol")), port)
    return container(requests=requests or None, limits=limits or None, ports=ports.values())


@st.composite
def world(draw) -> tuple[list[dict], list[dict], list[dict]]:
    """(nodes, pods to start from, pending pods)."""
    def pods(count: int, prefix: str) -> list[dict[str, Any]]:
        return [pod(f"{prefix}{i}", labels=draw(LABELS), containers=[draw(containers())],
                    node_selector=draw(ZONES))
                for i in range(count)]
    return draw(nodes()), pods(draw(st.integers(0, 8)), "old"), pods(draw(st.integers(0, 12)),
                                                                      "new")


def existing(nodes_: list[dict], pods: list[dict]) -> list[dict]:
    """Some of `pods` already bound, each to a node it fits on at that point (a valid start)."""
    placed = []
    for i, p in enumerate(pods):
        target = nodes_[i % len(nodes_)]["metadata"]["name"]
        bound = {**p, "spec": {**p["spec"], "nodeName": target}}
        if not failures(pod_info(bound), cluster_nodes(nodes_, placed)[target]):
            placed.append(bound)
    return placed


WORLD = world()
CONTROLLERS = ([service("web", {"app": "web"})], [rc("db", {"app": "db"})])
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def replay(nodes_: list[dict], already: list[dict], decisions) -> list[str]:
    """Check each decision against the cluster as it was just before it; the problems found."""
    problems = []
    bound = list(already)
    for p, decision in decisions:
        cluster = cluster_nodes(nodes_, bound)
        info = pod_info(p)
        if isinstance(decision, Bind):
            if reasons := failures(info, cluster[decision.node_name]):
                problems.append(f"{p['metadata']['name']} -> {decision.node_name}: {reasons}")
            bound.append({**p, "spec": {**p["spec"], "nodeName": decision.node_name}})
        elif any(not failures(info, n) for n in cluster.values()):
            problems.append(f"{p['metadata']['name']} unschedulable but fits somewhere")
        elif not _explains_every_node(decision, cluster):
            problems.append(f"{p['metadata']['name']}: {decision.message}")
    return problems


def _explains_every_node(decision: Unschedulable, cluster: Mapping[str, Any]) -> bool:
    """The message counts every node, and every reason each node has."""
    return (decision.message.startswith(f"0/{len(cluster)} nodes are available: ")
            and set(decision.node_reasons) == set(cluster)
            and _counted(decision.message) == _reason_total(decision.node_reasons))


@SETTINGS
@given(WORLD)
def test_every_decision_holds_given_the_earlier_placements(world):
    """A Bind passes every predicate; an Unschedulable pod fits nowhere and says why for all."""
    nodes_, first, batch = world
    already = existing(nodes_, first)
    decisions = schedule_all(batch, nodes_, already, *CONTROLLERS)
    assert replay(nodes_, already, decisions) == []


@SETTINGS
@given(WORLD)
def test_schedule_all_never_overcommits_allocatable(world):
    nodes_, first, batch = world
    already = existing(nodes_, first)
    decisions = schedule_all(batch, nodes_, already, *CONTROLLERS)
    placed = {n["metadata"]["name"]: [] for n in nodes_}
    for p in already:
        placed[p["spec"]["nodeName"]].append(p)
    for p, decision in decisions:
        if isinstance(decision, Bind):
            placed[decision.node_name].append(p)
    for n in nodes_:
        offered = n["status"]["allocatable"]
        pods = placed[n["metadata"]["name"]]
        assert _total(pods, "cpu", to_millicores) <= to_millicores(offered["cpu"])
        assert _total(pods, "memory", to_bytes) <= to_bytes(offered["memory"])
        assert len(pods) <= int(offered["pods"])


def _total(pods: list[dict], resource: str, parse: Any) -> int:
    """What the pods reserve of a resource: each container's request, else its limit."""
    total = 0
    for p in pods:
        for c in p["spec"]["containers"]:
            asked = c["resources"].get("requests", {}).get(resource)
            if asked is None:
                asked = c["resources"].get("limits", {}).get(resource)
            total += parse(asked) if asked is not None else 0
    return total


def _counted(message: str) -> int:
    histogram = message.split(": ", 1)[1].split(". preemption: ", 1)[0]
    return sum(int(part.split(" ", 1)[0]) for part in histogram.split(", "))


def _reason_total(node_reasons: Mapping[str, tuple[str, ...]]) -> int:
    return sum(len(reasons) for reasons in node_reasons.values())
