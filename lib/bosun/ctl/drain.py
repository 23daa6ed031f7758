"""`drain NODE...`: cordon a minion, then evict its pods so their controllers run them elsewhere.

As `kubectl drain`: cordon first; refuse (for every pod at once, before evicting any) pods that
declare no controller unless --force, and pods with emptyDir data unless
--delete-emptydir-data; then POST an Eviction to pods/NAME/eviction for each, wait until each
is gone, and print `node/NAME drained`. Replication controllers recreate the evicted pods, and
the scheduler keeps them off the cordoned minion. `uncordon` lets pods back.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field

from bosun.api.client import ClientError, resource_path
from bosun.ctl import delete
from bosun.ctl.cordon import set_unschedulable
from bosun.ctl.session import CtlError, Session
from bosun.objects.registry import RESOURCES

# kubectl 1.32's words (k8s.io/kubectl/pkg/drain/filters.go).
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
LOCAL_STORAGE_FATAL = ("cannot delete Pods with local storage (use --delete-emptydir-data to "
                       "override)")
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
FINISHED = ("Succeeded", "Failed")


@dataclass
class DrainPlan:
    """Which pods to evict, and what to say first (warnings) or instead (errors)."""

    evict: list[dict] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # message -> pods
    errors: dict[str, list[str]] = field(default_factory=dict)


def plan(pods: list[dict], force: bool, delete_emptydir_data: bool) -> DrainPlan:
    """Sort a node's pods as kubectl's drain filters do (pure)."""
    out = DrainPlan()
    for pod in pods:
        meta = pod["metadata"]
        who = f"{meta.get('namespace')}/{meta['name']}"
        finished = (pod.get("status") or {}).get("phase") in FINISHED
        problems = []
        if not finished and not _controller(pod):
            problems.append((force, UNMANAGED_WARNING, UNMANAGED_FATAL))
        if not finished and _has_empty_dir(pod):
            problems.append((delete_emptydir_data, LOCAL_STORAGE_WARNING, LOCAL_STORAGE_FATAL))
        for allowed, warning, fatal in problems:
            (out.warnings if allowed else out.errors).setdefault(
                warning if allowed else fatal, []).append(who)
        if all(allowed for allowed, _w, _f in problems):
            out.evict.append(pod)
    return out


def _controller(pod: dict) -> bool:
    return any(ref.get("controller") for ref in pod["metadata"].get("ownerReferences") or [])


def _has_empty_dir(pod: dict) -> bool:
    return any("emptyDir" in volume for volume in (pod.get("spec") or {}).get("volumes") or [])


def command(session: Session, args: argparse.Namespace) -> int:
    seconds = parse_timeout(args.timeout)
    errors: list[BaseException] = []
    for node in args.nodes:
        try:
            _drain(session, node, args, seconds)
        except (ClientError, CtlError) as error:
            errors.append(error)
    return session.fail(errors)


def _drain(session: Session, node: str, args: argparse.Namespace, seconds: float) -> None:
    """Raises ClientError, CtlError (pods refused, or not gone in time)."""
    session.out.write(set_unschedulable(session, node, cordon=True) + "\n")
    listed = session.client.list(resource_path("pods"),
                                 {"fieldSelector": f"spec.nodeName={node}"})
    decided = plan(listed.get("items") or [], args.force, args.delete_emptydir_data)
    if decided.errors:
        raise CtlError(f'unable to drain node "{node}": ' + "; ".join(
            f"{why}: {', '.join(pods)}" for why, pods in decided.errors.items()))
    for why, pods in decided.warnings.items():
        session.warn(f"{why}: {', '.join(pods)}")
    evicted = [_evict(session, pod, args.grace_period) for pod in decided.evict]
    stuck = delete.wait_gone(session, evicted, seconds)
    if stuck:
        raise CtlError(f'unable to drain node "{node}": ' + "; ".join(map(str, stuck)))
    for target, _uid in evicted:
        session.out.write(f"pod/{target.name} evicted\n")
    session.out.write(f"node/{node} drained\n")


def _evict(session: Session, pod: dict, grace_period: int) -> tuple[delete.Target, str]:
    """POST the pod's Eviction; (what to wait for, its uid). Raises ClientError."""
    meta = pod["metadata"]
    target = delete.Target(RESOURCES["pods"], meta["namespace"], meta["name"])
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"]}}
    if grace_period >= 0:
        eviction["deleteOptions"] = {"gracePeriodSeconds": grace_period}
    session.out.write(f"evicting pod {meta['namespace']}/{meta['name']}\n")
    session.out.flush()
    try:
        session.client.create(f"{target.path}/eviction", eviction)
    except ClientError as error:
        details = error.status.get("details") or {}
        if error.code != 404 or details.get("name") != meta["name"]:
            raise  # a 404 without the pod's name: a server that does not serve evictions
        # the pod is gone already: that is what an eviction wants
    return target, meta.get("uid", "")


def parse_timeout(text: str) -> float:
    """kubectl's duration (`90s`, `5m`, `1h`, `0` = no limit) in seconds. Raises CtlError."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m|h)?", text.strip())
    if not match:
        raise CtlError(f'invalid argument "{text}" for "--timeout" flag: expected a duration '
                       f"such as 90s or 5m")
    value = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    return value or float("inf")
