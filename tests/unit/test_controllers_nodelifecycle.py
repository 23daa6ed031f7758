"""The node lifecycle plan: when a silent minion turns Unknown, how it is tainted, when its pods go.

Timings are checked on both sides of each boundary with the defaults (grace 20 s, eviction
timeout 30 s): Kubernetes acts only once a period has strictly passed.
"""

from __future__ import annotations

import copy
import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bosun.controllers.model import NORMAL, WARNING
from bosun.controllers.nodelifecycle import (
    NODE_MONITOR_GRACE_PERIOD,
    POD_EVICTION_TIMEOUT,
    Evict,
    MarkNotReady,
    MarkPodNotReady,
    SetTaints,
    plan,
)
from tests.unit.test_controllers_world import NOW, node, pod, stamp

UNREACHABLE_NO_EXECUTE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                          "timeAdded": stamp(0)}
UNREACHABLE_NO_SCHEDULE = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}
NOT_READY_NO_EXECUTE = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute",
                        "timeAdded": stamp(0)}
NOT_READY_NO_SCHEDULE = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
DEDICATED = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}
HEALTHY = node("minion-2")


def kinds(actions) -> list[str]:
    return [type(a).__name__ for a in actions]


def of(kind, actions) -> list:
    return [a for a in actions if isinstance(a, kind)]


def test_defaults():
    assert NODE_MONITOR_GRACE_PERIOD == timedelta(seconds=20)
    assert POD_EVICTION_TIMEOUT == timedelta(seconds=30)


# -- grace period ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("heartbeat", "marked"), [(5, False), (20, False), (21, True)],
                         ids=["fresh", "exactly-grace", "one-second-past-grace"])
def test_a_silent_node_turns_unknown_after_the_grace_period(heartbeat, marked):
    silent = node("minion-1", heartbeat=heartbeat)
    actions = plan([silent, HEALTHY], [], NOW)
    assert bool(of(MarkNotReady, actions)) is marked


def test_mark_not_ready_keeps_the_heartbeat_and_moves_the_transition():
    silent = node("minion-1", heartbeat=25, transition=3600)
    (mark,) = of(MarkNotReady, plan([silent, HEALTHY], [], NOW))
    assert mark.condition == {
        "type": "Ready", "status": "Unknown", "lastHeartbeatTime": stamp(25),
        "lastTransitionTime": stamp(0), "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status."}
    assert mark.status == {"conditions": [mark.condition]}
    event = mark.event()
    assert (event.type, event.reason, event.message) == (
        NORMAL, "NodeNotReady", "Node minion-1 status is now: NodeNotReady")


def test_other_monitored_conditions_turn_unknown_too():
    pressure = {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": stamp(25),
                "lastTransitionTime": stamp(3600), "reason": "KubeletHasSufficientMemory"}
    silent = node("minion-1", heartbeat=25, extra_conditions=[pressure])
    (mark,) = of(MarkNotReady, plan([silent, HEALTHY], [], NOW))
    assert [(c["type"], c["status"], c["reason"]) for c in mark.conditions] == [
        ("MemoryPressure", "Unknown", "NodeStatusUnknown"),
        ("Ready", "Unknown", "NodeStatusUnknown")]


def test_a_node_the_kubelet_already_marked_unknown_is_not_marked_again():
    marked = node("minion-1", ready="Unknown", heartbeat=60, transition=10,
                  taints=[UNREACHABLE_NO_SCHEDULE, UNREACHABLE_NO_EXECUTE])
    assert plan([marked, HEALTHY], [], NOW) == []


def test_a_node_that_was_not_ready_goes_unknown_without_an_event():
    docker_down = node("minion-1", ready="False", heartbeat=25, transition=5,
                       taints=[NOT_READY_NO_SCHEDULE, NOT_READY_NO_EXECUTE])
    actions = plan([docker_down, HEALTHY], [], NOW)
    (mark,) = of(MarkNotReady, actions)
    assert mark.event() is None
    (taints,) = of(SetTaints, actions)
    assert taints.taints == (UNREACHABLE_NO_EXECUTE, UNREACHABLE_NO_SCHEDULE)


@pytest.mark.parametrize(("created", "marked"), [(20, False), (21, True)],
                         ids=["within-grace", "past-grace"])
