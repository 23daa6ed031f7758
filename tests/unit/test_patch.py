"""The three patch types: Kubernetes strategic merge, RFC 7386 merge, RFC 6902 JSON patch.

The strategic cases are what kubectl sends (apply, edit, label, scale) and cases from the
behaviour of Kubernetes' own strategic merge (its patch_test.go), including its list order.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bosun.api.patch import BadPatch, json_merge, json_patch, strategic_merge
from bosun.errors import PermanentError


def _container(**changes) -> dict:
    container = {
        "name": "web", "image": "nginx:1",
        "ports": [{"containerPort": 80, "protocol": "TCP"},
                  {"containerPort": 443, "protocol": "TCP"}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    container.update(changes)
    return {key: value for key, value in container.items() if value is not None}


def _rc(*containers, **pod_spec) -> dict:
    """A ReplicationController whose pod template has containers and the other pod_spec fields."""
    return {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {"replicas": 2, "selector": {"app": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": list(containers or [_container()]), **pod_spec}}},
    }


def _template(**fields) -> dict:
    """A patch of the RC's pod template spec."""
    return {"spec": {"template": {"spec": fields}}}


def _meta(**fields) -> dict:
    return {"metadata": fields}


def _rc_meta(**changes) -> dict:
    rc = _rc()
    rc["metadata"].update(changes)
    return rc


def _env(*pairs: str) -> list[dict]:
    return [{"name": name, "value": value} for name, value in (pair.split("=") for pair in pairs)]


_SIDECAR = {"name": "log", "image": "busybox"}
_DATA_EMPTYDIR = [{"name": "data", "emptyDir": {}}]

