"""Validation of replication controllers and of the autoscaling/v1 Scale of their /scale.

The selector must select the template's own pods (`selector` does not match template `labels`
otherwise), and the template must describe pods that are always restarted.
"""

from __future__ import annotations

from bosun.objects import fielderrors as fe
from bosun.objects.fielderrors import FieldError
from bosun.objects.meta import (
    validate_annotations,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from bosun.objects.validation.common import as_dict, integer, non_negative, text
from bosun.objects.validation.pods import validate_pod_spec

_STATUS_COUNTS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                  "observedGeneration")


def selector_matches(selector: dict, labels: object) -> bool:
    """Whether an equality selector selects an object carrying `labels`."""
    labels = labels if isinstance(labels, dict) else {}
    return all(labels.get(key) == value for key, value in selector.items())


def validate_replication_controller(obj: dict, old: dict | None) -> list[FieldError]:
    errs = validate_object_meta("replicationcontrollers", obj)
    spec = as_dict(obj.get("spec"))
    errs += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = as_dict(spec.get("selector"))
    if not selector:
        errs.append(fe.required("spec.selector"))
    errs += validate_labels(selector, "spec.selector")
    errs += non_negative("spec.replicas", spec.get("replicas"))
    if spec.get("template") is None:
        errs.append(fe.required("spec.template"))
    else:
        errs += _template(as_dict(spec.get("template")), selector)
    if old is not None:
        errs += validate_object_meta_update(obj, old)
    return errs


def _template(template: dict, selector: dict) -> list[FieldError]:
    meta = as_dict(template.get("metadata"))
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else None
    errs: list[FieldError] = []
    if selector and not selector_matches(selector, labels):
        errs.append(fe.invalid("spec.template.metadata.labels", fe.go_string_map(labels),
                               "`selector` does not match template `labels`"))
    errs += validate_labels(labels, "spec.template.labels")
    errs += validate_annotations(meta.get("annotations"), "spec.template.annotations")
    spec = as_dict(template.get("spec"))
    errs += validate_pod_spec(spec, "spec.template.spec")
    policy = text(spec.get("restartPolicy"))
    if policy and policy != "Always":
        errs.append(fe.not_supported("spec.template.spec.restartPolicy", policy, ("Always",)))
    if spec.get("activeDeadlineSeconds") is not None:
        errs.append(fe.forbidden("spec.template.spec.activeDeadlineSeconds",
                                 "activeDeadlineSeconds in ReplicationController is not Supported"))
    return errs


def validate_replication_controller_status(obj: dict, old: dict | None) -> list[FieldError]:
    """Counts written by the replication manager: never negative, never above status.replicas."""
    errs = validate_object_meta("replicationcontrollers", obj)
    status = as_dict(obj.get("status"))
    for key in _STATUS_COUNTS:
        errs += non_negative(f"status.{key}", status.get(key))
    count = {key: integer(status.get(key)) or 0 for key in _STATUS_COUNTS}
    for key in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        if count[key] > count["replicas"]:
            errs.append(fe.invalid(f"status.{key}", count[key],
                                   "cannot be greater than status.replicas"))
    if count["availableReplicas"] > count["readyReplicas"]:
        errs.append(fe.invalid("status.availableReplicas", count["availableReplicas"],
                               "cannot be greater than readyReplicas"))
    return errs + (validate_object_meta_update(obj, old) if old is not None else [])


def validate_scale(obj: dict, old: dict | None) -> list[FieldError]:
    """A Scale sent to replicationcontrollers/NAME/scale."""
    errs = validate_object_meta("replicationcontrollers", obj)
    return errs + non_negative("spec.replicas", as_dict(obj.get("spec")).get("replicas"))
