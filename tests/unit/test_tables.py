"""Tables for kubectl: Kubernetes 1.32's columns and cell values for a fixture world of objects."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from bosun.api.tables import (
    InvalidTableRequest,
    columns,
    format_endpoints,
    human_duration,
    since,
    table,
)
from bosun.errors import PermanentError

NOW = datetime(2025, 1, 10, 12, 0, 0, tzinfo=UTC)


def ago(**delta) -> str:
    """An RFC 3339 timestamp `delta` before NOW, as the API stores it."""
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cells(resource: str, obj: dict) -> list:
    return table(resource, [obj], NOW, None)["rows"][0]["cells"]


# -- ages ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [
    (-3, "<invalid>"), (-2, "<invalid>"), (-1.5, "0s"), (-1, "0s"), (0, "0s"), (0.9, "0s"),
    (45, "45s"), (119, "119s"), (120, "2m"), (320, "5m20s"), (599, "9m59s"), (600, "10m"),
    (10799, "179m"), (10800, "3h"), (18180, "5h3m"), (28799, "7h59m"), (28800, "8h"),
    (47 * 3600 + 59 * 60, "47h"), (48 * 3600, "2d"), ((3 * 24 + 4) * 3600, "3d4h"),
    (8 * 86400, "8d"), (200 * 86400, "200d"), (729 * 86400, "729d"), (730 * 86400, "2y"),
    (735 * 86400, "2y5d"), (8 * 365 * 86400, "8y"), (10 * 365 * 86400 + 86400, "10y"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_human_duration(seconds, text):
    assert human_duration(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("stamp, text", [
    (None, "<unknown>"), ("", "<unknown>"), ("not a time", "<unknown>"),
    ("2025-01-10T11:59:15Z", "45s"), ("2025-01-10T11:59:15.123456Z", "44s"),
    ("2025-01-10T11:59:15.123456789Z", "44s"), ("2025-01-10T13:59:15+02:00", "45s"),
    (NOW - timedelta(minutes=5), "5m"),
], ids=["missing", "empty", "garbage", "seconds", "micro-time", "nano-time", "offset",
        "datetime"])
def test_since(stamp, text):
    assert since(stamp, NOW) == text


# -- pods ------------------------------------------------------------------------------------------

def pod(name, *, phase="Running", containers=("web",), statuses=(), init=(), init_statuses=(),
        created=None, **extra):
    obj = {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                     "resourceVersion": "7", "creationTimestamp": created or ago(minutes=3)},
        "spec": {"containers": [{"name": c, "image": "busybox"} for c in containers],
                 "initContainers": list(init)},
        "status": {"phase": phase, "containerStatuses": list(statuses),
                   "initContainerStatuses": list(init_statuses)},
    }
    for key, value in extra.items():
        section, _, field = key.partition("__")
        obj[section][field] = value
    return obj


def running(name="web", ready=True, restarts=0, **extra):
    return {"name": name, "ready": ready, "restartCount": restarts, "image": "busybox",
            "imageID": "", "state": {"running": {"startedAt": ago(minutes=2)}}, **extra}


def waiting(reason, name="web", restarts=0, **extra):
    return {"name": name, "ready": False, "restartCount": restarts, "image": "busybox",
            "imageID": "", "state": {"waiting": {"reason": reason}}, **extra}


def terminated(name="web", exit_code=0, reason="Completed", signal=None, restarts=0):
    state = {"exitCode": exit_code, "finishedAt": ago(minutes=1)}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"name": name, "ready": False, "restartCount": restarts, "image": "busybox",
            "imageID": "", "state": {"terminated": state}}


CRASHED_5M_AGO = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(minutes=5)}}
READY = [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]

POD_CASES = [
    ("pending-unscheduled",
     pod("pending", phase="Pending", created=ago(seconds=45), status__conditions=[
         {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]),
     ["pending", "0/1", "Pending", "0", "45s", "<none>", "<none>", "<none>", "<none>"]),
    ("container-creating",
     pod("creating", phase="Pending", created=ago(minutes=5, seconds=20),
         statuses=[waiting("ContainerCreating")], spec__nodeName="minion-1"),
     ["creating", "0/1", "ContainerCreating", "0", "5m20s", "<none>", "minion-1", "<none>",
      "<none>"]),
    ("running-1-of-2-ready",
     pod("half", containers=("web", "log"), created=ago(hours=2, minutes=30),
         statuses=[running("web"), running("log", ready=False)], spec__nodeName="minion-2",
         status__podIP="10.244.2.7", status__podIPs=[{"ip": "10.244.2.7"}]),
     ["half", "1/2", "Running", "0", "150m", "10.244.2.7", "minion-2", "<none>", "<none>"]),
    ("crash-loop-with-restarts",
     pod("crashy", created=ago(hours=5, minutes=3),
         statuses=[waiting("CrashLoopBackOff", restarts=5, lastState=CRASHED_5M_AGO)]),
     ["crashy", "0/1", "CrashLoopBackOff", "5 (5m ago)", "5h3m", "<none>", "<none>", "<none>",
      "<none>"]),
    ("restarted-and-running",
     pod("bouncy", statuses=[running(restarts=2, lastState=CRASHED_5M_AGO)]),
     ["bouncy", "1/1", "Running", "2 (5m ago)", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("restarts-without-finish-time",
     pod("old", statuses=[running(restarts=2, lastState={"terminated": {"exitCode": 1}})]),
     ["old", "1/1", "Running", "2", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("completed",
     pod("job", phase="Succeeded", created=ago(hours=30), statuses=[terminated()]),
     ["job", "0/1", "Completed", "0", "30h", "<none>", "<none>", "<none>", "<none>"]),
    ("failed-with-error",
     pod("broken", phase="Failed", statuses=[terminated(exit_code=1, reason="Error")]),
     ["broken", "0/1", "Error", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("exit-code-without-reason",
     pod("killed", phase="Failed", statuses=[terminated(exit_code=137, reason="")]),
     ["killed", "0/1", "ExitCode:137", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("signal-without-reason",
     pod("signalled", phase="Failed", statuses=[terminated(exit_code=0, reason="", signal=9)]),
     ["signalled", "0/1", "Signal:9", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("terminating",
     pod("going", created=ago(days=3, hours=4), statuses=[running()],
         metadata__deletionTimestamp=ago(seconds=10)),
     ["going", "1/1", "Terminating", "0", "3d4h", "<none>", "<none>", "<none>", "<none>"]),
    ("terminating-but-finished",
     pod("done", phase="Succeeded", statuses=[terminated()],
         metadata__deletionTimestamp=ago(seconds=10)),
     ["done", "0/1", "Completed", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("node-lost",
     pod("lost", statuses=[running()], metadata__deletionTimestamp=ago(seconds=10),
         status__reason="NodeLost"),
     ["lost", "1/1", "Unknown", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("err-image-pull",
     pod("pull", phase="Pending", created=ago(days=200), statuses=[waiting("ErrImagePull")]),
     ["pull", "0/1", "ErrImagePull", "0", "200d", "<none>", "<none>", "<none>", "<none>"]),
    ("first-container-wins-the-reason",
     pod("two", containers=("a", "b"),
         statuses=[waiting("ImagePullBackOff", name="a"), waiting("CrashLoopBackOff", name="b")]),
     ["two", "0/2", "ImagePullBackOff", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("completed-beside-running-not-ready",
     pod("mixed", containers=("done", "web"), statuses=[terminated("done"), running("web")]),
     ["mixed", "1/2", "NotReady", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("completed-beside-running-ready",
     pod("mixed", containers=("done", "web"), statuses=[terminated("done"), running("web")],
         status__conditions=READY),
     ["mixed", "1/2", "Running", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("init-running",
     pod("init", phase="Pending", init=[{"name": "i1"}, {"name": "i2"}],
         init_statuses=[terminated("i1"), running("i2", ready=False)],
         statuses=[waiting("PodInitializing")]),
     ["init", "0/1", "Init:1/2", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("init-waiting-pod-initializing",
     pod("init", phase="Pending", init=[{"name": "i1"}],
         init_statuses=[waiting("PodInitializing", name="i1")]),
     ["init", "0/1", "Init:0/1", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("init-crash-loop",
     pod("init", phase="Pending", init=[{"name": "i1"}],
         init_statuses=[waiting("CrashLoopBackOff", name="i1", restarts=3,
                                lastState=CRASHED_5M_AGO)]),
     ["init", "0/1", "Init:CrashLoopBackOff", "3 (5m ago)", "3m", "<none>", "<none>", "<none>",
      "<none>"]),
    ("init-error",
     pod("init", phase="Failed", init=[{"name": "i1"}],
         init_statuses=[terminated("i1", exit_code=2, reason="Error")]),
     ["init", "0/1", "Init:Error", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("init-exit-code",
     pod("init", phase="Failed", init=[{"name": "i1"}],
         init_statuses=[terminated("i1", exit_code=2, reason="")]),
     ["init", "0/1", "Init:ExitCode:2", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("sidecar-counts-as-container",
     pod("sidecar", init=[{"name": "proxy", "restartPolicy": "Always"}],
         init_statuses=[running("proxy", restarts=1, started=True, lastState=CRASHED_5M_AGO)],
         statuses=[running("web")], status__conditions=READY),
     ["sidecar", "2/2", "Running", "1 (5m ago)", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("scheduling-gated",
     pod("gated", phase="Pending", status__conditions=[
         {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
     ["gated", "0/1", "SchedulingGated", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("evicted-reason",
     pod("evicted", phase="Failed", status__reason="Evicted"),
     ["evicted", "0/1", "Evicted", "0", "3m", "<none>", "<none>", "<none>", "<none>"]),
    ("nominated-and-readiness-gates",
     pod("gates", phase="Pending", spec__readinessGates=[{"conditionType": "lb/ready"},
                                                         {"conditionType": "db/ready"}],
         status__nominatedNodeName="minion-3",
         status__conditions=[{"type": "lb/ready", "status": "True"},
                             {"type": "db/ready", "status": "False"}]),
     ["gates", "0/1", "Pending", "0", "3m", "<none>", "<none>", "minion-3", "1/2"]),
    ("missing-creation-time",
     pod("nostamp", phase="Pending", metadata__creationTimestamp=None),
     ["nostamp", "0/1", "Pending", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"]),
]


@pytest.mark.parametrize("obj, expected", [c[1:] for c in POD_CASES], ids=[c[0] for c in POD_CASES])
def test_pod_cells(obj, expected):
    assert cells("pods", obj) == expected


@pytest.mark.parametrize("phase, condition", [
    ("Succeeded", {"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}),
    ("Failed", {"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}),
], ids=["succeeded", "failed"])
def test_finished_pods_carry_a_completed_row_condition(phase, condition):
    row = table("pods", [pod("p", phase=phase)], NOW, None)["rows"][0]
    assert row["conditions"] == [condition]


def test_running_pod_row_has_no_conditions():
    assert "conditions" not in table("pods", [pod("p")], NOW, None)["rows"][0]


# -- services --------------------------------------------------------------------------------------

def service(name, spec, status=None):
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(days=2)},
            "spec": spec, "status": status or {"loadBalancer": {}}}


SERVICE_CASES = [
    ("cluster-ip",
     service("web", {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                     "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                     "selector": {"app": "web", "tier": "front"}}),
     ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "2d", "app=web,tier=front"]),
    ("node-port-multi-port",
     service("shop", {"type": "NodePort", "clusterIP": "10.96.0.11", "clusterIPs": ["10.96.0.11"],
                      "ports": [{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"},
                                {"name": "https", "port": 443, "protocol": "TCP"},
                                {"name": "dns", "port": 53, "nodePort": 30053, "protocol": "UDP"}],
                      "selector": {"app": "shop"}}),
     ["shop", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP,443/TCP,53:30053/UDP", "2d",
      "app=shop"]),
    ("headless",
     service("db", {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"],
                    "ports": [{"port": 5432, "protocol": "TCP"}], "selector": {"app": "db"}}),
     ["db", "ClusterIP", "None", "<none>", "5432/TCP", "2d", "app=db"]),
    ("external-ips",
     service("edge", {"type": "ClusterIP", "clusterIP": "10.96.0.12",
                      "externalIPs": ["192.0.2.1", "192.0.2.2"], "ports": []}),
     ["edge", "ClusterIP", "10.96.0.12", "192.0.2.1,192.0.2.2", "<none>", "2d", "<none>"]),
    ("external-name",
     service("mail", {"type": "ExternalName", "externalName": "mail.example.com"}),
     ["mail", "ExternalName", "<none>", "mail.example.com", "<none>", "2d", "<none>"]),
    ("load-balancer-pending",
     service("lb", {"type": "LoadBalancer", "clusterIP": "10.96.0.13",
                    "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]}),
     ["lb", "LoadBalancer", "10.96.0.13", "<pending>", "80:31000/TCP", "2d", "<none>"]),
    ("load-balancer-with-ingress",
     service("lb", {"type": "LoadBalancer", "clusterIP": "10.96.0.13", "externalIPs": ["192.0.2.9"],
                    "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]},
             {"loadBalancer": {"ingress": [{"ip": "198.51.100.7"}, {"hostname": "lb.example"},
                                           {"ip": "198.51.100.7"}]}}),
     ["lb", "LoadBalancer", "10.96.0.13", "198.51.100.7,lb.example,192.0.2.9", "80:31000/TCP",
      "2d", "<none>"]),
    ("server-defaults-missing",
     service("bare", {"clusterIP": "10.96.0.14", "ports": [{"port": 8080}]}),
     ["bare", "ClusterIP", "10.96.0.14", "<none>", "8080/TCP", "2d", "<none>"]),
]


@pytest.mark.parametrize("obj, expected", [c[1:] for c in SERVICE_CASES],
                         ids=[c[0] for c in SERVICE_CASES])
def test_service_cells(obj, expected):
    assert cells("services", obj) == expected


# -- replication controllers -----------------------------------------------------------------------

def rc(name, replicas, status, containers=(("web", "nginx:1.27"),)):
    return {"kind": "ReplicationController", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(hours=7)},
            "spec": {"replicas": replicas, "selector": {"app": name},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": n, "image": i}
                                                          for n, i in containers]}}},
            "status": status}


@pytest.mark.parametrize("obj, expected", [
    (rc("web", 3, {"replicas": 3, "readyReplicas": 2}, (("web", "nginx:1.27"),
                                                        ("log", "busybox"))),
     ["web", 3, 3, 2, "7h", "web,log", "nginx:1.27,busybox", "app=web"]),
    (rc("new", 2, {"replicas": 0}), ["new", 2, 0, 0, "7h", "web", "nginx:1.27", "app=new"]),
    (rc("zero", 0, {}), ["zero", 0, 0, 0, "7h", "web", "nginx:1.27", "app=zero"]),
    (rc("unset", None, {"replicas": 1}), ["unset", 1, 1, 0, "7h", "web", "nginx:1.27",
                                          "app=unset"]),
], ids=["two-of-three-ready", "just-created", "scaled-to-zero", "replicas-defaulted"])
def test_rc_cells(obj, expected):
    assert cells("replicationcontrollers", obj) == expected


# -- nodes -----------------------------------------------------------------------------------------

def node(name, ready, unschedulable=False, labels=None, addresses=True):
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "labels": labels or {},
                         "creationTimestamp": ago(days=9)},
            "spec": {"unschedulable": unschedulable},
            "status": {"conditions": conditions,
                       "addresses": [{"type": "Hostname", "address": name},
                                     {"type": "InternalIP", "address": "10.200.0.11"}]
                       if addresses else [],
                       "nodeInfo": {"kubeletVersion": "v1.32.0-bosun",
                                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                                    "kernelVersion": "6.1.0-18-amd64",
                                    "containerRuntimeVersion": "docker://24.0.7"}}}


WIDE_NODE = ["10.200.0.11", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64",
             "docker://24.0.7"]


@pytest.mark.parametrize("obj, expected", [
    (node("minion-1", "True"), ["minion-1", "Ready", "<none>", "9d", "v1.32.0-bosun", *WIDE_NODE]),
    (node("minion-2", "False"), ["minion-2", "NotReady", "<none>", "9d", "v1.32.0-bosun",
                                 *WIDE_NODE]),
    (node("minion-3", "Unknown"), ["minion-3", "NotReady", "<none>", "9d", "v1.32.0-bosun",
                                   *WIDE_NODE]),
    (node("minion-4", None), ["minion-4", "Unknown", "<none>", "9d", "v1.32.0-bosun",
                              *WIDE_NODE]),
    (node("minion-5", "True", unschedulable=True),
     ["minion-5", "Ready,SchedulingDisabled", "<none>", "9d", "v1.32.0-bosun", *WIDE_NODE]),
    (node("minion-6", "False", unschedulable=True),
     ["minion-6", "NotReady,SchedulingDisabled", "<none>", "9d", "v1.32.0-bosun", *WIDE_NODE]),
    (node("ctl", "True", labels={"node-role.kubernetes.io/control-plane": "",
                                 "node-role.kubernetes.io/": "", "kubernetes.io/role": "worker",
                                 "app": "x"}),
     ["ctl", "Ready", "control-plane,worker", "9d", "v1.32.0-bosun", *WIDE_NODE]),
    ({"metadata": {"name": "bare"}},
     ["bare", "Unknown", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>",
      "<unknown>"]),
], ids=["ready", "not-ready", "ready-unknown", "no-ready-condition", "cordoned",
        "cordoned-not-ready", "roles-from-labels", "empty-node"])
def test_node_cells(obj, expected):
    assert cells("nodes", obj) == expected


# -- endpoints -------------------------------------------------------------------------------------

def addresses(*ips):
    return [{"ip": ip, "targetRef": {"kind": "Pod", "name": f"p-{ip}"}} for ip in ips]


@pytest.mark.parametrize("subsets, expected", [
    (None, "<none>"),
    ([], "<none>"),
    ([{"addresses": addresses("10.244.1.2"), "ports": [{"port": 80, "protocol": "TCP"}]}],
     "10.244.1.2:80"),
    ([{"addresses": addresses("10.244.1.2", "10.244.2.3", "10.244.3.4"),
       "ports": [{"port": 80}]}],
     "10.244.1.2:80,10.244.2.3:80,10.244.3.4:80"),
    ([{"addresses": addresses("10.244.1.2", "10.244.2.3", "10.244.3.4", "10.244.1.9",
                              "10.244.2.9"),
       "ports": [{"port": 80}]}],
     "10.244.1.2:80,10.244.2.3:80,10.244.3.4:80 + 2 more..."),
    ([{"addresses": addresses("10.244.1.2", "10.244.2.3"), "ports": [{"port": 80},
                                                                      {"port": 443}]}],
     "10.244.1.2:80,10.244.2.3:80,10.244.1.2:443 + 1 more..."),
    ([{"addresses": addresses("10.244.1.2"), "ports": [{"port": 80}]},
      {"addresses": addresses("10.244.2.3", "10.244.3.4", "10.244.4.5"),
       "ports": [{"port": 8080}]}],
     "10.244.1.2:80,10.244.2.3:8080,10.244.3.4:8080 + 1 more..."),
    ([{"addresses": addresses("10.244.1.2", "10.244.2.3")}], "10.244.1.2,10.244.2.3"),
    ([{"addresses": addresses("fd00::5"), "ports": [{"port": 80}]}], "[fd00::5]:80"),
    ([{"notReadyAddresses": addresses("10.244.1.2"), "ports": [{"port": 80}]}], ""),
], ids=["no-subsets", "empty-subsets", "one", "exactly-three", "five-addresses",
        "two-ports-multiply", "across-subsets", "headless-without-ports", "ipv6",
        "only-not-ready"])
def test_endpoints_column(subsets, expected):
    assert format_endpoints(subsets) == expected
    obj = {"metadata": {"name": "web", "creationTimestamp": ago(minutes=12)}}
    if subsets is not None:
        obj["subsets"] = subsets
    assert cells("endpoints", obj) == ["web", expected, "12m"]


# -- namespaces and events -------------------------------------------------------------------------

def test_namespace_cells():
    obj = {"metadata": {"name": "shop", "creationTimestamp": ago(days=400)},
           "status": {"phase": "Terminating"}}
    assert cells("namespaces", obj) == ["shop", "Terminating", "400d"]


def event(**fields):
    return {"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "web-1.181a", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default",
                               "fieldPath": "spec.containers{web}"},
            "reason": "BackOff", "type": "Warning", "message": "Back-off restarting\n",
            **fields}


@pytest.mark.parametrize("obj, expected", [
    (event(firstTimestamp=ago(hours=1), lastTimestamp=ago(seconds=30), count=12,
           source={"component": "kubelet", "host": "minion-1"}),
     ["30s", "Warning", "BackOff", "pod/web-1", "spec.containers{web}", "kubelet, minion-1",
      "Back-off restarting", "60m", 12, "web-1.181a"]),
    (event(firstTimestamp=ago(minutes=3), source={"component": "bosun-scheduler"}),
     ["3m", "Warning", "BackOff", "pod/web-1", "spec.containers{web}", "bosun-scheduler",
      "Back-off restarting", "3m", 1, "web-1.181a"]),
    (event(eventTime="2025-01-10T11:50:00.000000Z", reportingComponent="bosun",
           reportingInstance="ctl", series={"count": 4, "lastObservedTime":
                                            "2025-01-10T11:59:00.000000Z"}),
     ["60s", "Warning", "BackOff", "pod/web-1", "spec.containers{web}", "bosun, ctl",
      "Back-off restarting", "10m", 4, "web-1.181a"]),
    (event(involvedObject={"kind": "Node"}),
     ["<unknown>", "Warning", "BackOff", "node", "", "", "Back-off restarting", "<unknown>", 1,
      "web-1.181a"]),
], ids=["kubelet-event", "singleton-without-count", "new-api-series", "nameless-object"])
def test_event_cells(obj, expected):
    assert cells("events", obj) == expected


# -- the table itself ------------------------------------------------------------------------------

@pytest.mark.parametrize("resource, names, wide", [
    ("pods", ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node",
              "Readiness Gates"], 4),
    ("services", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"], 1),
    ("replicationcontrollers", ["Name", "Desired", "Current", "Ready", "Age", "Containers",
                                "Images", "Selector"], 3),
    ("nodes", ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP",
               "OS-Image", "Kernel-Version", "Container-Runtime"], 5),
    ("endpoints", ["Name", "Endpoints", "Age"], 0),
    ("namespaces", ["Name", "Status", "Age"], 0),
    ("events", ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message",
                "First Seen", "Count", "Name"], 5),
    ("configmaps", ["Name", "Created At"], 0),
])
def test_columns_as_kubernetes_defines_them(resource, names, wide):
    defined = columns(resource)
    assert [c["name"] for c in defined] == names
    assert sum(c["priority"] for c in defined) == wide
    assert all(set(c) == {"name", "type", "format", "description", "priority"} for c in defined)
    assert [c["name"] for c in defined if c["format"] == "name"] == ["Name"]


def test_column_types():
    assert [c["type"] for c in columns("replicationcontrollers")][:4] == [
        "string", "integer", "integer", "integer"]
    assert columns("configmaps")[1]["type"] == "date"
    assert columns("pods")[3]["type"] == "string"  # "5 (5m ago)" is not a number


def test_list_table_shape():
    pods = [pod("a"), pod("b")]
    result = table("pods", pods, NOW, "108")
    assert (result["kind"], result["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert result["metadata"] == {"resourceVersion": "108"}
    assert [row["cells"][0] for row in result["rows"]] == ["a", "b"]
    assert result["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": pods[0]["metadata"]}


def test_watch_event_table_is_one_row_without_resource_version():
    result = table("pods", [pod("a")], NOW, None)
    assert result["metadata"] == {} and len(result["rows"]) == 1
    assert len(result["columnDefinitions"]) == 9


def test_empty_list_keeps_columns():
    result = table("services", [], NOW, "5")
    assert result["rows"] == [] and len(result["columnDefinitions"]) == 7


@pytest.mark.parametrize("include, expected", [
    ("Object", {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "m"}}),
    ("Metadata", {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                  "metadata": {"name": "m"}}),
    ("", {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
          "metadata": {"name": "m"}}),
    ("None", None),
], ids=["object-gets-kind", "metadata", "empty-means-metadata", "none"])
def test_include_object(include, expected):
    row = table("nodes", [{"metadata": {"name": "m"}}], NOW, None, include)["rows"][0]
    assert row.get("object") == expected


def test_unknown_include_object_is_a_bad_request():
    with pytest.raises(InvalidTableRequest) as caught:
        table("pods", [], NOW, None, "Everything")
    assert str(caught.value) == 'unrecognized includeObject value: "Everything"'
    assert isinstance(caught.value, PermanentError)


def test_no_headers():
    assert table("pods", [pod("a")], NOW, None, no_headers=True)["columnDefinitions"] == []


def test_resource_without_printer_gets_name_and_created_at():
    obj = {"metadata": {"name": "cfg", "creationTimestamp": "2025-01-10T13:00:00+02:00"}}
    assert cells("configmaps", obj) == ["cfg", "2025-01-10T11:00:00Z"]
    assert cells("configmaps", {"metadata": {"name": "x"}}) == ["x", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("include", ["Object", "Metadata"])
def test_table_neither_changes_nor_shares_the_objects(include):
    pods = [pod("a", statuses=[running()])]
    pods[0]["metadata"].update(labels={"app": "web"}, finalizers=["x"], stamp=NOW)
    before = copy.deepcopy(pods)
    result = table("pods", pods, NOW, "1", include)
    assert pods == before
    embedded = result["rows"][0]["object"]["metadata"]
    assert embedded == before[0]["metadata"]
    embedded["name"] = "changed"
    embedded["labels"]["app"] = "changed"
    embedded["finalizers"].append("changed")
    result["columnDefinitions"][0]["name"] = "changed"
    assert pods == before and columns("pods")[0]["name"] == "Name"


def test_naive_now_reads_as_utc():
    obj = {"metadata": {"name": "n", "creationTimestamp": ago(minutes=15)}}
    assert table("namespaces", [obj], NOW.replace(tzinfo=None), None)["rows"][0]["cells"][2] \
        == "15m"
