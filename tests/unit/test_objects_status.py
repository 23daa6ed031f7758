"""API errors become the exact Status objects Kubernetes sends, and kubectl's text for them."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiClient

from bosun.errors import BosunError
from bosun.objects import fielderrors as fe
from bosun.objects import status
from bosun.objects.status import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    ServiceUnavailable,
    Timeout,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

HEAD = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}


def test_not_found_is_exactly_kubernetes_status():
    assert NotFound("pods", "nope").to_status() == {
        **HEAD, "message": 'pods "nope" not found', "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"}, "code": 404}


def test_already_exists_is_exactly_kubernetes_status():
    assert AlreadyExists("services", "web").to_status() == {
        **HEAD, "message": 'services "web" already exists', "reason": "AlreadyExists",
        "details": {"name": "web", "kind": "services"}, "code": 409}


def test_conflict_is_exactly_kubernetes_status():
    assert Conflict("replicationcontrollers", "web").to_status() == {
        **HEAD,
        "message": 'Operation cannot be fulfilled on replicationcontrollers "web": the object '
                   "has been modified; please apply your changes to the latest version and try "
                   "again",
        "reason": "Conflict", "details": {"name": "web", "kind": "replicationcontrollers"},
        "code": 409}


def test_invalid_with_one_cause_is_exactly_kubernetes_status():
    error = Invalid("Pod", "x", [fe.required("spec.containers[0].image")])
    assert error.to_status() == {
        **HEAD, "message": 'Pod "x" is invalid: spec.containers[0].image: Required value',
        "reason": "Invalid",
        "details": {"name": "x", "kind": "Pod", "causes": [
            {"reason": "FieldValueRequired", "message": "Required value",
             "field": "spec.containers[0].image"}]},
        "code": 422}


def test_invalid_with_several_causes_lists_them_in_brackets_once_each():
    causes = [fe.required("spec.containers"), fe.invalid("metadata.name", "A", "bad"),
              fe.required("spec.containers")]
    message = Invalid("Pod", "A", causes).to_status()["message"]
    assert message == ('Pod "A" is invalid: [spec.containers: Required value, '
                       'metadata.name: Invalid value: "A": bad]')


@pytest.mark.parametrize(("error", "code", "reason", "message"), [
    (BadRequest("the body is not JSON"), 400, "BadRequest", "the body is not JSON"),
    (Unauthorized(), 401, "Unauthorized", "Unauthorized"),
    (Forbidden("pods", "x", 'User "bob" cannot get resource "pods"'), 403, "Forbidden",
     'pods "x" is forbidden: User "bob" cannot get resource "pods"'),
    (Forbidden("pods", "", "no"), 403, "Forbidden", "pods is forbidden: no"),
    (MethodNotAllowed("pods", "deletecollection"), 405, "MethodNotAllowed",
     'deletecollection is not supported on resources of kind "pods"'),
    (Gone.too_old(1, 20), 410, "Expired", "too old resource version: 1 (20)"),
    (RequestEntityTooLarge("limit is 3145728"), 413, "RequestEntityTooLarge",
     "Request entity too large: limit is 3145728"),
    (UnsupportedMediaType(["application/json-patch+json", "application/merge-patch+json"]),
     415, "UnsupportedMediaType",
     "the body of the request was in an unknown format - accepted media types include: "
     "application/json-patch+json, application/merge-patch+json"),
    (TooManyRequests(), 429, "TooManyRequests", "Too many requests, please try again later."),
    (InternalError("etcd said no"), 500, "InternalError", "Internal error occurred: etcd said no"),
    (ServiceUnavailable("etcd is unreachable"), 503, "ServiceUnavailable", "etcd is unreachable"),
    (Timeout("request did not complete within 60s", 2), 504, "Timeout",
     "Timeout: request did not complete within 60s"),
], ids=["bad-request", "unauthorized", "forbidden", "forbidden-no-name", "method-not-allowed",
        "gone", "too-large", "unsupported-media-type", "too-many-requests", "internal",
        "unavailable", "timeout"])
def test_each_error_has_kubernetes_code_reason_and_message(error, code, reason, message):
    body = error.to_status()
    assert (body["code"], body["reason"], body["message"]) == (code, reason, message)
    assert isinstance(error, ApiError) and isinstance(error, BosunError)


def test_retry_hints_travel_in_details():
    assert TooManyRequests(retry_after=3).to_status()["details"] == {"retryAfterSeconds": 3}
    assert InternalError("boom").to_status()["details"] == {"causes": [{"message": "boom"}]}
    assert "details" not in BadRequest("x").to_status()


@pytest.mark.parametrize("error", [
    NotFound("pods", "x"), Conflict("pods", "x"), Gone.too_old(3, 9), TooManyRequests(),
    Invalid("Service", "web", [fe.not_supported("spec.type", "LoadBalancer", ["ClusterIP"])]),
], ids=["not-found", "conflict", "gone", "too-many", "invalid"])
def test_from_status_gives_back_the_same_class_and_body(error):
    again = status.from_status(json.loads(json.dumps(error.to_status())))
    assert type(again) is type(error)
    assert again.to_status() == error.to_status()


def test_from_status_survives_garbage():
    assert isinstance(status.from_status({"code": "x", "details": []}, 502), ApiError)
    assert isinstance(status.from_status(None, 404), NotFound)  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "text"), [
    (NotFound("pods", "nope"), 'Error from server (NotFound): pods "nope" not found'),
    (Invalid("Pod", "x", [fe.required("spec.containers[0].image")]),
     'The Pod "x" is invalid: spec.containers[0].image: Required value'),
    (Invalid("Pod", "x", [fe.required("spec.containers[0].image"),
                          fe.required("spec.containers[0].name")]),
     'The Pod "x" is invalid: \n* spec.containers[0].image: Required value\n'
     "* spec.containers[0].name: Required value"),
    (Unauthorized(), "error: You must be logged in to the server (Unauthorized)"),
], ids=["not-found", "invalid-one", "invalid-many", "unauthorized"])
def test_kubectl_text(error, text):
    assert status.kubectl_text(error.to_status()) == text


def test_python_client_reads_our_status():
    body = Invalid("Pod", "x", [fe.required("spec.containers")]).to_status()
    read = ApiClient().deserialize(json.dumps(body), "V1Status", "application/json")
    assert read.details.causes[0].field == "spec.containers"
    assert read.code == 422
