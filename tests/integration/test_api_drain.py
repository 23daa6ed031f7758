"""Real kubectl cordon, drain and uncordon against `orchestrator.py serve`: drain evicts through
pods/NAME/eviction (policy/v1), or deletes with protobuf DeleteOptions when told not to evict;
and `orchestrator.py cordon|uncordon|drain` side by side with it.

No kubelet or controllers run here (serve without an inventory), so pods are plain objects bound
to nodes by their manifests; the lab test (test_drain.py) shows pods really moving."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import subprocess

import pytest

from bosun import cli

NODE = '{{"apiVersion": "v1", "kind": "Node", "metadata": {{"name": "{name}"}}}}'
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: drained}}
{owner}spec:
  nodeName: {node}
  containers:
  - name: c
    image: bosun/busybox:1
{volumes}"""
OWNED = """\
  ownerReferences:
  - {apiVersion: v1, kind: ReplicationController, name: web, controller: true,
     uid: 0f3c5d2e-1111-4a4a-9c9c-123456789abc}
"""
EMPTY_DIR = """\
  volumes:
  - name: scratch
    emptyDir: {}
"""


def pod(name: str, node: str, owned: bool = True, scratch: bool = False) -> str:
    return POD.format(name=name, node=node, owner=OWNED if owned else "",
                      volumes=EMPTY_DIR if scratch else "")


def pods_on(apiserver, node: str) -> set[str]:
    out = apiserver.kubectl("get", "pods", "--field-selector", f"spec.nodeName={node}", "-o",
                            "name").stdout
    return set(out.split())


def unschedulable(apiserver, node: str) -> bool:
    got = json.loads(apiserver.kubectl("get", "node", node, "-o", "json").stdout)
    return bool((got.get("spec") or {}).get("unschedulable"))


@pytest.fixture
def node(apiserver):
    name = "drain-node"
    apiserver.kubectl("apply", "-f", "-", stdin=NODE.format(name=name))
    yield name
    apiserver.kubectl("delete", "pods", "-l", "app=drained", "--ignore-not-found")
    apiserver.kubectl("delete", "node", name, "--ignore-not-found")


def test_cordon_and_uncordon(apiserver, node):
    assert apiserver.kubectl("cordon", node).stdout.strip() == f"node/{node} cordoned"
    assert unschedulable(apiserver, node)
    assert "SchedulingDisabled" in apiserver.kubectl("get", "node", node).stdout
    assert apiserver.kubectl("cordon", node).stdout.strip() == f"node/{node} already cordoned"
    assert apiserver.kubectl("uncordon", node).stdout.strip() == f"node/{node} uncordoned"
    assert not unschedulable(apiserver, node)


def test_drain_evicts_every_pod_of_the_node(apiserver, node):
    apiserver.kubectl("apply", "-f", "-", stdin=NODE.format(name="drain-other"))
    try:
        for name in ("ev-a", "ev-b"):
            apiserver.kubectl("apply", "-f", "-", stdin=pod(name, node))
        apiserver.kubectl("apply", "-f", "-", stdin=pod("ev-stays", "drain-other"))
        done = apiserver.kubectl("drain", node, "--ignore-daemonsets", "--timeout", "20s")
        assert {"evicting pod default/ev-a", "pod/ev-a evicted", "pod/ev-b evicted",
                f"node/{node} drained"} <= set(done.stdout.splitlines())
        assert pods_on(apiserver, node) == set()
        assert pods_on(apiserver, "drain-other") == {"pod/ev-stays"}
        assert unschedulable(apiserver, node)
    finally:
        apiserver.kubectl("delete", "node", "drain-other")


def test_drain_refuses_unmanaged_and_local_data_pods_without_flags(apiserver, node):
    apiserver.kubectl("apply", "-f", "-", stdin=pod("bare", node, owned=False))
    apiserver.kubectl("apply", "-f", "-", stdin=pod("scratchy", node, scratch=True))
    refused = apiserver.kubectl("drain", node, "--timeout", "20s", check=False)
    assert refused.returncode != 0
    assert "cannot delete Pods that declare no controller (use --force to override): " \
           "default/bare" in refused.stderr
    assert "cannot delete Pods with local storage (use --delete-emptydir-data to override): " \
           "default/scratchy" in refused.stderr
    assert pods_on(apiserver, node) == {"pod/bare", "pod/scratchy"}
    assert unschedulable(apiserver, node)  # drain cordons first, as kubectl always does
    forced = apiserver.kubectl("drain", node, "--force", "--delete-emptydir-data",
                               "--timeout", "20s")
    assert f"node/{node} drained" in forced.stdout
    assert pods_on(apiserver, node) == set()


def test_drain_dry_run_evicts_nothing(apiserver, node):
    apiserver.kubectl("apply", "-f", "-", stdin=pod("dry-a", node))
    dry = apiserver.kubectl("drain", node, "--dry-run=server", "--timeout", "20s")
    assert "evicting pod default/dry-a (server dry run)" in dry.stdout
    assert pods_on(apiserver, node) == {"pod/dry-a"}
    assert not unschedulable(apiserver, node)


