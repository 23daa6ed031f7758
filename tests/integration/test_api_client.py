"""The `kubernetes` Python client (37.x) against `orchestrator.py serve`: CRUD of every resource,
selectors, watch, patches, scale, and two writers racing on one object."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client, config, watch

NS = "pyclient"


@pytest.fixture(scope="module")
def v1(apiserver):
    api_client = config.new_client_from_config(str(apiserver.kubeconfig))
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    yield core
    api_client.close()


def pod(name: str, labels: dict | None = None) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="bosun/busybox:1")]))


def test_pod_crud(v1):
    created = v1.create_namespaced_pod(NS, pod("crud", {"app": "a"}))
    assert created.metadata.uid and created.status.phase == "Pending"
    assert created.spec.containers[0].image_pull_policy == "IfNotPresent"
    read = v1.read_namespaced_pod("crud", NS)
    read.metadata.labels["v"] = "2"
    replaced = v1.replace_namespaced_pod("crud", NS, read)
    assert replaced.metadata.labels == {"app": "a", "v": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    deleted = v1.delete_namespaced_pod("crud", NS)
    assert deleted.metadata.name == "crud"
    with pytest.raises(client.ApiException) as missing:
        v1.read_namespaced_pod("crud", NS)
    assert missing.value.status == 404


def test_service_rc_endpoints_event_node_namespace_crud(v1):
    svc = v1.create_namespaced_service(NS, client.V1Service(
        metadata=client.V1ObjectMeta(name="svc"),
        spec=client.V1ServiceSpec(selector={"app": "a"},
                                  ports=[client.V1ServicePort(port=80, target_port=8080)])))
    assert svc.spec.cluster_ip.startswith("10.0.0.") and svc.spec.type == "ClusterIP"
    rc = v1.create_namespaced_replication_controller(NS, client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="rc"),
        spec=client.V1ReplicationControllerSpec(
            replicas=2, template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "a"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="i")])))))
    assert rc.spec.selector == {"app": "a"} and rc.metadata.labels == {"app": "a"}
    ep = v1.create_namespaced_endpoints(NS, client.V1Endpoints(
        metadata=client.V1ObjectMeta(name="svc"),
        subsets=[client.V1EndpointSubset(addresses=[client.V1EndpointAddress(ip="10.244.1.5")],
                                         ports=[client.CoreV1EndpointPort(port=8080)])]))
    assert ep.subsets[0].addresses[0].ip == "10.244.1.5"
    event = v1.create_namespaced_event(NS, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="ev"), reason="Tested", message="hello",
        involved_object=client.V1ObjectReference(kind="Pod", name="x", namespace=NS)))
    assert event.reason == "Tested"
    node = v1.create_node(client.V1Node(metadata=client.V1ObjectMeta(name="pynode")))
    assert node.metadata.name == "pynode"
    for delete, name in ((v1.delete_namespaced_service, "svc"),
                         (v1.delete_namespaced_replication_controller, "rc"),
                         (v1.delete_namespaced_endpoints, "svc"),
                         (v1.delete_namespaced_event, "ev")):
        delete(name, NS)
    v1.delete_node("pynode")
    assert v1.list_namespaced_service(NS).items == []
    assert "pynode" not in [n.metadata.name for n in v1.list_node().items]


def test_deleting_a_namespace_deletes_what_is_in_it(v1):
    v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="doomed")))
    v1.create_namespaced_pod("doomed", pod("inside"))
    v1.delete_namespace("doomed")
    assert v1.list_pod_for_all_namespaces(field_selector="metadata.namespace=doomed").items == []
    with pytest.raises(client.ApiException) as missing:
        v1.create_namespaced_pod("doomed", pod("late"))
    assert missing.value.status == 404


def test_list_with_label_and_field_selectors(v1):
    for name, labels in (("sel-a", {"tier": "fe", "env": "prod"}),
                         ("sel-b", {"tier": "be", "env": "prod"}),
                         ("sel-c", {"tier": "fe", "env": "dev"})):
        v1.create_namespaced_pod(NS, pod(name, labels))

    def names(**selectors):
        return sorted(p.metadata.name for p in v1.list_namespaced_pod(NS, **selectors).items)

    assert names(label_selector="tier=fe") == ["sel-a", "sel-c"]
    assert names(label_selector="tier=fe,env!=dev") == ["sel-a"]
    assert names(label_selector="env in (prod),tier notin (fe)") == ["sel-b"]
    assert names(label_selector="tier", field_selector="metadata.name!=sel-a") == ["sel-b",
                                                                                   "sel-c"]
    assert names(field_selector="status.phase=Pending,metadata.name=sel-c") == ["sel-c"]
    with pytest.raises(client.ApiException) as bad:
        v1.list_namespaced_pod(NS, label_selector="tier in fe")
    assert bad.value.status == 400


def test_list_pages_with_limit_and_continue(v1):
    for i in range(5):
        v1.create_namespaced_pod(NS, pod(f"page-{i}", {"paged": "yes"}))
    seen, token = [], None
    while True:
        page = v1.list_namespaced_pod(NS, label_selector="paged=yes", limit=2, _continue=token)
        assert len(page.items) <= 2
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"page-{i}" for i in range(5)]


def test_watch_streams_added_modified_deleted(v1):
    start = v1.list_namespaced_pod(NS).metadata.resource_version
    events = []

    def follow():
        for event in watch.Watch().stream(v1.list_namespaced_pod, NS, resource_version=start,
                                          timeout_seconds=3):
            events.append((event["type"], event["object"].metadata.name))

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.5)
    v1.create_namespaced_pod(NS, pod("watched"))
    v1.patch_namespaced_pod("watched", NS, {"metadata": {"labels": {"seen": "yes"}}})
    v1.delete_namespaced_pod("watched", NS)
    follower.join(10)
    assert [e for e in events if e[1] == "watched"] == [
        ("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


def test_patches_strategic_merge_and_json(v1):
    v1.create_namespaced_replication_controller(NS, client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="patched"),
        spec=client.V1ReplicationControllerSpec(
            replicas=1, template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "p"}),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="c", image="i:1", ports=[client.V1ContainerPort(container_port=80)])])))))
    v1.patch_namespaced_replication_controller(
        "patched", NS, {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "i:2"}]}}}})
    c = v1.read_namespaced_replication_controller("patched", NS).spec.template.spec.containers[0]
    assert c.image == "i:2" and c.ports[0].container_port == 80
    v1.patch_namespaced_replication_controller(
        "patched", NS, [{"op": "replace", "path": "/spec/replicas", "value": 4}])
    assert v1.read_namespaced_replication_controller("patched", NS).spec.replicas == 4


def test_scale_subresource(v1):
    v1.create_namespaced_replication_controller(NS, client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="scaled"),
        spec=client.V1ReplicationControllerSpec(
            replicas=1, template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "s"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="i")])))))
    scale = v1.patch_namespaced_replication_controller_scale("scaled", NS,
                                                             {"spec": {"replicas": 7}})
    assert scale.spec.replicas == 7 and scale.status.selector == "app=s"
    assert v1.read_namespaced_replication_controller_scale("scaled", NS).spec.replicas == 7
    assert v1.read_namespaced_replication_controller("scaled", NS).spec.replicas == 7


def test_two_writers_one_wins_the_other_gets_conflict(v1):
    v1.create_namespaced_pod(NS, pod("raced"))
    first, second = v1.read_namespaced_pod("raced", NS), v1.read_namespaced_pod("raced", NS)
    first.metadata.labels = {"writer": "first"}
    second.metadata.labels = {"writer": "second"}
    v1.replace_namespaced_pod("raced", NS, first)
    with pytest.raises(client.ApiException) as lost:
        v1.replace_namespaced_pod("raced", NS, second)
    assert lost.value.status == 409
    assert "the object has been modified" in lost.value.body
    assert v1.read_namespaced_pod("raced", NS).metadata.labels == {"writer": "first"}


def test_concurrent_scales_are_never_lost(v1):
    v1.create_namespaced_replication_controller(NS, client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="counted", annotations={"n": "0"}),
        spec=client.V1ReplicationControllerSpec(
            replicas=0, template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "n"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="i")])))))

    def bump(times: int) -> None:
        for _ in range(times):
            while True:
                rc = v1.read_namespaced_replication_controller("counted", NS)
                rc.spec.replicas += 1
                try:
                    v1.replace_namespaced_replication_controller("counted", NS, rc)
                    break
                except client.ApiException as error:
                    assert error.status == 409

    writers = [threading.Thread(target=bump, args=(10,)) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert v1.read_namespaced_replication_controller("counted", NS).spec.replicas == 30
