"""Scheduler predicates: each filter passes and fails as kube-scheduler 1.32's, with its words."""

from __future__ import annotations

import pytest

from bosun.objects.quantity import QuantityError
from bosun.scheduler.predicates import (
    INSUFFICIENT_CPU,
    INSUFFICIENT_MEMORY,
    PORTS_IN_USE,
    SELECTOR_MISMATCH,
    TOO_MANY_PODS,
    UNSCHEDULABLE,
    Resources,
    cpu_fits,
    failures,
    host_ports_free,
    memory_fits,
    node_info,
    node_schedulable,
    node_selector_matches,
    pod_info,
    pods_fit,
    taints_tolerated,
)
from tests.unit.test_scheduler_world import container, host_port, node, pod

MI = 1024 * 1024
NOT_READY = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
UNREACHABLE = "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"


def on(n: dict, *pods: dict):
    """NodeInfo of node `n` holding `pods`."""
    return node_info(n, [pod_info(p) for p in pods])


# -- reading pods: requests, limits, nothing -------------------------------------------------------

@pytest.mark.parametrize("containers, fit, scored", [
    ([container(requests={"cpu": "250m", "memory": "64Mi"})],
     Resources(250, 64 * MI), Resources(250, 64 * MI)),
    ([container(limits={"cpu": "1", "memory": "1Gi"})],
     Resources(1000, 1024 * MI), Resources(1000, 1024 * MI)),
    ([container(requests={"cpu": "100m"}, limits={"cpu": "2", "memory": "128Mi"})],
     Resources(100, 128 * MI), Resources(100, 128 * MI)),
    ([container()], Resources(0, 0), Resources(100, 200 * MI)),
    ([container(requests={"cpu": "0"})], Resources(0, 0), Resources(0, 200 * MI)),
    ([container("a", requests={"cpu": "0.5"}), container("b", limits={"memory": "1G"}),
      container("c")],
     Resources(500, 10**9), Resources(700, 10**9 + 400 * MI)),
], ids=["requests", "limits-only", "request-wins-per-resource", "nothing", "explicit-zero",
        "containers-summed"])
def test_pod_requests_use_limits_when_no_request(containers, fit, scored):
    info = pod_info(pod("p", containers=containers))
    assert (info.requests, info.scored) == (fit, scored)


def test_node_reads_capacity_when_no_allocatable_and_counts_its_pods():
    n = node("m1", cpu="2", memory="4Gi", pods="10")
    del n["status"]["allocatable"]
    info = on(n, pod("a", cpu="500m", memory="1Gi", node_name="m1"), pod("b", node_name="m1"))
    assert info.allocatable == Resources(2000, 4096 * MI)
    assert info.allowed_pods == 10
    assert info.requested == Resources(500, 1024 * MI)
    assert info.scored_requested == Resources(600, 1224 * MI)
    assert len(info.pods) == 2


def test_malformed_quantity_raises():
    with pytest.raises(QuantityError):
        pod_info(pod("p", cpu="lots"))


# -- cordoned --------------------------------------------------------------------------------------

CORDON_TOLERATION = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                     "effect": "NoSchedule"}


@pytest.mark.parametrize("n, p, expected", [
    (node("m1"), pod("p"), None),
    (node("m1", unschedulable=True), pod("p"), UNSCHEDULABLE),
    (node("m1", unschedulable=True), pod("p", tolerations=[CORDON_TOLERATION]), None),
    (node("m1", unschedulable=True), pod("p", tolerations=[{"operator": "Exists"}]), None),
], ids=["schedulable", "cordoned", "cordoned-tolerated", "tolerates-everything"])
def test_node_schedulable(n, p, expected):
    assert node_schedulable(pod_info(p), on(n)) == expected


# -- Ready and taints ------------------------------------------------------------------------------

