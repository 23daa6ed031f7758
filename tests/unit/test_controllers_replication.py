"""The replication manager's plan: counts, claims, victims, status, garbage collection.

Victim order follows Kubernetes 1.32's ActivePodsWithRanks (see `deletion_order`); each case
passes the pod that must go first second, under the later name, so neither the input order nor
the final tie-break by name can pass it.
"""

from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.client import ApiClient

from bosun.controllers.model import NORMAL, WARNING
from bosun.controllers.replication import (
    BURST_REPLICAS,
    Adopt,
    Create,
    Delete,
    Release,
    UpdateStatus,
    deletion_cost,
    deletion_order,
    orphans_of_deleted,
    orphans_of_missing,
    plan,
    pod_from_template,
)
from bosun.objects.defaults import apply_defaults
from bosun.objects.meta import prepare_create
from bosun.objects.validation import validate
from tests.unit.test_controllers_world import NOW, NS, ago, owner, pod, rc, stamp, uid_of

RC = rc()


def owned(name: str, **kwargs) -> dict:
    return pod(name, owned_by=RC, **kwargs)


def kinds(actions) -> list[str]:
    return [type(a).__name__ for a in actions]


def names(pods) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


# -- counts ----------------------------------------------------------------------------------------

COUNTS = [
    pytest.param(3, 1, ["Create", "Create"], id="scale-up-creates-the-difference"),
    pytest.param(3, 3, [], id="at-count-nothing"),
    pytest.param(1, 3, ["Delete", "Delete"], id="scale-down-deletes-the-surplus"),
    pytest.param(0, 2, ["Delete", "Delete"], id="scale-to-zero"),
]


@pytest.mark.parametrize(("replicas", "have", "expected"), COUNTS)
def test_creates_or_deletes_the_difference(replicas, have, expected):
    controller = rc(replicas=replicas)
    pods = [pod(f"web-{i}", owned_by=controller) for i in range(have)]
    assert kinds(plan(controller, pods, NOW).changes) == expected


def test_creates_at_most_the_burst_per_sync():
    result = plan(rc(replicas=BURST_REPLICAS + 100), [], NOW)
    assert BURST_REPLICAS == 500
    assert len(result.changes) == BURST_REPLICAS


def test_deletes_at_most_the_burst_per_sync():
    controller = rc(replicas=0)
    pods = [pod(f"web-{i:04}", owned_by=controller) for i in range(BURST_REPLICAS + 3)]
    assert len(plan(controller, pods, NOW).changes) == BURST_REPLICAS


def test_created_pods_come_from_the_template():
    created = plan(rc(replicas=2), [], NOW).changes
    assert all(isinstance(c, Create) for c in created)
    body = created[0].pod
    assert body["metadata"] == {
        "generateName": "web-", "namespace": NS, "labels": {"app": "web"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "ReplicationController",
                             "name": "web", "uid": RC["metadata"]["uid"], "controller": True,
                             "blockOwnerDeletion": True}]}
    assert body["spec"] == RC["spec"]["template"]["spec"]
    assert created[0].pod is not created[1].pod


# -- which pods count ------------------------------------------------------------------------------

OTHER_RC = rc("other", uid=uid_of("rc/other"))

IGNORED = [
    pytest.param(pod("theirs", owned_by=OTHER_RC), id="owned-by-another-controller"),
    pytest.param(owned("leaving", deleting=True), id="being-deleted"),
    pytest.param(owned("done", phase="Succeeded", ready=False), id="succeeded"),
    pytest.param(owned("crashed", phase="Failed", ready=False), id="failed"),
    pytest.param(pod("elsewhere", namespace="prod"), id="orphan-in-another-namespace"),
    pytest.param(pod("db", labels={"app": "db"}), id="orphan-not-matching"),
    pytest.param(pod("finished-orphan", phase="Failed", ready=False), id="terminal-orphan"),
]


@pytest.mark.parametrize("stranger", IGNORED)
def test_pods_that_do_not_count_are_left_alone(stranger):
    controller = rc(replicas=2)
    mine = pod("web-a", owned_by=controller)
    result = plan(controller, [mine, stranger], NOW)
    assert kinds(result.changes) == ["Create"]
    assert result.claims == ()
    assert result.status is not None and result.status.status["replicas"] == 1


