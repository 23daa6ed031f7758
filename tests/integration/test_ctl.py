"""`orchestrator.py apply|get|describe|delete|scale|logs` against a real `serve`, side by side
with real kubectl 1.32 on the same server: the same commands must print the same text, exit with
the same code, and (apply) leave the same live objects, byte for byte in the last-applied
annotation.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml

from bosun import cli

ROOT = Path(__file__).resolve().parents[2]
_numbers = itertools.count()


class Tools:
    """Runs the same command through Bosun's CLI and through kubectl, in one namespace."""

    def __init__(self, apiserver, namespace: str) -> None:
        self.apiserver = apiserver
        self.namespace = namespace

    def env(self, kubeconfig: Path | None = None) -> dict:
        home = self.apiserver.workdir / "home"
        home.mkdir(exist_ok=True)
        return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "KUBECONFIG": str(kubeconfig or self.apiserver.kubeconfig)}

    def bosun(self, *args: str, stdin: str | None = None, namespaced: bool = True,
              kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
        argv = [sys.executable, str(ROOT / "orchestrator.py"), *args]
        if namespaced:
            argv += ["-n", self.namespace]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60,
                              env=self.env(kubeconfig), check=False)

    def bosun_inline(self, *args: str, stdin: str | None = None,
                     namespaced: bool = True) -> subprocess.CompletedProcess:
        """The same CLI called in this process: no interpreter start, so its request follows
        kubectl's within the same second and ages printed by the server agree."""
        argv = [*args, "--kubeconfig", str(self.apiserver.kubeconfig),
                *(["-n", self.namespace] if namespaced else [])]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                mock.patch("sys.stdin", io.StringIO(stdin or "")):
            code = cli.main(argv)
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    def kubectl(self, *args: str, stdin: str | None = None, namespaced: bool = True,
                kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
        argv = ["kubectl", *args, *(["-n", self.namespace] if namespaced else [])]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60,
                              env=self.env(kubeconfig), check=False)

    def both(self, *args: str, stdin: str | None = None,
             namespaced: bool = True) -> tuple[tuple, tuple]:
        """(exit code, stdout, stderr) of kubectl, then of Bosun."""
        theirs = self.kubectl(*args, stdin=stdin, namespaced=namespaced)
        ours = self.bosun_inline(*args, stdin=stdin, namespaced=namespaced)
        return (theirs.returncode, theirs.stdout, theirs.stderr), \
            (ours.returncode, ours.stdout, ours.stderr)

    def same(self, *args: str, stdin: str | None = None, namespaced: bool = True,
             attempts: int = 6) -> tuple:
        """Assert both print the same; ages tick, so retry until a pair falls in one second."""
        for _ in range(attempts):
            theirs, ours = self.both(*args, stdin=stdin, namespaced=namespaced)
            if theirs == ours:
                return ours
        assert ours == theirs, f"{' '.join(args)}:\n--- bosun\n{ours[1]}{ours[2]}\n" \
                               f"--- kubectl\n{theirs[1]}{theirs[2]}"
        return ours

    def object(self, resource: str, name: str) -> dict:
        status, obj = self.apiserver.request(
            "GET", f"/api/v1/namespaces/{self.namespace}/{resource}/{name}")
        assert status == 200, obj
        return obj

    def gone(self, resource: str, name: str) -> bool:
        status, _ = self.apiserver.request(
            "GET", f"/api/v1/namespaces/{self.namespace}/{resource}/{name}")
        return status == 404

    def remove(self, resource: str, name: str) -> None:
        self.apiserver.request("DELETE", f"/api/v1/namespaces/{self.namespace}/{resource}/{name}")


@pytest.fixture
def tools(apiserver):
    """Both tools, pointed at a namespace of the test's own."""
    namespace = f"ctl-{next(_numbers)}-{os.getpid() % 1000}"
    status, body = apiserver.request("POST", "/api/v1/namespaces",
                                     {"metadata": {"name": namespace}})
    assert status == 201, body
    yield Tools(apiserver, namespace)
    apiserver.request("DELETE", f"/api/v1/namespaces/{namespace}")