DEFAULT_TOLERATIONS = [  # what Kubernetes' admission adds to every pod
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
]
GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize("n, tolerations, expected", [
    (node("m1"), None, None),
    (node("m1", ready="False"), None, NOT_READY),
    (node("m1", ready="Unknown"), None, UNREACHABLE),
    (node("m1", ready=None), None, NOT_READY),
    (node("m1", ready="False"), DEFAULT_TOLERATIONS, NOT_READY),
    (node("m1", ready="False", taints=[{"key": "node.kubernetes.io/not-ready",
                                        "effect": "NoExecute"}]), DEFAULT_TOLERATIONS, NOT_READY),
    (node("m1", ready="False"), [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
     None),
    (node("m1", taints=[GPU]), None, "node(s) had untolerated taint {dedicated: gpu}"),
    (node("m1", taints=[{"key": "dedicated", "effect": "NoExecute"}]), None,
     "node(s) had untolerated taint {dedicated: }"),
    (node("m1", taints=[{**GPU, "effect": "PreferNoSchedule"}]), None, None),
    (node("m1", taints=[GPU]), [{"key": "dedicated", "value": "gpu"}], None),
    (node("m1", taints=[GPU]), [{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                 "effect": "NoSchedule"}], None),
    (node("m1", taints=[GPU]), [{"key": "dedicated", "value": "cpu"}],
     "node(s) had untolerated taint {dedicated: gpu}"),
    (node("m1", taints=[GPU]), [{"key": "dedicated", "operator": "Exists",
                                 "effect": "NoExecute"}],
     "node(s) had untolerated taint {dedicated: gpu}"),
    (node("m1", taints=[GPU]), [{"key": "dedicated", "operator": "Exists"}], None),
    (node("m1", taints=[GPU, {"key": "b", "value": "1", "effect": "NoSchedule"}]),
     [{"key": "dedicated", "operator": "Exists"}], "node(s) had untolerated taint {b: 1}"),
    (node("m1", ready="False", taints=[GPU]), None,
     "node(s) had untolerated taint {dedicated: gpu}"),
], ids=["ready", "not-ready", "ready-unknown", "ready-never-reported",
        "default-tolerations-do-not-cover-not-ready", "noexecute-taint-is-not-enough",
        "not-ready-tolerated", "spec-taint", "noexecute-taint", "prefer-no-schedule-ignored",
        "equal-toleration", "equal-toleration-with-effect", "value-mismatch", "effect-mismatch",
        "exists-toleration", "first-untolerated-named", "spec-taint-named-before-readiness"])
def test_taints_tolerated(n, tolerations, expected):
    assert taints_tolerated(pod_info(pod("p", tolerations=tolerations)), on(n)) == expected


# -- nodeSelector ----------------------------------------------------------------------------------

@pytest.mark.parametrize("labels, selector, expected", [
    ({"disk": "ssd"}, None, None),
    ({"disk": "ssd"}, {}, None),
    ({"disk": "ssd", "zone": "a"}, {"disk": "ssd"}, None),
    ({"disk": "ssd", "zone": "a"}, {"disk": "ssd", "zone": "a"}, None),
    ({"disk": "hdd"}, {"disk": "ssd"}, SELECTOR_MISMATCH),
    ({}, {"disk": "ssd"}, SELECTOR_MISMATCH),
    ({"disk": "ssd"}, {"disk": "ssd", "zone": "a"}, SELECTOR_MISMATCH),
], ids=["no-selector", "empty-selector", "subset", "exact", "other-value", "label-missing",
        "one-of-two-missing"])
def test_node_selector_matches(labels, selector, expected):
    p = pod_info(pod("p", node_selector=selector))
    assert node_selector_matches(p, on(node("m1", labels=labels))) == expected


# -- host ports ------------------------------------------------------------------------------------

@pytest.mark.parametrize("used, wanted, expected", [
    ([], [host_port(80)], None),
    ([host_port(80)], [host_port(80)], PORTS_IN_USE),
    ([host_port(80)], [host_port(80, "TCP")], PORTS_IN_USE),
    ([host_port(80, "UDP")], [host_port(80)], None),
    ([host_port(53, "UDP")], [host_port(53, "UDP")], PORTS_IN_USE),
    ([host_port(80, "SCTP")], [host_port(80, "UDP")], None),
    ([host_port(80)], [host_port(81)], None),
    ([host_port(80, host_ip="10.0.0.1")], [host_port(80, host_ip="10.0.0.2")], None),
    ([host_port(80, host_ip="10.0.0.1")], [host_port(80, host_ip="10.0.0.1")], PORTS_IN_USE),
    ([host_port(80)], [host_port(80, host_ip="10.0.0.1")], PORTS_IN_USE),
    ([host_port(80, host_ip="10.0.0.1")], [host_port(80)], PORTS_IN_USE),
    ([host_port(80, host_ip="0.0.0.0")], [host_port(80, host_ip="10.0.0.1")], PORTS_IN_USE),
    ([host_port(80, host_ip="10.0.0.1")], [host_port(80, "UDP")], None),
    ([host_port(80)], [host_port(443), host_port(80)], PORTS_IN_USE),
    ([{"containerPort": 80}], [host_port(80)], None),
    ([host_port(80)], [{"containerPort": 80}], None),
], ids=["free", "same-port-default-tcp", "tcp-explicit-vs-default", "udp-vs-tcp", "udp-vs-udp",
        "sctp-vs-udp", "other-port", "other-host-ip", "same-host-ip", "wildcard-used-vs-ip",
        "ip-used-vs-wildcard", "explicit-wildcard", "ip-and-protocol-differ", "second-port-clashes",
        "container-port-only-used", "container-port-only-wanted"])
def test_host_ports_free(used, wanted, expected):
    n = on(node("m1"), pod("old", containers=[container(ports=used)], node_name="m1"))
    p = pod_info(pod("new", containers=[container(ports=wanted)]))
    assert host_ports_free(p, n) == expected


# -- resources -------------------------------------------------------------------------------------

@pytest.mark.parametrize("existing, new, expected", [
    ([pod("a", cpu="1500m", node_name="m1")], pod("p", cpu="500m"), (None, None)),
    ([pod("a", cpu="1500m", node_name="m1")], pod("p", cpu="501m"), (INSUFFICIENT_CPU, None)),
    ([pod("a", memory="3Gi", node_name="m1")], pod("p", memory="1Gi"), (None, None)),
    ([pod("a", memory="3Gi", node_name="m1")], pod("p", memory="1025Mi"),
     (None, INSUFFICIENT_MEMORY)),
    ([], pod("p", containers=[container(limits={"cpu": "3"})]), (INSUFFICIENT_CPU, None)),
    ([pod("a", containers=[container(limits={"cpu": "2", "memory": "4Gi"})], node_name="m1")],
     pod("p", cpu="100m", memory="1Mi"), (INSUFFICIENT_CPU, INSUFFICIENT_MEMORY)),
    ([pod("a", cpu="2", memory="4Gi", node_name="m1")], pod("p"), (None, None)),
    ([pod("a", cpu="3", node_name="m1")], pod("p", memory="1Gi"), (None, None)),
    ([], pod("p", cpu="2", memory="4Gi"), (None, None)),
], ids=["cpu-fits-exactly", "cpu-one-milli-over", "memory-fits-exactly", "memory-over",
        "limits-only-counted", "existing-limits-only-counted", "asks-nothing-fits-full-node",
        "asks-no-cpu-fits-overcommitted-cpu", "whole-node"])
def test_cpu_and_memory_fit(existing, new, expected):
    n = on(node("m1", cpu="2", memory="4Gi"), *existing)
    p = pod_info(new)
    assert (cpu_fits(p, n), memory_fits(p, n)) == expected


@pytest.mark.parametrize("allowed, existing, expected", [
    ("3", 2, None), ("3", 3, TOO_MANY_PODS), ("0", 0, TOO_MANY_PODS),
], ids=["room-for-one", "full", "no-pods-allowed"])
def test_pods_fit(allowed, existing, expected):
    n = on(node("m1", pods=allowed), *[pod(f"a{i}", node_name="m1") for i in range(existing)])
    assert pods_fit(pod_info(pod("p")), n) == expected


# -- stages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, existing, new, expected", [
    (node("m1"), [], pod("p", cpu="1"), ()),
    (node("m1", unschedulable=True, ready="False", labels={}), [],
     pod("p", node_selector={"disk": "ssd"}), (UNSCHEDULABLE,)),
    (node("m1", ready="False", labels={}), [], pod("p", node_selector={"disk": "ssd"}),
     (NOT_READY,)),
    (node("m1", labels={}), [], pod("p", cpu="9", node_selector={"disk": "ssd"}),
     (SELECTOR_MISMATCH,)),
    (node("m1"), [pod("a", containers=[container(ports=[host_port(80)])], node_name="m1")],
     pod("p", containers=[container(requests={"cpu": "9"}, ports=[host_port(80)])]),
     (PORTS_IN_USE,)),
    (node("m1", cpu="1", memory="1Gi", pods="1"), [pod("a", node_name="m1")],
     pod("p", cpu="2", memory="2Gi"), (TOO_MANY_PODS, INSUFFICIENT_CPU, INSUFFICIENT_MEMORY)),
], ids=["fits", "cordon-first", "readiness-before-selector", "selector-before-resources",
        "ports-before-resources", "every-shortage"])
def test_failures_reports_first_failing_stage_only(n, existing, new, expected):
    assert failures(pod_info(new), on(n, *existing)) == expected