# What kubectl 1.32 sent for `drain --disable-eviction --grace-period 3 --dry-run=server`.
PROTOBUF_DRY_RUN = base64.b64decode("azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxIHCAMqA0FsbBoAIgA=")


def test_drain_without_eviction_deletes_with_protobuf_options(apiserver, node):
    apiserver.kubectl("apply", "-f", "-", stdin=pod("del-a", node))
    status, _ = apiserver.request("DELETE", "/api/v1/namespaces/default/pods/del-a",
                                  raw=PROTOBUF_DRY_RUN,
                                  content_type="application/vnd.kubernetes.protobuf")
    assert status == 200
    assert pods_on(apiserver, node) == {"pod/del-a"}  # the body's dryRun was honoured
    done = apiserver.kubectl("drain", node, "--disable-eviction", "--grace-period", "0",
                             "--timeout", "20s")
    assert "pod/del-a deleted" in done.stdout
    assert pods_on(apiserver, node) == set()


def test_eviction_checks_the_name_and_that_the_pod_exists(apiserver, node):
    apiserver.kubectl("apply", "-f", "-", stdin=pod("ev-named", node))
    path = "/api/v1/namespaces/default/pods/ev-named/eviction"
    other = {"apiVersion": "policy/v1", "kind": "Eviction",
             "metadata": {"name": "someone-else", "namespace": "default"}}
    status, body = apiserver.request("POST", path, other)
    assert (status, body["reason"], body["message"]) == (
        400, "BadRequest", "name in URL does not match name in Eviction object")
    mine = {**other, "metadata": {"name": "ev-named"},
            "deleteOptions": {"preconditions": {"uid": "not-its-uid"}}}
    status, body = apiserver.request("POST", path, mine)
    assert (status, body["reason"]) == (409, "Conflict")
    status, body = apiserver.request("POST", path, {**mine, "deleteOptions": {}})
    assert (status, body["status"]) == (201, "Success")
    status, body = apiserver.request("POST", path, {**mine, "deleteOptions": {}})
    assert (status, body["reason"], body["message"]) == (404, "NotFound",
                                                         'pods "ev-named" not found')


def bosun(apiserver, *args: str) -> subprocess.CompletedProcess:
    """orchestrator.py ARGS in this process, against the same server as kubectl."""
    argv = [*args, "--kubeconfig", str(apiserver.kubeconfig)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize(("cordoned", "args"), [
    (False, ("cordon", "drain-node")), (True, ("cordon", "drain-node")),
    (True, ("uncordon", "drain-node")), (False, ("uncordon", "drain-node")),
    (False, ("cordon", "no-such-node")),
], ids=["cordon", "cordon-again", "uncordon", "uncordon-again", "missing"])
def test_bosun_cordon_and_uncordon_print_what_kubectl_prints(apiserver, node, cordoned, args):
    printed = []
    for run in (lambda: apiserver.kubectl(*args, check=False), lambda: bosun(apiserver, *args)):
        apiserver.kubectl("cordon" if cordoned else "uncordon", node)
        done = run()
        printed.append((done.returncode, done.stdout, done.stderr))
        if args[1] == node:
            assert unschedulable(apiserver, node) is (args[0] == "cordon")
    assert printed[1] == printed[0]


def test_bosun_drain_evicts_as_kubectl_does(apiserver, node):
    outputs = []
    for run in (lambda: apiserver.kubectl("drain", node, "--force", "--timeout", "20s"),
                lambda: bosun(apiserver, "drain", node, "--force", "--timeout", "20s")):
        apiserver.kubectl("uncordon", node)
        for name in ("same-a", "same-b"):
            apiserver.kubectl("apply", "-f", "-", stdin=pod(name, node))
        apiserver.kubectl("apply", "-f", "-", stdin=pod("same-bare", node, owned=False))
        done = run()
        assert done.returncode == 0, done.stderr
        assert pods_on(apiserver, node) == set()
        assert unschedulable(apiserver, node)
        outputs.append((sorted(done.stdout.splitlines()), done.stderr))
    assert outputs[1] == outputs[0]
    assert "Warning: deleting Pods that declare no controller: default/same-bare" in \
        outputs[1][1]


def test_bosun_drain_refuses_what_kubectl_refuses(apiserver, node):
    apiserver.kubectl("apply", "-f", "-", stdin=pod("lone", node, owned=False))
    apiserver.kubectl("apply", "-f", "-", stdin=pod("scratch", node, scratch=True))
    done = bosun(apiserver, "drain", node)
    assert done.returncode == 1
    assert done.stdout == f"node/{node} cordoned\n"
    assert done.stderr == (
        f'error: unable to drain node "{node}": cannot delete Pods that declare no controller '
        "(use --force to override): default/lone; cannot delete Pods with local storage (use "
        "--delete-emptydir-data to override): default/scratch\n")
    assert pods_on(apiserver, node) == {"pod/lone", "pod/scratch"}
