"""Resource arguments as kubectl reads them: `po,svc NAME...` or `pod/NAME svc/NAME`.

Types resolve through `bosun.objects.registry` (plural, singular, short name or Kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.ctl.session import CtlError
from bosun.objects import registry
from bosun.objects.registry import ResourceInfo

SLASH_FORM_ERROR = (
    "there is no need to specify a resource type as a separate argument when passing arguments "
    "in resource/name form (e.g. 'kubectl {verb} resource/<resource_name>' instead of 'kubectl "
    "{verb} resource resource/<resource_name>'")


@dataclass
class Selection:
    """One resource type and the names asked for (none: all of them)."""

    resource: ResourceInfo
    names: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """`pod`, `replicationcontroller`: the prefix of `kind/name`."""
        return self.resource.kind.lower()


def resolve(name: str) -> ResourceInfo:
    """Raises CtlError for a type the server does not have."""
    try:
        return registry.resolve(name)
    except registry.UnknownResource:
        raise CtlError(f'the server doesn\'t have a resource type "{name}"') from None


def select(args: list[str], verb: str) -> list[Selection]:
    """The selections of `TYPE[,TYPE] [NAME...]` or `TYPE/NAME...`. Raises CtlError."""
    if not args:
        raise CtlError("you must specify the type of resource to " + verb)
    if "/" in args[0]:
        selections: list[Selection] = []
        for arg in args:
            kind, _, name = arg.partition("/")
            if not kind or not name or "/" in name:
                raise CtlError("arguments in resource/name form must have a single resource "
                               "and name")
            resource = resolve(kind)
            if selections and selections[-1].resource == resource:
                selections[-1].names.append(name)
            else:
                selections.append(Selection(resource, [name]))
        return selections
    if any("/" in arg for arg in args[1:]):
        raise CtlError(SLASH_FORM_ERROR.format(verb=verb))
    types = [t for t in args[0].split(",") if t]
    if not types:
        raise CtlError("you must specify the type of resource to " + verb)
    return [Selection(resolve(t), list(args[1:])) for t in types]


def object_name(resource: ResourceInfo, name: str) -> str:
    """`pod/web`, as `-o name` and apply print."""
    return f"{resource.kind.lower()}/{name}"
