"""Finding a lab minion's cgroup folders, wherever dockerd placed them."""

from __future__ import annotations

from bosun.lab import teardown


def test_cgroup_folders_are_found_at_any_depth_by_their_exact_name(tmp_path, monkeypatch):
    for folder in ("cpu/bosun4-minion-1/docker/abc",  # under the hierarchy's root
                   "memory/process_api/77/bosun4-minion-1/docker/abc",  # under dockerd's own
                   "cpu/bosun4-minion-10", "pids/bosun4-minion-2", "unified/system.slice"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setattr(teardown, "CGROUP_ROOT", tmp_path)
    assert teardown._cgroup_dirs("bosun4-minion-1") == [
        tmp_path / "cpu/bosun4-minion-1", tmp_path / "memory/process_api/77/bosun4-minion-1"]


def test_removing_them_takes_the_nested_folders_first(tmp_path, monkeypatch):
    (tmp_path / "memory/process_api/77/bosun4-minion-1/docker/abc").mkdir(parents=True)
    (tmp_path / "cpu/bosun4-minion-2").mkdir(parents=True)
    monkeypatch.setattr(teardown, "CGROUP_ROOT", tmp_path)
    teardown._remove_cgroups("bosun4-minion-1")
    assert teardown._cgroup_dirs("bosun4-minion-1") == []
    assert (tmp_path / "memory/process_api/77").is_dir()  # the parent is not the lab's
    assert (tmp_path / "cpu/bosun4-minion-2").is_dir()
