"""`scale rc NAME... --replicas N [--current-replicas M]`.

Reads each object, checks the optional precondition, then PATCHes its `scale` subresource with
a JSON merge patch, as kubectl does; prints `replicationcontroller/NAME scaled`.
"""

from __future__ import annotations

import argparse

from bosun.api.client import MERGE_PATCH, ClientError, resource_path
from bosun.ctl import resources
from bosun.ctl.session import CtlError, Session


def command(session: Session, args: argparse.Namespace) -> int:
    if args.replicas < 0:
        raise CtlError("The --replicas=COUNT flag is required, and COUNT must be greater than "
                       "or equal to 0")
    selections = resources.select(args.resources, "scale")
    if not all(s.names for s in selections):
        raise CtlError("resource(s) were provided, but no name was specified")
    errors: list[BaseException] = []
    for selection in selections:
        namespace = session.namespace if selection.resource.namespaced else None
        for name in selection.names:
            path = resource_path(selection.resource.name, namespace, name)
            try:
                _scale(session, path, args)
            except ClientError as error:
                errors.append(error)
                continue
            except CtlError as error:
                errors.append(error)
                continue
            except _Missing as missing:
                errors.append(CtlError(f"no objects passed to scale {missing}"))
                continue
            session.out.write(f"{resources.object_name(selection.resource, name)} scaled\n")
    return session.fail(errors)


class _Missing(Exception):
    """The object to scale does not exist (kubectl words this one differently)."""


def _scale(session: Session, path: str, args: argparse.Namespace) -> None:
    """Raises _Missing, ClientError, CtlError (precondition failed)."""
    try:
        obj = session.client.get(path)
    except ClientError as error:
        if error.code == 404:
            raise _Missing(error.message) from None
        raise
    if args.current_replicas >= 0:
        current = (obj.get("spec") or {}).get("replicas", 1)
        if current != args.current_replicas:
            raise CtlError(f"Expected replicas to be {args.current_replicas}, was {current}")
    session.client.patch(f"{path}/scale", {"spec": {"replicas": args.replicas}}, MERGE_PATCH)
