"""The field table: complete for real manifests (checked against the kubernetes client's models),
and the checks built on it: unknown fields, JSON types, required fields, OpenAPI for kubectl."""

from __future__ import annotations

import json
import re

import kubernetes.client as k8s
import pytest

from bosun.objects import fielderrors as fe
from bosun.objects import schema
from bosun.objects.fieldsets import TYPES
from bosun.objects.registry import RESOURCES

_SCALARS = {"str": "s", "int": "i", "bool": "b", "datetime": "t", "float": "n", "object": "o"}


def _client_class(type_name: str):
    for prefix in ("V1", "CoreV1"):
        cls = getattr(k8s, prefix + type_name, None)
        if cls is not None:
            return cls
    raise AssertionError(f"no client model for {type_name}")


def _required(cls, python_name: str, json_name: str) -> bool:
    field = cls.model_fields.get(python_name) or cls.model_fields.get("var" + python_name)
    if field is None:
        field = next(f for f in cls.model_fields.values() if f.serialization_alias == json_name)
    return field.is_required()


def _shape(client_type: str) -> str:
    """A client type with model names reduced to a placeholder, comparable with our refs."""
    shape = re.sub(r"(CoreV1|V1)\w+", "T", client_type)
    shape = re.sub(r"List\[(.*)\]", r"[\1]", shape)
    shape = re.sub(r"Dict\[str, (.*)\]", r"{\1}", shape)
    for name, letter in _SCALARS.items():
        shape = shape.replace(name, letter)
    return shape


def _our_shape(ref: str) -> str:
    shape = re.sub(r"[A-Z]\w*", "T", ref)
    return shape.replace("q", "s").replace("x", "o")


@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_every_type_has_exactly_the_client_models_fields(type_name):
    cls = _client_class(type_name)
    theirs = {json_name: (_shape(cls.openapi_types[py]), _required(cls, py, json_name))
              for py, json_name in cls.attribute_map.items()}
    ours = {name: (_our_shape(ref), required)
            for name, (ref, required) in schema.fields(type_name).items()}
    assert ours == theirs


def test_every_referenced_type_is_in_the_table():
    for type_name in TYPES:
        assert schema.referenced_types(type_name) <= TYPES.keys()
        for ref, _required in schema.fields(type_name).values():
            inner = ref.strip("[]{}")
            assert inner in TYPES or inner in "sibtqxon", (type_name, ref)


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"any": "x"}},
       "spec": {"containers": [{"name": "web", "imagee": "nginx", "resources": {
           "limits": {"example.com/gpu": "1"}}}], "nodeSelectr": {}}, "extra": 1}


def test_unknown_fields_are_named_by_path():
    assert schema.unknown_fields("Pod", POD) == [
        "spec.containers[0].imagee", "spec.nodeSelectr", "extra"]


def test_prune_drops_only_unknown_fields_and_copies():
    pruned = schema.prune_unknown("Pod", POD)
    assert pruned == {"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "web", "labels": {"any": "x"}},
                      "spec": {"containers": [{"name": "web", "resources": {
                          "limits": {"example.com/gpu": "1"}}}]}}
    pruned["metadata"]["labels"]["any"] = "changed"
    assert POD["metadata"]["labels"]["any"] == "x"


def test_strict_error_and_warnings_read_as_kubernetes():
    paths = ["spec.containers[0].imagee", "extra"]
    assert schema.strict_decoding_error("Pod", paths).to_status()["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field '
        '"spec.containers[0].imagee", unknown field "extra"')
    assert schema.strict_decoding_error("Pod", paths).code == 400
    assert schema.unknown_field_warnings(paths) == [
        'unknown field "spec.containers[0].imagee"', 'unknown field "extra"']


@pytest.mark.parametrize(("obj", "field", "detail"), [
    ({"spec": {"containers": "web"}}, "spec.containers", "must be of type array"),
    ({"spec": {"containers": ["web"]}}, "spec.containers[0]", "must be of type object"),
    ({"spec": {"containers": [{"ports": [{"containerPort": "80"}]}]}},
     "spec.containers[0].ports[0].containerPort", "must be of type integer"),
    ({"spec": {"containers": [{"ports": [{"containerPort": 80.5}]}]}},
     "spec.containers[0].ports[0].containerPort", "must be of type integer"),
    ({"spec": {"hostNetwork": 1}}, "spec.hostNetwork", "must be of type boolean"),
    ({"spec": {"activeDeadlineSeconds": True}}, "spec.activeDeadlineSeconds",
     "must be of type integer"),
    ({"metadata": {"labels": {"a": 1}}}, "metadata.labels[a]", "must be of type string"),
    ({"metadata": {"creationTimestamp": "yesterday"}}, "metadata.creationTimestamp",
     "must be of type RFC 3339 time"),
    ({"spec": {"containers": [{"resources": {"limits": {"cpu": True}}}]}},
     "spec.containers[0].resources.limits[cpu]", "must be of type quantity"),
    ({"metadata": []}, "metadata", "must be of type object"),
], ids=["list-as-string", "item-as-string", "int-as-string", "int-as-float", "bool-as-int",
        "int-as-bool", "label-as-int", "bad-time", "quantity-as-bool", "meta-as-list"])