def test_a_node_that_never_reported_gets_ready_unknown(created, marked):
    new = node("minion-1", ready=None, created=created)
    marks = of(MarkNotReady, plan([new, HEALTHY], [], NOW))
    assert bool(marks) is marked
    if marked:
        assert marks[0].condition == {
            "type": "Ready", "status": "Unknown", "lastHeartbeatTime": stamp(created),
            "lastTransitionTime": stamp(0), "reason": "NodeStatusNeverUpdated",
            "message": "Kubelet never posted node status."}


def test_grace_is_an_option():
    silent = node("minion-1", heartbeat=25)
    assert of(MarkNotReady, plan([silent, HEALTHY], [], NOW, grace=timedelta(seconds=40))) == []


# -- taints ----------------------------------------------------------------------------------------

TAINTS = [
    pytest.param(node("minion-1", heartbeat=25), [],
                 [UNREACHABLE_NO_EXECUTE, UNREACHABLE_NO_SCHEDULE], id="gone-silent"),
    pytest.param(node("minion-1", ready="False", transition=5), [DEDICATED],
                 [DEDICATED, NOT_READY_NO_EXECUTE, NOT_READY_NO_SCHEDULE], id="not-ready"),
    pytest.param(node("minion-1", transition=2),
                 [DEDICATED, UNREACHABLE_NO_SCHEDULE, UNREACHABLE_NO_EXECUTE], [DEDICATED],
                 id="back-to-ready-removes-only-ours"),
    pytest.param(node("minion-1", ready="Unknown", heartbeat=60, transition=40),
                 [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE, NOT_READY_NO_SCHEDULE],
                 [UNREACHABLE_NO_EXECUTE, UNREACHABLE_NO_SCHEDULE], id="swapped-for-unreachable"),
]


@pytest.mark.parametrize(("subject", "before", "after"), TAINTS)
def test_taints_follow_the_ready_condition(subject, before, after):
    subject = copy.deepcopy(subject)
    if before:
        subject["spec"]["taints"] = before
    (taints,) = of(SetTaints, plan([subject, HEALTHY], [], NOW))
    assert list(taints.taints) == after
    assert taints.patch == {"spec": {"taints": after}}
    assert taints.event() is None


def test_existing_taints_keep_their_time_added():
    old = {**UNREACHABLE_NO_EXECUTE, "timeAdded": stamp(50)}
    marked = node("minion-1", ready="Unknown", heartbeat=60, transition=50,
                  taints=[old, UNREACHABLE_NO_SCHEDULE])
    assert of(SetTaints, plan([marked, HEALTHY], [], NOW)) == []


def test_a_ready_node_without_taints_needs_nothing():
    assert plan([node("minion-1"), HEALTHY], [pod("a")], NOW) == []


# -- eviction --------------------------------------------------------------------------------------

def lost(transition: float) -> dict:
    return node("minion-1", ready="Unknown", heartbeat=transition + 20, transition=transition,
                taints=[UNREACHABLE_NO_SCHEDULE, {**UNREACHABLE_NO_EXECUTE,
                                                  "timeAdded": stamp(transition)}])


@pytest.mark.parametrize(("transition", "evicted"), [(10, False), (30, False), (31, True)],
                         ids=["early", "exactly-timeout", "one-second-past-timeout"])
def test_pods_are_evicted_only_after_the_timeout(transition, evicted):
    actions = plan([lost(transition), HEALTHY], [pod("a")], NOW)
    assert kinds(actions) == (["Evict"] if evicted else ["MarkPodNotReady"])


def test_eviction_timeout_is_an_option():
    actions = plan([lost(31), HEALTHY], [pod("a")], NOW, eviction_timeout=timedelta(minutes=5))
    assert kinds(actions) == ["MarkPodNotReady"]


def test_which_pods_are_evicted():
    pods = [pod("b"), pod("a", ready=False), pod("done", phase="Succeeded", ready=False),
            pod("leaving", deleting=True, ready=False), pod("elsewhere", node="minion-2"),
            pod("pending", node=None, phase="Pending", ready=False)]
    actions = plan([lost(60), HEALTHY], pods, NOW)
    assert [(type(a).__name__, a.pod["metadata"]["name"]) for a in actions] == [
        ("Evict", "a"), ("Evict", "b")]
    event = actions[0].event()
    assert (event.about, event.type, event.reason, event.message) == (
        pods[1], NORMAL, "NodeControllerEviction", "Marking for deletion Pod a from Node minion-1")
    assert actions[0].uid == pods[1]["metadata"]["uid"]