RC_CASES = [
    pytest.param(
        _rc(),
        {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}],
                                        "containers": [{"name": "web", "image": "nginx:2"}]}}}},
        _rc(_container(image="nginx:2")), id="apply-new-image-keeps-ports-and-env"),
    pytest.param(
        _rc(), _template(containers=[{"name": "web", "env": [{"name": "B", "value": "3"}]}]),
        _rc(_container(env=_env("A=1", "B=3"))), id="env-value-merged-by-name"),
    pytest.param(
        _rc(), _template(**{"$setElementOrder/containers": [{"name": "web"}], "containers": [{
            "name": "web", "$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
            "env": [{"name": "B", "value": "3"}]}]}),
        _rc(_container(env=_env("A=1", "B=3"))), id="env-value-as-kubectl-apply-sends-it"),
    pytest.param(
        _rc(), _template(containers=[{
            "name": "web", "$setElementOrder/ports": [{"containerPort": 443}],
            "ports": [{"$patch": "delete", "containerPort": 80}]}]),
        _rc(_container(ports=[{"containerPort": 443, "protocol": "TCP"}])),
        id="port-deleted-by-directive"),
    pytest.param(
        _rc(), _template(containers=[{"name": "web", "ports": None}]),
        _rc(_container(ports=None)), id="ports-null-deletes-the-list"),
    pytest.param(
        _rc(), _template(containers=[{"name": "web", "$setElementOrder/env": [
            {"name": "B"}, {"name": "A"}]}]),
        _rc(_container(env=_env("B=2", "A=1"))), id="set-element-order-reorders-env"),
    pytest.param(
        _rc(_container(), _SIDECAR),
        _template(**{"$setElementOrder/containers": [{"name": "log"}, {"name": "web"}]}),
        _rc(_SIDECAR, _container()), id="set-element-order-reorders-containers"),
    pytest.param(
        _rc(), _template(containers=[_SIDECAR]),
        _rc(_SIDECAR, _container()), id="new-container-without-order-comes-first"),
    pytest.param(
        _rc(), _template(**{"$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
                            "containers": [_SIDECAR]}),
        _rc(_container(), _SIDECAR), id="new-container-goes-where-order-says"),
    pytest.param(
        _rc(_container(env=_env("1=a", "2=b", "3=c"))),
        _template(containers=[{"name": "web", "env": _env("3=z", "1=y")}]),
        _rc(_container(env=_env("2=b", "3=z", "1=y"))), id="patch-order-kept-as-kubernetes"),
    pytest.param(
        _rc(_container(), _SIDECAR),
        _template(containers=[{"name": "log", "image": "v2"}, {"$patch": "delete", "name": "log"}]),
        _rc({"name": "log", "image": "v2"}, _container()), id="deleted-then-re-added-comes-first"),
    pytest.param(
        _rc(_container(env=_env("A=1", "X=x", "B=2"))),
        _template(containers=[{
            "name": "web", "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
            "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "B"}]}]),
        _rc(_container(env=_env("A=1", "X=x", "C=3"))), id="replacement-takes-the-deleted-slot"),
    pytest.param(
        _rc(volumes=_DATA_EMPTYDIR),
        _template(**{"$setElementOrder/volumes": [{"name": "data"}], "volumes": [{
            "$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/srv"}, "name": "data"}]}),
        _rc(volumes=[{"name": "data", "hostPath": {"path": "/srv"}}]),
        id="retain-keys-switches-emptydir-to-hostpath"),
    pytest.param(
        _rc(volumes=_DATA_EMPTYDIR),
        _template(volumes=[{"hostPath": {"path": "/srv"}, "name": "data"}]),
        _rc(volumes=[{"name": "data", "emptyDir": {}, "hostPath": {"path": "/srv"}}]),
        id="volume-without-retain-keys-merges-both-sources"),
    pytest.param(
        _rc(_container(), _SIDECAR),
        _template(containers=[{"$patch": "replace"}, {"name": "new", "image": "x"}]),
        _rc({"name": "new", "image": "x"}), id="replace-directive-in-list"),
    pytest.param(
        _rc(_container(env=[{"name": "A"}, {"name": "A"}, {"name": "B"}])),
        _template(containers=[{"name": "web", "env": [{"name": "A", "$patch": "delete"}]}]),
        _rc(_container(env=[{"name": "B"}])), id="delete-removes-every-duplicate"),
    pytest.param(
        _rc(tolerations=[{"key": "a", "operator": "Exists"}]),
        _template(tolerations=[{"key": "b", "operator": "Exists"}]),
        _rc(tolerations=[{"key": "b", "operator": "Exists"}]), id="tolerations-are-replaced"),
    pytest.param(
        _rc(_container(args=["-a", "-b"])), _template(containers=[{"name": "web", "args": ["-c"]}]),
        _rc(_container(args=["-c"])), id="args-are-replaced"),
    pytest.param(
        _rc(), _template(containers=[{"name": "web", "volumeMounts": [
            {"mountPath": "/data", "readOnly": True}, {"name": "logs", "mountPath": "/logs"}]}]),
        _rc(_container(volumeMounts=[{"name": "data", "mountPath": "/data", "readOnly": True},
                                     {"name": "logs", "mountPath": "/logs"}])),
        id="volume-mounts-merged-by-mount-path"),
    pytest.param(
        _rc(), _template(securityContext={"runAsUser": 1, "fsGroup": None}, unknownList=[1]),
        _rc(securityContext={"runAsUser": 1}, unknownList=[1]), id="new-fields-drop-nulls"),
    pytest.param(
        _rc(nodeSelector={"disk": "ssd"}), _template(nodeSelector={"$patch": "delete"}),
        _rc(nodeSelector={}), id="delete-directive-empties-a-map"),
    pytest.param(
        _rc(), {"metadata": {"labels": {"app": None, "track": "stable"},
                             "annotations": {"note": "x"}}},
        _rc_meta(labels={"track": "stable"}, annotations={"note": "x"}),
        id="labels-set-and-null-deleted"),
    pytest.param(
        _rc(), _meta(labels={"$patch": "replace", "only": "this"}),
        _rc_meta(labels={"only": "this"}), id="replace-directive-in-map"),
    pytest.param(
        _rc(), _meta(labels={"nope": None}), _rc(), id="null-for-a-missing-key-is-a-no-op"),
    pytest.param(
        _rc(), _meta(**{"$deleteFromPrimitiveList/finalizers": ["b"]}),
        _rc_meta(finalizers=["a"]), id="delete-from-primitive-list"),
    pytest.param(
        _rc(), _meta(finalizers=["b", "c"]), _rc_meta(finalizers=["a", "b", "c"]),
        id="finalizers-unioned"),
    pytest.param(
        _rc(), _meta(finalizers=["c", "a"]), _rc_meta(finalizers=["c", "a", "b"]),
        id="finalizers-union-orders-as-kubernetes"),
    pytest.param(
        _rc(), _meta(**{"$setElementOrder/finalizers": ["a", "d"], "finalizers": ["d"],
                        "$deleteFromPrimitiveList/finalizers": ["b"]}),
        _rc_meta(finalizers=["a", "d"]), id="finalizers-as-kubectl-apply-sends-them"),
    pytest.param(
        _rc_meta(finalizers=list("1279834")),
        _meta(**{"$setElementOrder/finalizers": list("2143")}),
        _rc_meta(finalizers=list("2179843")), id="order-keeps-server-only-items-in-place"),
    pytest.param(
        _rc_meta(ownerReferences=[{"uid": "u1", "name": "x"}, {"uid": "u2", "name": "y"}]),
        _meta(ownerReferences=[{"uid": "u2", "controller": True}]),
        _rc_meta(ownerReferences=[{"uid": "u1", "name": "x"},
                                  {"uid": "u2", "name": "y", "controller": True}]),
        id="owner-references-merged-by-uid"),
    pytest.param(_rc(), {}, _rc(), id="empty-patch"),
    pytest.param(_rc(), {"$patch": "delete"}, {}, id="delete-directive-at-the-root"),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RC_CASES)
def test_strategic_merge_replication_controller(original, patch, expected):
    assert strategic_merge(original, patch, "ReplicationController") == expected


_NODE_CONDITIONS = [{"type": "Ready", "status": "False"},
                    {"type": "MemoryPressure", "status": "False"}]
_READY_FALSE = {"type": "Ready", "status": "False"}
_SCHEDULED = {"type": "PodScheduled", "status": "True"}
_SERVICE_PORTS = [{"name": "http", "port": 80, "targetPort": 8080},
                  {"name": "https", "port": 443, "targetPort": 8443}]

KIND_CASES = [
    pytest.param(
        "Service", {"spec": {"ports": _SERVICE_PORTS, "selector": {"app": "web"}}},
        {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}},
        {"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 9090}, _SERVICE_PORTS[1]],
                  "selector": {"app": "web"}}}, id="service-ports-merged-by-port"),
    pytest.param(
        "Node", {"status": {"conditions": _NODE_CONDITIONS}},
        {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {"status": {"conditions": [{"type": "Ready", "status": "True"}, _NODE_CONDITIONS[1]]}},
        id="node-conditions-merged-by-type"),
    pytest.param(
        "Node", {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"},
                                          {"type": "Hostname", "address": "m1"}]}},
        {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}},
        {"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"},
                                  {"type": "Hostname", "address": "m1"}]}},
        id="node-addresses-merged-by-type"),
    pytest.param(
        "Node", {"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}},
        {"spec": {"taints": [{"key": "b", "effect": "NoSchedule"}]}},
        {"spec": {"taints": [{"key": "b", "effect": "NoSchedule"}]}}, id="node-taints-replaced"),
    pytest.param(
        "Pod", {"status": {"phase": "Pending", "conditions": [_READY_FALSE]}},
        {"status": {"phase": "Running", "conditions": [_SCHEDULED]}},
        {"status": {"phase": "Running", "conditions": [_SCHEDULED, _READY_FALSE]}},
        id="pod-status-conditions-merged-by-type"),
    pytest.param(
        "Pod", {"spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
                         "imagePullSecrets": [{"name": "s1"}]}},
        {"spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
                  "imagePullSecrets": [{"name": "s2"}]}},
        {"spec": {"hostAliases": [{"ip": "10.0.0.1", "hostnames": ["b"]}],
                  "imagePullSecrets": [{"name": "s2"}, {"name": "s1"}]}},
        id="pod-host-aliases-by-ip-and-pull-secrets-by-name"),
    pytest.param(
        "Pod", {"spec": {"initContainers": [{"name": "init", "image": "a", "command": ["x"]}]}},
        {"spec": {"initContainers": [{"name": "init", "image": "b"}]}},
        {"spec": {"initContainers": [{"name": "init", "image": "b", "command": ["x"]}]}},
        id="pod-init-containers-merged-by-name"),
    pytest.param(
        "Endpoints", {"subsets": [{"addresses": [{"ip": "10.244.1.2"}]}]},
        {"subsets": [{"addresses": [{"ip": "10.244.2.2"}]}]},
        {"subsets": [{"addresses": [{"ip": "10.244.2.2"}]}]}, id="endpoints-subsets-replaced"),
    pytest.param(
        "Scale", {"spec": {"replicas": 2}, "status": {"replicas": 2, "selector": "app=web"}},
        {"spec": {"replicas": 5}},
        {"spec": {"replicas": 5}, "status": {"replicas": 2, "selector": "app=web"}},
        id="scale-replicas"),
    pytest.param(
        "Namespace", {"status": {"phase": "Active"}}, {"metadata": {"labels": {"team": "x"}}},
        {"status": {"phase": "Active"}, "metadata": {"labels": {"team": "x"}}},
        id="namespace-gains-labels"),
]


