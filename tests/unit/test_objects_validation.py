"""Validation: every bad field yields a cause with its exact path and reason; the Kubernetes
docs' example manifests pass; nothing but Invalid ever comes out, whatever the input."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosun.objects import fielderrors as fe
from bosun.objects.defaults import apply_defaults
from bosun.objects.meta import prepare_create, prepare_update
from bosun.objects.registry import info
from bosun.objects.status import Invalid
from bosun.objects.validation import validate

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
DELETE = object()

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                "ports": [{"name": "http", "containerPort": 80}],
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                "volumes": [{"name": "data", "emptyDir": {}}]}}
SVC = {"metadata": {"name": "web"},
       "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}
RC = {"metadata": {"name": "web"},
      "spec": {"replicas": 2, "selector": {"app": "web"},
               "template": {"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
NS = {"metadata": {"name": "team"}}
NODE = {"metadata": {"name": "minion-1"}, "spec": {"podCIDR": "10.244.1.0/24",
                                                   "podCIDRs": ["10.244.1.0/24"]},
        "status": {"capacity": {"cpu": "2"}, "conditions": [{"type": "Ready", "status": "True"}],
                   "addresses": [{"type": "InternalIP", "address": "10.200.0.11"}]}}
EP = {"metadata": {"name": "web"},
      "subsets": [{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}]}
EV = {"metadata": {"name": "web.1", "namespace": "default"}, "type": "Normal",
      "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"}}
BASES = {"pods": POD, "services": SVC, "replicationcontrollers": RC, "namespaces": NS,
         "nodes": NODE, "endpoints": EP, "events": EV}


def edit(obj: dict, path: tuple, value: object) -> dict:
    out = copy.deepcopy(obj)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    elif isinstance(target, list) and path[-1] == len(target):
        target.append(value)
    else:
        target[path[-1]] = value
    return out


def created(resource: str, manifest: dict) -> dict:
    namespace = "default" if info(resource).namespaced else None
    return prepare_create(resource, apply_defaults(resource, manifest), namespace, NOW, "uid-1")


def causes_of(resource: str, obj: dict, old: dict | None = None) -> list[fe.FieldError]:
    try:
        validate(resource, obj, old)
    except Invalid as err:
        assert err.causes, "Invalid without causes"
        return err.causes
    return []


C = "spec.containers[0]"
CASES = [
    # pods
    ("pods", ("metadata", "name"), DELETE, "metadata.name", fe.REQUIRED),
    ("pods", ("metadata", "name"), "Web_1", "metadata.name", fe.INVALID),
    ("pods", ("metadata", "labels"), {"bad key": "x"}, "metadata.labels", fe.INVALID),
    ("pods", ("metadata", "labels"), {"app": "x" * 64}, "metadata.labels", fe.INVALID),
    ("pods", ("metadata", "annotations"), {"a": "x" * 262144}, "metadata.annotations",
     fe.TOO_LONG),
    ("pods", ("metadata", "finalizers"), ["bad finalizer"], "metadata.finalizers", fe.INVALID),
    ("pods", ("spec", "containers"), [], "spec.containers", fe.REQUIRED),
    ("pods", ("spec", "containers", 0, "image"), DELETE, f"{C}.image", fe.REQUIRED),
    ("pods", ("spec", "containers", 0, "name"), DELETE, f"{C}.name", fe.REQUIRED),
    ("pods", ("spec", "containers", 0, "name"), "Web", f"{C}.name", fe.INVALID),
    ("pods", ("spec", "containers", 1), {"name": "web", "image": "x"},
     "spec.containers[1].name", fe.DUPLICATE),
    ("pods", ("spec", "initContainers"), [{"name": "web", "image": "x"}],
     "spec.initContainers[0].name", fe.DUPLICATE),
    ("pods", ("spec", "containers", 0, "ports", 0, "containerPort"), 70000,
     f"{C}.ports[0].containerPort", fe.INVALID),
    ("pods", ("spec", "containers", 0, "ports", 0, "containerPort"), DELETE,
     f"{C}.ports[0].containerPort", fe.REQUIRED),
    ("pods", ("spec", "containers", 0, "ports", 0, "hostPort"), 0x10000,
     f"{C}.ports[0].hostPort", fe.INVALID),
    ("pods", ("spec", "containers", 0, "ports", 0, "name"), "http_web",
     f"{C}.ports[0].name", fe.INVALID),
    ("pods", ("spec", "containers", 0, "ports", 1), {"name": "http", "containerPort": 81},
     f"{C}.ports[1].name", fe.DUPLICATE),
    ("pods", ("spec", "containers", 0, "ports", 0, "protocol"), "SCTP",
     f"{C}.ports[0].protocol", fe.NOT_SUPPORTED),
    ("pods", ("spec", "containers", 0, "imagePullPolicy"), "Sometimes",
     f"{C}.imagePullPolicy", fe.NOT_SUPPORTED),
    ("pods", ("spec", "restartPolicy"), "Sometimes", "spec.restartPolicy", fe.NOT_SUPPORTED),
    ("pods", ("spec", "dnsPolicy"), "Nearest", "spec.dnsPolicy", fe.NOT_SUPPORTED),
    ("pods", ("spec", "volumes", 0), {"name": "data", "configMap": {"name": "cm"}},
     "spec.volumes[0].configMap", fe.NOT_SUPPORTED),
    ("pods", ("spec", "volumes", 0), {"name": "data", "secret": {"secretName": "s"}},
     "spec.volumes[0].secret", fe.NOT_SUPPORTED),
    ("pods", ("spec", "volumes", 0), {"name": "data", "persistentVolumeClaim": {"claimName": "c"}},
     "spec.volumes[0].persistentVolumeClaim", fe.NOT_SUPPORTED),
    ("pods", ("spec", "volumes", 0), {"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}},
     "spec.volumes[0].hostPath", fe.FORBIDDEN),
    ("pods", ("spec", "volumes", 0), {"name": "data", "hostPath": {}},
     "spec.volumes[0].hostPath.path", fe.REQUIRED),
    ("pods", ("spec", "volumes", 0), {"name": "data", "hostPath": {"path": "/x", "type": "Pipe"}},
     "spec.volumes[0].hostPath.type", fe.NOT_SUPPORTED),
    ("pods", ("spec", "volumes", 0), {"name": "data", "emptyDir": {"medium": "HugePages"}},
     "spec.volumes[0].emptyDir.medium", fe.NOT_SUPPORTED),
    ("pods", ("spec", "volumes", 0, "name"), "Data", "spec.volumes[0].name", fe.INVALID),
    ("pods", ("spec", "volumes", 1), {"name": "data", "emptyDir": {}}, "spec.volumes[1].name",
     fe.DUPLICATE),
    ("pods", ("spec", "containers", 0, "volumeMounts", 0, "name"), "nope",
     f"{C}.volumeMounts[0].name", fe.NOT_FOUND),
    ("pods", ("spec", "containers", 0, "volumeMounts", 1), {"name": "data", "mountPath": "/data"},
     f"{C}.volumeMounts[1].mountPath", fe.INVALID),
    ("pods", ("spec", "containers", 0, "volumeMounts", 0, "subPath"), "../etc",
     f"{C}.volumeMounts[0].subPath", fe.INVALID),
    ("pods", ("spec", "containers", 0, "resources"), {"limits": {"cpu": "lots"}},
     f"{C}.resources.limits[cpu]", fe.INVALID),
    ("pods", ("spec", "containers", 0, "resources"), {"requests": {"memory": "-1Mi"}},
     f"{C}.resources.requests[memory]", fe.INVALID),
    ("pods", ("spec", "containers", 0, "resources"), {"requests": {"cpu": "2"},
                                                      "limits": {"cpu": "1"}},
     f"{C}.resources.requests", fe.INVALID),
    ("pods", ("spec", "containers", 0, "resources"), {"limits": {"gpu": "1"}},
     f"{C}.resources.limits[gpu]", fe.INVALID),
    ("pods", ("spec", "containers", 0, "env"), [{"name": "1X", "value": "v"}],
     f"{C}.env[0].name", fe.INVALID),
    ("pods", ("spec", "containers", 0, "env"), [{"value": "v"}], f"{C}.env[0].name",
     fe.REQUIRED),
    ("pods", ("spec", "containers", 0, "env"),
     [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
     f"{C}.env[0].valueFrom.configMapKeyRef", fe.NOT_SUPPORTED),
    ("pods", ("spec", "containers", 0, "env"),
     [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.hostname"}}}],
     f"{C}.env[0].valueFrom.fieldRef.fieldPath", fe.NOT_SUPPORTED),
    ("pods", ("spec", "containers", 0, "envFrom"), [{"configMapRef": {"name": "cm"}}],
     f"{C}.envFrom[0]", fe.FORBIDDEN),
    ("pods", ("spec", "nodeSelector"), {"disk": "-ssd"}, "spec.nodeSelector", fe.INVALID),
    ("pods", ("spec", "nodeName"), "Minion_1", "spec.nodeName", fe.INVALID),
    ("pods", ("spec", "activeDeadlineSeconds"), 0, "spec.activeDeadlineSeconds", fe.INVALID),
    ("pods", ("spec", "terminationGracePeriodSeconds"), -1, "spec.terminationGracePeriodSeconds",
     fe.INVALID),
    ("pods", ("spec", "ephemeralContainers"), [{"name": "debug", "image": "busybox"}],
     "spec.ephemeralContainers", fe.FORBIDDEN),
    ("pods", ("spec", "tolerations"), [{"key": "k", "operator": "Maybe"}],
     "spec.tolerations[0].operator", fe.NOT_SUPPORTED),
    ("pods", ("spec", "affinity"), {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone"}]}]}}},
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].operator", fe.REQUIRED),
    ("pods", ("spec", "containers"), "web", "spec.containers", fe.TYPE_INVALID),
    ("pods", ("spec", "containers", 0, "ports", 0, "containerPort"), "80",
     f"{C}.ports[0].containerPort", fe.TYPE_INVALID),
    # services
    ("services", ("metadata", "name"), "1web", "metadata.name", fe.INVALID),
    ("services", ("spec", "type"), "LoadBalancer", "spec.type", fe.NOT_SUPPORTED),
    ("services", ("spec", "type"), "ExternalName", "spec.type", fe.NOT_SUPPORTED),
    ("services", ("spec", "ports"), [], "spec.ports", fe.REQUIRED),
    ("services", ("spec", "ports", 0, "port"), 0, "spec.ports[0].port", fe.INVALID),
    ("services", ("spec", "ports", 0, "protocol"), "SCTP", "spec.ports[0].protocol",
     fe.NOT_SUPPORTED),
    ("services", ("spec", "ports", 1), {"port": 443}, "spec.ports[1].name", fe.REQUIRED),
    ("services", ("spec", "ports", 1), {"name": "http", "port": 443}, "spec.ports[1].name",
     fe.DUPLICATE),
    ("services", ("spec", "ports", 1), {"name": "alt", "port": 80}, "spec.ports[1]",
     fe.DUPLICATE),
    ("services", ("spec", "ports", 0, "name"), "HTTP", "spec.ports[0].name", fe.INVALID),
    ("services", ("spec", "ports", 0, "targetPort"), "http_x", "spec.ports[0].targetPort",
     fe.INVALID),
    ("services", ("spec", "ports", 0, "targetPort"), 70000, "spec.ports[0].targetPort",
     fe.INVALID),
    ("services", ("spec", "ports", 0, "nodePort"), 30080, "spec.ports[0].nodePort", fe.FORBIDDEN),
    ("services", ("spec", "clusterIP"), "10.0.0", "spec.clusterIPs[0]", fe.INVALID),
    ("services", ("spec", "selector"), {"app": "-web"}, "spec.selector", fe.INVALID),
    ("services", ("spec", "sessionAffinity"), "Cookie", "spec.sessionAffinity", fe.NOT_SUPPORTED),
    ("services", ("spec", "externalTrafficPolicy"), "Local", "spec.externalTrafficPolicy",
     fe.INVALID),
    ("services", ("spec", "ipFamilies"), ["IPv6"], "spec.ipFamilies[0]", fe.INVALID),
    ("services", ("spec", "ipFamilyPolicy"), "RequireDualStack", "spec.ipFamilyPolicy", fe.INVALID),
    # replication controllers
    ("replicationcontrollers", ("spec", "selector"), {"app": "db"},
     "spec.template.metadata.labels", fe.INVALID),
    ("replicationcontrollers", ("spec", "replicas"), -1, "spec.replicas", fe.INVALID),
    ("replicationcontrollers", ("spec", "template"), DELETE, "spec.template", fe.REQUIRED),
    ("replicationcontrollers", ("spec", "template", "spec", "restartPolicy"), "Never",
     "spec.template.spec.restartPolicy", fe.NOT_SUPPORTED),
    ("replicationcontrollers", ("spec", "template", "spec", "containers", 0, "image"), DELETE,
     "spec.template.spec.containers[0].image", fe.REQUIRED),
    ("replicationcontrollers", ("spec", "template", "spec", "activeDeadlineSeconds"), 10,
     "spec.template.spec.activeDeadlineSeconds", fe.FORBIDDEN),
    ("replicationcontrollers", ("spec", "template", "metadata", "labels"), {"app": "web", "k": "-"},
     "spec.template.labels", fe.INVALID),
    ("replicationcontrollers", ("spec", "replicas"), "two", "spec.replicas", fe.TYPE_INVALID),
    # namespaces, nodes, endpoints, events
    ("namespaces", ("metadata", "name"), "a.b", "metadata.name", fe.INVALID),
    ("namespaces", ("spec",), {"finalizers": ["custom"]}, "spec.finalizers", fe.INVALID),
    ("nodes", ("spec", "podCIDRs"), ["10.244.1.0/33"], "spec.podCIDRs[0]", fe.INVALID),
    ("nodes", ("spec", "taints"), [{"key": "k", "effect": "Evict"}], "spec.taints[0].effect",
     fe.NOT_SUPPORTED),
    ("nodes", ("status", "conditions", 0, "status"), DELETE, "status.conditions[0].status",
     fe.REQUIRED),
    ("nodes", ("status", "addresses", 0, "type"), "PublicIP", "status.addresses[0].type",
     fe.NOT_SUPPORTED),
    ("nodes", ("status", "capacity", "cpu"), "many", "status.capacity[cpu]", fe.INVALID),
    ("endpoints", ("subsets", 0, "addresses"), [], "subsets[0]", fe.REQUIRED),
    ("endpoints", ("subsets", 0, "addresses", 0, "ip"), "127.0.0.1",
     "subsets[0].addresses[0].ip", fe.INVALID),
    ("endpoints", ("subsets", 0, "addresses", 0, "ip"), "pod-ip", "subsets[0].addresses[0].ip",
     fe.INVALID),
    ("endpoints", ("subsets", 0, "ports", 1), {"port": 81}, "subsets[0].ports[0].name",
     fe.REQUIRED),
    ("events", ("involvedObject",), DELETE, "involvedObject", fe.REQUIRED),
    ("events", ("involvedObject", "namespace"), "other", "involvedObject.namespace", fe.INVALID),
    ("events", ("type",), "Info", "type", fe.NOT_SUPPORTED),
]


def _case_id(case: tuple) -> str:
    resource, _path, value, field, _reason = case
    shown = "delete" if value is DELETE else str(value)[:20]
    return f"{resource}-{field}-{shown}"


@pytest.mark.parametrize(("resource", "path", "value", "field", "reason"), CASES,
                         ids=[_case_id(c) for c in CASES])
def test_bad_field_gives_a_cause_with_its_path_and_reason(resource, path, value, field, reason):
    obj = created(resource, edit(BASES[resource], path, value))
    found = {(c.field, c.reason) for c in causes_of(resource, obj)}
    assert (field, reason) in found, found


@pytest.mark.parametrize("resource", sorted(BASES))
def test_base_manifests_are_valid(resource):
    assert causes_of(resource, created(resource, BASES[resource])) == []


def test_all_causes_are_reported_at_once():
    bad = edit(edit(POD, ("metadata", "name"), "Bad_Name"), ("spec", "restartPolicy"), "Maybe")
    bad = edit(bad, ("spec", "containers", 0, "image"), DELETE)
    fields = [c.field for c in causes_of("pods", created("pods", bad))]
    assert fields == ["metadata.name", f"{C}.image", "spec.restartPolicy"]


@pytest.mark.parametrize(("resource", "manifest", "text"), [
    ("replicationcontrollers", edit(RC, ("spec", "selector"), {"app": "db"}),
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
     "`selector` does not match template `labels`"),
    ("services", edit(SVC, ("spec", "ports", 1), {"name": "alt", "port": 80}),
     'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
     "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
     'StrVal:""}, NodePort:0}'),
    ("services", edit(SVC, ("spec", "type"), "LoadBalancer"),
     'spec.type: Unsupported value: "LoadBalancer": supported values: "ClusterIP", "NodePort" '
     "(Bosun implements neither LoadBalancer nor ExternalName services)"),
    ("pods", edit(POD, ("spec", "volumes", 0), {"name": "data", "configMap": {"name": "c"}}),
     'spec.volumes[0].configMap: Unsupported value: "configMap": supported values: "emptyDir", '
     '"hostPath" (Bosun runs only these volume types)'),
    ("pods", edit(POD, ("spec", "containers", 0, "resources"),
                  {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}),
     'spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal '
     "to memory limit of 1Gi"),
    ("pods", edit(POD, ("metadata", "name"), DELETE),
     "metadata.name: Required value: name or generateName is required"),
    ("replicationcontrollers", edit(RC, ("spec", "replicas"), -1),
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    ("services", edit(SVC, ("spec", "ports", 0, "protocol"), "UDP"),
     'spec.ports[0].protocol: Unsupported value: "UDP": supported values: "TCP" '
     "(Bosun's service proxy carries TCP only)"),
], ids=["selector-mismatch", "duplicate-service-port", "load-balancer", "configmap-volume",
        "requests-above-limits", "no-name", "negative-replicas", "udp-service"])
def test_messages_read_as_kubernetes_writes_them(resource, manifest, text):
    assert text in [str(c) for c in causes_of(resource, created(resource, manifest))]


def test_a_headless_service_may_have_udp_ports_since_nothing_proxies_them():
    headless = edit(edit(SVC, ("spec", "clusterIP"), "None"), ("spec", "ports", 0, "protocol"),
                    "UDP")
    assert causes_of("services", created("services", headless)) == []


def test_invalid_names_the_kind_and_object():
    with pytest.raises(Invalid) as err:
        validate("pods", created("pods", edit(POD, ("spec", "containers", 0, "image"), DELETE)))
    status = err.value.to_status()
    assert status["message"] == 'Pod "web" is invalid: spec.containers[0].image: Required value'
    assert status["details"]["kind"] == "Pod"


# --- updates -----------------------------------------------------------------------------------

def updated(resource: str, old: dict, path: tuple, value: object) -> list[fe.FieldError]:
    new = prepare_update(resource, old, apply_defaults(resource, edit(old, path, value)))
    return causes_of(resource, new, old)


@pytest.mark.parametrize(("path", "value"), [
    (("spec", "containers", 0, "image"), "nginx:1.26"),
    (("spec", "activeDeadlineSeconds"), 30),
    (("spec", "tolerations"), [{"key": "k", "operator": "Exists", "effect": "NoExecute"}]),
    (("metadata", "labels"), {"app": "web", "tier": "front"}),
], ids=["image", "deadline-set", "toleration-added", "labels"])
def test_pod_updates_kubernetes_allows(path, value):
    assert updated("pods", created("pods", POD), path, value) == []


def test_pod_update_of_other_fields_is_forbidden_with_kubernetes_message():
    [cause] = updated("pods", created("pods", POD), ("spec", "containers", 0, "ports"), [])
    assert (cause.field, cause.reason) == ("spec", fe.FORBIDDEN)
    assert cause.detail.startswith(
        "pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
        "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
        "be set to 1 if it was previously negative)")
    assert "spec.containers" in cause.detail


@pytest.mark.parametrize(("resource", "base", "path", "value", "field", "reason"), [
    ("pods", edit(POD, ("spec", "activeDeadlineSeconds"), 10),
     ("spec", "activeDeadlineSeconds"), 20, "spec.activeDeadlineSeconds", fe.INVALID),
    ("pods", edit(POD, ("spec", "tolerations"), [{"operator": "Exists"}]),
     ("spec", "tolerations"), [], "spec", fe.FORBIDDEN),
    ("pods", POD, ("metadata", "name"), "other", "metadata.name", fe.INVALID),
    ("services", edit(SVC, ("spec", "clusterIP"), "10.0.0.7"), ("spec", "clusterIP"), "10.0.0.8",
     "spec.clusterIP", fe.INVALID),
    ("namespaces", NS, ("metadata", "name"), "other", "metadata.name", fe.INVALID),
    ("nodes", NODE, ("spec", "podCIDRs"), ["10.244.2.0/24"], "spec.podCIDRs", fe.FORBIDDEN),
], ids=["deadline-raised", "toleration-removed", "pod-renamed", "cluster-ip-changed",
        "namespace-renamed", "pod-cidr-changed"])
def test_updates_kubernetes_refuses(resource, base, path, value, field, reason):
    found = {(c.field, c.reason) for c in updated(resource, created(resource, base), path, value)}
    assert (field, reason) in found


def test_service_update_without_cluster_ip_keeps_it():
    old = created("services", edit(SVC, ("spec", "clusterIP"), "10.0.0.7"))
    assert updated("services", old, ("spec", "clusterIP"), DELETE) == []


def test_pod_status_may_not_leave_a_terminal_phase():
    old = edit(created("pods", POD), ("status", "phase"), "Failed")
    new = prepare_update("pods/status", old, edit(old, ("status", "phase"), "Running"))
    assert ("status.phase", fe.FORBIDDEN) in {(c.field, c.reason)
                                             for c in causes_of("pods/status", new, old)}


@pytest.mark.parametrize(("resource", "obj", "field", "reason"), [
    ("replicationcontrollers/scale", {"metadata": {"name": "web", "namespace": "default"},
                                      "spec": {"replicas": -1}}, "spec.replicas", fe.INVALID),
    ("pods/binding", {"metadata": {"name": "web", "namespace": "default"},
                      "target": {"kind": "Node"}}, "target.name", fe.REQUIRED),
    ("pods/binding", {"metadata": {"name": "web", "namespace": "default"},
                      "target": {"kind": "Pod", "name": "x"}}, "target.kind", fe.NOT_SUPPORTED),
    ("pods/eviction", {"metadata": {"name": "web"}, "deleteOptions": {
        "propagationPolicy": "Later"}}, "deleteOptions.propagationPolicy", fe.NOT_SUPPORTED),
    ("pods/eviction", {"metadata": {"name": "web"}, "deleteOptions": {"dryRun": ["All", "No"]}},
     "deleteOptions.dryRun[1]", fe.NOT_SUPPORTED),
    ("replicationcontrollers/status", edit(created("replicationcontrollers", RC), ("status",),
                                           {"replicas": 1, "readyReplicas": 2}),
     "status.readyReplicas", fe.INVALID),
], ids=["scale-negative", "binding-no-node", "binding-not-node", "eviction-policy",
        "eviction-dry-run", "rc-status-ready"])
def test_subresource_bodies(resource, obj, field, reason):
    assert (field, reason) in {(c.field, c.reason) for c in causes_of(resource, obj)}


# --- manifests from the Kubernetes documentation ---------------------------------------------

DOCS = """
apiVersion: v1
kind: Pod
metadata: {name: nginx}
spec:
  containers:
  - {name: nginx, image: "nginx:1.14.2", ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: test-pd}
