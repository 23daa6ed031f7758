"""`orchestrator.py image build`: the example images, built here and put on every minion.

An image folder (manifests/images/NAME) holds `image.yaml` (image, tag, Docker changes) and
`rootfs/` (files laid over the busybox layout, bosun.rootfs). Its tar is built here, the same
bytes for the same sources; the digest of tar and changes is kept as a label on the image. The
first minion that answers imports it over its Docker channel, the others get it from there as
`image push` does (bosun.images), so all hold one image id; a minion whose image already
carries the digest is left alone, so an unchanged image is never imported or pushed again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bosun import images, rootfs
from bosun.errors import BosunError, ConfigError
from bosun.inventory import load_inventory
from bosun.minion import Fleet, Minion
from bosun.minion import containers as docker_ops

SPEC_FILE = "image.yaml"
SOURCE_LABEL = "io.bosun.image.source"
# The instructions `docker import --change` accepts (Docker's own list).
INSTRUCTIONS = frozenset({"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD",
                          "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})
REPOSITORY = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# What happened on a minion.
IMPORT, PUSH, PRESENT = "import", "push", "present"


@dataclass(frozen=True)
class ImageSpec:
    """One image folder's image.yaml."""

    folder: Path
    repository: str
    tag: str
    changes: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class BuiltImage:
    """An image's root filesystem tar and everything `docker import` is given with it."""

    spec: ImageSpec
    tar: bytes
    source: str  # digest of tar and changes: what SOURCE_LABEL holds on the minions

    @property
    def changes(self) -> tuple[str, ...]:
        return (*rootfs.BASE_CHANGES, *self.spec.changes, f"LABEL {SOURCE_LABEL}={self.source}")


def load_spec(folder: Path) -> ImageSpec:
    """Read folder/image.yaml. Raises ConfigError naming the file and what is wrong."""
    path = folder / SPEC_FILE
    where = str(path)
    try:
        record = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", where) from error
    except yaml.YAMLError as error:
        raise ConfigError(f"not YAML: {error}", where) from error
    if not isinstance(record, dict):
        raise ConfigError("must be a mapping with image, tag and changes", where)
    unknown = sorted(set(record) - {"image", "tag", "changes"})
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r} (image, tag, changes)", where)
    repository = record.get("image")
    if not isinstance(repository, str) or not REPOSITORY.fullmatch(repository):
        raise ConfigError(f"image must be a repository name like bosun/web, not {repository!r}",
                          where)
    tag = record.get("tag", "latest")
    tag = str(tag) if isinstance(tag, (int, str)) and not isinstance(tag, bool) else tag
    if not isinstance(tag, str) or not TAG.fullmatch(tag):
        raise ConfigError(f"tag must be like 1 or v1.2, not {tag!r}", where)
    changes = record.get("changes") or []
    if not isinstance(changes, list):
        raise ConfigError("changes must be a list of Dockerfile instructions", where)
    for number, change in enumerate(changes):
        word = change.split(None, 1)[0] if isinstance(change, str) and change.strip() else ""
        if word.upper() not in INSTRUCTIONS:
            raise ConfigError(f"changes[{number}]: {change!r} is not one of "
                              f"{', '.join(sorted(INSTRUCTIONS))} with its arguments", where)
    return ImageSpec(folder, repository, tag, tuple(changes))


def find_specs(images_dir: Path, names: Sequence[str] = ()) -> list[ImageSpec]:
    """The named image folders (default: every folder with an image.yaml), by name.

    Raises ConfigError for a name without a folder, or when there is none at all.
    """
    available = sorted(p.parent.name for p in images_dir.glob(f"*/{SPEC_FILE}"))
    for name in names:
        if name not in available:
            choices = ", ".join(available) or "none"
            raise ConfigError(f"no image {name!r} in {images_dir} (there are: {choices})")
    chosen = list(dict.fromkeys(names)) or available
    if not chosen:
        raise ConfigError(f"no image folders (*/{SPEC_FILE}) in {images_dir}")
    return [load_spec(images_dir / name) for name in chosen]


def build(spec: ImageSpec, busybox: tuple[bytes, Sequence[str]]) -> BuiltImage:
    """The image's root filesystem: busybox (binary, applet paths) with the folder's rootfs/
    over it. Raises ConfigError for files that cannot go into an image."""
    extra = rootfs.read_tree(spec.folder / "rootfs") if (spec.folder / "rootfs").is_dir() else {}
    tar = rootfs.tar_bytes(rootfs.overlay(rootfs.busybox_layout(*busybox), extra))
    recipe = json.dumps([rootfs.digest(tar), list(spec.changes)]).encode()
    return BuiltImage(spec, tar, "sha256:" + hashlib.sha256(recipe).hexdigest())


def plan(source: str, observed: Mapping[str, str | None | Exception]
         ) -> tuple[str | None, dict[str, str]]:
    """What each minion needs, from the source digest its image carries (None: no image, or
    one without the label; an exception: the minion did not answer). Pure.

    Returns the minion the others get the image from (the first that answered; None if none
    did) and {minion: IMPORT (only that one, unless current), PUSH, PRESENT or "failed: why"}.
    """
    answered = [name for name, seen in observed.items() if not isinstance(seen, Exception)]
    origin = answered[0] if answered else None
    actions: dict[str, str] = {}
    for name, seen in observed.items():
        if isinstance(seen, Exception):
            actions[name] = f"failed: {seen}"
        elif seen == source:
            actions[name] = PRESENT
        else:
            actions[name] = IMPORT if name == origin else PUSH
    return origin, actions


def distribute(fleet: Fleet, built: BuiltImage) -> dict[str, str]:
    """Put the built image on every minion of the fleet that lacks it: observe, plan, act.

    Returns {minion: "imported", "pushed", "already there" or "failed: why"}; a minion's
    failure is its entry, never an exception.
    """
    reference = built.spec.reference

    def source_label(minion: Minion) -> str | None:
        return (docker_ops.image_labels(minion.docker, reference) or {}).get(SOURCE_LABEL)

    observed = {name: outcome.value if outcome.ok else outcome.error
                for name, outcome in fleet.map(source_label).items()}
    origin, actions = plan(built.source, observed)
    result = {name: "already there" if action == PRESENT else action
              for name, action in actions.items()}
    pushing = [name for name, action in actions.items() if action == PUSH]
    try:
        if origin is not None and actions[origin] == IMPORT:
            docker_ops.import_image(fleet[origin].docker, built.tar, reference, built.changes)
            result[origin] = "imported"
        if origin is not None and pushing:
            loaded = images.load_into(fleet, pushing, images.saved(fleet[origin], reference))
            result |= {name: "pushed" if how == "loaded" else how for name, how in loaded.items()}
    except BosunError as error:  # the import or the save failed: the rest cannot get it
        result |= {name: f"failed: {error}" for name, what in result.items()
                   if what in (IMPORT, PUSH)}
    return result


def main(args: argparse.Namespace) -> int:
    if not args.inventory:
        raise ConfigError("no inventory: give -i FILE (or bring up the lab)")
    specs = find_specs(Path(args.images_dir), args.names)
    busybox = rootfs.host_busybox()
    built = [build(spec, busybox) for spec in specs]
    failed = False
    with Fleet(load_inventory(args.inventory).minions(), timeout=600) as fleet:
        for image in built:
            size = len(image.tar) / 1e6
            print(f"{image.spec.reference}: built {size:.1f} MB, source {image.source[7:19]}")
            for name, what in distribute(fleet, image).items():
                print(f"  {name}: {what}")
                failed = failed or what.startswith("failed")
    return 1 if failed else 0
