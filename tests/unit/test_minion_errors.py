"""Minion errors: how each is classified for retry, and that each message names host and failure."""

from __future__ import annotations

import pytest

from bosun.errors import BosunError, PermanentError, TemporaryError
from bosun.minion.docker import label_filters
from bosun.minion.errors import (
    ChangedHostKey,
    CommandTimeout,
    DockerAPIError,
    DockerNotFound,
    FactsError,
    HostKeyError,
    MinionAuthError,
    MinionTimeout,
    MinionUnreachable,
    RemoteCommandError,
    RemoteFileError,
    UnknownHostKey,
)


@pytest.mark.parametrize(
    "error, kind",
    [
        (UnknownHostKey("m1 (h:22): host key not in f", host="m1"), PermanentError),
        (ChangedHostKey("m1 (h:22): changed", host="m1", expected="a", offered="b"),
         PermanentError),
        (MinionAuthError("m1 (h:22): refused", host="m1"), PermanentError),
        (FactsError("m1", "no hostname"), PermanentError),
        (MinionUnreachable("m1 (h:22): cannot connect", host="m1"), TemporaryError),
        (CommandTimeout("m1", ["sleep", "9"], 2.0), TemporaryError),
        (MinionTimeout("m1 (h:22): no answer", host="m1", timeout=3.0), TemporaryError),
        (RemoteCommandError("m1", ["false"], 1, b""), BosunError),
        (RemoteFileError("m1", "/etc/x", "upload to", "EACCES"), BosunError),
        (DockerAPIError("m1", "start", 500, "boom"), BosunError),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v.__name__,
)
def test_classified_for_the_retry_loop_and_naming_the_host(error: BosunError, kind: type):
    assert isinstance(error, kind)
    assert error.host == "m1"
    assert str(error).startswith("m1")


def test_host_key_errors_share_a_base():
    assert issubclass(UnknownHostKey, HostKeyError) and issubclass(ChangedHostKey, HostKeyError)


def test_unreachable_retries_later_by_default():
    assert MinionUnreachable("m1: x", host="m1").delay == 5.0


def test_file_error_says_what_and_where():
    error = RemoteFileError("minion-1", "/etc/haproxy/haproxy.cfg", "upload to", "EACCES denied")
    assert str(error) == "minion-1: upload to /etc/haproxy/haproxy.cfg failed: EACCES denied"
    assert error.path == "/etc/haproxy/haproxy.cfg"


def test_docker_errors_keep_the_status_code():
    missing = DockerNotFound("minion-1", "inspect", 404, "No such container: web")
    assert isinstance(missing, DockerAPIError)
    assert (missing.status_code, missing.operation) == (404, "inspect")
    assert str(missing) == "minion-1: docker inspect failed (404): No such container: web"
    assert str(DockerAPIError("minion-1", "logs", None, "stream ended")) == (
        "minion-1: docker logs failed: stream ended"
    )


@pytest.mark.parametrize(
    "labels, filters",
    [
        ({"bosun.io/pod-uid": "u1"}, {"label": ["bosun.io/pod-uid=u1"]}),
        ({"bosun.io/pod-uid": None}, {"label": ["bosun.io/pod-uid"]}),
        ({"b": "2", "a": None}, {"label": ["a", "b=2"]}),
    ],
    ids=["key-value", "key-present", "several-sorted"],
)
def test_label_filters(labels: dict, filters: dict):
    assert label_filters(labels) == filters
