"""The /api/v1 discovery document lists every resource as kubectl needs it."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiClient

from bosun.objects import registry
from bosun.objects.registry import UnknownResource, api_resource_list


def _entries() -> dict[str, dict]:
    return {e["name"]: e for e in api_resource_list()["resources"]}


def test_pods_entry_is_as_kubernetes_lists_it():
    assert _entries()["pods"] == {
        "name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                  "watch"],
        "shortNames": ["po"], "categories": ["all"], "storageVersionHash": "xPOwRZ+Yhw8="}


@pytest.mark.parametrize(("name", "entry"), [
    ("replicationcontrollers/scale", {
        "name": "replicationcontrollers/scale", "singularName": "", "namespaced": True,
        "group": "autoscaling", "version": "v1", "kind": "Scale",
        "verbs": ["get", "patch", "update"]}),
    ("pods/log", {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                  "verbs": ["get"]}),
    ("pods/binding", {"name": "pods/binding", "singularName": "", "namespaced": True,
                      "kind": "Binding", "verbs": ["create"]}),
    ("pods/eviction", {"name": "pods/eviction", "singularName": "", "namespaced": True,
                       "group": "policy", "version": "v1", "kind": "Eviction",
                       "verbs": ["create"]}),
    ("namespaces/finalize", {"name": "namespaces/finalize", "singularName": "",
                             "namespaced": False, "kind": "Namespace", "verbs": ["update"]}),
    ("nodes/status", {"name": "nodes/status", "singularName": "", "namespaced": False,
                      "kind": "Node", "verbs": ["get", "patch", "update"]}),
], ids=["rc-scale", "pod-log", "pod-binding", "pod-eviction", "ns-finalize", "node-status"])
def test_subresource_entries(name, entry):
    assert _entries()[name] == entry


@pytest.mark.parametrize(("name", "short", "namespaced", "hash_"), [
    ("namespaces", "ns", False, "Q3oi5N2YM8M="),
    ("pods", "po", True, "xPOwRZ+Yhw8="),
    ("services", "svc", True, "0/CO1lhkEBI="),
    ("replicationcontrollers", "rc", True, "Jond2If31h0="),
    ("nodes", "no", False, "XwShjMxG9Fs="),
    ("endpoints", "ep", True, "fWeeMqaN/OA="),
    ("events", "ev", True, "r2yiGXH7wu8="),
], ids=lambda v: v if isinstance(v, str) else None)
def test_every_resource_has_its_short_name_scope_and_kubernetes_hash(name, short, namespaced,
                                                                     hash_):
    entry = _entries()[name]
    assert entry["shortNames"] == [short]
    assert entry["namespaced"] is namespaced
    assert entry["storageVersionHash"] == hash_


def test_namespaces_cannot_be_deleted_as_a_collection():
    assert "deletecollection" not in _entries()["namespaces"]["verbs"]


def test_list_is_sorted_and_wrapped():
    body = api_resource_list()
    names = [e["name"] for e in body["resources"]]
    assert names == sorted(names)
    assert (body["kind"], body["groupVersion"]) == ("APIResourceList", "v1")


def test_python_client_reads_the_discovery_document():
    read = ApiClient().deserialize(json.dumps(api_resource_list()), "V1APIResourceList",
                                   "application/json")
    assert {r.name for r in read.resources} >= {"pods", "pods/status", "events"}


@pytest.mark.parametrize(("given", "name"), [
    ("po", "pods"), ("pod", "pods"), ("pods", "pods"), ("Pod", "pods"), ("svc", "services"),
    ("rc", "replicationcontrollers"), ("ReplicationController", "replicationcontrollers"),
    ("no", "nodes"), ("ep", "endpoints"), ("ev", "events"), ("ns", "namespaces"),
    ("pods.v1", "pods"),
])
def test_resolve_names_as_kubectl_does(given, name):
    assert registry.resolve(given).name == name


def test_unknown_names_raise():
    with pytest.raises(UnknownResource):
        registry.resolve("deployments")
    with pytest.raises(UnknownResource):
        registry.info("pods/exec")
    assert registry.by_kind("Service").name == "services"
    assert registry.info("pods/status").resource == "pods"