spec:
  containers:
  - image: registry.k8s.io/test-webserver
    name: test-container
    volumeMounts: [{mountPath: /cache, name: cache-volume}]
  volumes:
  - name: cache-volume
    emptyDir: {sizeLimit: 500Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: test-pd}
spec:
  containers:
  - image: registry.k8s.io/test-webserver
    name: test-container
    volumeMounts: [{mountPath: /foo, name: example-volume, readOnly: true}]
  volumes:
  - name: example-volume
    hostPath: {path: /data/foo, type: Directory}
---
apiVersion: v1
kind: Pod
metadata: {name: memory-demo, namespace: mem-example}
spec:
  containers:
  - name: memory-demo-ctr
    image: polinux/stress
    resources:
      requests: {memory: "100Mi"}
      limits: {memory: "200Mi"}
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"]
---
apiVersion: v1
kind: Pod
metadata: {name: cpu-demo}
spec:
  containers:
  - name: cpu-demo-ctr
    image: vish/stress
    resources: {limits: {cpu: "1"}, requests: {cpu: "0.5"}}
    args: ["-cpus", "2"]
---
apiVersion: v1
kind: Pod
metadata: {name: dapi-envars-fieldref}
spec:
  containers:
    - name: test-container
      image: registry.k8s.io/busybox
      command: [ "sh", "-c"]
      args: ["while true; do printenv MY_NODE_NAME; sleep 10; done;"]
      env:
        - {name: MY_NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: MY_POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: MY_POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: MY_POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: MY_CPU_LIMIT,
           valueFrom: {resourceFieldRef: {containerName: test-container, resource: limits.cpu}}}
  restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata:
  labels: {test: liveness}
  name: liveness-http
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: [liveness]
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
        httpHeaders: [{name: Custom-Header, value: Awesome}]
      initialDelaySeconds: 3
      periodSeconds: 3
    readinessProbe:
      exec: {command: [cat, /tmp/healthy]}
