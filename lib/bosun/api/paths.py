"""Parse a core/v1 request path into what it names: resource, namespace, name, subresource.

    /api/v1/pods                                   all pods (every namespace)
    /api/v1/namespaces/default/pods                pods of one namespace
    /api/v1/namespaces/default/pods/web            one pod
    /api/v1/namespaces/default/pods/web/log        a subresource
    /api/v1/nodes/minion-1/status                  cluster-scoped object and subresource
    /api/v1/namespaces/default                     the namespace object itself
    /api/v1/watch/namespaces/default/pods          the legacy watch form
Pure; which resources exist and which are namespaced is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    resource: str
    namespace: str | None = None  # None: cluster-scoped, or every namespace
    name: str | None = None
    subresource: str | None = None
    watch_path: bool = False  # the legacy /api/v1/watch/... form


class UnknownPath(Exception):
    """The path names no resource this server has."""


def parse(tail: str, namespaced: Callable[[str], bool | None]) -> Target:
    """Parse the part of the path after /api/v1/.

    namespaced(resource) is True, False, or None for an unknown resource. Raises UnknownPath.
    """
    parts = [p for p in tail.split("/") if p]
    watch = bool(parts) and parts[0] == "watch"
    if watch:
        parts = parts[1:]
    if not parts:
        raise UnknownPath(tail)
    if parts[0] == "namespaces" and len(parts) >= 3 and namespaced(parts[2]):
        resource = parts[2]
        target = Target(resource, parts[1], *_name_and_sub(parts[3:]), watch_path=watch)
    else:
        resource = parts[0]
        if namespaced(resource) is None:
            raise UnknownPath(tail)
        if namespaced(resource) and len(parts) > 1:
            raise UnknownPath(tail)  # a namespaced resource by name needs its namespace
        target = Target(resource, None, *_name_and_sub(parts[1:]), watch_path=watch)
    if target.name is None and target.subresource is not None:
        raise UnknownPath(tail)
    return target


def _name_and_sub(rest: list[str]) -> tuple[str | None, str | None]:
    if len(rest) > 2:
        raise UnknownPath("/".join(rest))
    return (rest[0] if rest else None, rest[1] if len(rest) > 1 else None)