def test_matching_orphans_are_adopted_and_counted():
    orphan = pod("stray", refs=[{"apiVersion": "v1", "kind": "ConfigMap", "name": "x",
                                 "uid": "u-1", "controller": False}])
    controller = rc(replicas=2)
    result = plan(controller, [owned("web-a"), orphan], NOW)
    assert result.claims == (Adopt(controller, orphan),)
    assert result.changes == ()
    assert result.claims[0].patch == {"metadata": {
        "ownerReferences": [owner(RC)], "uid": orphan["metadata"]["uid"]}}
    assert result.status.status["replicas"] == 2


def test_owned_pods_the_selector_no_longer_matches_are_released():
    drifted = owned("web-x", labels={"app": "web-old"})
    controller = rc(replicas=1)
    result = plan(controller, [owned("web-a"), drifted], NOW)
    assert result.claims == (Release(controller, drifted),)
    assert result.claims[0].patch == {"metadata": {
        "ownerReferences": [{"$patch": "delete", "uid": RC["metadata"]["uid"]}],
        "uid": drifted["metadata"]["uid"]}}
    assert result.changes == ()


def test_an_rc_being_deleted_only_updates_its_status():
    controller = rc(replicas=5, deleting=True)
    result = plan(controller, [pod("web-a", owned_by=controller), pod("stray")], NOW)
    assert result.claims == () and result.changes == ()
    assert result.status is not None and result.status.status["replicas"] == 1


def test_an_empty_selector_selects_nothing():
    controller = rc(replicas=1, selector={}, template_labels={})
    result = plan(controller, [pod("stray")], NOW)
    assert result.claims == ()


# -- victims ---------------------------------------------------------------------------------------

# (goes first, goes second): each a pod of RC; `second` is passed first and sorts first by name,
# so neither the input order nor the final tie-break can pass a case.
ORDER = [
    pytest.param(owned("z", node=None, phase="Pending", ready=False),
                 owned("a", phase="Pending", ready=False), id="unassigned-before-assigned"),
    pytest.param(owned("z", phase="Pending", ready=False),
                 owned("a", phase="Unknown", ready=False), id="pending-before-unknown"),
    pytest.param(owned("z", phase="Unknown", ready=False), owned("a", ready=False),
                 id="unknown-before-running"),
    pytest.param(owned("z", ready=False), owned("a"), id="not-ready-before-ready"),
    pytest.param(owned("z", annotations={"controller.kubernetes.io/pod-deletion-cost": "-5"}),
                 owned("a", annotations={"controller.kubernetes.io/pod-deletion-cost": "10"}),
                 id="lower-deletion-cost-first"),
    pytest.param(owned("z", ready_at=10), owned("a", ready_at=3600),
                 id="ready-for-less-time-first"),
    pytest.param(owned("z", restarts=4), owned("a", restarts=1), id="more-restarts-first"),
    pytest.param(owned("z", created=60), owned("a", created=86400), id="newer-first"),
    pytest.param(owned("z", created=None), owned("a", created=60), id="no-creation-time-first"),
    pytest.param(owned("z", ready=False, restarts=0), owned("a", restarts=9),
                 id="readiness-outranks-restarts"),
    pytest.param(owned("z", phase="Pending", ready=True), owned("a", ready=False),
                 id="phase-outranks-readiness"),
]


@pytest.mark.parametrize(("first", "second"), ORDER)
def test_victim_order(first, second):
    assert names(deletion_order([second, first], NOW)) == names([first, second])


def test_doubled_up_pods_go_before_lone_ones():
    crowded = [owned("z-1", node="minion-1"), owned("z-2", node="minion-1")]
    alone = owned("a", node="minion-2")
    assert names(deletion_order([alone, *crowded], NOW)[:2]) == ["z-1", "z-2"]


def test_ready_times_in_one_power_of_two_bucket_compare_by_uid():
    # 600 s and 601 s ago are both in the 2**39..2**40 ns bucket: the uid decides, not the time.
    one, two = owned("p", ready_at=600), owned("q", ready_at=601)
    expected = sorted([one, two], key=lambda p: p["metadata"]["uid"])
    assert deletion_order([one, two], NOW) == expected
    assert deletion_order([two, one], NOW) == expected


def test_scale_down_deletes_the_preferred_victims():
    pods = [owned("old-ready", created=86400), owned("unready", ready=False),
            owned("pending", phase="Pending", ready=False), owned("new-ready", created=60)]
    result = plan(rc(replicas=2), pods, NOW)
    assert [d.pod["metadata"]["name"] for d in result.changes] == ["pending", "unready"]