---
apiVersion: v1
kind: Pod
metadata: {name: two-containers}
spec:
  restartPolicy: Never
  volumes: [{name: shared-data, emptyDir: {}}]
  containers:
  - name: nginx-container
    image: nginx
    volumeMounts: [{name: shared-data, mountPath: /usr/share/nginx/html}]
  - name: debian-container
    image: debian
    volumeMounts: [{name: shared-data, mountPath: /pod-data}]
    command: ["/bin/sh"]
    args: ["-c", "echo Hello from the debian container > /pod-data/index.html"]
---
apiVersion: v1
kind: Pod
metadata: {name: security-context-demo}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
  volumes: [{name: sec-ctx-vol, emptyDir: {}}]
  containers:
  - name: sec-ctx-demo
    image: busybox:1.28
    command: [ "sh", "-c", "sleep 1h" ]
    volumeMounts: [{name: sec-ctx-vol, mountPath: /data/demo}]
    securityContext: {allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Pod
metadata: {name: with-node-affinity}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: topology.kubernetes.io/zone, operator: In,
             values: [antarctica-east1, antarctica-west1]}
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 1
        preference:
          matchExpressions:
          - {key: another-node-label-key, operator: In, values: [another-node-label-value]}
  tolerations:
  - {key: "example-key", operator: "Exists", effect: "NoSchedule"}
  nodeSelector: {disktype: ssd}
  containers:
  - {name: with-node-affinity, image: "registry.k8s.io/pause:3.8"}