def manifest(kind: str, name: str, spec: dict, **meta) -> str:
    return json.dumps({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, **meta},
                       **spec})


def rc(name: str, containers: list[dict], replicas: int = 2, meta: dict | None = None,
       **pod_spec) -> str:
    return manifest("ReplicationController", name, {"spec": {
        "replicas": replicas, "template": {"metadata": {"labels": {"app": name}},
                                           "spec": {"containers": containers, **pod_spec}}}},
                    **(meta or {}))


def pod(name: str, app: str, **spec) -> str:
    return manifest("Pod", name, {"spec": {"containers": [
        {"name": "c", "image": "bosun/busybox:1"}], **spec}}, labels={"app": app})


def c(name: str = "web", image: str = "bosun/busybox:1", **fields) -> dict:
    return {"name": name, "image": image, **fields}


def env(*pairs: str) -> list[dict]:
    return [{"name": k, "value": v} for k, v in (p.split("=") for p in pairs)]


PORTS = [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}]
SERVICE = {"spec": {"type": "NodePort", "selector": {"app": "x"},
                    "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 443}]}}


# -- apply: same outcomes, same live objects ------------------------------------------------------

def apply_steps(tools: Tools, tool, steps: list) -> list[tuple]:
    """Run a sequence: ("apply", manifest), ("create", manifest) or ("patch", type, patch)."""
    printed = []
    for step in steps:
        if step[0] == "apply":
            done = tool("apply", "-f", "-", stdin=step[1])
            printed.append((done.returncode, done.stdout, done.stderr))
        elif step[0] == "create":
            assert tools.kubectl("create", "-f", "-", stdin=step[1]).returncode == 0
        else:
            done = tools.kubectl("patch", "rc", "x", "--type", step[1], "-p", json.dumps(step[2]))
            assert done.returncode == 0, done.stderr
    return printed


def comparable(obj: dict) -> dict:
    """A live object without what the server makes up anew each time."""
    obj = json.loads(json.dumps(obj))
    for key in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
        obj["metadata"].pop(key, None)
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Service":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
    return obj


SCENARIOS = {
    "created-unchanged-configured": [
        ("apply", rc("x", [c(env=env("A=1", "B=2"))])),
        ("apply", rc("x", [c(env=env("A=1", "B=2"))])),
        ("apply", rc("x", [c(env=env("A=1", "B=3"))], replicas=3))],
    "dropped-ports-removed-by-three-way-merge": [
        ("apply", rc("x", [c(ports=PORTS)])),
        ("apply", rc("x", [c(ports=PORTS[1:])])),
        ("apply", rc("x", [c()]))],
    "created-without-annotation-then-applied": [
        ("create", rc("x", [c(env=env("A=1", "B=2"), ports=PORTS)])),
        ("apply", rc("x", [c(env=env("A=3"))])),
        ("apply", rc("x", [c()]))],
    "someone-elses-changes": [
        ("apply", rc("x", [c(env=env("A=1"))])),
        ("patch", "strategic", {"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "Z", "value": "9"}]}]}}}}),
        ("patch", "merge", {"spec": {"replicas": 7}}),
        ("apply", rc("x", [c(env=env("A=1"))])),
        ("apply", rc("x", [c(env=env("A=2"))]))],
    "containers-added-reordered-removed": [
        ("apply", rc("x", [c("a"), c("b"), c("c", env=env("A=1", "B=2"))])),
        ("apply", rc("x", [c("c", env=env("B=2", "A=1")), c("a", image="bosun/busybox:2")])),
        ("apply", rc("x", [c("z"), c("c")]))],
    "volume-source-switched": [
        ("apply", rc("x", [c()], volumes=[{"name": "v", "hostPath": {"path": "/a"}}])),
        ("apply", rc("x", [c()], volumes=[{"name": "v", "emptyDir": {"medium": "Memory"}}])),
        ("apply", rc("x", [c()], volumes=[{"name": "w", "emptyDir": {}}]))],
    "labels-annotations-finalizers": [
        ("apply", rc("x", [c()], meta={"labels": {"a": "1", "b": "2"},
                                      "annotations": {"note": "<&>"},
                                      "finalizers": ["example.com/a", "example.com/b"]})),
        ("apply", rc("x", [c()], meta={"labels": {"a": "2"},
                                      "finalizers": ["example.com/c", "example.com/a"]}))],
}


@pytest.mark.parametrize("steps", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_apply_leaves_what_kubectl_leaves(tools, steps):
    theirs_printed = apply_steps(tools, tools.kubectl, steps)
    theirs = comparable(tools.object("replicationcontrollers", "x"))
    tools.remove("replicationcontrollers", "x")
    ours_printed = apply_steps(tools, tools.bosun, steps)
    ours = comparable(tools.object("replicationcontrollers", "x"))
    assert ours_printed == theirs_printed
    assert ours == theirs
    tools.remove("replicationcontrollers", "x")


def test_apply_of_a_service_merges_ports_by_port(tools):
    first = manifest("Service", "x", SERVICE)
    changed = json.loads(first)
    changed["spec"]["ports"] = [{"name": "b", "port": 443, "targetPort": 8443}]
    results = []
    for tool in (tools.kubectl, tools.bosun):
        printed = [tool("apply", "-f", "-", stdin=text).stdout
                   for text in (first, json.dumps(changed))]
        results.append((printed, comparable(tools.object("services", "x"))))
        tools.remove("services", "x")
    assert results[0] == results[1]
    assert results[1][0] == ["service/x created\n", "service/x configured\n"]


def test_apply_of_a_folder_and_its_subfolders(tools, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text("\n---\n".join(yaml.safe_dump(json.loads(text)) for text in (
        pod("a-pod", "a"), "{}", manifest("Service", "a-svc", SERVICE))).replace("{}\n", ""))
    (tmp_path / "b.json").write_text(rc("b-rc", [c()]))
    (tmp_path / "c.txt").write_text("not a manifest")
    (tmp_path / "sub" / "d.yml").write_text(yaml.safe_dump(json.loads(pod("d-pod", "d"))))
    made = (("pods", "a-pod"), ("services", "a-svc"), ("replicationcontrollers", "b-rc"),
            ("pods", "d-pod"))
    for args in (["-f", str(tmp_path)], ["-f", str(tmp_path), "-R"]):
        printed = []
        for tool in (tools.kubectl, tools.bosun):
            done = tool("apply", *args)
            printed.append((done.returncode, done.stdout, done.stderr))
            for kind, name in made:
                tools.remove(kind, name)
        assert printed[1] == printed[0]
    assert printed[1][1].splitlines() == ["pod/a-pod created", "service/a-svc created",
                                          "replicationcontroller/b-rc created",
                                          "pod/d-pod created"]


def test_apply_opens_lists(tools):
    # kubectl refuses a List against Bosun: its validation looks for List in the OpenAPI.
    items = [json.loads(pod("l-one", "l")), json.loads(manifest("Service", "l-svc", SERVICE))]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    done = tools.bosun("apply", "-f", "-", stdin=text)
    assert (done.returncode, done.stdout) == (0, "pod/l-one created\nservice/l-svc created\n")
    again = tools.bosun("apply", "-f", "-", stdin=text)
    assert again.stdout == "pod/l-one unchanged\nservice/l-svc unchanged\n"


def test_apply_of_a_kind_bosun_does_not_serve(tools):
    # kubectl stops earlier here, at its validation against the server's OpenAPI document.
    text = manifest("Deployment", "d", {}).replace('"v1"', '"apps/v1"')
    done = tools.bosun("apply", "-f", "-", stdin=text)
    assert (done.returncode, done.stderr) == (1, (
        'error: resource mapping not found for name: "d" namespace: "" from "STDIN": no '
        'matches for kind "Deployment" in version "apps/v1"\nensure CRDs are installed '
        'first\n'))


@pytest.mark.parametrize("text", [
    pytest.param(rc("Bad_Name", [c()]), id="invalid-object"),
    pytest.param('{"metadata": {"name": "x"}}', id="no-kind"),
])
def test_apply_errors_read_as_kubectls(tools, text):
    theirs, ours = tools.both("apply", "-f", "-", stdin=text)
    assert ours == theirs
    assert ours[0] == 1


def test_apply_of_a_missing_path(tools, tmp_path):
    theirs, ours = tools.both("apply", "-f", str(tmp_path / "nope.yaml"))
    assert ours == theirs == (1, "", f'error: the path "{tmp_path / "nope.yaml"}" does not '
                                     f'exist\n')


# -- get ------------------------------------------------------------------------------------------

@pytest.fixture
def populated(tools):
    """An RC, a NodePort service, two pods, endpoints and a namespace-less node."""
    endpoints = manifest("Endpoints", "x", {"subsets": [{
        "addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.7"}],
        "ports": [{"port": 80, "name": "a"}]}]})
    for text in (rc("x", [c(ports=PORTS)]), manifest("Service", "x", SERVICE),
                 pod("p-one", "x"), pod("p-two-with-a-longer-name", "y"), endpoints):
        assert tools.kubectl("apply", "-f", "-", stdin=text).returncode == 0
    return tools


@pytest.mark.parametrize("args", [
    ["po"], ["po", "-o", "wide"], ["po,svc,rc,ep"], ["rc", "-o", "wide", "--show-labels"],
    ["pod/p-one", "svc/x"], ["pod/p-one"], ["po", "p-one", "p-none", "p-none-either"],
    ["po", "-l", "app=zzz"], ["rc,po", "-l", "app=x"], ["svc,po", "-o", "name"],
    ["po", "-l", "app in (x, y)", "-o", "name"], ["rc", "x", "-o", "yaml"],
    ["svc", "x", "-o", "json"], ["po", "-o", "yaml"], ["po", "p-one", "nope", "-o", "json"],
    ["nosuchtype"], ["po", "p-one", "-A"],
], ids=lambda args: " ".join(args))
def test_get_prints_what_kubectl_prints(populated, args):
    populated.same("get", *args)


def test_get_across_namespaces_adds_the_namespace_column(populated):
    for args in (["po", "-A", "-l", "app=x"], ["po,rc", "-A", "-l", "app=x", "-o", "wide"]):
        code, out, _ = populated.same("get", *args, namespaced=False)
        assert out.split()[:2] == ["NAMESPACE", "NAME"]
        assert populated.namespace in out


def test_get_yaml_parses_to_the_stored_object(populated):
    code, out, _ = populated.same("get", "rc", "x", "-o", "yaml")
    assert yaml.safe_load(out) == populated.object("replicationcontrollers", "x")


def test_get_of_nothing_says_so_on_stderr(tools):
    code, out, err = tools.same("get", "po,rc")
    assert (code, out, err) == (0, "", f"No resources found in {tools.namespace} namespace.\n")


def test_get_watch_sees_another_clients_changes(tools):
    watcher = subprocess.Popen(
        [sys.executable, str(ROOT / "orchestrator.py"), "get", "po", "-w", "-n", tools.namespace],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=tools.env())
    try:
        time.sleep(1.5)
        tools.kubectl("apply", "-f", "-", stdin=pod("watched", "w"))
        tools.kubectl("label", "pod", "watched", "seen=yes")
        tools.kubectl("delete", "pod", "watched", "--wait=false")
        time.sleep(1.5)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], out + err
    assert [line.split()[0] for line in lines[1:]].count("watched") >= 3, out + err


# -- describe -------------------------------------------------------------------------------------

def test_describe_prints_what_kubectl_prints(populated):
    tools = populated
    node = f"{tools.namespace}-minion"
    tools.apiserver.request("POST", "/api/v1/nodes", {"metadata": {
        "name": node, "labels": {"kubernetes.io/hostname": node}}, "spec": {
        "podCIDR": "10.244.9.0/24"}})
    status = {"status": {
        "allocatable": {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "10Gi", "pods": "110"},
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "addresses": [{"type": "InternalIP", "address": "10.1.0.9"}],
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "ready", "lastHeartbeatTime": "2020-01-01T00:00:00Z",
                        "lastTransitionTime": "2020-01-01T00:00:00Z"}]}}
    tools.apiserver.request("PATCH", f"/api/v1/nodes/{node}/status", status,
                            content_type="application/merge-patch+json")
    busy = json.loads(pod("p-busy", "x", nodeName=node))
    busy["metadata"]["annotations"] = {"owner": "ops"}
    busy["spec"]["containers"][0].update(
        env=[{"name": "A", "value": "1"},
             {"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        resources={"limits": {"cpu": "500m", "memory": "128Mi"}}, command=["sh", "-c"],
        args=["echo hi"], volumeMounts=[{"name": "data", "mountPath": "/data"}], ports=PORTS)
    busy["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    tools.kubectl("apply", "-f", "-", stdin=json.dumps(busy))
    uid = tools.object("pods", "p-one")["metadata"]["uid"]
    for n, count in enumerate((1, 4)):
        tools.kubectl("create", "-f", "-", stdin=manifest("Event", f"p-one.{n}", {
            "involvedObject": {"kind": "Pod", "name": "p-one", "namespace": tools.namespace,
                               "uid": uid},
            "reason": "Scheduled" if count == 1 else "BackOff", "message": f"event {n}",
            "type": "Normal" if count == 1 else "Warning", "source": {"component": "bosun"},
            "count": count, "firstTimestamp": "2020-01-01T00:00:00Z",
            "lastTimestamp": f"2020-01-0{n + 1}T00:00:00Z"}))
    try:
        for args in (["po", "p-one"], ["pod/p-busy"], ["rc", "x"], ["po", "p-"],
                     ["ep", "x"], ["po", "nope"], ["nosuchtype", "x"]):
            tools.same("describe", *args)
        tools.same("describe", "no", node, namespaced=False)
        # kubectl 1.32 reads EndpointSlices, which Bosun does not serve, and shows none;
        # Bosun shows the service's Endpoints. Everything else reads the same.
        theirs, ours = tools.both("describe", "svc", "x")
        assert "Endpoints:                10.244.1.5:80,10.244.2.7:80\n" in ours[1]
        assert ours[1].replace("10.244.1.5:80,10.244.2.7:80", "<none>") == theirs[1]
    finally:
        tools.apiserver.request("DELETE", f"/api/v1/nodes/{node}")


# -- delete, scale, logs --------------------------------------------------------------------------

def make_doomed_pods(tools: Tools) -> None:
    for name, app in (("d-a", "doomed"), ("d-b", "doomed"), ("d-keep", "kept")):
        tools.kubectl("apply", "-f", "-", stdin=pod(name, app))


@pytest.mark.parametrize("args", [
    ["pod", "d-a"], ["pod", "d-a", "nope", "d-b"], ["pods", "-l", "app=doomed"],
    ["po", "-l", "app=nothing"], ["po"], ["pod/d-a", "pod/d-keep"], ["po", "nope"],
    ["po", "nope", "--ignore-not-found"], ["po", "--all"],
], ids=lambda args: " ".join(args))
def test_delete_prints_what_kubectl_prints(tools, args):
    printed = []
    for tool in (tools.kubectl, tools.bosun):
        make_doomed_pods(tools)
        done = tool("delete", *args)
        remaining = {p for p in ("d-a", "d-b", "d-keep") if not tools.gone("pods", p)}
        printed.append((done.returncode, done.stdout, done.stderr, remaining))
    assert printed[1] == printed[0]


def test_delete_by_file_names_the_file_in_errors(tools):
    text = pod("d-a", "doomed") + "\n" + pod("d-b", "doomed")
    printed = []
    for tool in (tools.kubectl, tools.bosun):
        tools.kubectl("apply", "-f", "-", stdin=pod("d-a", "doomed"))
        done = tool("delete", "-f", "-", stdin=text)
        printed.append((done.returncode, done.stdout, done.stderr))
    assert printed[1] == printed[0]
    assert 'pod "d-a" deleted' in printed[1][1]
    assert 'error when deleting "STDIN": pods "d-b" not found' in printed[1][2]


def test_scale(tools):
    tools.kubectl("apply", "-f", "-", stdin=rc("x", [c()]))
    results = []
    for tool, replicas in ((tools.kubectl, "4"), (tools.bosun, "5")):
        done = tool("scale", "rc", "x", "--replicas", replicas)
        results.append((done.returncode, done.stdout, done.stderr))
        assert tools.object("replicationcontrollers", "x")["spec"]["replicas"] == int(replicas)
    assert results == [(0, "replicationcontroller/x scaled\n", "")] * 2
    for args in (["rc", "nope", "--replicas", "2"], ["po", "nope", "--replicas", "2"],
                 ["rc", "x", "--replicas", "2", "--current-replicas", "3"], ["rc"]):
        theirs, ours = tools.both("scale", *args, "--replicas=1") if args == ["rc"] else \
            tools.both("scale", *args)
        assert ours == theirs
        assert ours[0] == 1
    assert tools.object("replicationcontrollers", "x")["spec"]["replicas"] == 5


def test_logs_and_their_errors(tools):
    tools.kubectl("apply", "-f", "-", stdin=manifest("Pod", "two", {"spec": {"containers": [
        c("first"), c("second")]}}))
    for args in (["two"], ["two", "-c", "second"], ["two", "-c", "nope"], ["nope"],
                 ["pod/two", "--tail", "5"]):
        theirs, ours = tools.both("logs", *args)
        assert ours == theirs


# -- the kubeconfig and TLS -----------------------------------------------------------------------

def variant(tools: Tools, tmp_path: Path, **changes) -> Path:
    """The server's kubeconfig with cluster and user fields changed (None removes one)."""
    config = yaml.safe_load(tools.apiserver.kubeconfig.read_text())
    for key, value in changes.items():
        section = config["users"][0]["user"] if key == "token" else \
            config["clusters"][0]["cluster"]
        if value is None:
            section.pop(key, None)
        else:
            section[key] = value
    path = tmp_path / f"kubeconfig-{len(list(tmp_path.iterdir()))}"
    path.write_text(yaml.safe_dump(config))
    return path


def test_an_untrusted_server_certificate_is_refused(tools, tmp_path):
    untrusted = variant(tools, tmp_path, **{"certificate-authority-data": None})
    ours = tools.bosun("get", "po", kubeconfig=untrusted)
    theirs = tools.kubectl("get", "po", kubeconfig=untrusted)
    assert ours.returncode == theirs.returncode == 1
    prefix = "Unable to connect to the server: tls: failed to verify certificate"
    assert ours.stderr.startswith(prefix) and theirs.stderr.startswith(prefix)


def test_verification_is_off_only_when_the_kubeconfig_says_so(tools, tmp_path):
    insecure = variant(tools, tmp_path, **{"certificate-authority-data": None,
                                           "insecure-skip-tls-verify": True})
    tools.kubectl("apply", "-f", "-", stdin=pod("p", "x"))
    done = tools.bosun("get", "po", "-o", "name", kubeconfig=insecure)
    assert (done.returncode, done.stdout) == (0, "pod/p\n")


def test_a_wrong_token_is_unauthorized(tools, tmp_path):
    wrong = variant(tools, tmp_path, token="not-the-token")
    ours = tools.bosun("get", "po", kubeconfig=wrong)
    theirs = tools.kubectl("get", "po", kubeconfig=wrong)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr) == (
        1, "error: You must be logged in to the server (Unauthorized)\n")


def test_kubeconfig_flag_wins_over_the_environment(tools, tmp_path):
    tools.kubectl("apply", "-f", "-", stdin=pod("p", "x"))
    broken = tmp_path / "broken"
    broken.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [],
                                      "contexts": [], "users": [], "current-context": ""}))
    argv = [sys.executable, str(ROOT / "orchestrator.py"), "get", "po", "-o", "name", "-n",
            tools.namespace, "--kubeconfig", str(tools.apiserver.kubeconfig)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                          env={**tools.env(), "KUBECONFIG": str(broken)})
    assert (done.returncode, done.stdout) == (0, "pod/p\n"), done.stderr
    done = subprocess.run(argv[:-2], capture_output=True, text=True, timeout=60, check=False,
                          env={**tools.env(), "KUBECONFIG": str(broken)})
    assert done.returncode == 1 and done.stderr.startswith("error: ")
