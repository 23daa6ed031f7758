"""Real kubectl (1.32, default strict validation) against `orchestrator.py serve` over TLS with
a bearer token: what a Kubernetes user types, and what Kubernetes would print back."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: {name}
spec:
  replicas: 2
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: bosun/busybox:1
{ports}        env:
        - {{name: COLOR, value: {color}}}
        - {{name: SIZE, value: "3"}}
"""
PORTS = """\
        ports:
        - containerPort: 80
          name: http
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels: {{tier: front}}
spec:
  type: NodePort
  selector: {{app: {name}}}
  ports:
  - port: 80
    targetPort: http
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  containers:
  - name: c
    image: bosun/busybox:1
"""
ENDPOINTS = """\
apiVersion: v1
kind: Endpoints
metadata: {name: tabled}
subsets:
- addresses: [{ip: 10.244.1.5}, {ip: 10.244.2.7}]
  ports: [{port: 80, name: http}]
"""


def rc(name: str, color: str = "blue", ports: bool = True) -> str:
    return RC.format(name=name, color=color, ports=PORTS if ports else "")


def container(apiserver, name: str) -> dict:
    out = apiserver.kubectl("get", "rc", name, "-o", "json").stdout
    return json.loads(out)["spec"]["template"]["spec"]["containers"][0]