def test_a_not_ready_node_is_evicted_too():
    docker_down = node("minion-1", ready="False", transition=31,
                       taints=[NOT_READY_NO_SCHEDULE, NOT_READY_NO_EXECUTE])
    assert kinds(plan([docker_down, HEALTHY], [pod("a")], NOW)) == ["Evict"]


TOLERATIONS = [
    pytest.param([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                   "effect": "NoExecute"}], 3600, False, id="tolerates-forever"),
    pytest.param([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                   "effect": "NoExecute", "tolerationSeconds": 60}], 59, False,
                 id="own-seconds-not-yet"),
    pytest.param([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                   "effect": "NoExecute", "tolerationSeconds": 60}], 61, True,
                 id="own-seconds-passed"),
    pytest.param([{"operator": "Exists", "tolerationSeconds": 5},
                  {"key": "node.kubernetes.io/unreachable", "operator": "Exists"}], 6, True,
                 id="least-seconds-win"),
    pytest.param([{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                   "effect": "NoExecute"}], 31, True, id="other-taint-uses-the-timeout"),
]


@pytest.mark.parametrize(("tolerations", "transition", "evicted"), TOLERATIONS)
def test_tolerations_of_the_no_execute_taint(tolerations, transition, evicted):
    actions = plan([lost(transition), HEALTHY], [pod("a", tolerations=tolerations)], NOW)
    assert bool(of(Evict, actions)) is evicted


def test_ready_pods_of_a_lost_node_are_marked_not_ready():
    ready_pod = pod("a", ready_at=600)
    (mark,) = plan([lost(10), HEALTHY], [ready_pod, pod("b", ready=False)], NOW)
    assert isinstance(mark, MarkPodNotReady)
    assert mark.status["conditions"] == [{"type": "Ready", "status": "False",
                                          "lastTransitionTime": stamp(0)}]
    assert mark.status["phase"] == "Running"
    event = mark.event()
    assert (event.type, event.reason, event.message) == (WARNING, "NodeNotReady",
                                                        "Node is not ready")


# -- full disruption -------------------------------------------------------------------------------

def test_no_evictions_when_no_node_is_ready():
    actions = plan([lost(600), node("minion-2", heartbeat=25)], [pod("a")], NOW)
    assert not of(Evict, actions)
    taints = {a.node["metadata"]["name"]: list(a.taints) for a in of(SetTaints, actions)}
    assert taints == {"minion-1": [UNREACHABLE_NO_SCHEDULE],
                      "minion-2": [UNREACHABLE_NO_SCHEDULE]}
    assert of(MarkPodNotReady, actions)[0].pod["metadata"]["name"] == "a"


def test_a_single_minion_cluster_never_evicts():
    assert not of(Evict, plan([lost(600)], [pod("a")], NOW))


def test_no_nodes_no_actions():
    assert plan([], [pod("a")], NOW) == []


# -- determinism and purity ------------------------------------------------------------------------

NODES = [lost(60), node("minion-3", heartbeat=25), HEALTHY,
         node("minion-4", ready="False", transition=5)]
PODS = [pod("a"), pod("b", node="minion-3"), pod("c", ready=False), pod("d", node="minion-4"),
        pod("e", node="minion-2")]


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False))
def test_same_actions_whatever_the_input_order(rnd: random.Random):
    nodes, pods = NODES[:], PODS[:]
    rnd.shuffle(nodes)
    rnd.shuffle(pods)
    assert plan(nodes, pods, NOW) == plan(NODES, PODS, NOW)


def test_actions_come_node_by_node():
    actions = plan(NODES, PODS, NOW)
    assert [(type(a).__name__, (a.node if hasattr(a, "node") else a.pod)["metadata"]["name"])
            for a in actions] == [
        ("Evict", "a"), ("Evict", "c"),
        ("MarkNotReady", "minion-3"), ("SetTaints", "minion-3"), ("MarkPodNotReady", "b"),
        ("SetTaints", "minion-4"), ("MarkPodNotReady", "d")]


def test_plan_does_not_change_its_input():
    nodes, pods = copy.deepcopy(NODES), copy.deepcopy(PODS)
    plan(nodes, pods, NOW)
    assert nodes == NODES and pods == PODS