@pytest.mark.parametrize(("value", "cost"), [("7", 7), ("-3", -3), ("x", 0), ("1.5", 0),
                                              ("2147483648", 0), (None, 0)],
                         ids=["int", "negative", "text", "fraction", "over-int32", "absent"])
def test_deletion_cost_reads_an_int32(value, cost):
    annotations = {} if value is None else {"controller.kubernetes.io/pod-deletion-cost": value}
    assert deletion_cost(owned("a", annotations=annotations)) == cost


# -- status ----------------------------------------------------------------------------------------

def test_status_counts_and_observed_generation():
    controller = rc(replicas=4, generation=7, template_labels={"app": "web", "tier": "front"})
    pods = [owned("a", labels={"app": "web", "tier": "front"}),
            owned("b", labels={"app": "web", "tier": "front"}, ready=False),
            owned("c"), owned("d", deleting=True)]
    status = plan(controller, pods, NOW).status
    assert status == UpdateStatus(controller, {
        "replicas": 3, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
        "observedGeneration": 7})


def test_zero_counts_are_left_out_as_the_api_writes_them():
    controller = rc(replicas=1, generation=2)
    status = plan(controller, [owned("a", ready=False)], NOW).status.status
    assert status == {"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 2}


@pytest.mark.parametrize("stored", [
    {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
     "observedGeneration": 1},
    {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
     "observedGeneration": 1, "conditions": []},
], ids=["as-written", "with-empty-conditions"])
def test_no_status_update_when_equal(stored):
    controller = rc(replicas=2, status=stored)
    assert plan(controller, [pod("a", owned_by=controller), pod("b", owned_by=controller)],
                NOW).status is None


def test_a_new_generation_alone_updates_the_status():
    stored = {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1,
              "availableReplicas": 1, "observedGeneration": 1}
    controller = rc(replicas=1, status=stored, generation=2)
    status = plan(controller, [pod("a", owned_by=controller)], NOW).status
    assert status is not None and status.status["observedGeneration"] == 2


@pytest.mark.parametrize(("ready_at", "available"), [(30, 1), (10, 0), (20, 0)],
                         ids=["ready-long-enough", "ready-too-recently", "exactly-min-ready"])
def test_available_needs_min_ready_seconds(ready_at, available):
    controller = rc(replicas=1, min_ready=20)
    result = plan(controller, [pod("a", owned_by=controller, ready_at=ready_at)], NOW)
    assert result.status.status.get("availableReplicas", 0) == available
    assert result.requeue_after == (None if available else ago(0) - ago(20))


def test_a_failed_create_sets_replica_failure():
    result = plan(rc(replicas=3), [owned("a")], NOW,
                  create_errors=['pods "web-x" is forbidden: exceeded quota'])
    assert result.status.status["conditions"] == [{
        "type": "ReplicaFailure", "status": "True", "lastTransitionTime": stamp(0),
        "reason": "FailedCreate", "message": 'pods "web-x" is forbidden: exceeded quota'}]


def test_a_failed_delete_says_failed_delete():
    result = plan(rc(replicas=1), [owned("a"), owned("b")], NOW, create_errors=["boom"])
    assert result.status.status["conditions"][0]["reason"] == "FailedDelete"


def test_replica_failure_stays_as_it_was_and_goes_with_the_errors():
    failure = {"type": "ReplicaFailure", "status": "True", "lastTransitionTime": stamp(300),
               "reason": "FailedCreate", "message": "first"}
    stored = {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1,
              "availableReplicas": 1, "observedGeneration": 1, "conditions": [failure]}
    controller = rc(replicas=2, status=stored)
    mine = [pod("a", owned_by=controller)]
    assert plan(controller, mine, NOW, create_errors=["second"]).status is None
    cleared = plan(controller, mine, NOW).status
    assert cleared is not None and "conditions" not in cleared.status


def test_status_deserializes_in_the_kubernetes_client():
    controller = rc(replicas=3, generation=4)
    result = plan(controller, [owned("a")], NOW, create_errors=["quota"])
    body = {**controller, "status": result.status.status}
    read = ApiClient().deserialize(json.dumps(body), "V1ReplicationController",
                                   "application/json")
    assert read.status.replicas == 1
    assert read.status.observed_generation == 4
    assert read.status.conditions[0].reason == "FailedCreate"


# -- the pod template ------------------------------------------------------------------------------

def test_pod_from_template_is_a_valid_pod_once_created():
    controller = rc()
    controller["spec"]["template"]["metadata"]["annotations"] = {"team": "a"}
    body = pod_from_template(controller)
    assert "creationTimestamp" not in body["metadata"]
    assert body["metadata"]["annotations"] == {"team": "a"}
    stored = prepare_create("pods", apply_defaults("pods", body), NS, NOW,
                            suffix=lambda: "abcde")
    validate("pods", stored)
    assert stored["metadata"]["name"] == "web-abcde"


def test_pod_from_template_drops_the_dash_when_the_prefix_would_be_too_long():
    long_name = "a" * 253
    assert pod_from_template(rc(long_name))["metadata"]["generateName"] == long_name
    assert pod_from_template(rc("a" * 252))["metadata"]["generateName"] == "a" * 252 + "-"


def test_pod_from_template_does_not_share_the_rc_objects():
    controller = rc()
    body = pod_from_template(controller)
    body["metadata"]["labels"]["x"] = "y"
    body["spec"]["containers"][0]["image"] = "changed"
    assert controller == rc()


# -- events ----------------------------------------------------------------------------------------

def test_events_use_kubernetes_words():
    controller = rc(replicas=1)
    create = plan(controller, [], NOW).changes[0]
    created = {"metadata": {"name": "web-abcde"}}
    assert create.event(created).reason == "SuccessfulCreate"
    assert create.event(created).message == "Created pod: web-abcde"
    assert create.event(created).about == controller
    assert create.failure_event("quota").type == WARNING
    assert create.failure_event("quota").message == "Error creating: quota"
    delete = plan(rc(replicas=0), [owned("web-xyz")], NOW).changes[0]
    assert (delete.event().type, delete.event().reason, delete.event().message) == (
        NORMAL, "SuccessfulDelete", "Deleted pod: web-xyz")
    assert delete.failure_event("gone").message == "Error deleting: gone"
    assert delete.uid == uid_of("pod/default/web-xyz")


def test_claims_and_status_record_no_event():
    result = plan(rc(replicas=1), [pod("stray")], NOW)
    assert [a.event() for a in result.actions] == [None, None]


# -- determinism and purity ------------------------------------------------------------------------

WORLD = [owned("a"), owned("b", ready=False), owned("c", node=None, phase="Pending", ready=False),
         owned("d", restarts=3), pod("stray"), owned("e", created=30), owned("f", ready_at=5),
         pod("theirs", owned_by=OTHER_RC), owned("g", deleting=True)]


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=9))
def test_plan_does_not_depend_on_input_order(rnd: random.Random, replicas: int):
    controller = rc(replicas=replicas)
    shuffled = WORLD[:]
    rnd.shuffle(shuffled)
    assert plan(controller, shuffled, NOW) == plan(controller, WORLD, NOW)


