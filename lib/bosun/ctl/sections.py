"""Building blocks of `describe` output: aligned label/value lines, labels and annotations,
absolute times, and the Events table every description ends with.

kubectl lays descriptions out with Go's tabwriter (padding 2), nested parts indented by two
spaces per level; `Text` does the same.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from bosun.api.applypatch import LAST_APPLIED
from bosun.api.tables import since
from bosun.ctl.printing import DESCRIBE_PADDING, TabWriter, escape

NONE = "<none>"


@dataclass
class Context:
    """What a description needs besides the object."""

    now: datetime
    events: list[dict] = field(default_factory=list)
    endpoints: dict | None = None  # a service's
    pods: list[dict] = field(default_factory=list)  # an RC's, or those on a node
    lease: dict | str | None = None  # a node's Lease, or why it could not be read


class Text:
    """Lines of tab-separated cells, laid out as kubectl's describe does (padding 2)."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = []

    def line(self, level: int, *cells: object) -> None:
        texts = [escape(str(cell)) for cell in cells]
        texts[0] = "  " * level + texts[0]
        self.lines.append(texts)

    def many(self, level: int, label: str, items: list[str]) -> None:
        """`Label:  first` then the others below the first, or `Label:  <none>`."""
        self.line(level, f"{label}:", items[0] if items else NONE)
        for item in items[1:]:
            self.line(level, "", item)

    def render(self) -> str:
        out = io.StringIO()
        writer = TabWriter(out, padding=DESCRIBE_PADDING)
        for line in self.lines:
            writer.row(line)
        writer.flush()
        return out.getvalue()


# -- shared parts ---------------------------------------------------------------------------------

def meta_of(obj: dict) -> dict:
    return obj.get("metadata") or {}


def labels(mapping: dict | None) -> list[str]:
    """`key=value` per label, sorted by key."""
    return [f"{k}={v}" for k, v in sorted((mapping or {}).items())]


def annotations(mapping: dict | None) -> list[str]:
    """`key: value` per annotation, sorted, without the last-applied one (as kubectl)."""
    return [f"{k}: {v}" for k, v in sorted((mapping or {}).items()) if k != LAST_APPLIED]


def header(text: Text, obj: dict, namespaced: bool = True) -> None:
    """`Name:` and, for namespaced objects, `Namespace:`."""
    meta = meta_of(obj)
    text.line(0, "Name:", meta.get("name", ""))
    if namespaced:
        text.line(0, "Namespace:", meta.get("namespace", ""))


def labels_and_annotations(text: Text, obj: dict, level: int = 0) -> None:
    text.many(level, "Labels", labels(meta_of(obj).get("labels")))
    text.many(level, "Annotations", annotations(meta_of(obj).get("annotations")))


def rfc1123(value: str | None) -> str:
    """`Fri, 27 Nov 2026 14:45:19 +0000`, kubectl's form for absolute times."""
    if not value:
        return NONE
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return stamp.strftime("%a, %d %b %Y %H:%M:%S %z")


def _event_age(event: dict, now: datetime) -> str:
    first = event.get("firstTimestamp") or event.get("eventTime")
    series = event.get("series")
    if series:
        return f"{since(series.get('lastObservedTime'), now)} (x{series.get('count', 1)} over " \
               f"{since(first, now)})"
    if (event.get("count") or 0) > 1:
        return f"{since(event.get('lastTimestamp'), now)} (x{event['count']} over " \
               f"{since(first, now)})"
    return since(first, now)


def events_section(text: Text, context: Context) -> None:
    """`Events:  <none>`, or the table of the object's events, oldest first."""
    if not context.events:
        text.line(0, "Events:", NONE)
        return
    text.line(0, "Events:")
    text.line(1, "Type", "Reason", "Age", "From", "Message")
    text.line(1, "----", "------", "----", "----", "-------")
    ordered = sorted(context.events, key=lambda e: e.get("lastTimestamp") or
                     e.get("eventTime") or "")
    for event in ordered:
        source = (event.get("source") or {}).get("component") or \
            event.get("reportingComponent") or ""
        text.line(1, event.get("type", ""), event.get("reason", ""),
                  _event_age(event, context.now), source,
                  " ".join((event.get("message") or "").split()))