@pytest.mark.parametrize(("kind", "original", "patch", "expected"), KIND_CASES)
def test_strategic_merge_other_kinds(kind, original, patch, expected):
    assert strategic_merge(original, patch, kind) == expected


BAD_STRATEGIC = [
    pytest.param("Pod", [], "must be a JSON object", id="patch-is-a-list"),
    pytest.param("Pod", None, "must be a JSON object", id="patch-is-null"),
    pytest.param("Widget", {}, "not supported for Widget", id="unknown-kind"),
    pytest.param("Pod", {"metadata": {"$bogus": 1}}, "unknown patch directive", id="unknown"),
    pytest.param("Pod", {"$setElementOrder/": []}, "unknown patch directive", id="no-field-name"),
    pytest.param("Pod", _meta(labels={"$patch": "explode"}), "unknown $patch", id="bad-map-patch"),
    pytest.param("Pod", {"spec": {"containers": [{"$patch": 1, "name": "web"}]}},
                 "unknown $patch", id="bad-list-element-patch"),
    pytest.param("Pod", {"spec": {"containers": [{"image": "x"}]}}, "merge key 'name'",
                 id="element-without-merge-key"),
    pytest.param("Pod", {"spec": {"containers": [{"name": {"x": 1}}]}}, "merge key 'name'",
                 id="merge-key-is-an-object"),
    pytest.param("Pod", {"spec": {"containers": [
                     {"name": "web", "ports": [{"$patch": "delete"}]}]}},
                 "merge key 'containerPort'", id="delete-without-merge-key"),
    pytest.param("Pod", {"spec": {"containers": ["web"]}}, "must be objects",
                 id="scalar-in-keyed-list"),
    pytest.param("Pod", {"spec": {"containers": {"name": "web"}}}, "expected a list",
                 id="object-for-a-merging-list"),
    pytest.param("Pod", {"spec": ["x"]}, "expected an object", id="list-where-object-expected"),
    pytest.param("Pod", {"spec": {"tolerations": {"key": "x"}}}, "expected a list",
                 id="object-where-list-stored"),
    pytest.param("Pod", {"spec": {"$setElementOrder/containers": {"name": "web"}}},
                 "must be a list", id="order-not-a-list"),
    pytest.param("Pod", {"spec": {"$setElementOrder/containers": [{"image": "x"}]}},
                 "merge key 'name'", id="order-element-without-key"),
    pytest.param("Pod", {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                                  "containers": [{"name": "b"}, {"name": "a"}]}},
                 "does not match", id="order-contradicts-patch-list"),
    pytest.param("Pod", {"spec": {"$setElementOrder/tolerations": [{"key": "a"}]}},
                 "merging list", id="order-for-an-atomic-list"),
    pytest.param("Pod", {"spec": {"volumes": [{"$retainKeys": "name", "name": "data"}]}},
                 "$retainKeys must be a list", id="retain-keys-not-a-list"),
    pytest.param("Pod", {"spec": {"volumes": [{"$retainKeys": ["name"], "name": "data",
                                               "hostPath": {"path": "/srv"}}]}},
                 "does not list hostPath", id="retain-keys-omits-a-patched-field"),
    pytest.param("Pod", _meta(**{"$deleteFromPrimitiveList/finalizers": [{"a": 1}]}),
                 "list of scalars", id="delete-list-of-objects"),
    pytest.param("Pod", _meta(finalizers=[["a"]]), "list of scalars", id="list-in-primitive-list"),
]


