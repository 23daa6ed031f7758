"""Client-side apply: the three-way strategic merge patch and the last-applied annotation.

Each case is (last applied, file, live object) -> the patch kubectl sends; the shapes (where
`$setElementOrder` appears, deletions last, `$retainKeys`, nothing for an unchanged object) are
the ones kubectl 1.32 was seen to send for the same three documents (tests/integration/test_ctl.py
checks the live objects both tools leave).
"""

from __future__ import annotations

import json

import pytest

from bosun.api.applypatch import (
    LAST_APPLIED,
    ApplyPatchError,
    go_float,
    go_json,
    last_applied,
    three_way_patch,
    with_last_applied,
)
from bosun.api.patch import strategic_merge


def rc(*containers: dict, replicas: int | None = 2, labels: dict | None = None,
       **pod_spec) -> dict:
    meta: dict = {"name": "web"}
    if labels is not None:
        meta["labels"] = labels
    spec: dict = {"template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": list(containers), **pod_spec}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta, "spec": spec}


def web(**fields) -> dict:
    return {"name": "web", "image": "nginx:1", **fields}


def live(obj: dict) -> dict:
    """obj as the server would hold it: defaults and server fields added."""
    stored = json.loads(json.dumps(obj))
    stored["metadata"].update(uid="u-1", resourceVersion="7", generation=1)
    for container in stored["spec"]["template"]["spec"]["containers"]:
        container.setdefault("imagePullPolicy", "IfNotPresent")
        for port in container.get("ports", []):
            port.setdefault("protocol", "TCP")
    stored["spec"]["template"]["spec"].setdefault("restartPolicy", "Always")
    stored["status"] = {"replicas": 0}
    return stored


def env(*pairs: str) -> list[dict]:
    return [{"name": k, "value": v} for k, v in (p.split("=") for p in pairs)]


def template(**fields) -> dict:
    return {"spec": {"template": {"spec": fields}}}


def order(*names: str) -> list[dict]:
    return [{"name": name} for name in names]


ENV_AB = rc(web(env=env("A=1", "B=2")))
PORTS = [{"containerPort": 80}, {"containerPort": 443}]

CASES = [
    pytest.param(ENV_AB, ENV_AB, live(ENV_AB), {}, id="unchanged-file-sends-nothing"),
    pytest.param(ENV_AB, rc(web(env=env("A=1", "B=2")), replicas=3), live(ENV_AB),
                 {"spec": {"replicas": 3}}, id="scalar-changed"),
    pytest.param(ENV_AB, rc(web(env=env("A=1", "B=2")), replicas=None), live(ENV_AB),
                 {"spec": {"replicas": None}}, id="field-dropped-from-file-is-deleted"),
    pytest.param(rc(web(), replicas=None), rc(web(), replicas=None), live(rc(web())),
                 {}, id="field-someone-else-set-is-left-alone"),
    pytest.param(rc(web()), rc(web()), {**live(rc(web())), "spec": {
        **live(rc(web()))["spec"], "replicas": 5}},
                 {"spec": {"replicas": 2}}, id="drift-from-the-file-is-reverted"),
    pytest.param(rc(web(), labels={"a": "1", "b": "2"}), rc(web(), labels={"a": "1"}),
                 live(rc(web(), labels={"a": "1", "b": "2"})),
                 {"metadata": {"labels": {"b": None}}}, id="map-key-dropped"),
    pytest.param(ENV_AB, rc(web(env=env("A=1", "B=3"))), live(ENV_AB),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"$setElementOrder/env": order("A", "B"),
                      "env": [{"name": "B", "value": "3"}], "name": "web"}]}),
                 id="keyed-element-changed"),
    pytest.param(ENV_AB, rc(web(env=env("A=1"))), live(ENV_AB),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"$setElementOrder/env": order("A"),
                      "env": [{"$patch": "delete", "name": "B"}], "name": "web"}]}),
                 id="keyed-element-dropped"),
    pytest.param(rc(web(env=env("A=1", "B=2", "C=3"))), rc(web(env=env("C=3", "A=1", "B=2"))),
                 live(rc(web(env=env("A=1", "B=2", "C=3")))),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"$setElementOrder/env": order("C", "A", "B"), "name": "web"}]}),
                 id="keyed-list-reordered"),
    pytest.param(rc(web(env=env("A=1"))), rc(web(env=env("A=1"))),
                 live(rc(web(env=env("A=1", "Z=9")))),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"$setElementOrder/env": order("A"), "name": "web"}]}),
                 id="element-only-the-server-has-still-sends-the-order"),
    pytest.param(rc(web(ports=PORTS)), rc(web()), live(rc(web(ports=PORTS))),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"name": "web", "ports": None}]}), id="whole-keyed-list-dropped"),
    pytest.param(None, rc(web()), live(rc(web(ports=PORTS))), {},
                 id="no-last-applied-deletes-nothing"),
    pytest.param(rc(web(ports=PORTS)), rc(web(ports=PORTS[1:])), live(rc(web(ports=PORTS))),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"$setElementOrder/ports": [{"containerPort": 443}],
                      "name": "web", "ports": [{"$patch": "delete", "containerPort": 80}]}]}),
                 id="numeric-merge-key"),
    pytest.param(rc(web(args=["a", "b"])), rc(web(args=["b"])), live(rc(web(args=["a", "b"]))),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"args": ["b"], "name": "web"}]}), id="list-without-merge-key-replaced"),
    pytest.param(rc(web()), rc(web(), web(name="side")), live(rc(web())),
                 template(**{"$setElementOrder/containers": order("web", "side"),
                             "containers": [web(name="side")]}), id="element-added"),
    pytest.param(rc(web(), web(name="b"), web(name="c")), rc(web(name="c", image="x")),
                 live(rc(web(), web(name="b"), web(name="c"))),
                 template(**{"$setElementOrder/containers": order("c"), "containers": [
                     {"image": "x", "name": "c"}, {"$patch": "delete", "name": "b"},
                     {"$patch": "delete", "name": "web"}]}),
                 id="changes-first-then-deletions-by-key"),
    pytest.param(rc(web(env=env("A=1"))), rc(web(env=env("A=1", "B=2"))), live(rc(web())),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"env": env("A=1", "B=2"), "name": "web"}]}),
                 id="list-the-live-object-lacks-is-sent-whole"),
    pytest.param(rc(web(env=env("A=1"))), rc(web(env=None)), live(rc(web(env=env("A=1")))),
                 template(**{"$setElementOrder/containers": order("web"), "containers": [
                     {"env": None, "name": "web"}]}), id="explicit-null-in-file"),
    pytest.param(rc(web(), volumes=[{"name": "v", "emptyDir": {}}]),
                 rc(web(), volumes=[{"name": "v", "hostPath": {"path": "/d"}}]),
                 live(rc(web(), volumes=[{"name": "v", "emptyDir": {}}])),
                 template(**{"$setElementOrder/volumes": order("v"), "volumes": [
                     {"$retainKeys": ["hostPath", "name"], "emptyDir": None,
                      "hostPath": {"path": "/d"}, "name": "v"}]}),
                 id="volume-source-switched-with-retain-keys"),
]


