"""The lab's base image `bosun/busybox:1`, built here since no registry is reachable.

A root holding busybox-static and a symlink per applet (sh, httpd, nc, hostname, sleep, ...),
built by bosun.rootfs as the example images are, is imported into the first minion's dockerd,
saved once, and loaded into the others, so every minion holds the very same image id. Minions
that already have it are skipped.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bosun import rootfs
from bosun.lab.spec import LabSpec, MinionSpec
from bosun.lab.system import LabError, run

IMAGE = "bosun/busybox:1"
CHANGES = (*rootfs.BASE_CHANGES, 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]')
INDEX_HTML = b"<html><body>bosun/busybox:1</body></html>\n"


def build_rootfs_tar(image_dir: Path) -> Path:
    """Write image_dir/rootfs.tar (once) and return its path. Raises PermanentError without
    busybox."""
    target = image_dir / "rootfs.tar"
    if target.exists():
        return target
    image_dir.mkdir(parents=True, exist_ok=True)
    layout = rootfs.busybox_layout(*rootfs.host_busybox())
    layout["www/index.html"] = rootfs.file(INDEX_HTML)
    partial = target.with_suffix(".tmp")
    partial.write_bytes(rootfs.tar_bytes(layout))
    partial.rename(target)
    return target


def _docker(minion: MinionSpec, *args: str) -> list[str]:
    return ["docker", "-H", f"unix://{minion.docker_socket}", *args]


def has_image(minion: MinionSpec) -> bool:
    return run(_docker(minion, "image", "inspect", IMAGE), check=False).returncode == 0


def distribute(spec: LabSpec, rootfs_tar: Path, minions: list[MinionSpec]) -> None:
    """Make sure every minion holds IMAGE with one and the same image id."""
    saved = spec.image_dir / "busybox-image.tar"
    needing = [m for m in minions if not has_image(m)]
    if not needing:
        return
    if not saved.exists():
        source = next((m for m in minions if m not in needing), needing[0])
        if source in needing:
            changes = [word for change in CHANGES for word in ("-c", change)]
            run(_docker(source, "import", *changes, "-", IMAGE),
                input=rootfs_tar.read_bytes())
            needing.remove(source)
        partial = saved.with_suffix(".tmp")
        run(_docker(source, "save", "-o", str(partial), IMAGE))
        partial.rename(saved)
    with ThreadPoolExecutor(max_workers=max(1, len(needing))) as pool:
        list(pool.map(lambda m: _load(m, saved), needing))


def _load(minion: MinionSpec, saved: Path) -> None:
    with open(saved, "rb") as data:
        done = subprocess.run(_docker(minion, "load", "-q"), stdin=data, capture_output=True,
                              check=False)
    if done.returncode != 0:
        raise LabError(f"{minion.name}: docker load {IMAGE}: {done.stderr.decode().strip()}")
