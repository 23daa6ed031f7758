"""The scheduling decision: where pods go, how a batch spreads, and FailedScheduling's exact words.

Expected messages follow kube-scheduler 1.32's FitError: reasons counted over the nodes, each
printed "count reason", sorted as text (so "10 ..." sorts before "2 ..."), then the preemption
verdict for a cluster where no pod has a lower priority than another.
"""

from __future__ import annotations

import pytest

from bosun.scheduler import Bind, Unschedulable, schedule, schedule_all
from bosun.scheduler.plan import cluster_nodes, failed_scheduling_message
from tests.unit.test_scheduler_world import (
    container,
    host_port,
    node,
    placements,
    pod,
    rc,
    replicas,
    service,
)

WEB = {"app": "web"}
NOT_READY = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"


def minions(count: int, **kwargs) -> list[dict]:
    return [node(f"minion-{i}", **kwargs) for i in range(1, count + 1)]


# -- FailedScheduling messages ---------------------------------------------------------------------

MESSAGES = [
    pytest.param(
        [node("a", cpu="1"), node("b", labels={}), node("c", labels={})], [],
        pod("p", cpu="2", node_selector={"kubernetes.io/hostname": "a"}),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found "
        "for incoming pod, 2 Preemption is not helpful for scheduling.",
        id="cpu-and-selector"),
    pytest.param(
        minions(3, cpu="1", memory="1Gi"), [], pod("p", cpu="2", memory="2Gi"),
        "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 "
        "nodes are available: 3 No preemption victims found for incoming pod.",
        id="every-shortage-counted"),
    pytest.param(
        [node("a", ready="False"), node("b", unschedulable=True), node("c", ready="Unknown")], [],
        pod("p"),
        "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
        ", 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were "
        "unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
        "scheduling.",
        id="not-ready-unreachable-cordoned"),
    pytest.param(
        minions(10, unschedulable=True) + [node("x", cpu="100m"), node("y", cpu="100m")], [],
        pod("p", cpu="1"),
        "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu. preemption: "
        "0/12 nodes are available: 10 Preemption is not helpful for scheduling, 2 No preemption "
        "victims found for incoming pod.",
        id="sorted-as-text-not-by-count"),
    pytest.param(
        minions(2, pods="1"),
        [pod("a", node_name="minion-1"), pod("b", node_name="minion-2")], pod("p"),
        "0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: 2 No "
        "preemption victims found for incoming pod.",
        id="too-many-pods"),
    pytest.param(
        minions(2),
        [pod(f"h{i}", containers=[container(ports=[host_port(80)])], node_name=f"minion-{i}")
         for i in (1, 2)],
        pod("p", containers=[container(ports=[host_port(80)])]),
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        id="host-port-taken"),
    pytest.param(
        [node("a", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
         node("b", cpu="1")], [],
        pod("p", cpu="2", preemptionPolicy="Never"),
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{dedicated: gpu}. preemption: not eligible due to preemptionPolicy=Never.",
        id="preemption-policy-never"),
    pytest.param([], [], pod("p"), "no nodes available to schedule pods", id="no-nodes"),
]


@pytest.mark.parametrize("nodes, existing, new, message", MESSAGES)
def test_unschedulable_message_is_kubernetes_own(nodes, existing, new, message):
    decision = schedule(new, nodes, existing)
    assert decision == Unschedulable(message, decision.node_reasons)
    assert decision.message == message


def test_unschedulable_says_why_per_node():
    decision = schedule(pod("p", cpu="2", node_selector={"disk": "ssd"}),
                        [node("a", cpu="1", labels={"disk": "ssd"}), node("b", ready="False")],
                        [])
    assert decision.node_reasons == {"a": ("Insufficient cpu",), "b": (NOT_READY,)}


def test_message_of_no_reasons_is_not_built_for_zero_nodes():
    assert failed_scheduling_message(0, {}) == "no nodes available to schedule pods"


# -- where a single pod goes -----------------------------------------------------------------------

@pytest.mark.parametrize("nodes, existing, new, expected", [
    (minions(3), [], pod("p", node_selector={"kubernetes.io/hostname": "minion-2"}), "minion-2"),
    ([node("busy"), node("idle")], [pod("a", cpu="3", memory="6Gi", node_name="busy")],
     pod("p", cpu="100m"), "idle"),
    ([node("small", cpu="2", memory="4Gi"), node("big", cpu="8", memory="16Gi")], [], pod("p"),
     "big"),
    ([node("cordoned", unschedulable=True), node("down", ready="False"), node("ok")], [],
     pod("p"), "ok"),
    ([node("a"), node("b")], [pod("h", containers=[container(ports=[host_port(80)])],
                                  node_name="a")],
     pod("p", containers=[container(ports=[host_port(80)])]), "b"),
    ([node("a", cpu="1"), node("b", cpu="1")],
     [pod("done", cpu="1", node_name="a", phase="Succeeded"),
      pod("running", cpu="500m", node_name="b")],
     pod("p", cpu="1"), "a"),
    ([node("a", cpu="1")], [pod("failed", cpu="1", node_name="a", phase="Failed")],
     pod("p", cpu="1"), "a"),
], ids=["node-selector", "least-requested-prefers-emptier", "bigger-node-has-more-room",
        "skips-cordoned-and-not-ready", "skips-taken-host-port", "succeeded-pods-free-room",
        "failed-pods-free-room"])
def test_schedule_binds(nodes, existing, new, expected):
    assert schedule(new, nodes, existing) == Bind(expected)


def test_pending_pods_and_pods_of_unknown_nodes_take_no_room():
    nodes = [node("a", cpu="1")]
    existing = [pod("pending", cpu="1"), pod("elsewhere", cpu="1", node_name="gone")]
    assert schedule(pod("p", cpu="1"), nodes, existing) == Bind("a")
    assert cluster_nodes(nodes, existing)["a"].pods == ()


def test_tie_break_is_stable_for_a_pod_and_spreads_different_pods():
    nodes = minions(3)
    one = pod("p", uid="7f3a")
    assert len({schedule(one, nodes, []) for _ in range(5)}) == 1
    chosen = {schedule(pod(f"p{i}"), nodes, []).node_name for i in range(30)}
    assert chosen == {"minion-1", "minion-2", "minion-3"}


def test_tie_break_does_not_depend_on_node_order():
    nodes = minions(5)
    for i in range(20):
        p = pod(f"p{i}")
        assert schedule(p, nodes, []) == schedule(p, list(reversed(nodes)), [])


# -- batches ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("count, by_service, expected", [
    (6, False, [2, 2, 2]),
    (9, False, [3, 3, 3]),
    (6, True, [2, 2, 2]),
    (7, False, [3, 2, 2]),
], ids=["6-replicas-of-an-rc", "9-replicas-of-an-rc", "6-pods-of-a-service", "7-replicas"])
def test_batch_spreads_replicas_evenly(count, by_service, expected):
    services = [service("web", WEB)] if by_service else []
    rcs = [] if by_service else [rc("web", WEB)]
    decisions = schedule_all(replicas("web", count, WEB), minions(3), [], services, rcs)
    assert sorted(placements(decisions).values(), reverse=True) == expected