@pytest.mark.parametrize(("original", "modified", "current", "expected"), CASES)
def test_three_way_patch(original, modified, current, expected):
    assert three_way_patch(original, modified, current, "ReplicationController") == expected


@pytest.mark.parametrize(("original", "modified", "current", "expected"), CASES)
def test_the_patch_takes_the_live_object_where_the_file_says(original, modified, current,
                                                             expected):
    """The server-side merge of the patch keeps what the file sets, as the file orders it."""
    result = strategic_merge(current, expected, "ReplicationController")
    wanted = modified["spec"]["template"]["spec"]["containers"]
    got = result["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in got] == [c["name"] for c in wanted]
    assert _holds(result, modified)
    if original and "replicas" in original["spec"] and "replicas" not in modified["spec"]:
        assert "replicas" not in result["spec"]


def _holds(got: object, want: object) -> bool:
    """Everything `want` sets is in `got` (which may hold more: defaults, others' fields)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            _holds(got.get(key), value) for key, value in want.items() if value is not None)
    if isinstance(want, list) and want and isinstance(want[0], dict):
        return isinstance(got, list) and all(any(_holds(g, w) for g in got) for w in want)
    return got == want


FINALIZERS = [
    pytest.param(["a/x", "b/y"], ["b/y"], {"$deleteFromPrimitiveList/finalizers": ["a/x"],
                                           "$setElementOrder/finalizers": ["b/y"]},
                 id="removed"),
    pytest.param(["a/x"], ["c/z", "a/x"], {"finalizers": ["c/z"],
                                           "$setElementOrder/finalizers": ["c/z", "a/x"]},
                 id="added"),
    pytest.param(["a/x"], ["a/x"], {}, id="same"),
]


@pytest.mark.parametrize(("before", "after", "expected"), FINALIZERS)
def test_lists_of_scalars_merge_as_sets(before, after, expected):
    original = {**rc(web()), "metadata": {"name": "web", "finalizers": before}}
    modified = {**rc(web()), "metadata": {"name": "web", "finalizers": after}}
    patch = three_way_patch(original, modified, live(original), "ReplicationController")
    assert patch == ({"metadata": expected} if expected else {})


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"selector": {"app": "s"}, "ports": [{"name": "a", "port": 80},
                                                      {"name": "b", "port": 443}]}}


def test_service_ports_merge_by_port():
    modified = json.loads(json.dumps(SERVICE))
    modified["spec"]["ports"] = [{"name": "b", "port": 443, "targetPort": 8443}]
    current = json.loads(json.dumps(SERVICE))
    for port in current["spec"]["ports"]:
        port.update(protocol="TCP", targetPort=port["port"])
    assert three_way_patch(SERVICE, modified, current, "Service") == {"spec": {
        "$setElementOrder/ports": [{"port": 443}],
        "ports": [{"port": 443, "targetPort": 8443}, {"$patch": "delete", "port": 80}]}}


def test_a_changed_type_is_replaced_whole():
    before = rc(web(ports=[{"containerPort": 80, "name": "http"}]))
    after = rc(web(ports="80"))
    patch = three_way_patch(before, after, live(before), "ReplicationController")
    assert patch == template(**{"$setElementOrder/containers": order("web"),
                                "containers": [{"name": "web", "ports": "80"}]})


def test_true_is_not_one():
    before = rc(web(tty=1))
    after = rc(web(tty=True))
    patch = three_way_patch(before, after, live(before), "ReplicationController")
    assert patch["spec"]["template"]["spec"]["containers"] == [{"name": "web", "tty": True}]


def test_whole_floats_equal_ints():
    before = rc(web(), replicas=2)
    assert three_way_patch(before, rc(web(), replicas=2.0), live(before),
                           "ReplicationController") == {}


@pytest.mark.parametrize(("modified", "message"), [
    pytest.param(rc({"image": "x"}), "does not contain the merge key 'name'", id="no-merge-key"),
    pytest.param(rc(web(args=[["a"]])), None, id="list-of-lists-is-replaced-not-merged"),
    pytest.param({**rc(web()), "kind": "Pod"}, "kind", id="kind-changed"),
    pytest.param({**rc(web()), "metadata": {"name": "other"}}, "metadata.name",
                 id="name-changed"),
])
def test_refused(modified, message):
    original = rc(web())
    if message is None:
        three_way_patch(original, modified, live(original), "ReplicationController")
        return
    with pytest.raises(ApplyPatchError, match=message):
        three_way_patch(original, modified, live(original), "ReplicationController")


def test_env_list_of_lists_cannot_merge():
    before = rc(web(env=env("A=1")))
    with pytest.raises(ApplyPatchError, match="lists of lists"):
        three_way_patch(before, rc(web(env=[["A"]])), live(before), "ReplicationController")


def test_unknown_kind_is_a_key_error():
    with pytest.raises(KeyError):
        three_way_patch({}, {"kind": "Deployment"}, {}, "Deployment")


# -- the annotation -------------------------------------------------------------------------------

def test_annotation_is_the_object_without_it_sorted_compact_with_a_newline():
    obj = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "i"}]}}
    annotated = with_last_applied(obj)
    text = annotated["metadata"]["annotations"][LAST_APPLIED]
    assert text == ('{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"p",'
                    '"namespace":"default"},"spec":{"containers":[{"image":"i","name":"c"}]}}\n')
    assert "annotations" not in obj["metadata"]  # the input is left alone


def test_annotation_keeps_other_annotations_and_replaces_an_old_copy():
    obj = {"metadata": {"name": "p", "annotations": {"owner": "ops", LAST_APPLIED: "stale"}}}
    annotated = with_last_applied(obj)["metadata"]["annotations"]
    assert annotated["owner"] == "ops"
    assert json.loads(annotated[LAST_APPLIED]) == {
        "metadata": {"name": "p", "annotations": {"owner": "ops"}}}


@pytest.mark.parametrize(("value", "text"), [
    pytest.param("a<b>&c", '"a\\u003cb\\u003e\\u0026c"', id="html-escaped"),
    pytest.param("é\u2028", '"é\\u2028"', id="utf8-kept-line-separator-escaped"),
    pytest.param("tab\there", '"tab\\there"', id="control"),
    pytest.param(2.0, "2", id="whole-float"),
    pytest.param(0.5, "0.5", id="fraction"),
    pytest.param(1e21, "1e+21", id="large"),
    pytest.param(1e-7, "1e-7", id="small"),
    pytest.param(123456789.0, "123456789", id="no-exponent-below-1e21"),
    pytest.param({"b": [], "a": {}}, '{"a":{},"b":[]}', id="empty-containers"),
])
def test_go_json(value, text):
    assert go_json(value) == text


def test_go_json_indented_as_marshal_indent():
    assert go_json({"b": [1, {"c": None}], "a": {}}, indent=4) == (
        '{\n    "a": {},\n    "b": [\n        1,\n        {\n            "c": null\n'
        '        }\n    ]\n}')


def test_go_float_refuses_nan():
    with pytest.raises(ValueError):
        go_float(float("nan"))


@pytest.mark.parametrize(("annotations", "expected"), [
    pytest.param(None, None, id="none"),
    pytest.param({LAST_APPLIED: '{"a":1}\n'}, {"a": 1}, id="parsed"),
    pytest.param({LAST_APPLIED: ""}, None, id="empty"),
])
def test_last_applied(annotations, expected):
    meta = {"name": "x"} if annotations is None else {"name": "x", "annotations": annotations}
    assert last_applied({"metadata": meta}) == expected


@pytest.mark.parametrize("text", ["not json", "[1]"], ids=["garbage", "not-an-object"])
def test_last_applied_refuses_a_broken_annotation(text):
    with pytest.raises(ApplyPatchError):
        last_applied({"metadata": {"annotations": {LAST_APPLIED: text}}})