def test_type_errors(obj, field, detail):
    [error] = schema.type_errors("Pod", obj)
    assert (error.field, error.reason, error.detail) == (field, fe.TYPE_INVALID, detail)


def test_null_and_well_typed_values_are_fine():
    assert schema.type_errors("Pod", {"metadata": None, "spec": {
        "containers": [None, {"ports": [{"containerPort": 80}]}],
        "overhead": {"cpu": 1}}}) == []
    assert schema.type_errors("Service", {"spec": {"ports": [{"targetPort": "http"},
                                                             {"targetPort": 80}]}}) == []
    assert schema.type_errors("Pod", "pod")[0].detail == "must be of type object"


def test_decode_error_is_a_bad_request():
    error = schema.decode_error("Pod", schema.type_errors("Pod", {"spec": {"containers": 1}}))
    assert error.code == 400
    assert error.message.startswith('Pod in version "v1" cannot be handled as a Pod: '
                                    "spec.containers: Invalid value: 1")


def test_missing_required_fields_skip_what_the_server_replaces():
    pod = {"spec": {"containers": [{"image": "x"}]}, "status": {"conditions": [{}]}}
    assert [e.field for e in schema.missing_required("Pod", pod, frozenset({"status"}))] == [
        "spec.containers[0].name"]
    assert "status.conditions[0].type" in [e.field for e in schema.missing_required("Pod", pod)]


def test_quantities_are_mapped_wherever_they_are():
    node = {"status": {"capacity": {"cpu": 2}, "allocatable": {"memory": "1024Mi"}}}
    out = schema.map_quantities("Node", node, lambda v: f"<{v}>")
    assert out == {"status": {"capacity": {"cpu": "<2>"}, "allocatable": {"memory": "<1024Mi>"}}}


def test_merge_keys_for_strategic_merge_patch():
    assert schema.merge_key("PodSpec", "containers") == "name"
    assert schema.merge_key("Container", "ports") == "containerPort"
    assert schema.merge_key("Container", "volumeMounts") == "mountPath"
    assert schema.merge_key("ServiceSpec", "ports") == "port"
    assert schema.merge_key("ObjectMeta", "finalizers") == ""
    assert schema.merge_key("Container", "args") is None
    assert schema.retains_keys("PodSpec", "volumes")
    assert schema.element_type(schema.field_type("PodSpec", "containers")) == "Container"


# --- OpenAPI v3 -----------------------------------------------------------------------------

def _patch_operations(document: dict) -> list[dict]:
    return [item["patch"] for item in document["paths"].values() if "patch" in item]


@pytest.mark.parametrize("kind", sorted(r.kind for r in RESOURCES.values()))
def test_each_kind_has_a_patch_operation_with_field_validation_as_kubectl_looks_for(kind):
    document = schema.openapi_v3()
    ops = [op for op in _patch_operations(document)
           if op["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1",
                                                        "kind": kind}]
    assert ops
    for op in ops:
        params = {(p["name"], p["in"]) for p in op["parameters"]}
        assert ("fieldValidation", "query") in params
        assert "requestBody" not in op  # kubectl then merges with its compiled-in types
    component = document["components"]["schemas"][schema.openapi_name(kind)]
    assert component["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": kind, "version": "v1"}]


def test_scale_is_autoscaling_v1_and_schemas_carry_patch_strategies():
    document = schema.openapi_v3()
    scale = document["paths"][
        "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "version": "v1",
                                                        "kind": "Scale"}
    containers = document["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"][
        "properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= document["components"]["schemas"].keys()


def test_documents_can_be_limited_to_some_kinds():
    document = schema.openapi_v3(["Pod"])
    assert {op["x-kubernetes-group-version-kind"]["kind"]
            for op in _patch_operations(document)} == {"Pod"}
    assert "io.k8s.api.core.v1.Service" not in document["components"]["schemas"]


def test_index_points_at_hashed_documents():
    doc = schema.openapi_v3()
    index = schema.openapi_v3_index({"api/v1": doc})
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    assert url == f"/openapi/v3/api/v1?hash={schema.document_hash(doc)}"
    assert schema.document_hash(schema.openapi_v3(["Pod"])) != schema.document_hash(doc)
