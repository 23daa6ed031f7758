"""`delete TYPE NAME... | TYPE/NAME... | -f FILE | TYPE -l SEL | TYPE --all`.

Each object gets a DELETE with background propagation, as kubectl sends it, and the line
`pod "x" deleted`; then, as kubectl, the command waits until the objects are gone. Errors (an
object that does not exist) are printed after what could be deleted.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from bosun.api.client import ClientError, resource_path
from bosun.ctl import manifests, resources
from bosun.ctl.session import CtlError, Session
from bosun.objects.registry import ResourceInfo

WAIT_SECONDS = 60.0
OPTIONS = {"propagationPolicy": "Background"}


@dataclass(frozen=True)
class Target:
    resource: ResourceInfo
    namespace: str | None
    name: str
    source: str | None = None  # the file that named it

    @property
    def path(self) -> str:
        return resource_path(self.resource.name, self.namespace, self.name)


def command(session: Session, args: argparse.Namespace) -> int:
    errors: list[BaseException] = []
    if args.filename:
        if args.resources:
            raise CtlError("a resource cannot be named both as an argument and with -f")
        found, errors = manifests.read(args.filename, args.recursive, sys.stdin)
        targets = [Target(m.resource, manifests.namespace_for(m, session.namespace,
                                                              session.namespace_given),
                          m.name, m.source) for m in found]
        if not targets and not errors:
            raise CtlError("no objects passed to delete")
    else:
        targets = _selected(session, args)
        if not targets:
            session.out.write("No resources found\n")
            return 0
    deleted = []
    for target in targets:
        try:
            deleted.append((target, _delete(session, target)))
        except ClientError as error:
            if not (args.ignore_not_found and error.code == 404):
                errors.append(error.with_source("deleting", target.source)
                              if target.source else error)
    if args.wait:
        errors += wait_gone(session, deleted)
    return session.fail(errors)


def _selected(session: Session, args: argparse.Namespace) -> list[Target]:
    """The objects named by TYPE NAME..., TYPE/NAME..., or TYPE with -l or --all."""
    selections = resources.select(args.resources, "delete")
    named = any(s.names for s in selections)
    if named and (args.selector or args.all):
        raise CtlError("name cannot be provided when a selector is specified" if args.selector
                       else "name cannot be provided when --all is specified")
    if not named and not (args.selector or args.all):
        raise CtlError("resource(s) were provided, but no name was specified")
    targets = []
    for selection in selections:
        namespace = session.namespace if selection.resource.namespaced else None
        names = selection.names
        if not names:
            listed = session.client.list(resource_path(selection.resource.name, namespace),
                                         {"labelSelector": args.selector or None})
            names = [item["metadata"]["name"] for item in listed.get("items") or []]
        targets += [Target(selection.resource, namespace, name) for name in names]
    return targets


def _delete(session: Session, target: Target) -> str:
    """DELETE one object and say so; the uid of what was deleted (to tell a re-creation)."""
    deleted = session.client.delete(target.path, OPTIONS)
    session.out.write(f'{target.resource.kind.lower()} "{target.name}" deleted\n')
    session.out.flush()
    return str((deleted.get("metadata") or {}).get("uid") or "")


def wait_gone(session: Session, deleted: list[tuple[Target, str]],
              seconds: float = WAIT_SECONDS) -> list[BaseException]:
    """Poll until every deleted object is gone (or replaced by a new one with another uid);
    the errors (a timeout per object still there)."""
    deadline = time.monotonic() + seconds
    pending = list(deleted)
    while pending:
        still = []
        for target, uid in pending:
            try:
                obj = session.client.get(target.path)
            except ClientError as error:
                if error.code == 404:
                    continue
                return [error]
            if uid and (obj.get("metadata") or {}).get("uid") == uid:
                still.append((target, uid))
        pending = still
        if pending and time.monotonic() > deadline:
            return [CtlError(f"timed out waiting for the condition on "
                             f"{t.resource.name}/{t.name}") for t, _ in pending]
        if pending:
            time.sleep(0.2)
    return []
