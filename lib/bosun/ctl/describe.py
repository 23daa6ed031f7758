"""`describe TYPE [NAME_PREFIX] | TYPE/NAME [-l SEL]`: objects in detail, with their events.

A name that matches no object exactly describes every object whose name starts with it, as
kubectl does. Besides the object, a description reads its events (by involvedObject name,
namespace and uid), a service's endpoints, an RC's pods, and the pods bound to a node.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bosun.api.client import ClientError, resource_path
from bosun.ctl import describers, resources
from bosun.ctl.describers import Context
from bosun.ctl.resources import Selection
from bosun.ctl.session import Session
from bosun.objects.selectors import selector_to_string

LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


def command(session: Session, args: argparse.Namespace) -> int:
    selections = resources.select(args.resources, "describe")
    errors: list[BaseException] = []
    found: list[tuple[Selection, dict]] = []
    for selection in selections:
        try:
            found += [(selection, obj) for obj in _objects(session, args, selection)]
        except ClientError as error:
            if error.code != 404 or len(args.resources) != 2 or "/" in args.resources[0]:
                raise
            # `describe TYPE PREFIX`: every object whose name starts with PREFIX
            matches = _prefixed(session, args, selection)
            if not matches:
                raise
            for obj in matches:
                session.out.write(describe(session, selection, obj) + "\n")
            return 0
    for number, (selection, obj) in enumerate(found):
        session.out.write(("\n\n" if number else "") + describe(session, selection, obj))
        session.out.flush()
    return session.fail(errors)


def _namespace(session: Session, args: argparse.Namespace, selection: Selection) -> str | None:
    if not selection.resource.namespaced or getattr(args, "all_namespaces", False):
        return None
    return session.namespace


def _collection(session: Session, args: argparse.Namespace, selection: Selection) -> list[dict]:
    namespace = _namespace(session, args, selection)
    listed = session.client.list(resource_path(selection.resource.name, namespace),
                                 {"labelSelector": args.selector or None})
    return listed.get("items") or []


def _objects(session: Session, args: argparse.Namespace, selection: Selection) -> list[dict]:
    """The objects named, or all of the type (matching -l). Raises ClientError (NotFound)."""
    if not selection.names:
        return _collection(session, args, selection)
    namespace = _namespace(session, args, selection)
    return [session.client.get(resource_path(selection.resource.name, namespace, name))
            for name in selection.names]


def _prefixed(session: Session, args: argparse.Namespace, selection: Selection) -> list[dict]:
    prefix = selection.names[0]
    return [obj for obj in _collection(session, args, selection)
            if obj["metadata"]["name"].startswith(prefix)]


def describe(session: Session, selection: Selection, obj: dict) -> str:
    """One object's description, with what its section needs read from the API."""
    resource = selection.resource.name
    meta = obj.get("metadata") or {}
    context = Context(now=datetime.now(UTC), events=_events(session, obj))
    namespace = meta.get("namespace")
    if resource == "services":
        try:
            context.endpoints = session.client.get(resource_path("endpoints", namespace,
                                                                 meta["name"]))
        except ClientError as error:
            if error.code != 404:
                raise
    elif resource == "replicationcontrollers":
        selector = selector_to_string((obj.get("spec") or {}).get("selector") or {})
        # only the pods it controls, as kubectl counts them
        context.pods = [p for p in _pods(session, namespace, {"labelSelector": selector or None})
                        if any(o.get("controller") and o.get("uid") == meta.get("uid")
                               for o in (p.get("metadata") or {}).get("ownerReferences") or [])]
    elif resource == "nodes":
        context.pods = _pods(session, None, {"fieldSelector": (
            f"spec.nodeName={meta['name']},status.phase!=Succeeded,status.phase!=Failed")})
        context.lease = _lease(session, meta["name"])
    describer = describers.DESCRIBERS.get(resource)
    if describer is None:
        return describers.describe_other(obj, context, selection.resource.namespaced)
    return describer(obj, context)


def _lease(session: Session, node: str) -> dict | str:
    """The node's heartbeat Lease, or the server's reason for not giving it."""
    try:
        return session.client.get(f"{LEASES}/{node}")
    except ClientError as error:
        return error.message


def _pods(session: Session, namespace: str | None, query: dict) -> list[dict]:
    return session.client.list(resource_path("pods", namespace), query).get("items") or []


def _events(session: Session, obj: dict) -> list[dict]:
    meta = obj.get("metadata") or {}
    fields = [f"involvedObject.name={meta.get('name', '')}",
              f"involvedObject.namespace={meta.get('namespace', '')}"]
    if meta.get("uid"):
        fields.append(f"involvedObject.uid={meta['uid']}")
    path = resource_path("events", meta.get("namespace") or None)
    try:
        return session.client.list(path, {"fieldSelector": ",".join(fields)}).get("items") or []
    except ClientError as error:
        if error.code in (403, 404):  # events are an extra: describe without them
            return []
        raise
