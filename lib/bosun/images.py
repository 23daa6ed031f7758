"""`orchestrator.py image push`: ship an image to the minions that lack it (no registry here).

The image comes from a `docker save` tar file or from a minion that has it; it is loaded, over
each minion's kept-open Docker channel, only where it is missing, on all of them in parallel.
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from pathlib import Path

from bosun.errors import ConfigError
from bosun.inventory import load_inventory
from bosun.minion import Fleet, Minion
from bosun.minion import containers as docker_ops


def _has(minion: Minion, image: str) -> bool:
    return image in docker_ops.images(minion.docker)


def _tar_holds(path: Path, image: str) -> bool:
    """Whether a `docker save` tar names the image among its RepoTags."""
    with tarfile.open(path) as tar:
        manifest = tar.extractfile("manifest.json")
        if manifest is None:
            return False
        return any(image in (entry.get("RepoTags") or []) for entry in json.load(manifest))


def push(inventory_path: Path, image: str, *, from_file: Path | None = None,
         from_node: str | None = None, nodes: list[str] | None = None) -> dict[str, str]:
    """Load `image` into every chosen minion lacking it. Returns {minion: what happened}.

    Raises ConfigError for a bad source; a minion's failure is its entry in the result.
    """
    if (from_file is None) == (from_node is None):
        raise ConfigError("give exactly one source: --from-file TAR or --from-node MINION")
    if from_file is not None and not _tar_holds(from_file, image):
        raise ConfigError(f"{from_file} does not hold {image} (see its manifest.json)")
    addresses = load_inventory(inventory_path).minions()
    known = {a.name for a in addresses}
    for name in [*(nodes or []), *([from_node] if from_node else [])]:
        if name not in known:
            raise ConfigError(f"no minion {name!r} in {inventory_path}")
    with Fleet(addresses, timeout=600) as fleet:
        targets = nodes or fleet.names
        missing = [name for name, outcome in fleet.map(lambda m: _has(m, image), names=targets)
                   .items() if not outcome.ok or not outcome.value]
        result = {name: "present" for name in targets if name not in missing}
        if not missing:
            return result
        data = from_file.read_bytes() if from_file else saved(fleet[from_node], image)
        return result | load_into(fleet, missing, data)


def saved(minion: Minion, image: str) -> bytes:
    """The `docker save` tar of an image the minion holds. Raises DockerNotFound,
    DockerAPIError, MinionUnreachable."""
    buffer = io.BytesIO()
    for chunk in docker_ops.save(minion.docker, image):
        buffer.write(chunk)
    return buffer.getvalue()


def load_into(fleet: Fleet, names: list[str], data: bytes) -> dict[str, str]:
    """Load a `docker save` tar into the named minions, in parallel.

    Returns {minion: "loaded" or "failed: why"}; never raises for a minion's failure.
    """
    loaded = fleet.map(lambda m: docker_ops.load(m.docker, iter([data])), names=names)
    return {name: "loaded" if outcome.ok else f"failed: {outcome.error}"
            for name, outcome in loaded.items()}


def main(args: argparse.Namespace) -> int:
    result = push(Path(args.inventory), args.image,
                  from_file=Path(args.from_file) if args.from_file else None,
                  from_node=args.from_node, nodes=args.node)
    for name in sorted(result):
        print(f"{name}: {args.image} {result[name]}")
    return 0 if all(not v.startswith("failed") for v in result.values()) else 1
