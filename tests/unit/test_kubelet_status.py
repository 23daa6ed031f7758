"""pod_status: a pod's status from the containers observed for it, as Kubernetes reports it, read
back by the kubernetes client and printed by `kubectl get pods` (Bosun's server-side Table)."""

from __future__ import annotations

import json
from datetime import timedelta

import kubernetes.client
import pytest

from bosun.api.tables import table
from bosun.kubelet.model import ImageProblem
from bosun.kubelet.status import go_duration, image_ref, pod_status
from tests.unit.test_kubelet_world import (
    NOW,
    ago,
    app,
    container,
    infra,
    pod,
)

NODE_IP = "192.168.1.10"
WEB = pod("web-abc")
U = WEB["metadata"]["uid"]
TWO = pod("two", [container("web"), container("cache", "redis:7")])
NEVER = pod("web-abc", restart="Never", uid=U)
ON_FAILURE = pod("web-abc", restart="OnFailure", uid=U)
PULL_FAILED = ImageProblem("ErrImagePull", 'Failed to pull image "nginx:1.27": not found', ago(1))
PULL_BACKOFF = ImageProblem("ImagePullBackOff", 'Back-off pulling image "nginx:1.27"', ago(1))
CRASHED = app(WEB, attempt=3, state="exited", exit_code=2, backoff=40.0)


def get_pods_row(of: dict, status: dict) -> list:
    """NAME, READY, STATUS, RESTARTS, AGE as `kubectl get pods` prints them."""
    return table("pods", [{**of, "status": status}], NOW, None)["rows"][0]["cells"][:5]


def deserialized(status: dict) -> kubernetes.client.V1PodStatus:
    api = kubernetes.client.ApiClient()
    return api.deserialize(json.dumps(status), "V1PodStatus", "application/json")


# id, pod, observed containers, image problems, backoffs -> phase, READY, STATUS, RESTARTS
CASES = [
    ("fresh-pod", WEB, [], {}, {}, ("Pending", "0/1", "ContainerCreating", "0")),
    ("infra-up-container-creating", WEB, [infra(WEB)], {}, {},
     ("Pending", "0/1", "ContainerCreating", "0")),
    ("running", WEB, [infra(WEB), app(WEB)], {}, {}, ("Running", "1/1", "Running", "0")),
    ("running-after-restarts", WEB,
     [infra(WEB), app(WEB, attempt=2, state="exited"), app(WEB, attempt=3)], {}, {},
     ("Running", "1/1", "Running", "3 (60s ago)")),
    ("crash-loop-back-off", WEB, [infra(WEB), CRASHED], {}, {"web": NOW + timedelta(seconds=9)},
     ("Running", "0/1", "CrashLoopBackOff", "3 (60s ago)")),
    ("dead-restarting-now-shows-error", WEB, [infra(WEB), app(WEB, state="exited")], {}, {},
     ("Running", "0/1", "Error", "0")),
    ("dead-restarting-now-shows-completed", WEB,
     [infra(WEB), app(WEB, state="exited", exit_code=0)], {}, {},
     ("Running", "0/1", "Completed", "0")),
    ("err-image-pull", WEB, [infra(WEB)], {(U, "web"): PULL_FAILED}, {},
     ("Pending", "0/1", "ErrImagePull", "0")),
    ("image-pull-back-off", WEB, [infra(WEB)], {(U, "web"): PULL_BACKOFF}, {},
     ("Pending", "0/1", "ImagePullBackOff", "0")),
    ("problem-of-another-pod-ignored", WEB, [infra(WEB)], {("other", "web"): PULL_FAILED}, {},
     ("Pending", "0/1", "ContainerCreating", "0")),
    ("never-exit-0-succeeded", NEVER, [app(WEB, state="exited", exit_code=0)], {}, {},
     ("Succeeded", "0/1", "Completed", "0")),
    ("never-exit-1-failed", NEVER, [app(WEB, state="exited", exit_code=1)], {}, {},
     ("Failed", "0/1", "Error", "0")),
    ("on-failure-exit-0-succeeded", ON_FAILURE, [app(WEB, state="exited", exit_code=0)], {}, {},
     ("Succeeded", "0/1", "Completed", "0")),
    ("on-failure-exit-1-crash-loop", ON_FAILURE, [infra(WEB), CRASHED], {},
     {"web": NOW + timedelta(seconds=9)}, ("Running", "0/1", "CrashLoopBackOff", "3 (60s ago)")),
    ("oom-killed", WEB, [infra(WEB), app(WEB, state="exited", exit_code=137, reason="OOMKilled")],
     {}, {}, ("Running", "0/1", "OOMKilled", "0")),
    ("could-not-start", WEB,
     [infra(WEB), app(WEB, state="created", exit_code=127, reason="exec: \"x\": not found")],
     {}, {}, ("Running", "0/1", "ContainerCannotRun", "0")),
    ("one-of-two-running", TWO, [infra(TWO), app(TWO, "cache")], {}, {},
     ("Pending", "1/2", "ContainerCreating", "0")),
    ("both-of-two-running", TWO, [infra(TWO), app(TWO, "cache"), app(TWO, "web")], {}, {},
     ("Running", "2/2", "Running", "0")),
    ("never-one-failed-one-running", pod("two", TWO["spec"]["containers"], restart="Never",
                                         uid=TWO["metadata"]["uid"]),
     [infra(TWO), app(TWO, "cache", state="exited", exit_code=3), app(TWO, "web")], {}, {},
     ("Running", "1/2", "Error", "0")),
    ("deleting", pod("web-abc", deleting=True, uid=U), [infra(WEB), app(WEB)], {}, {},
     ("Running", "1/1", "Terminating", "0")),
]


