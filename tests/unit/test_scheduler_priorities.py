"""Scheduler priorities: least requested, balanced allocation, selector spreading, their sum."""

from __future__ import annotations

import pytest

from bosun.scheduler.predicates import node_info, pod_info
from bosun.scheduler.priorities import (
    MAX_SCORE,
    WEIGHTS,
    balanced_allocation,
    least_requested,
    score,
    selector_spreading,
    spreading_selectors,
)
from tests.unit.test_scheduler_world import container, node, pod, rc, service

WEB = {"app": "web"}


def on(n: dict, *pods: dict):
    return node_info(n, [pod_info(p) for p in pods])


@pytest.mark.parametrize("existing, new, expected", [
    ([], pod("p", cpu="1", memory="2Gi"), 75),
    ([], pod("p", cpu="4", memory="8Gi"), 0),
    ([], pod("p", cpu="2", memory="0"), 75),
    ([pod("a", cpu="2", memory="4Gi", node_name="m1")], pod("p", cpu="1", memory="2Gi"), 25),
    ([], pod("p"), 97),
    ([pod("a", node_name="m1")] * 10, pod("p"), 72),
    ([pod("a", cpu="4", memory="8Gi", node_name="m1")], pod("p", cpu="1", memory="1Gi"), 0),
], ids=["quarter-each", "whole-node", "half-cpu-no-memory", "three-quarters-taken",
        "asks-nothing-counts-default", "defaults-add-up", "overcommitted-scores-zero"])
def test_least_requested(existing, new, expected):
    assert least_requested(pod_info(new), on(node("m1", cpu="4", memory="8Gi"), *existing)) \
        == expected


def test_least_requested_prefers_the_emptier_node():
    p = pod_info(pod("p", cpu="500m", memory="512Mi"))
    busy = on(node("busy"), pod("a", cpu="2", memory="4Gi", node_name="busy"))
    empty = on(node("empty"))
    assert least_requested(p, empty) > least_requested(p, busy)


@pytest.mark.parametrize("existing, new, expected", [
    ([], pod("p", cpu="1", memory="2Gi"), 100),
    ([], pod("p", cpu="2", memory="0"), 75),
    ([], pod("p", cpu="4", memory="1"), 50),
    ([pod("a", memory="4Gi", node_name="m1")], pod("p", cpu="2"), 100),
    ([pod("a", memory="6Gi", node_name="m1")], pod("p", cpu="1"), 75),
    ([], pod("p", cpu="1", memory="1Gi"), 93),
    ([pod("a", memory="8Gi", node_name="m1")], pod("p"), 0),
], ids=["even", "half-cpu-only", "all-cpu", "evened-out-by-pod", "uneven-after",
        "rounded-down", "asks-nothing"])
def test_balanced_allocation(existing, new, expected):
    assert balanced_allocation(pod_info(new), on(node("m1", cpu="4", memory="8Gi"), *existing)) \
        == expected


def test_balanced_allocation_of_node_without_memory_counts_it_full():
    n = node("m1", cpu="4", memory="0")
    assert balanced_allocation(pod_info(pod("p", cpu="2")), on(n)) == 75


@pytest.mark.parametrize("services, rcs, expected", [
    ([service("web", WEB)], [], [WEB]),
    ([service("web", WEB)], [rc("web", WEB)], [WEB, WEB]),
    ([service("external", None)], [], []),
    ([service("all", {})], [], []),
    ([service("web", WEB, namespace="other")], [rc("web", WEB, namespace="other")], []),
    ([service("db", {"app": "db"})], [rc("web-v2", {"app": "web", "v": "2"})], []),
    ([], [rc("web", None, template_labels=WEB)], [WEB]),
    ([service("frontend", {"tier": "front"})], [], [{"tier": "front"}]),
], ids=["service", "service-and-rc", "service-without-selector", "empty-selector",
        "other-namespace", "not-selecting", "rc-defaults-to-template", "other-label"])
def test_spreading_selectors(services, rcs, expected):
    p = pod("p", labels={"app": "web", "tier": "front"})
    assert list(spreading_selectors(p, services, rcs)) == expected


@pytest.mark.parametrize("counts, expected", [
    ([0, 0, 0], [100, 100, 100]),
    ([0, 1, 2], [100, 50, 0]),
    ([3, 3, 1], [0, 0, 66]),
    ([2, 2, 2], [0, 0, 0]),
], ids=["none-yet", "one-each-step", "rounded-down", "even"])
def test_selector_spreading(counts, expected):
    nodes = [on(node(f"m{i}"), *[pod(f"w{i}-{k}", labels=WEB, node_name=f"m{i}")
                                 for k in range(count)])
             for i, count in enumerate(counts)]
    assert selector_spreading(pod_info(pod("p", labels=WEB)), nodes, [WEB]) == expected


def test_selector_spreading_counts_only_live_matching_pods_of_the_namespace():
    crowded = on(node("m0"),
                 pod("other-ns", labels=WEB, namespace="other", node_name="m0"),
                 pod("other-app", labels={"app": "db"}, node_name="m0"),
                 {**pod("leaving", labels=WEB, node_name="m0"),
                  "metadata": {"name": "leaving", "namespace": "default", "labels": WEB,
                               "deletionTimestamp": "2024-01-01T00:00:00Z"}})
    one = on(node("m1"), pod("w", labels=WEB, node_name="m1"))
    assert selector_spreading(pod_info(pod("p", labels=WEB)), [crowded, one], [WEB]) == [100, 0]


def test_selector_spreading_without_selectors_is_flat():
    nodes = [on(node("m0"), pod("w", labels=WEB, node_name="m0")), on(node("m1"))]
    assert selector_spreading(pod_info(pod("p", labels=WEB)), nodes, []) == [MAX_SCORE] * 2


def test_score_is_the_weighted_sum():
    p = pod_info(pod("p", labels=WEB, containers=[container(requests={"cpu": "1"})]))
    nodes = [on(node("m0", cpu="4", memory="8Gi"), pod("w", labels=WEB, node_name="m0")),
             on(node("m1", cpu="4", memory="8Gi"))]
    expected = [WEIGHTS["least_requested"] * least_requested(p, n)
                + WEIGHTS["balanced_allocation"] * balanced_allocation(p, n)
                + WEIGHTS["selector_spreading"] * s
                for n, s in zip(nodes, [0, 100], strict=True)]
    assert score(p, nodes, [WEB]) == expected
    assert expected[1] > expected[0]
