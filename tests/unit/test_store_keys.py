"""Key layout of the store: object keys, prefixes that never overlap, etcd range ends."""

from __future__ import annotations

import pytest

from bosun.store.keys import lock_key, object_key, prefix_end, resource_prefix, split_key


@pytest.mark.parametrize(("resource", "name", "namespace", "key"), [
    ("pods", "web-1", "default", "/registry/pods/default/web-1"),
    ("services", "redis", "prod", "/registry/services/prod/redis"),
    ("nodes", "minion-1", None, "/registry/nodes/minion-1"),
], ids=["pod", "service", "cluster-scoped-node"])
def test_object_key_and_back(resource, name, namespace, key):
    assert object_key(resource, name, namespace) == key
    assert split_key(key) == (resource, namespace, name)


@pytest.mark.parametrize(("resource", "namespace", "prefix"), [
    ("pods", "default", "/registry/pods/default/"),
    ("pods", None, "/registry/pods/"),
], ids=["one-namespace", "all-namespaces"])
def test_resource_prefix_ends_with_slash(resource, namespace, prefix):
    assert resource_prefix(resource, namespace) == prefix


def test_namespace_prefix_does_not_cover_a_longer_namespace():
    assert not object_key("pods", "x", "ab").startswith(resource_prefix("pods", "a"))


@pytest.mark.parametrize("bad", ["", "a/b", ".", ".."], ids=["empty", "slash", "dot", "dotdot"])
def test_segments_that_would_change_the_key_shape_are_refused(bad):
    with pytest.raises(ValueError):
        object_key("pods", bad, "default")
    with pytest.raises(ValueError):
        resource_prefix("pods", bad)
    with pytest.raises(ValueError):
        lock_key(bad)


@pytest.mark.parametrize("key", [
    "/other/pods/a", "/registry/pods", "/registry/pods/a/b/c", "/registry/pods//x",
], ids=["outside-registry", "too-short", "too-deep", "empty-segment"])
def test_split_key_refuses_non_object_keys(key):
    with pytest.raises(ValueError):
        split_key(key)


def test_lock_key_lives_outside_the_registry():
    assert lock_key("scheduler") == "/bosun/locks/scheduler"


@pytest.mark.parametrize(("prefix", "end"), [
    (b"/registry/pods/", b"/registry/pods0"),
    (b"a\xff", b"b"),
    (b"a\xfe", b"a\xff"),
    (b"\xff\xff", b"\0"),
    (b"", b"\0"),
], ids=["slash", "carry-over-ff", "fe", "all-ff", "empty"])
def test_prefix_end(prefix, end):
    assert prefix_end(prefix) == end


def test_prefix_end_bounds_exactly_the_prefixed_keys():
    prefix = b"/registry/pods/"
    end = prefix_end(prefix)
    inside = [prefix, prefix + b"a", prefix + b"\xff\xff"]
    outside = [b"/registry/pods", b"/registry/pods0", b"/registry/podsx"]
    assert all(prefix <= key < end for key in inside)
    assert not any(prefix <= key < end for key in outside)
