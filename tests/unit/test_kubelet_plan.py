"""plan: the pods bound to a minion and the containers observed there -> the actions, in order."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bosun.kubelet import spec as kspec
from bosun.kubelet.model import (
    INFRA,
    ImageProblem,
    KillContainer,
    PullImage,
    RemoveContainer,
    RemovePodFiles,
    StartContainer,
    StartInfra,
    WaitBackoff,
)
from bosun.kubelet.plan import (
    CHANGED,
    DUPLICATE,
    FINISHED,
    SANDBOX_CHANGED,
    STOPPING,
    image_names,
    plan,
    restart_backoff,
)
from tests.unit.test_kubelet_world import (
    NOW,
    Minion,
    ago,
    app,
    container,
    infra,
    pod,
    world,
)

WEB = pod("web")
U = WEB["metadata"]["uid"]
TWO = pod("two", [container("web"), container("cache", "redis:7")])
T = TWO["metadata"]["uid"]
MOVED = pod("moved", node="minion-2")
GONE = pod("gone", [container("web", ports=[{"containerPort": 80, "hostPort": 8080}])], grace=7)
G = GONE["metadata"]["uid"]
CHANGED_WEB = pod("web", [container("web", "nginx:1.28")], uid=U)
CHANGED_TWO = pod("two", [container("web"), container("cache", "redis:7.2")], uid=T)


def start(of, name="web", attempt=0, infra_id=None, backoff=0.0):
    uid = of["metadata"]["uid"]
    return StartContainer(uid, of, name, attempt, infra_id or infra(of).id, backoff=backoff)


def kill(of_container, reason, grace=30.0, remove=False):
    c = of_container
    return KillContainer(c.pod_uid, c.id, c.container, grace, reason, remove=remove)


def fresh(of, attempt=0):
    """StartInfra plus the Docker name the app containers join."""
    return StartInfra(of["metadata"]["uid"], of, attempt=attempt), kspec.docker_name(
        of, INFRA, attempt)


NEW_INFRA, NEW_INFRA_NAME = fresh(WEB)
RESTARTED_INFRA, RESTARTED_INFRA_NAME = fresh(WEB, 1)
DEAD = app(WEB, attempt=0, state="exited", exit_code=1)
STOP_INFRA = kill(infra(WEB), FINISHED, remove=True)

# id, pods, observed containers, expected actions
CASES = [
    ("fresh-pod", [WEB], [], [NEW_INFRA, start(WEB, infra_id=NEW_INFRA_NAME)]),
    ("fresh-pod-two-containers-in-spec-order", [TWO], [],
     [fresh(TWO)[0], start(TWO, "web", infra_id=fresh(TWO)[1]),
      start(TWO, "cache", infra_id=fresh(TWO)[1])]),
    ("infra-up-containers-missing", [TWO], [infra(TWO)],
     [start(TWO, "web"), start(TWO, "cache")]),
    ("one-container-missing", [TWO], [infra(TWO), app(TWO, "cache")], [start(TWO, "web")]),
    ("adopted-after-controller-restart-no-op", [TWO],
     [infra(TWO), app(TWO, "web", attempt=3, backoff=40.0), app(TWO, "cache")], []),
    ("no-pods-no-containers", [], [], []),
    # restart policies and exit codes: the first restart is immediate, the next waits 10 s
    ("always-exit-1-first-restart", [WEB], [infra(WEB), DEAD],
     [start(WEB, attempt=1, backoff=10.0)]),
    ("always-exit-0-restarts-too", [WEB], [infra(WEB), app(WEB, state="exited", exit_code=0)],
     [start(WEB, attempt=1, backoff=10.0)]),
    ("onfailure-exit-1-restarts", [pod("web", restart="OnFailure")], [infra(WEB), DEAD],
     [start(WEB, attempt=1, backoff=10.0)]),
    ("onfailure-exit-0-finishes", [pod("web", restart="OnFailure")],
     [infra(WEB), app(WEB, state="exited", exit_code=0)], [STOP_INFRA]),
    ("never-exit-1-finishes", [pod("web", restart="Never")], [infra(WEB), DEAD], [STOP_INFRA]),
    ("never-exit-0-finishes", [pod("web", restart="Never")],
     [infra(WEB), app(WEB, state="exited", exit_code=0)], [STOP_INFRA]),
    ("oom-killed-restarts", [WEB], [infra(WEB), app(WEB, state="exited", exit_code=137,
                                                    reason="OOMKilled")],
     [start(WEB, attempt=1, backoff=10.0)]),
    ("never-started-container-created-state", [WEB],
     [infra(WEB), app(WEB, state="created", exit_code=128, reason="exec: not found")],
     [start(WEB, attempt=1, backoff=10.0)]),
    ("onfailure-created-never-started-is-a-failure", [pod("web", restart="OnFailure")],
     [infra(WEB), app(WEB, state="created", exit_code=0)], [start(WEB, attempt=1, backoff=10.0)]),
    ("onfailure-one-done-one-running-no-op", [pod("two", TWO["spec"]["containers"],
                                                  restart="OnFailure", uid=T)],
     [infra(TWO), app(TWO, "web", state="exited", exit_code=0), app(TWO, "cache")], []),
    ("never-pod-starts-missing-container", [pod("two", TWO["spec"]["containers"],
                                                restart="Never", uid=T)],
     [infra(TWO), app(TWO, "web", state="exited", exit_code=1)], [start(TWO, "cache")]),
    # backoff
    ("backoff-waits", [WEB],
     [infra(WEB), app(WEB, attempt=1, state="exited", finished=ago(5), backoff=10.0)],
     [WaitBackoff(U, "web", ago(5) + timedelta(seconds=10))]),
    ("backoff-over-restarts-doubled", [WEB],
     [infra(WEB), app(WEB, attempt=1, state="exited", finished=ago(11), backoff=10.0)],
     [start(WEB, attempt=2, backoff=20.0)]),
    ("backoff-reset-after-10-min-running", [WEB],
     [infra(WEB), app(WEB, attempt=6, state="exited", started=ago(601), finished=ago(1),
                      backoff=300.0)],
     [start(WEB, attempt=7, backoff=10.0)]),
    ("backoff-not-reset-just-under-10-min", [WEB],
     [infra(WEB), app(WEB, attempt=6, state="exited", started=ago(600), finished=ago(1),
                      backoff=300.0)],
     [WaitBackoff(U, "web", ago(1) + timedelta(seconds=300))]),
    ("backoff-without-label-derived-from-attempt", [WEB],
     [infra(WEB), app(WEB, attempt=3, state="exited", finished=ago(30), backoff=None)],
     [WaitBackoff(U, "web", ago(30) + timedelta(seconds=40))]),
    ("crash-looping-container-with-new-image-restarts-now", [CHANGED_WEB],
     [infra(WEB), app(WEB, attempt=4, state="exited", finished=ago(1), backoff=80.0)],
     [PullImage(U, "nginx:1.28", "web"), start(WEB, attempt=5)]),
    # a changed definition restarts that container only
    ("image-changed-restarts-that-container-only", [CHANGED_TWO],
     [infra(TWO), app(TWO, "web"), app(TWO, "cache", attempt=2)],
     [kill(app(TWO, "cache", attempt=2), CHANGED.format("cache")),
      PullImage(T, "redis:7.2", "cache"), start(TWO, "cache", attempt=3)]),
    # the infra container
    ("infra-died-everything-restarts", [WEB], [infra(WEB, state="exited"), app(WEB, attempt=2)],
     [kill(app(WEB, attempt=2), SANDBOX_CHANGED), RemoveContainer(U, infra(WEB).id),
      RESTARTED_INFRA, start(WEB, attempt=3, infra_id=RESTARTED_INFRA_NAME)]),
    ("infra-removed-by-hand", [WEB], [app(WEB)],
     [kill(app(WEB), SANDBOX_CHANGED), NEW_INFRA, start(WEB, attempt=1, infra_id=NEW_INFRA_NAME)]),
    ("infra-restarted-by-hand-apps-rejoin", [WEB], [infra(WEB, started=ago(5)), app(WEB)],
     [kill(app(WEB), SANDBOX_CHANGED), start(WEB, attempt=1)]),
    ("infra-died-under-never-no-new-network", [pod("web", restart="Never")],
     [infra(WEB, state="exited"), app(WEB)],
     [kill(app(WEB), SANDBOX_CHANGED), RemoveContainer(U, infra(WEB).id)]),
    ("infra-died-crashed-container-keeps-its-backoff", [WEB],
     [infra(WEB, state="exited"), app(WEB, attempt=1, state="exited", finished=ago(2),
                                      backoff=10.0)],
     [RemoveContainer(U, infra(WEB).id), RESTARTED_INFRA,
      WaitBackoff(U, "web", ago(2) + timedelta(seconds=10))]),
    # pods that are gone, moved or being deleted
    ("orphans-killed-with-label-grace-then-files", [],
     [infra(GONE), app(GONE, attempt=0, state="exited"), app(GONE, attempt=1)],
     [RemoveContainer(G, app(GONE, attempt=0, state="exited").id),
      kill(app(GONE, attempt=1), STOPPING.format("web"), grace=7.0, remove=True),
      kill(infra(GONE), STOPPING.format(INFRA), grace=7.0, remove=True), RemovePodFiles(G)]),
    ("pod-moved-to-another-minion-is-an-orphan", [MOVED], [infra(MOVED), app(MOVED)],
     [kill(app(MOVED), STOPPING.format("web"), remove=True),
      kill(infra(MOVED), STOPPING.format(INFRA), remove=True),
      RemovePodFiles(MOVED["metadata"]["uid"])]),
    ("deleting-pod-killed-with-deletion-grace", [pod("web", deleting=True, grace=5)],
     [infra(WEB), app(WEB)],
     [kill(app(WEB), STOPPING.format("web"), grace=5.0, remove=True),
      kill(infra(WEB), STOPPING.format(INFRA), grace=5.0, remove=True), RemovePodFiles(U)]),
    ("deleting-pod-with-nothing-left", [pod("web", deleting=True)], [], []),
    ("orphan-goes-before-new-pod-wanting-its-port",
     [pod("new", [container("web", ports=[{"containerPort": 80, "hostPort": 8080}])])],
     [infra(GONE)],
     [kill(infra(GONE), STOPPING.format(INFRA), grace=7.0, remove=True), RemovePodFiles(G),
      fresh(pod("new"))[0], start(pod("new"), infra_id=fresh(pod("new"))[1])]),
    # images
    ("image-missing-if-not-present-pulls", [pod("web", [container(image="nginx:1.29")], uid=U)],
     [infra(WEB)], [PullImage(U, "nginx:1.29", "web"), start(WEB)]),
    ("image-missing-always-pulls", [pod("web", [container(image="nginx")], uid=U)], [infra(WEB)],
     [PullImage(U, "nginx", "web"), start(WEB)]),
    ("image-present-always-does-not-pull", [pod("web", [container(image="busybox")], uid=U)],
     [infra(WEB)], [start(WEB)]),
    ("image-missing-never-pull-does-nothing",
     [pod("web", [container(image="nginx:1.29", imagePullPolicy="Never")], uid=U)], [infra(WEB)],
     []),
    ("image-present-never-pull-starts",
     [pod("web", [container(imagePullPolicy="Never")], uid=U)], [infra(WEB)], [start(WEB)]),
    # garbage collection of attempts
    ("older-attempts-removed-keeping-two", [WEB],
     [infra(WEB)] + [app(WEB, attempt=a, state="exited") for a in range(3)]
     + [app(WEB, attempt=3)],
     [RemoveContainer(U, app(WEB, attempt=0).id), RemoveContainer(U, app(WEB, attempt=1).id)]),
    ("older-attempts-removed-when-restarting", [WEB],
     [infra(WEB), app(WEB, attempt=0, state="exited"),
      app(WEB, attempt=1, state="exited", finished=ago(60), backoff=10.0)],
     [start(WEB, attempt=2, backoff=20.0), RemoveContainer(U, app(WEB, attempt=0).id)]),
    ("duplicate-running-attempt-killed", [WEB],
     [infra(WEB), app(WEB, attempt=1), app(WEB, attempt=2)],
     [kill(app(WEB, attempt=1), DUPLICATE.format("web"), remove=True)]),
    ("dead-infra-leftovers-removed", [WEB],
     [infra(WEB, 0, state="exited"), infra(WEB, 1), app(WEB)],
     [RemoveContainer(U, infra(WEB, 0).id)]),
    # finished pods keep their exited containers and start nothing
    ("succeeded-pod-settled", [pod("web", restart="Never", phase="Succeeded")],
     [app(WEB, state="exited", exit_code=0)], []),
    ("failed-pod-with-containers-gone", [pod("web", restart="OnFailure", phase="Failed")], [], []),
    ("succeeded-pod-trims-old-attempts",
     [pod("web", restart="OnFailure", phase="Succeeded")],
     [app(WEB, attempt=a, state="exited", exit_code=0 if a == 2 else 1) for a in range(3)],
     [RemoveContainer(U, app(WEB, attempt=0).id)]),
]


@pytest.mark.parametrize("pods, containers, expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_plan(pods, containers, expected):
    assert plan("minion-1", pods, world(*containers), NOW) == expected


def test_plan_is_deterministic_over_pod_order():
    pods = [TWO, WEB, pod("other")]
    observed = world(infra(WEB), DEAD)
    assert plan("minion-1", pods, observed, NOW) == plan("minion-1", pods[::-1], observed, NOW)


def test_start_carries_the_pod_and_the_new_backoff():
    [action] = plan("minion-1", [WEB], world(infra(WEB), DEAD), NOW)
    assert action.pod is WEB and action.backoff == 10.0 and action.infra_id == infra(WEB).id


PROBLEM = ImageProblem("ErrImagePull", 'Failed to pull image "nginx:1.29"', ago(5))
MISSING = pod("web", [container(image="nginx:1.29")], uid=U)


@pytest.mark.parametrize("problem, expected", [
    (None, [PullImage(U, "nginx:1.29", "web"), start(WEB)]),
    (PROBLEM, []),
    (ImageProblem("ErrImagePull", "", ago(11)), [PullImage(U, "nginx:1.29", "web"), start(WEB)]),
    (ImageProblem("ImagePullBackOff", "", ago(100), retry_at=NOW + timedelta(seconds=1)), []),
    (ImageProblem("ImagePullBackOff", "", ago(100), retry_at=NOW),
     [PullImage(U, "nginx:1.29", "web"), start(WEB)]),
], ids=["no-problem-pulls", "failed-5s-ago-waits", "failed-11s-ago-retries",
        "retry-at-in-future-waits", "retry-at-now-retries"])
def test_pull_backoff(problem, expected):
    problems = {} if problem is None else {(U, "web"): problem}
    assert plan("minion-1", [MISSING], world(infra(WEB)), NOW, problems) == expected


def test_a_problem_with_the_image_now_present_does_not_hold_the_start():
    problems = {(U, "web"): PROBLEM}
    assert plan("minion-1", [WEB], world(infra(WEB)), NOW, problems) == [start(WEB)]


def backoff_waits(restarts: int) -> list[float]:
    """Crash the container right after each start; the wait before each restart."""
    waits = []
    backoff, finished = 0.0, NOW
    for attempt in range(restarts):
        dead = app(WEB, attempt=attempt, state="exited", started=finished - timedelta(seconds=1),
                   finished=finished, backoff=backoff)
        until, new_backoff = restart_backoff(dead, finished)
        wait = 0.0 if until is None else (until - finished).total_seconds()
        if until is not None:  # the loop comes back when the wait is over
            assert restart_backoff(dead, until - timedelta(seconds=0.5))[0] == until
            until, new_backoff = restart_backoff(dead, until)
            assert until is None
        waits.append(wait)
        backoff, finished = new_backoff, finished + timedelta(seconds=wait + 1)
    return waits


def test_backoff_sequence():
    assert backoff_waits(9) == [0, 10, 20, 40, 80, 160, 300, 300, 300]


@pytest.mark.parametrize("image, names", [
    ("nginx", {"nginx", "nginx:latest"}),
    ("nginx:1.27", {"nginx:1.27"}),
    ("docker.io/library/nginx:1", {"docker.io/library/nginx:1", "library/nginx:1", "nginx:1"}),
    ("localhost:5000/app", {"localhost:5000/app", "localhost:5000/app:latest"}),
    ("app@sha256:" + "a" * 64, {"app@sha256:" + "a" * 64}),
], ids=["untagged", "tagged", "docker-hub-long-form", "registry-port-untagged", "digest"])
def test_image_names(image, names):
    assert image_names(image) == names


def test_crash_loop_backoff_survives_through_the_labels():
    """Start, crash, plan, wait, restart on a simulated minion that knows only its labels; the
    sixth crash comes after 700 s of running and starts the sequence over."""
    docker = Minion(world())
    now = NOW
    docker.apply(plan("minion-1", [WEB], docker.observed(), now), {})
    waits = []
    for crash in range(9):
        running = next(c for c in docker.containers.values() if c.container == "web"
                       and c.running)
        finished = running.started + timedelta(seconds=700 if crash == 6 else 1)
        docker.containers[running.id] = dataclasses.replace(
            running, state="exited", exit_code=1, finished=finished)
        now = finished
        actions = plan("minion-1", [WEB], docker.observed(), now)
        if isinstance(actions[0], WaitBackoff):
            waits.append((actions[0].until - now).total_seconds())
            now = actions[0].until
            actions = plan("minion-1", [WEB], docker.observed(), now)
        else:
            waits.append(0)
        assert [type(a) for a in actions][:1] == [StartContainer]
        docker.now = now
        docker.apply(actions, {})
    assert waits == [0, 10, 20, 40, 80, 160, 0, 10, 20]
    web = [c for c in docker.containers.values() if c.container == "web"]
    assert sorted(c.attempt for c in web) == [8, 9]  # older attempts were removed on the way
