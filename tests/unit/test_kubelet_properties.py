"""Properties of plan over generated minions: one start per container, never a container without
its infra container, every action applicable in order on a simulated Docker, and convergence:
applying the plan and planning again settles within two passes (only backoff waits remain)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosun.kubelet.model import (
    INFRA,
    KillContainer,
    Observed,
    RemoveContainer,
    StartContainer,
    StartInfra,
    WaitBackoff,
)
from bosun.kubelet.plan import plan
from tests.unit.test_kubelet_world import NODE, NOW, Minion, ago, app, container, infra, pod, world

NAMES = ("web", "cache", "side")
IMAGES = st.sampled_from(["nginx:1.27", "redis:7", "missing:1"])
PULL_POLICIES = st.sampled_from([None, "IfNotPresent", "Always", "Never"])


@st.composite
def pods(draw, index: int) -> dict:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))
    containers = []
    for name in names:
        policy = draw(PULL_POLICIES)
        containers.append(container(name, draw(IMAGES),
                                    **({"imagePullPolicy": policy} if policy else {})))
    return pod(f"p{index}", containers,
               restart=draw(st.sampled_from(["Always", "OnFailure", "Never"])),
               deleting=draw(st.integers(0, 5)) == 0,
               phase=draw(st.sampled_from([None, None, None, None, "Succeeded", "Failed"])),
               node=draw(st.sampled_from([NODE, NODE, NODE, NODE, "minion-2"])))


@st.composite
def containers_of(draw, of: dict) -> list:
    found = []
    for attempt in sorted(draw(st.sets(st.integers(0, 2), max_size=2))):
        found.append(infra(of, attempt, state=draw(st.sampled_from(["running", "exited"])),
                           started=ago(draw(st.sampled_from([3000, 3600, 4000])))))
    for spec in of["spec"]["containers"]:
        for attempt in sorted(draw(st.sets(st.integers(0, 4), max_size=3))):
            state = draw(st.sampled_from(["running", "exited", "exited", "created"]))
            finished = ago(draw(st.sampled_from([1, 30, 400])))
            ran = draw(st.sampled_from([5, 700]))
            running = state == "running"
            found.append(app(
                of, spec["name"], attempt, state=state,
                exit_code=draw(st.sampled_from([0, 1, 137])),
                started=ago(draw(st.sampled_from([1800, 3600, 3700]))) if running
                else finished - timedelta(seconds=ran),
                finished=finished, spec_hash=draw(st.sampled_from([None, None, "0ld"])),
                backoff=draw(st.sampled_from([None, 0.0, 10.0, 300.0]))))
    return found


@st.composite
def minions(draw) -> tuple[list[dict], Observed]:
    """(the pods bound to the minion, what it runs: theirs and an orphan pod's containers)."""
    count = draw(st.integers(0, 3))
    everyone = [draw(pods(i)) for i in range(count + 1)]
    bound, orphan = everyone[:count], everyone[count]
    observed = []
    for of in everyone:
        observed += draw(containers_of(of))
    images = draw(st.sampled_from([frozenset({"nginx:1.27", "redis:7"}), frozenset()]))
    return bound + ([orphan] if draw(st.booleans()) and orphan["metadata"].get(
        "deletionTimestamp") else []), world(*observed, images=images)


SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(minions())
def test_one_start_per_container_and_never_without_infra(minion):
    bound, observed = minion
    actions = plan(NODE, bound, observed, NOW)
    starts = Counter((a.pod_uid, a.container) for a in actions if isinstance(a, StartContainer))
    assert all(n == 1 for n in starts.values()), actions
    infra_starts = Counter(a.pod_uid for a in actions if isinstance(a, StartInfra))
    assert all(n == 1 for n in infra_starts.values()), actions
    running_infra = {c.id for c in observed.containers if c.container == INFRA and c.running}
    planned_infra: set[str] = set()
    for action in actions:
        if isinstance(action, KillContainer):
            running_infra.discard(action.container_id)
        if isinstance(action, StartInfra):
            planned_infra.add(action.pod_uid)
        if isinstance(action, StartContainer):
            assert action.pod_uid in planned_infra or action.infra_id in running_infra, actions
    touched = Counter(a.container_id for a in actions
                      if isinstance(a, KillContainer | RemoveContainer))
    assert all(n == 1 for n in touched.values()), actions


@SETTINGS
@given(minions())
def test_applying_the_plan_converges_within_two_passes(minion):
    bound, observed = minion
    by_uid = {p["metadata"]["uid"]: p for p in bound}
    docker = Minion(observed)
    passes = []
    for _ in range(3):
        actions = plan(NODE, bound, docker.observed(), NOW)
        passes.append(actions)
        docker.apply(actions, by_uid)  # asserts each action is possible at its turn
    assert all(isinstance(a, WaitBackoff) for a in passes[2]), passes
    assert plan(NODE, bound, docker.observed(), NOW) == passes[2]


@SETTINGS
@given(minions())
def test_plan_is_deterministic(minion):
    bound, observed = minion
    shuffled = Observed(observed.node, tuple(reversed(observed.containers)), observed.images)
    assert plan(NODE, bound, observed, NOW) == plan(NODE, list(reversed(bound)), shuffled, NOW)