def test_plan_does_not_change_its_input():
    controller, world = rc(replicas=1), copy.deepcopy(WORLD)
    result = plan(controller, world, NOW, create_errors=["x"])
    for action in result.actions:
        if isinstance(action, Create):
            action.pod["metadata"]["labels"]["changed"] = "yes"
    assert controller == rc(replicas=1) and world == WORLD


# -- garbage collection ----------------------------------------------------------------------------

def test_orphans_of_a_deleted_rc_are_deleted():
    shared = pod("shared", owned_by=RC, refs=[{"apiVersion": "v1", "kind": "Service",
                                               "name": "x", "uid": "u-2"}])
    pods = [owned("b"), owned("a", phase="Failed", ready=False), owned("gone", deleting=True),
            pod("theirs", owned_by=OTHER_RC), pod("stray"), shared]
    deletes = orphans_of_deleted(RC["metadata"]["uid"], pods)
    assert [d.pod["metadata"]["name"] for d in deletes] == ["a", "b"]
    assert all(isinstance(d, Delete) and d.event() is None for d in deletes)


def test_orphans_of_missing_rcs_are_deleted():
    pods = [owned("a"), pod("theirs", owned_by=OTHER_RC), pod("stray")]
    deletes = orphans_of_missing({OTHER_RC["metadata"]["uid"]}, pods)
    assert [d.pod["metadata"]["name"] for d in deletes] == ["a"]
    assert orphans_of_missing({RC["metadata"]["uid"], OTHER_RC["metadata"]["uid"]}, pods) == []
