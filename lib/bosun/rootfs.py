"""Busybox root filesystems as tar bytes: the same sources always give the same bytes.

Shared by the lab's base image (bosun.lab.image) and the example images (bosun.imagebuild): the
busybox layout (busybox-static, a symlink per applet, /etc/passwd, /tmp, ...) with an image's own
files laid over it. Entries are sorted and have fixed owner, time and modes, so the tar's digest
names its content and an unchanged image can be recognised on a minion without importing it.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bosun.errors import ConfigError, PermanentError

# What every busybox image is imported with before its own changes (Docker `import -c` syntax).
BASE_CHANGES = ("ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",)
FOLDERS = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "www", "tmp", "root", "proc",
           "sys", "dev", "var", "var/run")
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
GROUP = b"root:x:0:\nnogroup:x:65534:\n"
DIR, FILE, SYMLINK = "dir", "file", "symlink"


@dataclass(frozen=True)
class Entry:
    """One path of the root filesystem: a folder, a file with its bytes, or a symlink."""

    kind: str
    mode: int = 0o755
    data: bytes = b""
    target: str = ""


def folder(mode: int = 0o755) -> Entry:
    return Entry(DIR, mode)


def file(data: bytes, mode: int = 0o644) -> Entry:
    return Entry(FILE, mode, data)


def host_busybox() -> tuple[bytes, list[str]]:
    """This machine's busybox-static binary and its applets' paths (`busybox --list-full`).

    Raises PermanentError if busybox is not installed or does not answer.
    """
    found = shutil.which("busybox")
    if found is None:
        raise PermanentError("busybox not found: run ./orchestrator.py setup (busybox-static)")
    try:
        listed = subprocess.run([found, "--list-full"], capture_output=True, check=True,
                                timeout=30).stdout.decode()
    except (OSError, subprocess.SubprocessError) as error:
        raise PermanentError(f"{found} --list-full: {error}") from error
    return Path(found).read_bytes(), listed.split()


def busybox_layout(binary: bytes, applets: Iterable[str]) -> dict[str, Entry]:
    """The base of every image: busybox at /bin/busybox and every applet linked to it."""
    entries = {name: folder(0o1777 if name == "tmp" else 0o755) for name in FOLDERS}
    entries["bin/busybox"] = file(binary, 0o755)
    for applet in applets:
        if applet != "bin/busybox" and "/" in applet:
            entries[applet] = Entry(SYMLINK, 0o777, target="/bin/busybox")
    entries["etc/passwd"] = file(PASSWD)
    entries["etc/group"] = file(GROUP)
    return entries


def read_tree(root: Path) -> dict[str, Entry]:
    """Every folder, file and symlink under root, named relative to it. A file keeps only
    whether it is executable (0755 or 0644), nothing of its owner or time.

    Raises ConfigError for anything else (sockets, devices, ...).
    """
    entries: dict[str, Entry] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            entries[name] = Entry(SYMLINK, 0o777, target=os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            entries[name] = folder()
        elif stat.S_ISREG(info.st_mode):
            entries[name] = file(path.read_bytes(), 0o755 if info.st_mode & 0o111 else 0o644)
        else:
            raise ConfigError("only folders, files and symlinks can go into an image",
                              str(path))
    return entries


def overlay(base: Mapping[str, Entry], extra: Mapping[str, Entry]) -> dict[str, Entry]:
    """base with extra's entries added or replacing base's. Raises ConfigError when extra
    would turn one of base's folders into a file or the other way round."""
    merged = dict(base)
    for name, entry in extra.items():
        old = merged.get(name)
        if old is not None and (old.kind == DIR) != (entry.kind == DIR):
            raise ConfigError(f"{name} is a {old.kind} in the base layout, not a {entry.kind}")
        merged[name] = entry
    return merged


def tar_bytes(entries: Mapping[str, Entry]) -> bytes:
    """The root filesystem as an uncompressed tar: entries in name order (missing parent
    folders added), owner root, time 0."""
    complete = dict(entries)
    for name in entries:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            complete.setdefault("/".join(parts[:depth]), folder())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(complete):
            entry = complete[name]
            info = tarfile.TarInfo(name)
            info.mode = entry.mode
            if entry.kind == DIR:
                info.type = tarfile.DIRTYPE
            elif entry.kind == SYMLINK:
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
            else:
                info.size = len(entry.data)
            tar.addfile(info, io.BytesIO(entry.data) if entry.kind == FILE else None)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
