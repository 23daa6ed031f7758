"""Validation of pods and pod specs (also the templates of replication controllers): containers,
volumes, restart policy, scheduling fields, and what an update of a running pod may change.

Bosun's kubelet runs only `emptyDir` and `hostPath` volumes; any other volume source is refused
with a 422 that names it (`spec.volumes[0].configMap`).
"""

from __future__ import annotations

from bosun.objects import fielderrors as fe
from bosun.objects import names
from bosun.objects.fielderrors import FieldError
from bosun.objects.meta import validate_labels, validate_object_meta, validate_object_meta_update
from bosun.objects.validation.common import (
    NEGATIVE,
    as_dict,
    check,
    dicts,
    enum,
    integer,
    parsed_quantity,
    text,
)
from bosun.objects.validation.containers import validate_container

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
VOLUME_SOURCES = ("emptyDir", "hostPath")
VOLUMES_NOTE = " (Bosun runs only these volume types)"
EMPTY_DIR_MEDIA = ("", "Memory")
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                   "FileOrCreate", "Socket")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
MAX_INT32 = 2**31 - 1
UPDATABLE_POD_FIELDS = ",".join((
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
))


def validate_pod(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("pods", obj)
    spec = as_dict(obj.get("spec"))
    errs += validate_pod_spec(spec, "spec")
    if old is None:
        if spec.get("ephemeralContainers"):
            errs.append(fe.forbidden("spec.ephemeralContainers", "cannot be set on create"))
        return errs
    errs += validate_object_meta_update(obj, old)
    return errs + _spec_update(spec, as_dict(old.get("spec")))


def validate_pod_status(obj: dict, old: dict | None) -> list[FieldError]:
    """An update through pods/status: metadata plus a phase that exists and does not leave a
    terminal phase."""
    errs = validate_object_meta("pods", obj)
    phase = text(as_dict(obj.get("status")).get("phase"))
    errs += enum("status.phase", phase, POD_PHASES)
    if old is not None:
        errs += validate_object_meta_update(obj, old)
        old_phase = text(as_dict(old.get("status")).get("phase"))
        if old_phase in ("Succeeded", "Failed") and phase != old_phase:
            errs.append(fe.forbidden("status.phase", "may not be transitioned to non-terminal "
                                     "state"))
    return errs


def validate_binding(obj: dict, old: dict | None) -> list[FieldError]:
    """A Binding posted to pods/NAME/binding: it names the node to run the pod on."""
    target = as_dict(obj.get("target"))
    errs = []
    kind = text(target.get("kind"))
    if kind and kind != "Node":
        errs.append(fe.not_supported("target.kind", kind, ("Node", "<empty>")))
    if not text(target.get("name")):
        errs.append(fe.required("target.name"))
    else:
        errs += check("target.name", target["name"], names.dns1123_subdomain)
    return errs


PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")


def validate_eviction(obj: dict, old: dict | None) -> list[FieldError]:
    """An Eviction posted to pods/NAME/eviction: only its deleteOptions matter."""
    options = as_dict(obj.get("deleteOptions"))
    errs = enum("deleteOptions.propagationPolicy", options.get("propagationPolicy"),
                PROPAGATION_POLICIES)
    for index, value in enumerate(options.get("dryRun") or ()):
        if value != "All":
            errs.append(fe.not_supported(f"deleteOptions.dryRun[{index}]", value, ("All",)))
    grace = integer(options.get("gracePeriodSeconds"))
    if grace is not None and grace < 0:
        errs.append(fe.invalid("deleteOptions.gracePeriodSeconds", grace, NEGATIVE))
    return errs


def validate_pod_spec(spec: dict, path: str) -> list[FieldError]:
    """A pod's or template's spec: what runs (containers, volumes) and how (policies)."""
    volumes, errs = _volumes(spec.get("volumes"), f"{path}.volumes")
    errs += _containers(spec, path, volumes)
    errs += enum(f"{path}.restartPolicy", spec.get("restartPolicy"), RESTART_POLICIES)
    errs += enum(f"{path}.dnsPolicy", spec.get("dnsPolicy"), DNS_POLICIES)
    if spec.get("dnsPolicy") == "None" and not spec.get("dnsConfig"):
        errs.append(fe.required(f"{path}.dnsConfig",
                                "must provide `dnsConfig` when `dnsPolicy` is None"))
    grace = integer(spec.get("terminationGracePeriodSeconds"))
    if grace is not None and grace < 0:
        errs.append(fe.invalid(f"{path}.terminationGracePeriodSeconds", grace, NEGATIVE))
    deadline = integer(spec.get("activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(fe.invalid(f"{path}.activeDeadlineSeconds", deadline,
                               names.range_error(1, MAX_INT32)))
    errs += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    for key in ("initContainers", "ephemeralContainers"):
        if dicts(spec.get(key)):
            errs.append(fe.forbidden(f"{path}.{key}", "Bosun's kubelet does not run "
                                     "init or ephemeral containers"))
    for key, rule in (("nodeName", names.dns1123_subdomain), ("hostname", names.dns1123_label),
                      ("subdomain", names.dns1123_label),
                      ("serviceAccountName", names.dns1123_subdomain)):
        if text(spec.get(key)):
            errs += check(f"{path}.{key}", spec[key], rule)
    return errs + _tolerations(spec.get("tolerations"), f"{path}.tolerations")


def _containers(spec: dict, path: str, volumes: set[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    if not dicts(spec.get("containers")):
        errs.append(fe.required(f"{path}.containers"))
    seen: set[str] = set()
    host_ports: set[str] = set()
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for i, container in enumerate(dicts(spec.get(key))):
            at = f"{path}.{key}[{i}]"
            errs += validate_container(container, at, volumes)
            name = text(container.get("name"))
            if name and name in seen:
                errs.append(fe.duplicate(f"{at}.name", name))
            seen.add(name)
            if key == "containers":
                errs += _host_ports(container, at, host_ports, spec.get("hostNetwork") is True)
    return errs


def _host_ports(container: dict, path: str, seen: set[str], host_network: bool) -> list[FieldError]:
    errs = []
    for i, port in enumerate(dicts(container.get("ports"))):
        host_port = integer(port.get("hostPort")) or 0
        if host_network and host_port and host_port != port.get("containerPort"):
            errs.append(fe.invalid(f"{path}.ports[{i}].hostPort", host_port,
                                   "must match `containerPort` when `hostNetwork` is true"))
        if not host_port:
            continue
        key = f"{text(port.get('hostIP'))}/{text(port.get('protocol')) or 'TCP'}/{host_port}"
        if key in seen:
            errs.append(fe.duplicate(f"{path}.ports[{i}].hostPort", key))
        seen.add(key)
    return errs


def _volumes(volumes: object, path: str) -> tuple[set[str], list[FieldError]]:
    """Names of the pod's volumes, and what is wrong with them."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, volume in enumerate(dicts(volumes)):
        at = f"{path}[{i}]"
        errs += _volume_source(volume, at)
        name = text(volume.get("name"))
        if not name:
            errs.append(fe.required(f"{at}.name"))
        else:
            errs += check(f"{at}.name", name, names.dns1123_label)
        if name in seen:
            errs.append(fe.duplicate(f"{at}.name", name))
        seen.add(name)
    return seen, errs


def _volume_source(volume: dict, path: str) -> list[FieldError]:
    sources = [key for key, value in volume.items() if key != "name" and value is not None]
    if not sources:
        return [fe.required(path, "must specify a volume type")]
    errs = [fe.forbidden(f"{path}.{key}", "may not specify more than 1 volume type")
            for key in sources[1:]]
    for key in sources:
        if key not in VOLUME_SOURCES:
            errs.append(fe.not_supported(f"{path}.{key}", key, VOLUME_SOURCES, VOLUMES_NOTE))
    empty_dir = as_dict(volume.get("emptyDir"))
    errs += enum(f"{path}.emptyDir.medium", empty_dir.get("medium"), EMPTY_DIR_MEDIA)
    if empty_dir.get("sizeLimit") is not None:
        errs += parsed_quantity(f"{path}.emptyDir.sizeLimit", empty_dir["sizeLimit"])[1]
    if volume.get("hostPath") is not None:
        host_path = as_dict(volume.get("hostPath"))
        where = text(host_path.get("path"))
        if not where:
            errs.append(fe.required(f"{path}.hostPath.path"))
        elif ".." in where.split("/"):
            errs.append(fe.invalid(f"{path}.hostPath.path", where, "must not contain '..'"))
        errs += enum(f"{path}.hostPath.type", host_path.get("type"), HOST_PATH_TYPES)
    return errs


def _tolerations(tolerations: object, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, toleration in enumerate(dicts(tolerations)):
        at = f"{path}[{i}]"
        key, operator = text(toleration.get("key")), text(toleration.get("operator"))
        if key:
            errs += check(f"{at}.key", key, names.qualified_name)
        elif operator != "Exists":
            errs.append(fe.invalid(f"{at}.operator", operator, "operator must be Exists when "
                                   '`key` is empty, which means "match all values and all keys"'))
        errs += enum(f"{at}.operator", operator, TOLERATION_OPERATORS)
        if operator == "Exists" and text(toleration.get("value")):
            errs.append(fe.invalid(f"{at}.operator", toleration["value"],
                                   "value must be empty when `operator` is 'Exists'"))
        errs += enum(f"{at}.effect", toleration.get("effect"), TAINT_EFFECTS)
        if toleration.get("tolerationSeconds") is not None and \
                text(toleration.get("effect")) != "NoExecute":
            errs.append(fe.invalid(f"{at}.effect", text(toleration.get("effect")),
                                   "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    return errs


def _spec_update(new: dict, old: dict) -> list[FieldError]:
    """A pod's spec is fixed once created, except images, a shorter activeDeadlineSeconds and
    added tolerations, as in Kubernetes."""
    errs = _deadline_update(new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds"))
    munged = dict(new)
    for key in ("containers", "initContainers"):
        new_list, old_list = dicts(new.get(key)), dicts(old.get(key))
        if key in new and len(new_list) == len(old_list):
            munged[key] = [{**n, "image": o.get("image")} for n, o in zip(new_list, old_list,
                                                                          strict=True)]
    munged["activeDeadlineSeconds"] = old.get("activeDeadlineSeconds")
    if _is_addition(new.get("tolerations"), old.get("tolerations")):
        munged["tolerations"] = old.get("tolerations")
    grace, old_grace = new.get("terminationGracePeriodSeconds"), \
        old.get("terminationGracePeriodSeconds")
    if grace == 1 and (integer(old_grace) or 0) < 0:
        munged["terminationGracePeriodSeconds"] = old_grace
    changed = sorted(k for k in set(munged) | set(old) if munged.get(k) != old.get(k))
    if changed:
        errs.append(fe.forbidden("spec", "pod updates may not change fields other than "
                                 f"{UPDATABLE_POD_FIELDS}\nchanged: "
                                 + ", ".join(f"spec.{k}" for k in changed)))
    return errs


def _is_addition(new: object, old: object) -> bool:
    new_list = new if isinstance(new, list) else []
    old_list = old if isinstance(old, list) else []
    return all(item in new_list for item in old_list)


def _deadline_update(new: object, old: object) -> list[FieldError]:
    path = "spec.activeDeadlineSeconds"
    new_value, old_value = integer(new), integer(old)
    if new_value is None:
        if old_value is not None:
            return [fe.invalid(path, None, "must not update from a positive integer to nil value")]
        return []
    if old_value is not None and old_value < new_value:
        return [fe.invalid(path, new_value, "must be less than or equal to previous value")]
    return []