def test_replicas_avoid_the_node_that_already_has_two():
    existing = [pod(f"web-old-{i}", labels=WEB, node_name="minion-1") for i in range(2)]
    decisions = schedule_all(replicas("web", 4, WEB), minions(3), existing, [], [rc("web", WEB)])
    assert placements(decisions) == {"minion-2": 2, "minion-3": 2}


def test_replicas_spread_even_with_unrelated_pods_around():
    existing = [pod(f"db-{i}", labels={"app": "db"}, node_name="minion-1") for i in range(3)]
    decisions = schedule_all(replicas("web", 6, WEB), minions(3), existing, [], [rc("web", WEB)])
    assert sorted(placements(decisions).values()) == [2, 2, 2]


def test_burst_without_controller_spreads_by_load():
    decisions = schedule_all([pod(f"job-{i}") for i in range(9)], minions(3), [])
    assert sorted(placements(decisions).values()) == [3, 3, 3]


def test_burst_does_not_all_land_on_the_emptiest_node():
    nodes = [node("half-full"), node("empty")]
    existing = [pod("big", cpu="2", memory="4Gi", node_name="half-full")]
    counts = placements(schedule_all([pod(f"job-{i}") for i in range(40)], nodes, existing))
    assert counts["empty"] > counts["half-full"] > 0


def test_batch_accounts_for_its_own_resources_and_ports():
    web = [pod(f"w{i}", cpu="1500m", containers=[container(requests={"cpu": "1500m"},
                                                          ports=[host_port(8080)])])
           for i in range(3)]
    decisions = schedule_all(web, minions(2, cpu="2"), [])
    assert [type(d) for _, d in decisions] == [Bind, Bind, Unschedulable]
    assert placements(decisions) == {"minion-1": 1, "minion-2": 1}
    assert decisions[2][1].message == (
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.")


def test_batch_keeps_order_and_returns_the_pods_it_was_given():
    pending = [pod("a"), pod("b", node_selector={"none": "x"}), pod("c")]
    decisions = schedule_all(pending, minions(2), [])
    assert [p for p, _ in decisions] == pending
    assert [p is q for (p, _), q in zip(decisions, pending, strict=True)] == [True] * 3
    assert isinstance(decisions[1][1], Unschedulable)


def test_batch_does_not_change_its_inputs():
    nodes, existing, pending = minions(2), [pod("a", node_name="minion-1")], replicas("w", 3, WEB)
    before = repr((nodes, existing, pending))
    schedule_all(pending, nodes, existing, [], [rc("w", WEB)])
    assert repr((nodes, existing, pending)) == before
