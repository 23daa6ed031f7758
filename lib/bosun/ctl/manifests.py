"""Objects from `-f FILE|DIR|-`, read as kubectl reads them.

Files hold YAML documents (separated by `---`) or JSON values; `List` kinds are opened into
their items. A folder gives its `.json`, `.yaml` and `.yml` files in name order, its subfolders
too with `-R`. An object Bosun does not serve, or without apiVersion and kind, is reported with
kubectl's message and the others still go through.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from bosun.ctl import yamlio
from bosun.ctl.session import CtlError
from bosun.objects import registry
from bosun.objects.registry import ResourceInfo

EXTENSIONS = (".json", ".yaml", ".yml")
STDIN = "STDIN"


@dataclass(frozen=True)
class Manifest:
    """One object of a file, with the resource it belongs to."""

    source: str  # the file as named, or STDIN
    obj: dict
    resource: ResourceInfo

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str | None:
        return (self.obj.get("metadata") or {}).get("namespace") or None


def expand(filenames: list[str], recursive: bool) -> list[str]:
    """The files that `-f` names, in kubectl's order. Raises CtlError for a missing path."""
    files: list[str] = []
    for name in filenames:
        if name == "-":
            files.append(name)
            continue
        path = Path(name)
        if not path.exists():
            raise CtlError(f'the path "{name}" does not exist')
        if path.is_dir():
            files += _walk(path, recursive)
        else:
            files.append(name)
    return files


def _walk(folder: Path, recursive: bool) -> list[str]:
    found: list[str] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir():
            if recursive:
                found += _walk(Path(entry.path), recursive)
        elif entry.name.endswith(EXTENSIONS):
            found.append(os.path.join(folder, entry.name))
    return found


def read(filenames: list[str], recursive: bool,
         stdin: TextIO | None = None) -> tuple[list[Manifest], list[CtlError]]:
    """Every object of the files, and an error for each document that could not be used.

    Raises CtlError for a path that does not exist (nothing is read then, as kubectl).
    """
    manifests: list[Manifest] = []
    errors: list[CtlError] = []
    for name in expand(filenames, recursive):
        source = STDIN if name == "-" else name
        try:
            text = (stdin.read() if stdin is not None else "") if name == "-" else \
                Path(name).read_text()
        except (OSError, UnicodeDecodeError) as error:
            errors.append(CtlError(f"error reading {source}: {error}"))
            continue
        documents, error = _documents(text, source)
        if error is not None:
            errors.append(error)
        for document in documents:
            try:
                manifests += [_manifest(obj, source) for obj in _objects(document, source)]
            except CtlError as error:
                errors.append(error)
    return manifests, errors


def _documents(text: str, source: str) -> tuple[list[object], CtlError | None]:
    """The values of a JSON stream or a YAML multi-document file, empty ones left out, and
    the error that stopped the reading (the documents before it are still used)."""
    values: list[object] = []
    if text.lstrip().startswith("{"):
        decoder, at = json.JSONDecoder(), 0
        while (at := _skip_space(text, at)) < len(text):
            try:
                value, at = decoder.raw_decode(text, at)
            except ValueError as error:
                return values, CtlError(f"error parsing {source}: json: {error}")
            values.append(value)
        return values, None
    try:
        for document in yamlio.load_all(text):
            if document is not None:
                values.append(document)
    except yaml.YAMLError as error:
        return values, CtlError(f"error parsing {source}: error converting YAML to JSON: "
                                f"{' '.join(str(error).split())}")
    return values, None


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _objects(document: object, source: str) -> list[dict]:
    if not isinstance(document, dict):
        raise CtlError(f'unable to decode "{source}": the document is not an object')
    kind = document.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(document.get("items"),
                                                                      list):
        return [obj for item in document["items"] for obj in _objects(item, source)]
    return [document]


def _manifest(obj: dict, source: str) -> Manifest:
    missing = [f"{key} not set" for key in ("apiVersion", "kind") if not obj.get(key)]
    if missing:
        raise CtlError(f'error validating "{source}": error validating data: '
                       f'[{", ".join(missing)}]; if you choose to ignore these errors, turn '
                       f"validation off with --validate=false")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    try:
        if obj["apiVersion"] != "v1":
            raise registry.UnknownResource(obj["kind"])
        resource = registry.by_kind(str(obj["kind"]))
    except registry.UnknownResource:
        raise CtlError(
            f'resource mapping not found for name: "{meta.get("name", "")}" namespace: '
            f'"{meta.get("namespace", "")}" from "{source}": no matches for kind '
            f'"{obj["kind"]}" in version "{obj["apiVersion"]}"\nensure CRDs are installed '
            f"first") from None
    if not meta.get("name"):
        raise CtlError(f'error when retrieving current configuration of "{source}": resource '
                       f"name may not be empty")
    return Manifest(source, obj, resource)


def namespace_for(manifest: Manifest, namespace: str, given: bool) -> str | None:
    """Where a file's object goes: its own namespace, else the session's (None when
    cluster-scoped). Raises CtlError when -n names another namespace than the file."""
    if not manifest.resource.namespaced:
        return None
    own = manifest.namespace
    if own and given and own != namespace:
        raise CtlError(f'the namespace from the provided object "{own}" does not match the '
                       f'namespace "{namespace}". You must pass \'--namespace={own}\' to '
                       f"perform this operation.")
    return own or namespace