---
apiVersion: v1
kind: Pod
metadata:
  name: myapp-pod
  labels: {app.kubernetes.io/name: MyApp}
spec:
  containers:
  - {name: myapp-container, image: "busybox:1.28",
     command: ['sh', '-c', 'echo The app is running! && sleep 3600']}
  initContainers:
  - {name: init-myservice, image: "busybox:1.28",
     command: ['sh', '-c', "until nslookup myservice; do echo waiting; sleep 2; done"]}
---
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  selector: {app.kubernetes.io/name: MyApp}
  ports: [{protocol: TCP, port: 80, targetPort: 9376}]
---
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  type: NodePort
  selector: {app.kubernetes.io/name: MyApp}
  ports: [{port: 80, targetPort: 80, nodePort: 30007}]
---
apiVersion: v1
kind: Service
metadata: {name: my-service}
spec:
  selector: {app.kubernetes.io/name: MyApp}
  ports:
    - {name: http, protocol: TCP, port: 80, targetPort: 9376}
    - {name: https, protocol: TCP, port: 443, targetPort: 9377}
---
apiVersion: v1
kind: Service
metadata: {name: nginx-service}
spec:
  selector: {app.kubernetes.io/name: proxy}
  ports: [{name: name-of-service-port, protocol: TCP, port: 80, targetPort: http-web-svc}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, labels: {app: dns}}
