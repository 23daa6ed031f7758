"""`orchestrator.py demo`, the README's main command, on the test suite's lab: it reuses the lab
that is up, builds and ships the images, applies manifests/, waits for the app and prints a URL
that answers with a page the frontend built from the backend's answer; a second run changes
nothing."""

from __future__ import annotations

import re
import subprocess
import urllib.request

import pytest

from .conftest import ORCHESTRATOR, TEST_LAB_INDEX


def demo(lab) -> subprocess.CompletedProcess:
    return subprocess.run([*ORCHESTRATOR, "demo", "--index", str(TEST_LAB_INDEX), "--state-dir",
                           str(lab.state_dir)], capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.fixture(scope="module")
def first_run(lab):
    done = demo(lab)
    yield done
    for kind in ("replicationcontrollers", "services"):
        subprocess.run([*ORCHESTRATOR, "delete", kind, "-l", "app=guestbook", "--kubeconfig",
                        str(lab.spec.kubeconfig)], capture_output=True, check=False)


def test_demo_brings_the_app_up_and_prints_a_url_that_answers(lab, first_run):
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    out = first_run.stdout
    url = re.search(r"Guestbook:\s+(http://\S+)", out).group(1)
    assert url.startswith(f"http://{lab.minions[0].address}:")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "?entry=from-the-demo-test", timeout=10) as reply:
        page = reply.read().decode()
    backend = re.search(r'<b id="backend">(guestbook-backend-\w+)</b>', page).group(1)
    assert "<li>from-the-demo-test</li>" in page
    # The summary names every node and places every pod; the backend pod is among them.
    for minion in lab.minions:
        assert re.search(rf"^  {minion.name}\s+{re.escape(minion.address)}\s+\d pod", out, re.M)
    assert backend in out
    assert sum(int(n) for n in re.findall(r"(\d) pod\(s\)", out)) == 4
    assert f"export KUBECONFIG={lab.spec.kubeconfig}" in out
    assert "pods ready 4/4" in out


def test_second_demo_run_changes_nothing(lab, first_run):
    assert first_run.returncode == 0
    again = demo(lab)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "imported" not in again.stdout and "pushed" not in again.stdout
    applied = re.findall(r"^(service|replicationcontroller)/\S+ (\w+)$", again.stdout, re.M)
    assert len(applied) == 4 and {outcome for _, outcome in applied} == {"unchanged"}
