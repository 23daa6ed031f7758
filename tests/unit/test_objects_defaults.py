"""Server defaults: minimal manifests come out as a Kubernetes 1.32 API server stores them.

Expected objects leave out what Kubernetes' admission plugins add and Bosun does not have
(serviceAccountName, priority, default not-ready/unreachable tolerations).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosun.objects.defaults import apply_defaults, image_pull_policy, qos_class

TERMINATION = {"terminationMessagePath": "/dev/termination-log",
               "terminationMessagePolicy": "File"}
POD_SPEC_DEFAULTS = {"dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                     "schedulerName": "default-scheduler", "securityContext": {},
                     "terminationGracePeriodSeconds": 30}
NODE_INFO = {k: "" for k in ("architecture", "bootID", "containerRuntimeVersion",
                             "kernelVersion", "kubeProxyVersion", "kubeletVersion", "machineID",
                             "operatingSystem", "osImage", "systemUUID")}

CASES = [
    pytest.param("pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    }, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "nginx", "imagePullPolicy": "Always",
                                 "resources": {}, **TERMINATION}],
                 **POD_SPEC_DEFAULTS, "enableServiceLinks": True},
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }, id="pod-minimal"),
    pytest.param("pods", {
        "metadata": {"name": "web"},
        "spec": {"containers": [{
            "name": "web", "image": "nginx:1.25",
            "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "0.5", "memory": "128Mi"}},
            "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "readinessProbe": {"httpGet": {"port": 80}},
        }], "volumes": [{"name": "data"}, {"name": "logs", "hostPath": {"path": "/var/log"}}]},
    }, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{
            "name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                          "requests": {"cpu": "500m", "memory": "128Mi"}},
            "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                "fieldPath": "spec.nodeName"}}}],
            "readinessProbe": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                               "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                               "failureThreshold": 3},
            **TERMINATION}],
            "volumes": [{"name": "data", "emptyDir": {}},
                        {"name": "logs", "hostPath": {"path": "/var/log", "type": ""}}],
            **POD_SPEC_DEFAULTS, "enableServiceLinks": True},
        "status": {"phase": "Pending", "qosClass": "Guaranteed"},
    }, id="pod-ports-resources-probe-volumes"),
    pytest.param("replicationcontrollers", {
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "nginx"},
        "spec": {"replicas": 3, "selector": {"app": "nginx"}, "template": {
            "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                     "ports": [{"containerPort": 80}]}]}}},
    }, {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {"replicas": 3, "selector": {"app": "nginx"}, "template": {
            "metadata": {"name": "nginx", "labels": {"app": "nginx"}, "creationTimestamp": None},
            "spec": {"containers": [{"name": "nginx", "image": "nginx", "imagePullPolicy": "Always",
                                     "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                     "resources": {}, **TERMINATION}],
                     **POD_SPEC_DEFAULTS}}},
        "status": {"replicas": 0},
    }, id="rc-docs-nginx"),
    pytest.param("replicationcontrollers", {
        "metadata": {"name": "redis"},
        "spec": {"template": {"metadata": {"labels": {"app": "redis", "tier": "backend"}},
                              "spec": {"containers": [{"name": "redis", "image": "redis",
                                                       "resources": {"limits": {"cpu": 1}}}]}}},
    }, {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "redis", "labels": {"app": "redis", "tier": "backend"}},
        "spec": {"replicas": 1, "selector": {"app": "redis", "tier": "backend"}, "template": {
            "metadata": {"labels": {"app": "redis", "tier": "backend"},
                         "creationTimestamp": None},
            "spec": {"containers": [{"name": "redis", "image": "redis",
                                     "imagePullPolicy": "Always",
                                     "resources": {"limits": {"cpu": "1"}}, **TERMINATION}],
                     **POD_SPEC_DEFAULTS}}},
        "status": {"replicas": 0},
    }, id="rc-selector-labels-replicas-from-template"),
    pytest.param("services", {
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"},
                 "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                 "type": "ClusterIP", "sessionAffinity": "None",
                 "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
                 "ipFamilyPolicy": "SingleStack"},
        "status": {"loadBalancer": {}},
    }, id="service-clusterip"),
    pytest.param("services", {
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "sessionAffinity": "ClientIP",
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]},
    }, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "sessionAffinity": "ClientIP",
                 "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http",
                            "nodePort": 30080}],
                 "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"},
        "status": {"loadBalancer": {}},
    }, id="service-nodeport-client-ip"),
    pytest.param("services", {
        "metadata": {"name": "db"}, "spec": {"clusterIP": "None", "ports": [{"port": 5432}]},
    }, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
        "spec": {"clusterIP": "None", "clusterIPs": ["None"],
                 "ports": [{"port": 5432, "protocol": "TCP", "targetPort": 5432}],
                 "type": "ClusterIP", "sessionAffinity": "None",
                 "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
                 "ipFamilyPolicy": "RequireDualStack"},
        "status": {"loadBalancer": {}},
    }, id="service-headless-without-selector"),
    pytest.param("namespaces", {"metadata": {"name": "team"}}, {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "team", "labels": {"kubernetes.io/metadata.name": "team"}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
    }, id="namespace"),
    pytest.param("nodes", {
        "metadata": {"name": "minion-1"},
        "status": {"capacity": {"cpu": "2", "memory": "2048Mi", "pods": 110}},
    }, {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "minion-1"}, "spec": {},
        "status": {"capacity": {"cpu": "2", "memory": "2Gi", "pods": "110"},
                   "allocatable": {"cpu": "2", "memory": "2Gi", "pods": "110"},
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}}, "nodeInfo": NODE_INFO},
    }, id="node"),
    pytest.param("endpoints", {
        "metadata": {"name": "web"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}],
    }, {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5"}],
                     "ports": [{"port": 80, "protocol": "TCP"}]}],
    }, id="endpoints"),
    pytest.param("events", {
        "metadata": {"name": "web.1"}, "reason": "Pulled", "type": "Normal",
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
    }, {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"}, "reason": "Pulled",
        "type": "Normal",
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "source": {}, "reportingComponent": "", "reportingInstance": "", "eventTime": None,
        "firstTimestamp": None, "lastTimestamp": None,
    }, id="event"),
]


@pytest.mark.parametrize(("resource", "manifest", "expected"), CASES)
def test_defaults_match_what_kubernetes_stores(resource, manifest, expected):
    assert apply_defaults(resource, manifest) == expected


@pytest.mark.parametrize(("resource", "manifest", "expected"), CASES)
def test_defaults_are_idempotent_and_leave_input_alone(resource, manifest, expected):
    before = copy.deepcopy(manifest)
    once = apply_defaults(resource, manifest)
    assert manifest == before
    assert apply_defaults(resource, once) == once


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("localhost:5000/web", "Always"), ("localhost:5000/web:v2", "IfNotPresent"),
    ("registry.k8s.io/pause:3.9", "IfNotPresent"),
    ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
    ("busybox:latest@sha256:" + "a" * 64, "Always"), ("NGINX", "IfNotPresent"),
    ("", "IfNotPresent"), (None, "IfNotPresent"),
])
def test_image_pull_policy(image, policy):
    assert image_pull_policy(image) == policy


def test_explicit_values_are_kept():
    pod = {"metadata": {"name": "p"}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 0, "enableServiceLinks": False,
        "containers": [{"name": "c", "image": "x", "imagePullPolicy": "Never"}]}}
    spec = apply_defaults("pods", pod)["spec"]
    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"]) == ("Never", 0)
    assert spec["enableServiceLinks"] is False
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


def test_host_network_pods_get_host_ports_but_templates_do_not():
    spec = {"hostNetwork": True, "containers": [{"name": "c", "image": "x",
                                                 "ports": [{"containerPort": 53}]}]}
    pod = apply_defaults("pods", {"metadata": {"name": "p"}, "spec": spec})
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 53
    rc = apply_defaults("replicationcontrollers", {"metadata": {"name": "r"}, "spec": {
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": spec}}})
    assert "hostPort" not in rc["spec"]["template"]["spec"]["containers"][0]["ports"][0]


@pytest.mark.parametrize(("containers", "qos"), [
    ([{}], "BestEffort"),
    ([{"resources": {"requests": {"cpu": "100m"}}}], "Burstable"),
    ([{"resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                     "requests": {"cpu": "1", "memory": "1Gi"}}}], "Guaranteed"),
    ([{"resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                     "requests": {"cpu": "500m", "memory": "1Gi"}}}], "Burstable"),
    ([{"resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                     "requests": {"cpu": "1", "memory": "1Gi"}}}, {}], "Burstable"),
    ([{"resources": {"requests": {"cpu": "0"}}}], "BestEffort"),
], ids=["none", "requests-only", "equal", "cpu-below-limit", "one-of-two", "zero"])
def test_qos_class(containers, qos):
    assert qos_class({"containers": containers}) == qos


def test_subresource_names_default_as_their_resource():
    assert apply_defaults("pods/status", {"metadata": {}, "spec": {"containers": []}})[
        "status"]["phase"] == "Pending"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=12)
FIELDS = st.sampled_from(["spec", "status", "metadata", "subsets", "involvedObject", "source",
                          "containers", "template", "ports", "resources", "volumes", "limits"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["pods", "services", "replicationcontrollers", "namespaces", "nodes",
                        "endpoints", "events"]),
       st.dictionaries(FIELDS, JSON, max_size=4))
def test_defaults_never_crash_mutate_or_change_twice(resource, manifest):
    before = copy.deepcopy(manifest)
    once = apply_defaults(resource, manifest)
    assert manifest == before
    assert apply_defaults(resource, once) == once