def _status(case):
    _, of, containers, problems, backoffs, _ = case
    return pod_status(of, containers, NODE_IP, NOW, problems, backoffs)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_phase_and_kubectl_row(case):
    of, expected = case[1], case[-1]
    status = _status(case)
    phase, ready, shown, restarts = expected
    assert status["phase"] == phase
    assert get_pods_row(of, status)[1:4] == [ready, shown, restarts]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_kubernetes_client_reads_it(case):
    status = _status(case)
    read = deserialized(status)
    assert read.phase == status["phase"]
    assert [c.name for c in read.container_statuses] == sorted(
        c["name"] for c in case[1]["spec"]["containers"])
    assert [c.type for c in read.conditions][:4] == ["PodReadyToStartContainers", "Initialized",
                                                     "Ready", "ContainersReady"]


def test_running_container_status():
    status = pod_status(WEB, [infra(WEB), app(WEB, attempt=1, state="exited"),
                              app(WEB, attempt=2)], NODE_IP, NOW)
    [web] = status["containerStatuses"]
    new, old = app(WEB, attempt=2), app(WEB, attempt=1, state="exited")
    assert web == {
        "name": "web", "image": "nginx:1.27", "imageID": "docker://sha256:" + "ef" * 32,
        "containerID": f"docker://{new.id}", "ready": True, "started": True, "restartCount": 2,
        "state": {"running": {"startedAt": "2025-03-01T11:30:00Z"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                     "containerID": f"docker://{old.id}",
                                     "startedAt": "2025-03-01T11:58:50Z",
                                     "finishedAt": "2025-03-01T11:59:00Z"}}}
    assert status["podIP"] == "172.17.0.2" and status["podIPs"] == [{"ip": "172.17.0.2"}]
    assert status["hostIP"] == NODE_IP and status["hostIPs"] == [{"ip": NODE_IP}]
    assert status["startTime"] == "2025-03-01T11:00:00Z"
    assert status["qosClass"] == "BestEffort"


def test_crash_loop_message():
    status = pod_status(WEB, [infra(WEB), CRASHED], NODE_IP, NOW, {}, {"web": NOW})
    [web] = status["containerStatuses"]
    assert web["state"] == {"waiting": {
        "reason": "CrashLoopBackOff",
        "message": f"back-off 40s restarting failed container=web pod=web-abc_default({U})"}}
    assert web["lastState"]["terminated"]["exitCode"] == 2


