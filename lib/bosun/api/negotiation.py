"""Content negotiation: request bodies in (JSON or YAML, capped; protobuf only for the few kinds
kubectl's typed client sends, see bosun.api.protobuf), Tables or JSON out.

Pure functions over header values and bytes; the HTTP layer calls them. A malformed body is a
400 Status, never a 500.
"""

from __future__ import annotations

import json

import yaml

from bosun.api import patchtypes, protobuf
from bosun.objects.status import BadRequest, UnsupportedMediaType

JSON = "application/json"
YAML = "application/yaml"
PATCH_TYPES = (patchtypes.STRATEGIC, patchtypes.MERGE, patchtypes.JSON_PATCH)
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(body: bytes, content_type: str | None) -> object:
    """The JSON value of a request body. Raises BadRequest, UnsupportedMediaType."""
    kind = media_type(content_type)
    if not body.strip():
        raise BadRequest("the request body is empty")
    if kind == protobuf.PROTOBUF:
        return protobuf.decode(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the request body is not UTF-8: {error}") from error
    if kind in ("", JSON, *PATCH_TYPES):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise BadRequest(f"the request body is not valid JSON: {error}") from error
    if kind in (YAML, "application/x-yaml", "text/yaml"):
        try:
            return yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as error:
            raise BadRequest(f"the request body is not valid YAML: {error}") from error
    raise UnsupportedMediaType([JSON, YAML])


def decode_object(body: bytes, content_type: str | None) -> dict:
    """A request body that must be one object. Raises BadRequest, UnsupportedMediaType."""
    value = decode_body(body, content_type)
    if not isinstance(value, dict):
        raise BadRequest(f"the request body must be a JSON object, not {_type_name(value)}")
    return value


def _type_name(value: object) -> str:
    return {list: "an array", str: "a string", type(None): "null", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def wants_table(accept: str | None) -> bool:
    """kubectl's human output asks for `application/json;as=Table;v=v1;g=meta.k8s.io,...`."""
    for choice in (accept or "").split(","):
        params = {p.strip() for p in choice.split(";")[1:]}
        if "as=Table" in params and ("g=meta.k8s.io" in params or not params - {"as=Table"}):
            return True
    return False


def table_include_object(query_value: str | None) -> str:
    """includeObject=None|Metadata|Object, Metadata by default (as Kubernetes)."""
    if query_value in (None, ""):
        return "Metadata"
    if query_value not in ("None", "Metadata", "Object"):
        raise BadRequest(f"includeObject must be None, Metadata or Object, not {query_value!r}")
    return query_value