@pytest.mark.parametrize(("kind", "patch", "message"), BAD_STRATEGIC)
def test_strategic_merge_rejects(kind, patch, message):
    original = {"metadata": {"finalizers": ["a"]},
                "spec": {"containers": [_container()], "tolerations": [{"key": "a"}]}}
    with pytest.raises(BadPatch, match=message.replace("$", r"\$")):
        strategic_merge(original, patch, kind)


def test_bad_patch_is_permanent():
    assert issubclass(BadPatch, PermanentError)


RFC7386_CASES = [  # RFC 7386 appendix A, the cases whose patch is an object
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    (_rc(), {"spec": {"replicas": 5}}, {**_rc(), "spec": {**_rc()["spec"], "replicas": 5}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC7386_CASES,
                         ids=[f"rfc7386-{n}" for n in range(10)] + ["kubectl-scale"])
def test_json_merge(original, patch, expected):
    assert json_merge(original, patch) == expected


def test_json_merge_wipes_container_ports_unlike_strategic():
    patch = _template(containers=[{"name": "web", "image": "nginx:2"}])
    merged = json_merge(_rc(), patch)["spec"]["template"]["spec"]["containers"]
    assert merged == [{"name": "web", "image": "nginx:2"}]


@pytest.mark.parametrize("patch", [[], "x", None, 3], ids=["list", "string", "null", "number"])
def test_json_merge_rejects_non_objects(patch):
    with pytest.raises(BadPatch, match="must be a JSON object"):
        json_merge({"a": 1}, patch)


JSON_PATCH_CASES = [
    pytest.param([{"op": "replace", "path": "/spec/replicas", "value": 3}],
                 {"spec": {"replicas": 3, "selector": {"app": "web"}}}, id="replace"),
    pytest.param([{"op": "add", "path": "/spec/paused", "value": True}],
                 {"spec": {"replicas": 2, "selector": {"app": "web"}, "paused": True}}, id="add"),
    pytest.param([{"op": "test", "path": "/spec/replicas", "value": 2},
                  {"op": "remove", "path": "/spec/selector"}],
                 {"spec": {"replicas": 2}}, id="test-then-remove"),
    pytest.param([{"op": "move", "from": "/spec/selector", "path": "/selector"}],
                 {"spec": {"replicas": 2}, "selector": {"app": "web"}}, id="move"),
]


@pytest.mark.parametrize(("operations", "expected"), JSON_PATCH_CASES)
def test_json_patch(operations, expected):
    assert json_patch({"spec": {"replicas": 2, "selector": {"app": "web"}}}, operations) == expected


BAD_JSON_PATCHES = [
    pytest.param([{"op": "test", "path": "/spec/replicas", "value": 9}], id="test-fails"),
    pytest.param([{"op": "remove", "path": "/spec/nope"}], id="missing-path"),
    pytest.param([{"op": "replace", "path": "/nope/deeper", "value": 1}], id="missing-parent"),
    pytest.param([{"op": "explode", "path": "/spec"}], id="unknown-op"),
    pytest.param([{"op": "add", "path": "/spec/x"}], id="add-without-value"),
    pytest.param([{"op": "add", "path": "spec", "value": 1}], id="path-without-slash"),
    pytest.param([{"path": "/spec"}], id="no-op"),
    pytest.param(["remove /spec"], id="operation-not-an-object"),
    pytest.param({"op": "remove", "path": "/spec"}, id="not-a-list"),
    pytest.param([{"op": "replace", "path": "", "value": [1]}], id="result-not-an-object"),
]


@pytest.mark.parametrize("operations", BAD_JSON_PATCHES)
def test_json_patch_rejects(operations):
    with pytest.raises(BadPatch):
        json_patch({"spec": {"replicas": 2}}, operations)


# ---- properties ----------------------------------------------------------------------------

_SCALARS = (st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
    ["delete", "replace", "merge", "web", "A", "data", "name"]) | st.text(max_size=3)
    | st.floats(allow_nan=False, allow_infinity=False))
_KEYS = st.sampled_from([
    "$patch", "$retainKeys", "$setElementOrder/containers", "$setElementOrder/env",
    "$setElementOrder/ports", "$setElementOrder/finalizers", "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/args", "$setElementOrder/", "$nonsense", "metadata", "spec",
    "template", "containers", "env", "ports", "volumes", "finalizers", "labels", "name",
    "containerPort", "image", "args", "emptyDir", "hostPath", "tolerations", "value",
]) | st.text(max_size=3)


def _json(keys, scalars=_SCALARS, lists=True):
    def extend(inner):
        maps = st.dictionaries(keys, inner, max_size=4)
        return (st.lists(inner, max_size=4) | maps) if lists else maps
    return st.recursive(scalars, extend, max_leaves=16)


_OBJECTS = st.dictionaries(_KEYS, _json(_KEYS), max_size=5)
_ANCHORS = st.sampled_from([(), ("metadata",), ("spec", "template", "spec"),
                            ("spec", "template", "spec", "containers")])


@st.composite
def _anchored_patches(draw):
    """Random JSON planted where the schema has merging lists, so directives meet real rules."""
    anchor = draw(_ANCHORS)
    if anchor[-1:] == ("containers",):
        named = st.builds(lambda name, rest: {"name": name, **rest},
                          st.sampled_from(["web", "log"]), _OBJECTS)
        value = draw(st.lists(named, max_size=3))
    else:
        value = draw(_OBJECTS)
    for name in reversed(anchor):
        value = {name: value}
    return value


_PATCHES = _anchored_patches() | _OBJECTS | st.sampled_from([None, [], [{}], "x", 3, True, 1.5])
_FIXTURES = [_rc(), _rc(_container(), _SIDECAR, volumes=_DATA_EMPTYDIR)]
_ORIGINALS = st.sampled_from(_FIXTURES) | _OBJECTS


@given(_ORIGINALS)
def test_empty_patch_is_identity(original):
    assert strategic_merge(original, {}, "ReplicationController") == original
    assert json_merge(original, {}) == original
    assert json_patch(original, []) == original


_PLAIN_KEYS = st.sampled_from("abc")
_PLAIN_NO_NULLS = _json(_PLAIN_KEYS, scalars=st.booleans() | st.integers(-3, 3) | st.text("xy"))


def _diff(old: dict, new: dict) -> dict:
    """The merge patch that turns old into new (new holding no nulls)."""
    patch = {key: None for key in old if key not in new}
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(old.get(key), dict):
            if nested := _diff(old[key], value):
                patch[key] = nested
        elif key not in old or old[key] != value:
            patch[key] = value
    return patch


@given(st.dictionaries(_PLAIN_KEYS, _json(_PLAIN_KEYS)),
       st.dictionaries(_PLAIN_KEYS, _PLAIN_NO_NULLS))
def test_json_merge_laws(old, new):
    merged = json_merge(old, new)
    assert json_merge(old, _diff(old, new)) == new
    assert json_merge(merged, new) == merged
    _assert_covers(merged, new)


def _assert_covers(merged: dict, patch: dict) -> None:
    """Every non-object value of a null-free patch is in the result; objects recursively."""
    for key, value in patch.items():
        if isinstance(value, dict):
            _assert_covers(merged[key], value)
        else:
            assert merged[key] == value


def _stores_list_where_patch_has_object(original: object, patch: object) -> bool:
    if not isinstance(original, dict) or not isinstance(patch, dict):
        return False
    return any(isinstance(value, dict) and (isinstance(original.get(key), list)
               or _stores_list_where_patch_has_object(original.get(key), value))
               for key, value in patch.items())


@given(st.dictionaries(_PLAIN_KEYS, _json(_PLAIN_KEYS)),
       st.dictionaries(_PLAIN_KEYS, _json(_PLAIN_KEYS, lists=False)))
def test_strategic_merge_without_lists_is_json_merge(original, patch):
    assume(not _stores_list_where_patch_has_object(original, patch))
    assert strategic_merge(original, patch, "Pod") == json_merge(original, patch)


_NAMES = st.lists(st.sampled_from("ABCDEF"), unique=True, max_size=6)


@given(_NAMES, _NAMES, st.data())
def test_env_merged_by_name_keeps_unpatched_entries(stored, patched, data):
    original = _rc(_container(env=[{"name": n, "value": "old"} for n in stored]))
    order = data.draw(st.permutations(sorted(set(stored) | set(patched))))
    container = {"name": "web", "env": [{"name": n, "value": "new"} for n in patched]}
    if data.draw(st.booleans()):
        container["$setElementOrder/env"] = [{"name": n} for n in order]
        container["env"] = [{"name": n, "value": "new"} for n in order if n in patched]
    result = strategic_merge(original, _template(containers=[container]), "ReplicationController")
    env = result["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["name"]: e["value"] for e in env} == {
        **{n: "old" for n in stored}, **{n: "new" for n in patched}}
    if "$setElementOrder/env" in container:
        assert [e["name"] for e in env] == list(order)


def _scribble(value: object) -> None:
    """Change every container inside value, to show the result shares nothing with the inputs."""
    if isinstance(value, dict):
        for nested in list(value.values()):
            _scribble(nested)
        value["scribbled"] = True
    elif isinstance(value, list):
        for nested in value:
            _scribble(nested)
        value.append("scribbled")


def _apply_each(original: dict, patch: object):
    for apply in (lambda: strategic_merge(original, patch, "ReplicationController"),
                  lambda: json_merge(original, patch), lambda: json_patch(original, patch)):
        try:
            yield apply()
        except BadPatch:
            pass


@given(_ORIGINALS, _PATCHES)
def test_inputs_never_mutated_nor_shared(original, patch):
    original_before, patch_before = copy.deepcopy(original), copy.deepcopy(patch)
    for result in _apply_each(original, patch):
        _scribble(result)
    assert original == original_before
    assert patch == patch_before


@settings(max_examples=300)
@given(_ORIGINALS, _PATCHES)
def test_malformed_strategic_patches_raise_only_bad_patch(original, patch):
    try:
        result = strategic_merge(original, patch, "ReplicationController")
    except BadPatch:
        return
    assert isinstance(result, dict)
    assert not any(key.startswith("$") for key in _all_keys(result) - _all_keys(original))


def _all_keys(value: object) -> set:
    if isinstance(value, dict):
        return set(value).union(*(_all_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_all_keys(v) for v in value))
    return set()


_POINTERS = st.sampled_from(["", "/", "/metadata", "/metadata/labels/x", "/spec/replicas",
                             "/spec/template/spec/containers/0", "/spec/template/spec/containers/-",
                             "/spec/template/spec/containers/9", "/nope/deeper", "~", "/a~2"])
_OPERATIONS = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
     "path": _POINTERS | _SCALARS},
    optional={"value": _json(_KEYS), "from": _POINTERS | _SCALARS})


@settings(max_examples=300)
@given(_ORIGINALS, st.lists(_OPERATIONS | _json(_KEYS), max_size=4) | _json(_KEYS))
def test_malformed_json_patches_raise_only_bad_patch(original, operations):
    try:
        assert isinstance(json_patch(original, operations), dict)
    except BadPatch:
        pass


@given(_ORIGINALS, _json(_KEYS))
def test_json_merge_raises_only_bad_patch(original, patch):
    try:
        assert isinstance(json_merge(original, patch), dict)
    except BadPatch:
        assert not isinstance(patch, dict)