def test_err_image_never_pull_needs_the_minion_images():
    never = pod("web-abc", [container(image="nginx:9", imagePullPolicy="Never")], uid=U)
    status = pod_status(never, [infra(WEB)], NODE_IP, NOW, images=frozenset({"nginx:1.27"}))
    assert status["containerStatuses"][0]["state"] == {"waiting": {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "nginx:9" is not present with pull policy of Never'}}
    assert get_pods_row(never, status)[2] == "ErrImageNeverPull"
    present = pod_status(never, [infra(WEB)], NODE_IP, NOW, images=frozenset({"nginx:9"}))
    assert present["containerStatuses"][0]["state"] == {"waiting": {
        "reason": "ContainerCreating"}}


def test_a_stale_image_problem_is_ignored_once_the_image_is_there():
    status = pod_status(WEB, [infra(WEB)], NODE_IP, NOW, {(U, "web"): PULL_FAILED},
                        images=frozenset({"nginx:1.27"}))
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"


def test_conditions_keep_their_transition_times_while_unchanged():
    first = pod_status(WEB, [infra(WEB)], NODE_IP, NOW)
    later = NOW + timedelta(minutes=5)
    second = pod_status({**WEB, "status": first}, [infra(WEB), app(WEB)], NODE_IP, later)
    times = {c["type"]: c["lastTransitionTime"] for c in second["conditions"]}
    assert times == {"PodReadyToStartContainers": "2025-03-01T12:00:00Z",
                     "Initialized": "2025-03-01T12:00:00Z", "Ready": "2025-03-01T12:05:00Z",
                     "ContainersReady": "2025-03-01T12:05:00Z",
                     "PodScheduled": "2025-03-01T12:00:00Z"}
    ready = next(c for c in second["conditions"] if c["type"] == "Ready")
    assert ready == {"type": "Ready", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": "2025-03-01T12:05:00Z"}
    third = pod_status({**WEB, "status": second}, [infra(WEB), app(WEB)], NODE_IP,
                       later + timedelta(hours=1))
    assert third == second  # nothing changed: nothing to write


def test_scheduler_condition_and_start_time_are_kept():
    scheduled = {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": "2025-03-01T10:00:00Z"}
    other = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}
    old = {"phase": "Running", "conditions": [scheduled, other], "qosClass": "Guaranteed",
           "startTime": "2025-03-01T10:00:01Z", "podIP": "172.17.0.7"}
    status = pod_status({**WEB, "status": old}, [infra(WEB, state="exited"), app(WEB)], NODE_IP,
                        NOW)
    assert status["conditions"][4] == scheduled and status["conditions"][5] == other
    assert status["startTime"] == "2025-03-01T10:00:01Z"
    assert status["qosClass"] == "Guaranteed"
    assert status["podIP"] == "172.17.0.7"  # kept while the infra container is down
    ready_to_start = status["conditions"][0]
    assert ready_to_start["type"] == "PodReadyToStartContainers"
    assert ready_to_start["status"] == "False"


def test_succeeded_pod_conditions_say_pod_completed():
    status = pod_status(NEVER, [app(WEB, state="exited", exit_code=0)], NODE_IP, NOW)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    failed = pod_status(NEVER, [app(WEB, state="exited", exit_code=1)], NODE_IP, NOW)
    ready = next(c for c in failed["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodFailed")


def test_finished_pod_keeps_phase_and_statuses_when_its_containers_are_gone():
    done = pod_status(NEVER, [app(WEB, state="exited", exit_code=0)], NODE_IP, NOW)
    after = pod_status({**NEVER, "status": done}, [], NODE_IP, NOW + timedelta(hours=1))
    assert after["phase"] == "Succeeded"
    assert after["containerStatuses"] == done["containerStatuses"]


def test_terminal_phase_is_never_left():
    failed = {**WEB, "status": {"phase": "Failed"}}
    status = pod_status(failed, [infra(WEB), app(WEB)], NODE_IP, NOW)
    assert status["phase"] == "Failed"


def test_host_network_pod_has_the_node_ip():
    of = pod("web-abc", hostNetwork=True, uid=U)
    status = pod_status(of, [infra(WEB, ip=""), app(WEB)], NODE_IP, NOW)
    assert status["podIP"] == NODE_IP


def test_no_ip_before_the_infra_container():
    status = pod_status(WEB, [], NODE_IP, NOW)
    assert "podIP" not in status and "startTime" not in status
    assert deserialized(status).pod_ip is None


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (10, "10s"), (40, "40s"), (80, "1m20s"), (160, "2m40s"), (300, "5m0s"),
    (3600, "1h0m0s"), (3725, "1h2m5s")])
def test_go_duration(seconds, text):
    assert go_duration(seconds) == text


@pytest.mark.parametrize("image_id, ref", [
    ("sha256:abc", "docker://sha256:abc"),
    ("nginx@sha256:abc", "docker-pullable://nginx@sha256:abc"),
    ("", ""),
])
def test_image_ref(image_id, ref):
    assert image_ref(image_id) == ref
