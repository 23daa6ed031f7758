"""Which lists of the served kinds a strategic merge patch merges, and by which key.

`bosun.api.patch` asks this table whenever it meets a list. The entries transcribe the
`patchStrategy:"merge"` / `patchMergeKey:"..."` struct tags of k8s.io/api core/v1 types.go (and
meta/v1 ObjectMeta) as of Kubernetes 1.32, the kubectl Bosun targets, for the kinds Bosun serves.
kubectl computes its patches from the same tags, so a merging list missing here would turn its
partial list into a replacement: add fields here when a kind grows.

A list that is not here is atomic: a patch replaces it whole, as Kubernetes does for lists
without a strategy (tolerations, args, taints, endpoint subsets, container statuses ...). Maps
always merge key by key; no core/v1 map field carries `patchStrategy:"replace"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MergeList:
    """A list merged element by element instead of replaced.

    key: the field that identifies an element (`patchMergeKey`), or None for a list of scalars
    merged as an ordered set (`finalizers`, `podCIDRs`).
    retain_keys: the field also carries the `retainKeys` strategy, so kubectl may send a
    `$retainKeys` directive in its elements (volumes). Applying honours `$retainKeys` wherever it
    appears; the flag documents where Kubernetes generates it.
    """

    key: str | None
    retain_keys: bool = False


Table = Mapping[tuple[str, ...], MergeList]


def _under(prefix: str, table: Mapping[str, MergeList]) -> dict[str, MergeList]:
    """The table re-rooted at prefix (a dotted path); list elements add no path component."""
    return {f"{prefix}.{path}": rule for path, rule in table.items()}


def _compile(table: Mapping[str, MergeList]) -> Table:
    return {tuple(path.split(".")): rule for path, rule in table.items()}


_OBJECT_META = {
    "finalizers": MergeList(None),
    "ownerReferences": MergeList("uid"),
}

# Container and EphemeralContainerCommon carry the same tags.
_CONTAINER = {
    "ports": MergeList("containerPort"),
    "env": MergeList("name"),
    "volumeMounts": MergeList("mountPath"),
    "volumeDevices": MergeList("devicePath"),
}

_POD_SPEC = {
    "volumes": MergeList("name", retain_keys=True),
    "initContainers": MergeList("name"),
    **_under("initContainers", _CONTAINER),
    "containers": MergeList("name"),
    **_under("containers", _CONTAINER),
    "ephemeralContainers": MergeList("name"),
    **_under("ephemeralContainers", _CONTAINER),
    "imagePullSecrets": MergeList("name"),
    "hostAliases": MergeList("ip"),
    "topologySpreadConstraints": MergeList("topologyKey"),
    "schedulingGates": MergeList("name"),
    "resourceClaims": MergeList("name", retain_keys=True),
}

_POD_STATUS = {
    "conditions": MergeList("type"),
    "podIPs": MergeList("ip"),
    "hostIPs": MergeList("ip"),
    "resourceClaimStatuses": MergeList("name", retain_keys=True),
}

_POD_TEMPLATE_SPEC = {**_under("metadata", _OBJECT_META), **_under("spec", _POD_SPEC)}

_CONDITIONS = {"conditions": MergeList("type")}

_KINDS: dict[str, dict[str, MergeList]] = {
    "Pod": {**_under("spec", _POD_SPEC), **_under("status", _POD_STATUS)},
    "PodTemplate": _under("template", _POD_TEMPLATE_SPEC),
    "ReplicationController": {
        **_under("spec.template", _POD_TEMPLATE_SPEC),
        **_under("status", _CONDITIONS),
    },
    "Service": {
        "spec.ports": MergeList("port"),
        **_under("status", _CONDITIONS),
    },
    "Node": {
        "spec.podCIDRs": MergeList(None),
        "status.conditions": MergeList("type"),
        "status.addresses": MergeList("type"),
    },
    "Namespace": _under("status", _CONDITIONS),
    "Endpoints": {},
    "Event": {},
    "Scale": {},  # autoscaling/v1: no lists at all
}

SCHEMAS: Mapping[str, Table] = {
    kind: _compile({**_under("metadata", _OBJECT_META), **table})
    for kind, table in _KINDS.items()
}


def for_kind(kind: str) -> Table:
    """The merge-list table of kind. Raises KeyError for a kind Bosun does not serve."""
    return SCHEMAS[kind]