def test_version_reports_a_1_32_server(apiserver):
    out = apiserver.kubectl("version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["minor"] == "32"


def test_create_then_create_again_is_already_exists(apiserver):
    apiserver.kubectl("create", "-f", "-", stdin=POD.format(name="twice", app="twice"))
    again = apiserver.kubectl("create", "-f", "-", stdin=POD.format(name="twice", app="twice"),
                              check=False)
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating "STDIN": pods "twice" ' \
           'already exists' in again.stderr


def test_apply_creates_leaves_unchanged_and_configures(apiserver):
    first = apiserver.kubectl("apply", "-f", "-", stdin=rc("applied"))
    assert first.stdout.strip() == "replicationcontroller/applied created"
    same = apiserver.kubectl("apply", "-f", "-", stdin=rc("applied"))
    assert same.stdout.strip() == "replicationcontroller/applied unchanged"
    changed = apiserver.kubectl("apply", "-f", "-", stdin=rc("applied", color="red"))
    assert changed.stdout.strip() == "replicationcontroller/applied configured"
    assert {"name": "COLOR", "value": "red"} in container(apiserver, "applied")["env"]


def test_apply_after_create_merges_lists_by_key(apiserver):
    apiserver.kubectl("create", "-f", "-", stdin=rc("merged"))
    apiserver.kubectl("apply", "-f", "-", stdin=rc("merged", color="green", ports=False))
    web = container(apiserver, "merged")
    # The ports were never applied, so a file without them keeps them; env merged by name.
    assert web["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
    assert web["env"] == [{"name": "COLOR", "value": "green"}, {"name": "SIZE", "value": "3"}]


def test_apply_that_drops_what_the_last_apply_set_removes_it(apiserver):
    apiserver.kubectl("apply", "-f", "-", stdin=rc("threeway"))
    apiserver.kubectl("apply", "-f", "-", stdin=rc("threeway", ports=False))
    assert "ports" not in container(apiserver, "threeway")


def test_unknown_field_is_refused_by_strict_validation(apiserver):
    bad = POD.format(name="typo", app="typo").replace("image:", "imagee:")
    done = apiserver.kubectl("create", "-f", "-", stdin=bad, check=False)
    assert done.returncode == 1
    assert 'strict decoding error: unknown field "spec.containers[0].imagee"' in done.stderr
    assert apiserver.kubectl("get", "pod", "typo", check=False).returncode == 1


LIST = """apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: listed-a},
   spec: {selector: {app: listed}, ports: [{port: 80%s}]}}
- {apiVersion: v1, kind: ReplicationController, metadata: {name: listed-b},
   spec: {replicas: 0, template: {metadata: {labels: {app: listed}},
          spec: {containers: [{name: c, image: bosun/busybox:1}]}}}}
"""


def test_apply_of_a_list_applies_each_item_and_validates_each_strictly(apiserver):
    first = apiserver.kubectl("apply", "-f", "-", stdin=LIST % "")
    assert first.stdout.split("\n")[:2] == ["service/listed-a created",
                                             "replicationcontroller/listed-b created"]
    again = apiserver.kubectl("apply", "-f", "-", stdin=LIST % "")
    assert again.stdout.count(" unchanged") == 2
    bad = apiserver.kubectl("apply", "-f", "-", stdin=LIST % ", bogus: 1", check=False)
    assert bad.returncode == 1 and 'unknown field "spec.ports[0].bogus"' in bad.stderr
    ports = json.loads(apiserver.kubectl("get", "svc", "listed-a", "-o", "json").stdout)
    assert ports["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    apiserver.kubectl("delete", "-f", "-", stdin=LIST % "")


def test_create_namespace_typed_command_sends_protobuf_and_works(apiserver):
    done = apiserver.kubectl("create", "namespace", "typed-ns")
    assert done.stdout.strip() == "namespace/typed-ns created"
    created = json.loads(apiserver.kubectl("get", "ns", "typed-ns", "-o", "json").stdout)
    assert created["status"]["phase"] == "Active" and created["metadata"]["uid"]
    again = apiserver.kubectl("create", "namespace", "typed-ns", check=False)
    assert 'namespaces "typed-ns" already exists' in again.stderr
    apiserver.kubectl("delete", "namespace", "typed-ns")


def test_invalid_object_prints_each_cause(apiserver):
    bad = rc("Bad_Name")
    done = apiserver.kubectl("create", "-f", "-", stdin=bad, check=False)
    assert done.returncode == 1
    assert 'The ReplicationController "Bad_Name" is invalid' in done.stderr
    assert "metadata.name: Invalid value" in done.stderr


def test_get_tables_have_kubernetes_columns(apiserver):
    apiserver.kubectl("apply", "-f", "-", stdin=rc("tabled"))
    apiserver.kubectl("apply", "-f", "-", stdin=SERVICE.format(name="tabled"))
    apiserver.kubectl("apply", "-f", "-", stdin=POD.format(name="tabled-pod", app="x"))
    apiserver.kubectl("apply", "-f", "-", stdin=ENDPOINTS)
    heads = {
        "po": "NAME READY STATUS RESTARTS AGE",
        "svc": "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE",
        "rc": "NAME DESIRED CURRENT READY AGE",
        "ep": "NAME ENDPOINTS AGE",
        "ns": "NAME STATUS AGE",
    }
    for short, head in heads.items():
        out = apiserver.kubectl("get", short).stdout
        assert " ".join(out.splitlines()[0].split()) == head, out
    pods = apiserver.kubectl("get", "po", "tabled-pod", "-o", "wide").stdout.splitlines()
    assert pods[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert pods[1].split()[:3] == ["tabled-pod", "0/1", "Pending"]
    service = apiserver.kubectl("get", "svc", "tabled").stdout.splitlines()[1].split()
    assert service[1] == "NodePort" and service[2].startswith("10.0.0.")
    assert service[4].startswith("80:3") and service[4].endswith("/TCP")
    rcs = apiserver.kubectl("get", "rc", "tabled", "-o", "wide").stdout.splitlines()[1].split()
    assert rcs[:4] == ["tabled", "2", "0", "0"] and rcs[-1] == "app=tabled"
    endpoints = apiserver.kubectl("get", "ep", "tabled").stdout.splitlines()[1].split()
    assert endpoints[1] == "10.244.1.5:80,10.244.2.7:80"


def test_output_formats(apiserver):
    apiserver.kubectl("apply", "-f", "-", stdin=POD.format(name="formats", app="f"))
    as_yaml = yaml.safe_load(apiserver.kubectl("get", "po", "formats", "-o", "yaml").stdout)
    assert as_yaml["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    as_json = json.loads(apiserver.kubectl("get", "po", "formats", "-o", "json").stdout)
    assert as_json["metadata"]["uid"] == as_yaml["metadata"]["uid"]
    assert apiserver.kubectl("get", "po", "formats", "-o", "name").stdout.strip() == \
        "pod/formats"
    path = apiserver.kubectl("get", "po", "-l", "app=f", "-o",
                             "jsonpath={.items[*].spec.restartPolicy}").stdout
    assert path == "Always"


def test_describe_label_annotate_scale(apiserver):
    apiserver.kubectl("apply", "-f", "-", stdin=rc("described"))
    apiserver.kubectl("label", "rc", "described", "tier=back")
    apiserver.kubectl("annotate", "rc", "described", "owner=ops")
    assert apiserver.kubectl("scale", "rc", "described", "--replicas=5").stdout.strip() == \
        "replicationcontroller/described scaled"
    text = apiserver.kubectl("describe", "rc", "described").stdout
    assert "tier=back" in text and "owner: ops" in text
    assert "Replicas:     0 current / 5 desired" in text
    got = json.loads(apiserver.kubectl("get", "rc", "described", "-o", "json").stdout)
    assert got["spec"]["replicas"] == 5
    assert got["metadata"]["generation"] == 2


def test_delete_by_name_file_and_label(apiserver):
    for name in ("del-a", "del-b", "del-c"):
        apiserver.kubectl("apply", "-f", "-", stdin=POD.format(name=name, app="doomed"))
    keep = POD.format(name="del-keep", app="kept")
    apiserver.kubectl("apply", "-f", "-", stdin=keep)
    assert apiserver.kubectl("delete", "pod", "del-a").stdout.strip() == 'pod "del-a" deleted'
    gone = apiserver.kubectl("delete", "-f", "-", stdin=POD.format(name="del-b", app="doomed"))
    assert 'pod "del-b" deleted' in gone.stdout
    apiserver.kubectl("delete", "pods", "-l", "app=doomed")
    names = apiserver.kubectl("get", "pods", "-o", "name").stdout.split()
    assert "pod/del-keep" in names
    assert not {"pod/del-a", "pod/del-b", "pod/del-c"} & set(names)
    missing = apiserver.kubectl("delete", "pod", "del-a", check=False)
    assert 'Error from server (NotFound): pods "del-a" not found' in missing.stderr


def test_watch_sees_another_clients_changes(apiserver):
    home = apiserver.workdir / "home"
    watcher = subprocess.Popen(
        ["kubectl", "get", "pods", "-w", "--request-timeout=0"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={"HOME": str(home), "KUBECONFIG": str(apiserver.kubeconfig), "PATH": "/usr/bin:/bin"})
    try:
        time.sleep(1.5)
        apiserver.kubectl("apply", "-f", "-", stdin=POD.format(name="watched", app="w"))
        apiserver.kubectl("label", "pod", "watched", "seen=yes")
        apiserver.kubectl("delete", "pod", "watched")
        time.sleep(1.5)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    rows = [line.split()[0] for line in out.splitlines()[1:]]
    assert rows.count("watched") >= 3, out


def test_logs_say_clearly_that_no_kubelet_runs(apiserver):
    apiserver.kubectl("apply", "-f", "-", stdin=POD.format(name="logless", app="l"))
    done = apiserver.kubectl("logs", "logless", check=False)
    assert done.returncode == 1
    assert "kubelet is not running" in done.stderr


@pytest.mark.parametrize("name", ["$(touch /tmp/bosun-pwned)", "a;rm -rf /", "`id`", "x'y"],
                         ids=["subshell", "semicolon", "backticks", "quote"])
def test_names_with_shell_metacharacters_are_refused(apiserver, name):
    manifest = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    done = apiserver.kubectl("create", "-f", "-", stdin=manifest, check=False)
    assert done.returncode == 1
    assert "Invalid value" in done.stderr
    listed = json.loads(apiserver.kubectl("get", "namespaces", "-o", "json").stdout)
    assert name not in [ns["metadata"]["name"] for ns in listed["items"]]


def test_paged_get_shows_every_row(apiserver):
    for i in range(5):
        apiserver.kubectl("apply", "-f", "-", stdin=POD.format(name=f"chunk-{i}", app="chunk"))
    out = apiserver.kubectl("get", "pods", "-l", "app=chunk", "--chunk-size=2").stdout
    assert [line.split()[0] for line in out.splitlines()[1:]] == [f"chunk-{i}" for i in range(5)]
