"""The example app end to end in the lab: `image build` puts both images on every minion (and
does nothing the second time), manifests/ runs as 1 backend + 3 frontend pods, and a page
fetched through the NodePort was built from the backend's answer through its service."""

from __future__ import annotations

import http.client
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from bosun.minion import DockerAPIError, Fleet
from bosun.minion import containers as docker_ops

from .conftest import ORCHESTRATOR
from .test_kubelet import wait_for

ROOT = Path(__file__).resolve().parents[2]
NS = "guestbook"
IMAGES = ("bosun/guestbook-backend:1", "bosun/guestbook-frontend:1")
NODE_PORT = 30080


def image_build(lab) -> dict[str, dict[str, str]]:
    """`orchestrator.py image build` on the lab: {image: {minion: what happened}}."""
    done = subprocess.run([*ORCHESTRATOR, "image", "build", "-i", str(lab.inventory_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, dict[str, str]] = {}
    for line in done.stdout.splitlines():
        if not line.startswith(" "):
            image = line.split(": built ")[0]
            result[image] = {}
        else:
            minion, what = line.strip().split(": ", 1)
            result[image][minion] = what
    return result


def image_ids(fleet: Fleet, image: str) -> dict[str, str]:
    def image_id(minion) -> str:
        return minion.check(["docker", "image", "inspect", "-f", "{{.Id}}", image]).text.strip()

    return {name: outcome.result() for name, outcome in fleet.map(image_id).items()}


@pytest.fixture(scope="module")
def fleet(lab):
    with Fleet(lab.inventory.minions(), timeout=120) as fleet:
        yield fleet


@pytest.fixture(scope="module")
def built(lab, fleet):
    """Both images built into a lab whose minions had neither."""
    fleet.map(lambda m: m.run(["docker", "image", "rm", "-f", *IMAGES]))
    return image_build(lab)


def test_image_build_imports_into_the_first_minion_and_pushes_to_the_others(built, fleet):
    assert list(built) == list(IMAGES)
    for image in IMAGES:
        assert built[image] == {"minion-1": "imported", "minion-2": "pushed",
                                "minion-3": "pushed"}
        assert len(set(image_ids(fleet, image).values())) == 1  # one image id everywhere


def test_image_build_again_changes_nothing_and_fills_a_gap(lab, built, fleet):
    ids = {image: image_ids(fleet, image) for image in IMAGES}
    again = image_build(lab)
    assert again == {image: dict.fromkeys(fleet.names, "already there") for image in IMAGES}
    fleet["minion-3"].check(["docker", "image", "rm", IMAGES[1]])
    after_loss = image_build(lab)
    assert after_loss[IMAGES[0]] == dict.fromkeys(fleet.names, "already there")
    assert after_loss[IMAGES[1]] == {"minion-1": "already there", "minion-2": "already there",
                                     "minion-3": "pushed"}
    assert {image: image_ids(fleet, image) for image in IMAGES} == ids
    labels = docker_ops.image_labels(fleet["minion-2"].docker, IMAGES[0])
    assert labels["io.bosun.image.source"].startswith("sha256:")


def test_import_image_says_what_dockerd_refuses(fleet):
    docker = fleet["minion-1"].docker
    with pytest.raises(DockerAPIError, match="invalid tar header"):
        docker_ops.import_image(docker, b"not a tar" * 100, "bosun/broken:1")
    with pytest.raises(DockerAPIError, match=r"\(400\): run is not a valid change command"):
        docker_ops.import_image(docker, b"", "bosun/broken:1", ["RUN make"])
    assert docker_ops.image_labels(docker, "bosun/broken:1") is None


@pytest.fixture(scope="module")
def guestbook(lab, built):
    """manifests/*.yaml created through the API, in name order as kubectl apply -f takes a
    folder (not descending into images/); every object deleted afterwards."""
    api_client = config.new_client_from_config(str(lab.spec.kubeconfig))
    v1 = client.CoreV1Api(api_client)
    v1.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    create = {"Service": v1.create_namespaced_service,
              "ReplicationController": v1.create_namespaced_replication_controller}
    created = []
    try:
        for path in sorted((ROOT / "manifests").glob("*.yaml")):
            for manifest in yaml.safe_load_all(path.read_text()):
                create[manifest["kind"]](NS, manifest)
                created.append((manifest["kind"], manifest["metadata"]["name"]))
        yield v1
    finally:
        for kind, name in reversed(created):
            if kind == "Service":
                v1.delete_namespaced_service(name, NS)
            else:
                v1.delete_namespaced_replication_controller(name, NS)
        wait_for(lambda: not v1.list_namespaced_pod(NS).items, 60, "the guestbook's pods gone")
        v1.delete_namespace(NS)
        api_client.close()


def running_pods(v1, tier: str) -> list[str]:
    pods = v1.list_namespaced_pod(NS, label_selector=f"app=guestbook,tier={tier}").items
    return sorted(p.metadata.name for p in pods if p.status.phase == "Running")


def fetch(address: str, method: str = "GET", body: str | None = None) -> tuple[int, str]:
    """(status, page) from the NodePort; (0, why) when nothing answered."""
    conn = http.client.HTTPConnection(address, NODE_PORT, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    try:
        conn.request(method, "/", body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read().decode()
    except (OSError, http.client.HTTPException) as error:
        return 0, str(error)
    finally:
        conn.close()


def served_by(page: str) -> tuple[str, str, str]:
    """(frontend pod, backend pod, backend address) the page names."""
    found = re.search(r'<b id="frontend">([^<]*)</b>, backend pod <b id="backend">([^<]*)</b> '
                      r'via ([0-9.:]+)</p>', page)
    assert found, page
    return found.group(1), found.group(2), found.group(3)


def test_guestbook_runs_and_the_frontend_uses_the_backend_through_its_service(lab, guestbook):
    v1 = guestbook
    wait_for(lambda: len(running_pods(v1, "backend")) == 1
             and len(running_pods(v1, "frontend")) == 3, 90, "1 backend and 3 frontend pods")
    backend, frontends = running_pods(v1, "backend")[0], running_pods(v1, "frontend")
    vip = v1.read_namespaced_service("guestbook-backend", NS).spec.cluster_ip
    first, second, third = (m.address for m in lab.minions)

    # The pods run before every minion's proxy knows the endpoints: until then the NodePort is
    # closed, or a frontend's page says the backend did not answer. Wait until each of the
    # three frontends (the NodePort rotates over them) has built a page from the backend.
    good: dict[str, tuple[str, str]] = {}

    def page_from_backend() -> bool:
        status, page = fetch(first)
        if status == 200 and '<b id="backend">guestbook-' in page:
            frontend, used, via = served_by(page)
            good[frontend] = (used, via)
        return set(good) == set(frontends)

    wait_for(page_from_backend, 45, "a page built from the backend by every frontend pod")
    assert set(good.values()) == {(backend, f"{vip}:80")}

    status, page = fetch(second, "POST", "entry=Hi+from+%3Cb%3Ethe+test%3C%2Fb%3E+%26+co")
    assert status == 303, page
    status, page = fetch(third)
    assert status == 200
    assert "<li>Hi from &lt;b&gt;the test&lt;/b&gt; &amp; co</li>" in page
    frontend, used, via = served_by(page)
    assert (frontend in frontends, used, via) == (True, backend, f"{vip}:80")
