"""Cluster IPs and node ports: free ones chosen, requested ones checked, full ranges reported."""

from __future__ import annotations

import pytest

from bosun.objects import allocation
from bosun.objects.defaults import apply_defaults
from bosun.objects.status import InternalError, Invalid


def service(kind: str = "ClusterIP", cluster_ip: str | None = None, **port) -> dict:
    spec: dict = {"type": kind, "selector": {"app": "web"}, "ports": [{"port": 80, **port}]}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    return apply_defaults("services", {"metadata": {"name": "web"}, "spec": spec})


@pytest.mark.parametrize(("cidr", "taken", "chosen"), [
    ("10.0.0.0/24", set(), "10.0.0.1"),
    ("10.0.0.0/24", {"10.0.0.1", "10.0.0.2"}, "10.0.0.3"),
    ("10.0.0.0/24", {"10.0.0.1", "10.0.0.3"}, "10.0.0.2"),
    ("10.0.0.0/30", {"10.0.0.1"}, "10.0.0.2"),
    ("fd00::/120", set(), "fd00::1"),
], ids=["first", "next", "gap", "small", "ipv6"])
def test_allocate_cluster_ip_takes_lowest_free(cidr, taken, chosen):
    assert allocation.allocate_cluster_ip(cidr, taken) == chosen


def test_full_ranges_are_internal_errors_as_in_kubernetes():
    with pytest.raises(InternalError) as err:
        allocation.allocate_cluster_ip("10.0.0.0/30", {"10.0.0.1", "10.0.0.2"})
    assert err.value.message == "Internal error occurred: failed to allocate a serviceIP: " \
                                "range is full"
    with pytest.raises(InternalError, match="failed to allocate a nodePort: range is full"):
        allocation.allocate_node_port({30000, 30001}, (30000, 30001))


def test_allocate_node_port_takes_lowest_free():
    assert allocation.allocate_node_port(set()) == 30000
    assert allocation.allocate_node_port({30000, 30002}) == 30001


@pytest.mark.parametrize(("svc", "taken_ips", "taken_ports", "text"), [
    (service(cluster_ip="10.0.0.5"), {"10.0.0.5"}, set(),
     'spec.clusterIPs: Invalid value: []string{"10.0.0.5"}: failed to allocate IP 10.0.0.5: '
     "provided IP is already allocated"),
    (service(cluster_ip="10.1.0.5"), set(), set(),
     'spec.clusterIPs: Invalid value: []string{"10.1.0.5"}: failed to allocate IP 10.1.0.5: the '
     "provided IP (10.1.0.5) is not in the valid range. The range of valid IPs is 10.0.0.0/24"),
    (service(cluster_ip="10.0.0.255"), set(), set(),
     'spec.clusterIPs: Invalid value: []string{"10.0.0.255"}: failed to allocate IP 10.0.0.255: '
     "the provided IP (10.0.0.255) is not in the valid range. The range of valid IPs is "
     "10.0.0.0/24"),
    (service("NodePort", nodePort=30080), set(), {30080},
     "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"),
    (service("NodePort", nodePort=80), set(), set(),
     "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The "
     "range of valid ports is 30000-32767"),
], ids=["ip-taken", "ip-outside", "ip-broadcast", "port-taken", "port-outside"])
def test_requested_addresses_that_cannot_be_had(svc, taken_ips, taken_ports, text):
    with pytest.raises(Invalid) as err:
        allocation.allocate_service(svc, "10.0.0.0/24", taken_ips, taken_ports)
    assert [str(c) for c in err.value.causes] == [text]
    assert err.value.to_status()["details"]["kind"] == "Service"


def test_allocate_service_fills_ip_and_node_ports():
    svc = apply_defaults("services", {"metadata": {"name": "dns"}, "spec": {
        "type": "NodePort", "ports": [{"name": "udp", "port": 53, "protocol": "UDP"},
                                      {"name": "tcp", "port": 53},
                                      {"name": "admin", "port": 8080, "nodePort": 30005}]}})
    out = allocation.allocate_service(svc, "10.0.0.0/24", {"10.0.0.1"}, {30000})
    assert (out["spec"]["clusterIP"], out["spec"]["clusterIPs"]) == ("10.0.0.2", ["10.0.0.2"])
    assert [p["nodePort"] for p in out["spec"]["ports"]] == [30001, 30001, 30005]
    assert "nodePort" not in svc["spec"]["ports"][0]


def test_requested_ip_is_kept_and_headless_gets_none():
    out = allocation.allocate_service(service(cluster_ip="10.0.0.9"), "10.0.0.0/24", set(), set())
    assert out["spec"]["clusterIPs"] == ["10.0.0.9"]
    headless = allocation.allocate_service(service(cluster_ip="None"), "10.0.0.0/24", set(),
                                           set())
    assert headless["spec"]["clusterIP"] == "None"
    assert all("nodePort" not in p for p in headless["spec"]["ports"])