spec:
  clusterIP: None
  selector: {app: dns}
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: nginx}
spec:
  replicas: 3
  selector: {app: nginx}
  template:
    metadata:
      name: nginx
      labels: {app: nginx}
    spec:
      containers:
      - {name: nginx, image: nginx, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: redis-master
  labels: {app: redis, role: master, tier: backend}
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: redis, role: master, tier: backend}
    spec:
      containers:
      - name: master
        image: redis
        resources: {requests: {cpu: 100m, memory: 100Mi}}
        ports: [{containerPort: 6379}]
---
apiVersion: v1
kind: Namespace
metadata: {name: development, labels: {name: development}}
---
kind: Node
apiVersion: v1
metadata:
  name: 10.240.79.157
  labels: {name: my-first-k8s-node}
---
apiVersion: v1
kind: Endpoints
metadata: {name: my-service}
subsets:
  - addresses: [{ip: 192.0.2.42}]
    ports: [{port: 9376}]
"""
DOCS_MANIFESTS = [m for m in yaml.safe_load_all(DOCS) if "initContainers" not in m.get("spec", {})]
WITH_INIT_CONTAINERS = [m for m in yaml.safe_load_all(DOCS)
                        if "initContainers" in m.get("spec", {})]


def test_init_containers_are_refused_since_bosun_does_not_run_them():
    assert WITH_INIT_CONTAINERS, "the docs manifests should hold one with initContainers"
    for manifest in WITH_INIT_CONTAINERS:
        obj = prepare_create("pods", apply_defaults("pods", manifest), "default", NOW, "uid-1")
        assert [(c.reason, c.field) for c in causes_of("pods", obj)] == [
            ("FieldValueForbidden", "spec.initContainers")]


@pytest.mark.parametrize("manifest", DOCS_MANIFESTS,
                         ids=[f"{m['kind']}-{m['metadata']['name']}" for m in DOCS_MANIFESTS])
def test_manifests_from_the_kubernetes_docs_are_valid(manifest):
    resource = {"Pod": "pods", "Service": "services", "ReplicationController":
                "replicationcontrollers", "Namespace": "namespaces", "Node": "nodes",
                "Endpoints": "endpoints"}[manifest["kind"]]
    namespace = manifest["metadata"].get("namespace", "default")
    obj = prepare_create(resource, apply_defaults(resource, manifest),
                         namespace if info(resource).namespaced else None, NOW, "uid-1")
    assert causes_of(resource, obj) == []


# --- property tests ---------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(allow_nan=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=10)
RESOURCES = st.sampled_from(sorted(BASES))


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _only_invalid(resource: str, obj: object) -> None:
    try:
        validate(resource, obj)
    except Invalid as err:
        assert err.causes
        assert err.to_status()["code"] == 422


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(RESOURCES, JSON)
def test_arbitrary_spec_only_ever_raises_invalid(resource, spec):
    _only_invalid(resource, {"metadata": {"name": "x", "namespace": "default"}, "spec": spec,
                             "status": spec, "subsets": spec, "involvedObject": spec})


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(RESOURCES, st.data())
def test_any_field_of_a_valid_object_set_to_anything_only_raises_invalid(resource, data):
    base = created(resource, BASES[resource])
    path = data.draw(st.sampled_from(_paths(base)))
    broken = edit(base, path, data.draw(JSON))
    _only_invalid(resource, broken)
    before = copy.deepcopy(broken)
    defaulted = apply_defaults(resource, broken)
    assert broken == before
    assert apply_defaults(resource, defaulted) == defaulted
    _only_invalid(resource, defaulted)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_body_for_a_subresource_only_raises_invalid(body):
    for resource in ("pods/status", "pods/binding", "pods/eviction",
                     "replicationcontrollers/scale", "replicationcontrollers/status",
                     "nodes/status", "namespaces/finalize"):
        _only_invalid(resource, body)
        _only_invalid(resource, {"metadata": {"name": "x"}, "spec": body, "status": body,
                                 "target": body, "deleteOptions": body})
