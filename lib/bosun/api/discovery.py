"""Discovery documents: /version, /api, /apis, /api/v1 and the OpenAPI v3 that kubectl reads.

kubectl's version dispatcher on these machines picks its built-in 1.32 by the server's minor
version, so Bosun reports itself as a 1.32-compatible server (KUBECTL.md).
"""

from __future__ import annotations

import platform
from functools import cache

from bosun.objects import registry, schema

KUBE_MAJOR, KUBE_MINOR = "1", "32"


def version(bosun_version: str) -> dict:
    return {
        "major": KUBE_MAJOR,
        "minor": KUBE_MINOR,
        "gitVersion": f"v{KUBE_MAJOR}.{KUBE_MINOR}.0-bosun.{bosun_version}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{platform.machine()}",
    }


def api_versions(host: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}


def api_groups() -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}


def resource_list() -> dict:
    return registry.api_resource_list()


OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


@cache
def openapi_v1() -> dict:
    return schema.openapi_v3()


@cache
def openapi_index() -> dict:
    return schema.openapi_v3_index({"api/v1": openapi_v1()})
