"""Output as kubectl prints it: tab-aligned columns, server Tables, `-o yaml|json|name`.

`TabWriter` lays out tab-separated cells the way Go's text/tabwriter does (kubectl uses it for
`get` with padding 3 and for `describe` with padding 2); `TablePrinter` turns the API's
`meta.k8s.io/v1` Tables into kubectl's `get` output, header once, rows as they come (watch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TextIO

from bosun.api.applypatch import go_float, go_json
from bosun.ctl import yamlio

GET_MIN_WIDTH, GET_PADDING = 6, 3
DESCRIBE_PADDING = 2
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TabWriter:
    """Go's text/tabwriter with left alignment and space padding.

    Each line is a list of cells; every cell but a line's last is padded to its column's width:
    the widest cell of that column plus `padding` (at least `min_width`), taken over the block of
    consecutive lines that have the column. With `remember`, widths only grow from one flush to
    the next, so rows printed later (watch) stay aligned with earlier ones.
    """

    def __init__(self, out: TextIO, *, min_width: int = 0, padding: int = DESCRIBE_PADDING,
                 remember: bool = False) -> None:
        self.out = out
        self.min_width = min_width
        self.padding = padding
        self.remembered: dict[int, int] | None = {} if remember else None
        self.lines: list[list[str]] = []

    def row(self, cells: list[str]) -> None:
        self.lines.append(list(cells))

    def write(self, text: str) -> None:
        """Text with tabs between cells and newlines between lines."""
        for line in text.splitlines():
            self.lines.append(line.split("\t"))

    def flush(self) -> None:
        widths: list[list[int]] = [[0] * (len(line) - 1) for line in self.lines]
        self._layout(0, 0, len(self.lines), widths)
        for line, sizes in zip(self.lines, widths, strict=True):
            cells = zip(line[:-1], sizes, strict=True)
            padded = "".join(cell + " " * (size - len(cell)) for cell, size in cells)
            self.out.write(padded + line[-1] + "\n")
        self.lines = []
        self.out.flush()

    def _layout(self, column: int, start: int, end: int, widths: list[list[int]]) -> None:
        """Widths of `column` for lines[start:end], block by block, then the columns right of
        it within each block (as Go's tabwriter formats)."""
        line = start
        while line < end:
            if column >= len(self.lines[line]) - 1:
                line += 1
                continue
            first, width = line, self.min_width
            while line < end and column < len(self.lines[line]) - 1:
                width = max(width, len(self.lines[line][column]) + self.padding)
                line += 1
            if self.remembered is not None:
                width = max(width, self.remembered.get(column, 0))
                self.remembered[column] = width
            for n in range(first, line):
                widths[n][column] = width
            self._layout(column + 1, first, line, widths)


def cell_text(value: object) -> str:
    """A Table cell as kubectl prints it: first line only, control characters made visible."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = go_float(value)
    else:
        text = str(value)
    cut = re.search(r"[\f\n\r]", text)
    if cut:
        text = text[:cut.start()] + "..."
    return escape(text)


def escape(text: str) -> str:
    """Control characters as `^[` and the like, so server text cannot drive the terminal."""
    return _CONTROL.sub(lambda m: "^" + chr((ord(m.group()) + 64) % 128), text)


def format_labels(labels: dict | None) -> str:
    """`a=b,c=d` sorted by key, or `<none>`."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


@dataclass
class TableOptions:
    wide: bool = False
    namespace_column: bool = False
    kind: str | None = None  # prefix names with `kind/` (several resource types asked for)
    show_labels: bool = False


@dataclass
class TablePrinter:
    """kubectl's human `get` output for one resource type: header once, then rows."""

    out: TextIO
    options: TableOptions
    header_printed: bool = False
    remember: bool = False  # watch: later rows keep the widths of earlier ones
    columns: list[dict] = field(default_factory=list)
    writer: TabWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = TabWriter(self.out, min_width=GET_MIN_WIDTH, padding=GET_PADDING,
                                remember=self.remember)

    def add(self, table: dict) -> int:
        """Queue a Table's rows (after the header, the first time). Returns how many."""
        # A watch may send the columns with its first event only.
        columns = table.get("columnDefinitions") or self.columns
        self.columns = columns
        shown = [n for n, c in enumerate(columns) if self.options.wide or not c.get("priority")]
        rows = table.get("rows") or []
        if not rows:
            return 0
        if not self.header_printed:
            self.writer.row(self._header([columns[n] for n in shown]))
            self.header_printed = True
        name_at = next((n for n in shown if columns[n].get("format") == "name"), None)
        for row in rows:
            self.writer.row(self._cells(row, shown, name_at))
        return len(rows)

    def flush(self) -> None:
        self.writer.flush()

    def _header(self, columns: list[dict]) -> list[str]:
        names = [str(c.get("name", "")).upper() for c in columns]
        if self.options.namespace_column:
            names.insert(0, "NAMESPACE")
        if self.options.show_labels:
            names.append("LABELS")
        return names

    def _cells(self, row: dict, shown: list[int], name_at: int | None) -> list[str]:
        values = row.get("cells") or []
        cells = []
        for n in shown:
            text = cell_text(values[n] if n < len(values) else None)
            if n == name_at and self.options.kind:
                text = f"{self.options.kind}/{text}"
            cells.append(text)
        meta = (row.get("object") or {}).get("metadata") or {}
        if self.options.namespace_column:
            cells.insert(0, escape(meta.get("namespace") or ""))
        if self.options.show_labels:
            cells.append(escape(format_labels(meta.get("labels"))))
        return cells


def to_json(obj: object) -> str:
    """`-o json`: four-space indents, keys sorted, as kubectl prints."""
    return go_json(obj, indent=4) + "\n"


def to_yaml(obj: object) -> str:
    return yamlio.dump(obj)


def as_list(items: list[dict]) -> dict:
    """Several objects as the `List` kubectl prints for `-o yaml|json`."""
    return {"apiVersion": "v1", "items": items, "kind": "List",
            "metadata": {"resourceVersion": ""}}
