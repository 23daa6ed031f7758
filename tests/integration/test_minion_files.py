"""Uploads and reads over SFTP on the kept-open connection, against a real sshd."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bosun.minion import Minion, RemoteFileError

from .sshd import LocalSSHD, sshd_fixture

pytestmark = pytest.mark.integration
sshd = sshd_fixture()


def test_upload_writes_content_and_mode(sshd: LocalSSHD, tmp_path: Path):
    target = tmp_path / "etc" / "haproxy.cfg"
    target.parent.mkdir()
    data = bytes(range(256)) * 12000  # 3 MB, binary
    with Minion(sshd.address()) as m:
        m.upload(str(target), data, mode=0o640)
        assert m.read_file(str(target)) == data
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_upload_replaces_by_rename_and_leaves_no_temp_file(sshd: LocalSSHD, tmp_path: Path):
    target = tmp_path / "rules"
    target.write_text("old")
    reader = target.open()  # a reader of the old file keeps seeing the old file, whole
    old_inode = target.stat().st_ino
    with Minion(sshd.address()) as m:
        m.upload(str(target), b"new", mode=0o600)
    assert target.read_bytes() == b"new"
    assert target.stat().st_ino != old_inode
    assert reader.read() == "old"
    reader.close()
    assert [p.name for p in tmp_path.iterdir()] == ["rules"]


def test_read_missing_file_is_none(sshd: LocalSSHD, tmp_path: Path):
    with Minion(sshd.address()) as m:
        assert m.read_file(str(tmp_path / "absent")) is None


def test_failures_name_the_host_and_path(sshd: LocalSSHD, tmp_path: Path):
    missing_dir = tmp_path / "no" / "such" / "dir" / "f"
    with Minion(sshd.address()) as m:
        with pytest.raises(RemoteFileError, match=f"minion-t: upload to {missing_dir} failed"):
            m.upload(str(missing_dir), b"x")
        with pytest.raises(RemoteFileError, match=f"minion-t: read of {tmp_path} failed"):
            m.read_file(str(tmp_path))  # a directory
        with pytest.raises(ValueError, match="must be absolute"):
            m.upload("relative/path", b"x")
    assert list(tmp_path.iterdir()) == []


def test_sftp_reconnects_after_sshd_restart(sshd: LocalSSHD, tmp_path: Path):
    target = tmp_path / "f"
    with Minion(sshd.address()) as m:
        m.upload(str(target), b"one")
        sshd.restart()
        m.upload(str(target), b"two")
        assert m.read_file(str(target)) == b"two"
        assert m.ssh.connects == 2
