"""The demo's own logic: what it reports while waiting, and its summary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bosun import demo
from bosun.lab.spec import LabSpec


def pod(name: str, node: str | None, ready: bool = False, phase: str = "Pending",
        waiting: str | None = None) -> dict:
    status: dict = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"}]}
    if waiting:
        status["containerStatuses"] = [{"state": {"waiting": {"reason": waiting}}}]
    return {"metadata": {"name": name}, "spec": {"nodeName": node}, "status": status}


def test_state_line_counts_ready_pods_and_why_the_others_wait():
    state = demo.AppState([pod("a", "m1", True, "Running"), pod("b", "m2", phase="Running"),
                           pod("c", None), pod("d", "m1", waiting="ErrImagePull")], wanted=5)
    assert state.line() == "pods ready 1/5 (1 ErrImagePull, 1 Pending, 2 Running)"


def test_state_line_before_any_pod_exists():
    assert demo.AppState([], wanted=4).line() == "pods ready 0/4"


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "log"])
def test_progress_writes_each_change_once(tty):
    out = io.StringIO()
    out.isatty = lambda: tty
    progress = demo.Progress(out)
    for text in ("a", "a", "b"):
        progress.show(text)
    progress.done()
    assert out.getvalue() == ("\r\033[Ka\r\033[Kb\n" if tty else "a\nb\n")


class FakeClient:
    """Answers list/get from a dict of path -> object, recording the paths asked for."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def list(self, path, query=None):
        self.asked.append(path)
        return self.answers[path]

    get = list


NODES = {"items": [{"metadata": {"name": f"minion-{i}"}, "status": {"addresses": [
    {"type": "InternalIP", "address": f"10.200.0.{10 + i}"}]}} for i in (1, 2)]}


def test_wait_returns_once_every_pod_is_ready_and_the_page_names_a_backend(monkeypatch):
    pods = {"items": [pod("guestbook-backend-x", "minion-1")]}
    client = FakeClient({"/api/v1/namespaces/default/pods": pods,
                         "/api/v1/namespaces/default/replicationcontrollers":
                             {"items": [{"spec": {"replicas": 1}}]}})
    pages = iter([None, '<b id="backend">unknown</b>', '<b id="backend">guestbook-backend-x</b>'])
    polls = []

    def sleep(_):
        polls.append(1)
        if len(polls) == 2:  # the pod turns ready on the third look
            pods["items"] = [pod("guestbook-backend-x", "minion-1", True, "Running")]

    monkeypatch.setattr(demo.time, "sleep", sleep)
    monkeypatch.setattr(demo, "fetch", lambda url: next(pages))
    out = io.StringIO()
    state, url, page = demo.wait_for_app(client, lambda: "http://m:30080/", out, timeout=60)
    assert url == "http://m:30080/" and "guestbook-backend-x" in page
    assert len(polls) == 4  # two not ready, then two pages that do not name a backend pod
    assert out.getvalue().splitlines()[-1].startswith("pods ready 1/1 (1 Running); "
                                                      "http://m:30080/ answers")


def test_wait_gives_up_with_what_it_saw(monkeypatch):
    client = FakeClient({"/api/v1/namespaces/default/pods": {"items": [pod("p", None)]},
                         "/api/v1/namespaces/default/replicationcontrollers":
                             {"items": [{"spec": {"replicas": 2}}]}})
    monkeypatch.setattr(demo.time, "sleep", lambda _: None)
    with pytest.raises(demo.DemoError, match=r"pods ready 0/2 \(1 Pending\)"):
        demo.wait_for_app(client, lambda: "u", io.StringIO(), timeout=0.01)


def test_summary_places_pods_on_nodes_and_says_how_to_go_on():
    spec = LabSpec(Path("/lab"), minions=2)
    state = demo.AppState([pod("front-a", "minion-1"), pod("front-b", "minion-1"),
                           pod("back", "minion-2")], wanted=3)
    text = demo.summary(FakeClient({"/api/v1/nodes": NODES}), spec, state, "http://x:30080/")
    assert "  minion-1   10.200.0.11     2 pod(s): front-a front-b" in text
    assert "  minion-2   10.200.0.12     1 pod(s): back" in text
    assert "export KUBECONFIG=/lab/kubeconfig" in text
    assert "Guestbook:  http://x:30080/" in text and "./orchestrator.py lab down" in text
