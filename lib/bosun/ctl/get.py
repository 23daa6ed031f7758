"""`get RESOURCE[,RESOURCE] [NAME...] [-l SEL] [-n NS|-A] [-o wide|yaml|json|name] [-w]`.

Human output asks the server for Tables and prints them in kubectl's columns: `kind/` before
names when several types are asked for, a NAMESPACE column with `-A`, a blank line between
types, `No resources found in NS namespace.` on stderr when nothing matched. Objects that exist
are printed before the errors for those that do not, as kubectl does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bosun.api.client import TABLE, ClientError, resource_path
from bosun.ctl import printing, resources, watch
from bosun.ctl.resources import Selection
from bosun.ctl.session import CtlError, Session

OUTPUTS = ("", "wide", "yaml", "json", "name")


@dataclass
class Request:
    """What one `get` asks for, resolved from the arguments."""

    selections: list[Selection]
    namespace: str | None  # None: all namespaces
    output: str
    label_selector: str
    field_selector: str
    show_labels: bool

    @property
    def several_types(self) -> bool:
        return len({s.resource.name for s in self.selections}) > 1

    def path(self, selection: Selection, name: str | None = None) -> str:
        namespace = self.namespace if selection.resource.namespaced else None
        return resource_path(selection.resource.name, namespace, name)

    def query(self) -> dict:
        return {"labelSelector": self.label_selector or None,
                "fieldSelector": self.field_selector or None}


def command(session: Session, args: argparse.Namespace) -> int:
    request = parse(session, args)
    if args.watch:
        return watch.run(session, request, table_options(request, request.selections[0]))
    if request.output in ("", "wide"):
        return _human(session, request)
    return _objects(session, request)


def parse(session: Session, args: argparse.Namespace) -> Request:
    """Raises CtlError for arguments kubectl refuses."""
    output = args.output or ""
    if output not in OUTPUTS:
        raise CtlError(f'unable to match a printer suitable for the output format "{output}", '
                       f"allowed formats are: json,name,wide,yaml")
    if not args.resources:
        raise CtlError("Required resource not specified.")
    selections = resources.select(args.resources, "get")
    named = any(s.names for s in selections)
    if args.all_namespaces and named:
        raise CtlError("a resource cannot be retrieved by name across all namespaces")
    if named and (args.selector or args.field_selector):
        raise CtlError("when retrieving resources by name, selectors may not be given")
    return Request(selections, None if args.all_namespaces else session.namespace, output,
                   args.selector or "", args.field_selector or "", args.show_labels)


def table_options(request: Request, selection: Selection) -> printing.TableOptions:
    return printing.TableOptions(
        wide=request.output == "wide", namespace_column=request.namespace is None,
        kind=selection.kind if request.several_types else None,
        show_labels=request.show_labels)


def _human(session: Session, request: Request) -> int:
    errors: list[BaseException] = []
    groups = 0
    for selection in request.selections:
        tables = _fetch(session, request, selection, errors, accept=TABLE)
        printer = printing.TablePrinter(session.out, table_options(request, selection))
        rows = sum(printer.add(table) for table in tables)
        if rows and groups:
            session.out.write("\n")
        printer.flush()
        groups += 1 if rows else 0
    if not groups and not errors:
        session.err.write(_nothing_found(request) + "\n")
    return session.fail(errors)


def _fetch(session: Session, request: Request, selection: Selection,
           errors: list[BaseException], accept: str) -> list[dict]:
    """The answers for one selection: one per name, or the whole list."""
    if not selection.names:
        return [session.client.list(request.path(selection), request.query(), accept=accept)]
    found = []
    for name in selection.names:
        try:
            found.append(session.client.get(request.path(selection, name), accept=accept))
        except ClientError as error:
            errors.append(error)
    return found


def _nothing_found(request: Request) -> str:
    if request.namespace is None or not any(s.resource.namespaced for s in request.selections):
        return "No resources found"
    return f"No resources found in {request.namespace} namespace."


def _objects(session: Session, request: Request) -> int:
    errors: list[BaseException] = []
    items: list[dict] = []
    for selection in request.selections:
        for answer in _fetch(session, request, selection, errors, accept="application/json"):
            for obj in answer["items"] if "items" in answer else [answer]:
                items.append(with_type(obj, selection))
    single = len(request.selections) == 1 and len(request.selections[0].names) == 1
    if request.output == "name":
        for obj in items:
            session.out.write(f"{obj['kind'].lower()}/{obj['metadata']['name']}\n")
    elif items or not single:
        session.out.write(render(items[0] if single else printing.as_list(items),
                                 request.output))
    return session.fail(errors)


def with_type(obj: dict, selection: Selection) -> dict:
    """The object with kind and apiVersion first filled (list items come without them)."""
    return {"apiVersion": selection.resource.api_version, "kind": selection.resource.kind,
            **obj}


def render(obj: dict, output: str) -> str:
    """`-o json` or `-o yaml` of one object or a List."""
    return printing.to_json(obj) if output == "json" else printing.to_yaml(obj)
