"""`cordon NODE...` and `uncordon NODE...`: mark minions (un)schedulable, as kubectl does.

A merge patch of `spec.unschedulable`; the scheduler places no new pod on a cordoned minion
(pods already there keep running: `drain` moves them). Prints `node/NAME cordoned`, or
`already cordoned` when there was nothing to change.
"""

from __future__ import annotations

import argparse

from bosun.api.client import MERGE_PATCH, ClientError, resource_path
from bosun.ctl.session import Session


def command(session: Session, args: argparse.Namespace) -> int:
    """`cordon` or `uncordon`, after args.command."""
    errors: list[BaseException] = []
    for node in args.nodes:
        try:
            session.out.write(set_unschedulable(session, node, args.command == "cordon") + "\n")
        except ClientError as error:
            errors.append(error)
    return session.fail(errors)


def set_unschedulable(session: Session, node: str, cordon: bool) -> str:
    """Cordon or uncordon one node; the line kubectl prints for it. Raises ClientError."""
    path = resource_path("nodes", None, node)
    current = bool((session.client.get(path).get("spec") or {}).get("unschedulable"))
    verb = "cordoned" if cordon else "uncordoned"
    if current == cordon:
        return f"node/{node} already {verb}"
    session.client.patch(path, {"spec": {"unschedulable": True if cordon else None}},
                         MERGE_PATCH)
    return f"node/{node} {verb}"
