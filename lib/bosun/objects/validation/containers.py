"""Validation of one container of a pod spec: name, image, ports, env, volume mounts, resources.

What Bosun's kubelet cannot honour is refused here with a 422 naming the field (environment from
ConfigMaps or Secrets, which Bosun does not have), never accepted and silently ignored.
"""

from __future__ import annotations

import posixpath
from fractions import Fraction

from bosun.objects import fielderrors as fe
from bosun.objects import names, quantity
from bosun.objects.fielderrors import FieldError
from bosun.objects.validation.common import (
    as_dict,
    check,
    dicts,
    enum,
    integer,
    parsed_quantity,
    port_number,
    protocol,
    text,
)

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                   "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                   "status.podIPs")
ENV_RESOURCES = ("limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                 "requests.ephemeral-storage", "requests.memory")
ENV_SOURCES = ("fieldRef", "resourceFieldRef")
STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
NO_CONFIG_NOTE = " (Bosun has no ConfigMaps or Secrets)"


def validate_container(container: dict, path: str, volumes: set[str]) -> list[FieldError]:
    """Everything about one container except the uniqueness of its name within the pod."""
    errs: list[FieldError] = []
    name = text(container.get("name"))
    if not name:
        errs.append(fe.required(f"{path}.name"))
    else:
        errs += check(f"{path}.name", name, names.dns1123_label)
    if not text(container.get("image")):
        errs.append(fe.required(f"{path}.image"))
    errs += enum(f"{path}.imagePullPolicy", container.get("imagePullPolicy"), PULL_POLICIES)
    errs += enum(f"{path}.terminationMessagePolicy", container.get("terminationMessagePolicy"),
                 MESSAGE_POLICIES)
    errs += _ports(container.get("ports"), f"{path}.ports")
    errs += _env(container.get("env"), f"{path}.env")
    for i, _source in enumerate(dicts(container.get("envFrom"))):
        errs.append(fe.forbidden(f"{path}.envFrom[{i}]", "Bosun cannot take environment "
                                 "variables from ConfigMaps or Secrets: it has neither"))
    errs += _mounts(container.get("volumeMounts"), f"{path}.volumeMounts", volumes)
    errs += validate_resources(as_dict(container.get("resources")), f"{path}.resources")
    return errs


def _ports(ports: object, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, port in enumerate(dicts(ports)):
        at = f"{path}[{i}]"
        name = text(port.get("name"))
        if name:
            reasons = names.port_name(name)
            errs += [fe.invalid(f"{at}.name", name, msg) for msg in reasons]
            if not reasons and name in seen:
                errs.append(fe.duplicate(f"{at}.name", name))
            seen.add(name)
        if not integer(port.get("containerPort")):
            errs.append(fe.required(f"{at}.containerPort"))
        else:
            errs += port_number(f"{at}.containerPort", port["containerPort"])
        if integer(port.get("hostPort")):
            errs += port_number(f"{at}.hostPort", port["hostPort"])
        if text(port.get("hostIP")):
            errs += check(f"{at}.hostIP", port["hostIP"], names.ip_address)
        errs += protocol(f"{at}.protocol", port.get("protocol"))
    return errs


def _env(env: object, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(dicts(env)):
        at = f"{path}[{i}]"
        name = text(var.get("name"))
        if not name:
            errs.append(fe.required(f"{at}.name"))
        else:
            errs += check(f"{at}.name", name, names.env_var_name)
        if var.get("valueFrom") is not None:
            errs += _env_source(as_dict(var.get("valueFrom")), f"{at}.valueFrom",
                                bool(text(var.get("value"))))
    return errs


def _env_source(source: dict, path: str, has_value: bool) -> list[FieldError]:
    present = [key for key, value in source.items() if value is not None]
    errs: list[FieldError] = []
    if not present:
        errs.append(fe.invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, "
                               "`configMapKeyRef` or `secretKeyRef`"))
    elif has_value:
        errs.append(fe.invalid(path, "", "may not be specified when `value` is not empty"))
    elif len(present) > 1:
        errs.append(fe.invalid(path, "", "may not have more than one field specified at a time"))
    for key in present:
        if key not in ENV_SOURCES:
            errs.append(fe.not_supported(f"{path}.{key}", key, ENV_SOURCES, NO_CONFIG_NOTE))
    field_ref = as_dict(source.get("fieldRef"))
    if source.get("fieldRef") is not None:
        errs += _field_path(text(field_ref.get("fieldPath")), f"{path}.fieldRef.fieldPath")
    resource_ref = as_dict(source.get("resourceFieldRef"))
    if source.get("resourceFieldRef") is not None:
        resource = text(resource_ref.get("resource"))
        if not resource:
            errs.append(fe.required(f"{path}.resourceFieldRef.resource"))
        else:
            errs += enum(f"{path}.resourceFieldRef.resource", resource, ENV_RESOURCES)
    return errs


def _field_path(field_path: str, path: str) -> list[FieldError]:
    if not field_path:
        return [fe.required(path)]
    for prefix in ("metadata.labels['", "metadata.annotations['"):
        if field_path.startswith(prefix) and field_path.endswith("']"):
            return check(path, field_path[len(prefix):-2], names.qualified_name)
    return enum(path, field_path, ENV_FIELD_PATHS)


def _mounts(mounts: object, path: str, volumes: set[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, mount in enumerate(dicts(mounts)):
        at = f"{path}[{i}]"
        name = text(mount.get("name"))
        if not name:
            errs.append(fe.required(f"{at}.name"))
        if name not in volumes:
            errs.append(fe.not_found(f"{at}.name", name))
        mount_path = text(mount.get("mountPath"))
        if not mount_path:
            errs.append(fe.required(f"{at}.mountPath"))
        elif mount_path in seen:
            errs.append(fe.invalid(f"{at}.mountPath", mount_path, "must be unique"))
        seen.add(mount_path)
        sub_path = text(mount.get("subPath"))
        if sub_path:
            errs += local_descending_path(sub_path, f"{at}.subPath")
    return errs


def local_descending_path(value: str, path: str) -> list[FieldError]:
    """A path that stays inside its volume: relative and without `..` elements."""
    errs = []
    if posixpath.isabs(value):
        errs.append(fe.invalid(path, value, "must be a relative path"))
    if ".." in value.split("/"):
        errs.append(fe.invalid(path, value, "must not contain '..'"))
    return errs


def _resource_name(name: str, path: str) -> list[FieldError]:
    reasons = names.qualified_name(name)
    if reasons:
        return [fe.invalid(path, name, msg) for msg in reasons]
    extended = "/" in name and "kubernetes.io/" not in name
    if name in STANDARD_RESOURCES or name.startswith("hugepages-") or extended:
        return []
    return [fe.invalid(path, name, "must be a standard resource for containers")]


def validate_resources(resources: dict, path: str) -> list[FieldError]:
    """Limits and requests: known resource names, quantities >= 0, requests within limits."""
    errs: list[FieldError] = []
    amounts: dict[str, dict[str, tuple[Fraction, str]]] = {"limits": {}, "requests": {}}
    for part in ("limits", "requests"):
        for name, value in as_dict(resources.get(part)).items():
            at = f"{path}.{part}[{name}]"
            errs += _resource_name(name, at)
            amount, reasons = parsed_quantity(at, value)
            errs += reasons
            if amount is not None:
                amounts[part][name] = (amount, quantity.canonical(value))
    for name, (request, shown) in amounts["requests"].items():
        if name not in amounts["limits"]:
            continue
        limit, limit_shown = amounts["limits"][name]
        exact = name.startswith("hugepages-") or ("/" in name and "kubernetes.io/" not in name)
        if exact and request != limit:
            why = "must be equal to"
        elif request > limit:
            why = "must be less than or equal to"
        else:
            continue
        errs.append(fe.invalid(f"{path}.requests", shown, f"{why} {name} limit of {limit_shown}"))
    return errs
