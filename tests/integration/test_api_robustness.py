"""The API under bad conditions: restarts, etcd outages, bad input, missing or weak tokens."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosun.store.local import LocalEtcd

from .apiserver import ROOT, ApiServer

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "steady", "labels": {"a": "b"}},
       "spec": {"containers": [{"name": "c", "image": "bosun/busybox:1"}]}}
PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture()
def own_server(tmp_path):
    """A server and etcd of this test's own, free to be killed and restarted."""
    with LocalEtcd(tmp_path / "etcd") as etcd:
        server = ApiServer(tmp_path / "api", etcd)
        server.workdir.mkdir()
        server.start()
        try:
            yield server
        finally:
            server.stop()


def test_restart_loses_nothing(own_server):
    status, created = own_server.request("POST", PODS, POD)
    assert status == 201
    own_server.kill()
    own_server.start()
    status, read = own_server.request("GET", f"{PODS}/steady")
    assert status == 200
    assert read["metadata"]["uid"] == created["metadata"]["uid"]
    assert read["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_etcd_outage_gives_503_and_recovers_by_itself(own_server):
    assert own_server.request("POST", PODS, POD)[0] == 201
    own_server.etcd.stop()
    try:
        status, body = own_server.request("GET", f"{PODS}/steady")
        assert status == 503
        assert body["kind"] == "Status" and body["reason"] == "ServiceUnavailable"
        status, _ = own_server.request("POST", PODS, {**POD, "metadata": {"name": "later"}})
        assert status == 503
    finally:
        own_server.etcd.start()
    deadline = time.monotonic() + 15
    while own_server.request("GET", f"{PODS}/steady")[0] != 200:
        assert time.monotonic() < deadline, "the server did not recover after etcd came back"
        time.sleep(0.2)
    assert own_server.request("GET", f"{PODS}/later")[0] == 404


def test_requests_without_a_valid_token_are_refused(apiserver):
    status, body = apiserver.request("GET", PODS, token=None)
    assert (status, body["reason"]) == (401, "Unauthorized")
    assert apiserver.request("GET", PODS, token="not-a-token")[0] == 401
    assert apiserver.request("GET", "/version", token=None)[0] == 200


def test_viewers_may_read_but_not_write(tmp_path, etcd):
    server = ApiServer(tmp_path, etcd)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tokens.csv").write_text(
        'admintoken,admin,1,"system:masters"\nviewtoken,viewer,2,"bosun:viewers"\n'
        "nobodytoken,nobody,3\n")
    server.start()
    try:
        assert server.request("GET", PODS, token="viewtoken")[0] == 200
        status, body = server.request("POST", PODS, POD, token="viewtoken")
        assert (status, body["reason"]) == (403, "Forbidden")
        assert 'User "viewer" cannot create resource "pods"' in body["message"]
        assert server.request("GET", PODS, token="nobodytoken")[0] == 403
    finally:
        server.stop()


def test_plain_http_is_refused_off_loopback(tmp_path, etcd):
    done = subprocess.run(
        [sys.executable, str(ROOT / "orchestrator.py"), "serve", "--insecure-http",
         "--bind", "0.0.0.0", "--data-dir", str(tmp_path), "--etcd", etcd.endpoint],
        capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "--insecure-http is only allowed on a loopback address" in done.stderr


@pytest.mark.parametrize(("body", "content_type", "reason"), [
    (b"{not json", "application/json", "BadRequest"),
    (b"[1, 2]", "application/json", "BadRequest"),
    (b"", "application/json", "BadRequest"),
    (b"\xff\xfe", "application/json", "BadRequest"),
    (b"a: [", "application/yaml", "BadRequest"),
    (b"{}", "application/vnd.kubernetes.protobuf", "BadRequest"),  # no k8s\0 magic
    (b'{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "x"}}', "application/json",
     "BadRequest"),
    (b'{"metadata": {"name": "x"}, "spec": {"containers": "nope"}}', "application/json",
     "BadRequest"),
    (b"[" * 100000 + b"]" * 100000, "application/json", "BadRequest"),
], ids=["broken-json", "array", "empty", "not-utf8", "broken-yaml", "protobuf", "wrong-kind",
        "wrong-type", "deep-nesting"])
def test_malformed_bodies_get_a_4xx_status(apiserver, body, content_type, reason):
    status, answer = apiserver.request("POST", PODS, raw=body, content_type=content_type)
    assert 400 <= status < 500
    assert answer["kind"] == "Status" and answer["reason"] == reason


def test_huge_body_is_refused_with_413(apiserver):
    huge = json.dumps({**POD, "metadata": {"name": "huge",
                                           "annotations": {"x": "y" * (4 * 1024 * 1024)}}})
    status, answer = apiserver.request("POST", PODS, raw=huge.encode())
    assert status == 413 and answer["reason"] == "RequestEntityTooLarge"
    assert apiserver.request("GET", f"{PODS}/huge")[0] == 404


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                      st.text(max_size=20), st.floats(allow_nan=False))
JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)
FIELDS = st.sampled_from(["metadata", "spec", "status", "kind", "apiVersion"])
MANIFESTS = st.dictionaries(FIELDS, JSON, max_size=5)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=MANIFESTS)
def test_arbitrary_manifests_get_4xx_or_a_valid_pod(apiserver, manifest):
    status, answer = apiserver.request("POST", "/api/v1/namespaces/default/pods?dryRun=All",
                                       manifest)
    assert status in (201, 400, 404, 409, 422), answer
    if status != 201:
        assert answer["kind"] == "Status" and answer["code"] == status


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=JSON, kind=st.sampled_from(["application/strategic-merge-patch+json",
                                         "application/merge-patch+json",
                                         "application/json-patch+json"]))
def test_arbitrary_patches_get_4xx_and_change_nothing_when_refused(apiserver, patch, kind):
    name = "patch-target"
    if apiserver.request("GET", f"{PODS}/{name}")[0] == 404:
        apiserver.request("POST", PODS, {**POD, "metadata": {"name": name}})
    before = apiserver.request("GET", f"{PODS}/{name}")[1]
    status, answer = apiserver.request("PATCH", f"{PODS}/{name}", patch, content_type=kind)
    assert status in (200, 400, 409, 415, 422), answer
    if status != 200:
        assert answer["kind"] == "Status"
        assert apiserver.request("GET", f"{PODS}/{name}")[1] == before


def test_server_started_before_etcd_creates_default_namespace_once_it_is_there(tmp_path):
    etcd = LocalEtcd(tmp_path / "etcd")
    server = ApiServer(tmp_path / "api", etcd)
    server.workdir.mkdir()
    server.start()  # etcd is not running yet: /version answers anyway
    try:
        assert server.request("GET", "/api/v1/namespaces/default")[0] == 503
        etcd.start()
        deadline = time.monotonic() + 20
        while server.request("GET", "/api/v1/namespaces/default")[0] != 200:
            assert time.monotonic() < deadline, server.log()[-2000:]
            time.sleep(0.2)
    finally:
        server.stop()
        etcd.stop()
