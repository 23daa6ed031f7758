"""Example images: image.yaml loading, the deterministic busybox rootfs tar, and the plan of
which minion imports and which get the image pushed."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from bosun import imagebuild, rootfs
from bosun.errors import ConfigError
from bosun.minion import MinionUnreachable

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "manifests" / "images"
# A stand-in for busybox: its bytes and `--list-full` (with the entries the layout skips).
BUSYBOX = (b"\x7fELF busybox", ["bin/busybox", "bin/sh", "usr/bin/awk", "sbin/ifconfig",
                                "linuxrc"])
GOOD = 'image: bosun/web\ntag: "1"\nchanges:\n  - EXPOSE 80\n  - CMD ["httpd", "-f"]\n'


def image_folder(tmp_path: Path, spec: str = GOOD, files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "web"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "image.yaml").write_text(spec)
    for name, text in (files or {}).items():
        path = folder / "rootfs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {info.name: info for info in tar.getmembers()}


def read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.extractfile(name).read()


# -- image.yaml ------------------------------------------------------------------------------

def test_spec_reads_image_tag_and_changes(tmp_path):
    spec = imagebuild.load_spec(image_folder(tmp_path))
    assert (spec.name, spec.reference) == ("web", "bosun/web:1")
    assert spec.changes == ("EXPOSE 80", 'CMD ["httpd", "-f"]')


def test_a_numeric_tag_is_taken_as_written_and_a_missing_one_is_latest(tmp_path):
    assert imagebuild.load_spec(image_folder(tmp_path, "image: web\ntag: 2\n")).tag == "2"
    assert imagebuild.load_spec(image_folder(tmp_path, "image: web\n")).reference == "web:latest"


@pytest.mark.parametrize(("text", "message"), [
    ("image: [web", "not YAML"),
    ("- web", "must be a mapping"),
    ("image: web\nname: x\n", "unknown field 'name'"),
    ("tag: '1'\n", "image must be a repository name like bosun/web, not None"),
    ("image: Bosun/Web\n", "not 'Bosun/Web'"),
    ("image: web\ntag: 'v 1'\n", "tag must be like 1 or v1.2, not 'v 1'"),
    ("image: web\ntag: true\n", "not True"),
    ("image: web\nchanges: CMD sh\n", "changes must be a list"),
    ("image: web\nchanges: ['RUN make']\n", "changes[0]: 'RUN make' is not one of CMD,"),
    ("image: web\nchanges: ['EXPOSE 80', 7]\n", "changes[1]: 7 is not one of"),
], ids=["yaml", "list", "unknown-field", "no-image", "upper-case", "tag-space", "tag-bool",
        "changes-string", "run-instruction", "change-not-string"])
def test_a_bad_spec_is_a_config_error_naming_the_file(tmp_path, text, message):
    folder = image_folder(tmp_path, text)
    with pytest.raises(ConfigError, match="image.yaml: .*") as error:
        imagebuild.load_spec(folder)
    assert str(error.value).startswith(str(folder / "image.yaml"))
    assert message in str(error.value)


def test_a_missing_spec_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="image.yaml: cannot read"):
        imagebuild.load_spec(tmp_path)


def test_find_specs_takes_every_folder_or_the_named_ones_and_names_the_choices(tmp_path):
    for name in ("b", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "image.yaml").write_text(f"image: {name}\n")
    (tmp_path / "notes").mkdir()
    assert [s.name for s in imagebuild.find_specs(tmp_path)] == ["a", "b"]
    assert [s.name for s in imagebuild.find_specs(tmp_path, ["b", "b"])] == ["b"]
    with pytest.raises(ConfigError, match=r"no image 'c' in .* \(there are: a, b\)"):
        imagebuild.find_specs(tmp_path, ["c"])
    with pytest.raises(ConfigError, match="no image folders"):
        imagebuild.find_specs(tmp_path / "notes")


def test_the_guestbook_images_in_the_repo_load():
    specs = {s.name: s for s in imagebuild.find_specs(IMAGES)}
    assert specs["guestbook-backend"].reference == "bosun/guestbook-backend:1"
    assert specs["guestbook-frontend"].reference == "bosun/guestbook-frontend:1"
    for spec in specs.values():
        assert any(c.startswith("CMD ") for c in spec.changes)
        scripts = [p for p in (spec.folder / "rootfs" / "www" / "cgi-bin").iterdir()]
        assert scripts and all(os.access(p, os.X_OK) for p in scripts)


# -- the rootfs tar --------------------------------------------------------------------------

def test_busybox_layout_links_every_applet_to_busybox():
    layout = rootfs.busybox_layout(*BUSYBOX)
    assert layout["bin/busybox"] == rootfs.file(BUSYBOX[0], 0o755)
    assert layout["usr/bin/awk"].target == "/bin/busybox"
    assert layout["bin/sh"].kind == rootfs.SYMLINK
    assert "linuxrc" not in layout and layout["tmp"].mode == 0o1777
    assert b"root:x:0:0" in layout["etc/passwd"].data


def test_same_sources_give_the_same_bytes_whatever_their_times_and_owners(tmp_path):
    first = image_folder(tmp_path / "one", files={"www/index.html": "hi", "www/cgi-bin/x": "#"})
    second = tmp_path / "two" / "web"
    shutil.copytree(first, second)
    os.utime(second / "rootfs" / "www" / "index.html", (1, 1))
    os.chown(second / "rootfs" / "www" / "cgi-bin" / "x", 1234, 1234)
    one = imagebuild.build(imagebuild.load_spec(first), BUSYBOX)
    two = imagebuild.build(imagebuild.load_spec(second), BUSYBOX)
    assert one.tar == two.tar and one.source == two.source
    for info in members(one.tar).values():
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname) == (0, 0, 0, "", "")


def test_tar_entries_are_sorted_with_their_parent_folders(tmp_path):
    folder = image_folder(tmp_path, files={"srv/app/deep/file": "x"})
    names = list(members(imagebuild.build(imagebuild.load_spec(folder), BUSYBOX).tar))
    assert names == sorted(names)
    assert {"srv", "srv/app", "srv/app/deep"} <= set(names)
    assert names.index("srv/app") < names.index("srv/app/deep/file")


def test_executable_files_are_0755_others_0644_and_symlinks_kept(tmp_path):
    folder = image_folder(tmp_path, files={"www/cgi-bin/run": "#!/bin/sh\n", "www/a.txt": "a"})
    (folder / "rootfs" / "www" / "cgi-bin" / "run").chmod(0o700)
    (folder / "rootfs" / "www" / "a.txt").chmod(0o600)
    (folder / "rootfs" / "www" / "index.html").symlink_to("a.txt")
    found = members(imagebuild.build(imagebuild.load_spec(folder), BUSYBOX).tar)
    assert found["www/cgi-bin/run"].mode == 0o755
    assert found["www/a.txt"].mode == 0o644
    assert found["www/index.html"].issym() and found["www/index.html"].linkname == "a.txt"


def test_image_files_replace_the_base_layouts(tmp_path):
    folder = image_folder(tmp_path, files={"etc/passwd": "app:x:1:1::/:/bin/sh\n"})
    built = imagebuild.build(imagebuild.load_spec(folder), BUSYBOX)
    assert read(built.tar, "etc/passwd") == b"app:x:1:1::/:/bin/sh\n"
    assert read(built.tar, "bin/busybox") == BUSYBOX[0]


def test_a_file_where_the_base_has_a_folder_is_refused(tmp_path):
    folder = image_folder(tmp_path, files={"tmp": "not a folder"})
    with pytest.raises(ConfigError, match="tmp is a dir in the base layout, not a file"):
        imagebuild.build(imagebuild.load_spec(folder), BUSYBOX)


def test_a_fifo_cannot_go_into_an_image(tmp_path):
    folder = image_folder(tmp_path, files={"www/a": "a"})
    os.mkfifo(folder / "rootfs" / "www" / "pipe")
    with pytest.raises(ConfigError, match="www/pipe: only folders, files and symlinks"):
        imagebuild.build(imagebuild.load_spec(folder), BUSYBOX)


def test_source_digest_follows_the_files_and_the_changes(tmp_path):
    folder = image_folder(tmp_path, files={"www/index.html": "one"})
    before = imagebuild.build(imagebuild.load_spec(folder), BUSYBOX)
    (folder / "rootfs" / "www" / "index.html").write_text("two")
    edited = imagebuild.build(imagebuild.load_spec(folder), BUSYBOX)
    (folder / "image.yaml").write_text(GOOD.replace("EXPOSE 80", "EXPOSE 81"))
    rechanged = imagebuild.build(imagebuild.load_spec(folder), BUSYBOX)
    assert len({before.source, edited.source, rechanged.source}) == 3
    assert rechanged.tar == edited.tar


def test_import_changes_are_the_base_the_images_own_then_the_source_label(tmp_path):
    built = imagebuild.build(imagebuild.load_spec(image_folder(tmp_path)), BUSYBOX)
    assert built.changes == (*rootfs.BASE_CHANGES, "EXPOSE 80", 'CMD ["httpd", "-f"]',
                             f"LABEL io.bosun.image.source={built.source}")


# -- which minion gets what ------------------------------------------------------------------

DOWN = MinionUnreachable("minion-1: no route to host", host="minion-1")


@pytest.mark.parametrize(("observed", "origin", "actions"), [
    ({"m1": None, "m2": None, "m3": None}, "m1",
     {"m1": "import", "m2": "push", "m3": "push"}),
    ({"m1": "new", "m2": "new", "m3": "new"}, "m1",
     {"m1": "present", "m2": "present", "m3": "present"}),
    ({"m1": "new", "m2": None, "m3": "old"}, "m1",
     {"m1": "present", "m2": "push", "m3": "push"}),
    ({"m1": "old", "m2": "new", "m3": None}, "m1",
     {"m1": "import", "m2": "present", "m3": "push"}),
    ({"m1": DOWN, "m2": None, "m3": "new"}, "m2",
     {"m1": f"failed: {DOWN}", "m2": "import", "m3": "present"}),
    ({"m1": DOWN}, None, {"m1": f"failed: {DOWN}"}),
], ids=["fresh-cluster", "all-current", "first-current-others-missing-or-stale",
        "first-stale", "first-down-next-imports", "none-answer"])
def test_plan_imports_on_the_first_answering_minion_and_pushes_to_the_rest(observed, origin,
                                                                            actions):
    assert imagebuild.plan("new", observed) == (origin, actions)
