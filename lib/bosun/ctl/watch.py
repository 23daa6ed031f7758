"""`get -w`: print what exists, then every change the server streams, until the stream ends.

The list (or the one object named) is printed as `get` prints it; each watch event then adds
rows under the same header, columns no narrower than before, as kubectl's watch output does.
"""

from __future__ import annotations

import json

from bosun.api.client import JSON, TABLE, ClientError
from bosun.ctl import printing
from bosun.ctl.resources import Selection
from bosun.ctl.session import CtlError, Session


def run(session: Session, request, options: printing.TableOptions) -> int:
    """Watch the one selection of a `get.Request`, human output laid out by options.

    Raises CtlError for more than one type or name, ClientError for the server's refusals.
    """
    if len(request.selections) != 1:
        raise CtlError("you may only specify a single resource type")
    selection = request.selections[0]
    if len(selection.names) > 1:
        raise CtlError(f"watch is only supported on individual resources and resource "
                       f"collections, but {len(selection.names)} resources were found")
    human = request.output in ("", "wide")
    accept = TABLE if human else JSON
    query = request.query()
    if selection.names:
        first = session.client.get(request.path(selection, selection.names[0]), accept=accept)
        query["fieldSelector"] = f"metadata.name={selection.names[0]}"
    else:
        first = session.client.list(request.path(selection), query, accept=accept)
    show = _Shower(session, request.output, selection, options if human else None)
    show(first)
    query.update(watch=True, resourceVersion=(first.get("metadata") or {}).get(
        "resourceVersion") or None)
    with session.client.stream(request.path(selection), query, accept=accept) as stream:
        for line in stream.lines():
            event = json.loads(line)
            if event.get("type") == "ERROR":
                raise ClientError(event.get("object") or {})
            if event.get("type") != "BOOKMARK":
                show(event.get("object") or {})
    return 0


class _Shower:
    """Prints objects, lists or Tables in the chosen output, one call per answer or event."""

    def __init__(self, session: Session, output: str, selection: Selection,
                 options: printing.TableOptions | None) -> None:
        self.session = session
        self.output = output
        self.selection = selection
        self.printed = 0
        self.table = None if options is None else printing.TablePrinter(
            session.out, options, remember=True)

    def __call__(self, answer: dict) -> None:
        if self.table is not None:
            if self.table.add(answer):
                self.table.flush()
            return
        for obj in answer["items"] if "items" in answer else [answer]:
            self._object({"apiVersion": self.selection.resource.api_version,
                          "kind": self.selection.resource.kind, **obj})

    def _object(self, obj: dict) -> None:
        out = self.session.out
        if self.output == "name":
            out.write(f"{obj['kind'].lower()}/{obj['metadata']['name']}\n")
        elif self.output == "json":
            out.write(printing.to_json(obj))
        else:
            out.write(("---\n" if self.printed else "") + printing.to_yaml(obj))
        self.printed += 1
        out.flush()

