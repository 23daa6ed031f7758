"""etcd replies (captured from etcd 3.4.23's JSON gateway) to Bosun errors: by gRPC code."""

from __future__ import annotations

import http.client

import pytest

from bosun.errors import PermanentError, TemporaryError
from bosun.store.errors import (
    Gone,
    NotFound,
    Rejected,
    StoreUnavailable,
    error_from_reply,
    grpc_status,
)
from bosun.store.gateway import server_side, transport_error

COMPACTED = ('{"error":"etcdserver: mvcc: required revision has been compacted","message":'
             '"etcdserver: mvcc: required revision has been compacted","code":11}')
LEASE_NOT_FOUND = ('{"error":"etcdserver: requested lease not found","message":'
                   '"etcdserver: requested lease not found","code":5}')
BAD_JSON = ('{"error":"invalid character \'g\' looking for beginning of value","message":'
            '"invalid character \'g\' looking for beginning of value","code":3}')
NO_LEADER = ('{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}')
TOO_LARGE = ('{"error":"etcdserver: request is too large","message":'
             '"etcdserver: request is too large","code":3}')
NOSPACE = ('{"error":"etcdserver: mvcc: database space exceeded","message":'
           '"etcdserver: mvcc: database space exceeded","code":8}')
STREAM_ERROR = ('{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing",'
                '"http_status":"Service Unavailable"}}')
REFUSED = "ConnectionRefusedError from http://127.0.0.1:1: [Errno 111] Connection refused"


@pytest.mark.parametrize(("body", "server_error", "expected"), [
    (COMPACTED, False, Gone),
    (LEASE_NOT_FOUND, False, NotFound),
    (BAD_JSON, False, Rejected),
    (TOO_LARGE, False, Rejected),
    (NO_LEADER, True, StoreUnavailable),
    (NOSPACE, False, StoreUnavailable),
    (STREAM_ERROR, False, StoreUnavailable),
    (REFUSED, True, StoreUnavailable),
    ("<html>bad gateway</html>", True, StoreUnavailable),
    ("<html>teapot</html>", False, Rejected),
    (None, True, StoreUnavailable),
], ids=["compacted", "lease-not-found", "bad-request", "too-large", "no-leader", "nospace",
        "stream-error", "refused", "proxy-5xx", "unknown-4xx", "no-body"])
def test_error_from_reply(body, server_error, expected):
    error = error_from_reply(body, server_error, key="/registry/pods/default/a")
    assert type(error) is expected
    assert error.key == "/registry/pods/default/a"


def test_code_wins_over_the_transport_class():
    # A 500 that carries a permanent gRPC code is not retried.
    assert type(error_from_reply(BAD_JSON, server_error=True)) is Rejected


@pytest.mark.parametrize(("body", "status"), [
    (COMPACTED, (11, "etcdserver: mvcc: required revision has been compacted")),
    (STREAM_ERROR, (14, "transport is closing")),
    ('{"code":"11"}', None),
    ("[]", None),
    ("", None),
], ids=["unary", "stream", "code-not-int", "not-an-object", "empty"])
def test_grpc_status(body, status):
    assert grpc_status(body) == status


def test_retry_classes():
    assert isinstance(error_from_reply(NO_LEADER, True), TemporaryError)
    assert error_from_reply(NO_LEADER, True).delay > 0
    for body in (COMPACTED, LEASE_NOT_FOUND, BAD_JSON):
        assert isinstance(error_from_reply(body, False), PermanentError)


@pytest.mark.parametrize(("status", "retry"), [
    (500, True), (502, True), (503, True), (504, True), (408, True),
    (400, False), (404, False), (409, False), (412, False), (429, False),
])
def test_server_side_statuses(status, retry):
    # The status only decides for bodies without a gRPC code (a proxy's page, say).
    assert server_side(status) is retry
    expected = StoreUnavailable if retry else Rejected
    assert type(error_from_reply("<html>oops</html>", server_side(status))) is expected


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError("timed out"),
    http.client.RemoteDisconnected("Remote end closed connection without response"),
    http.client.IncompleteRead(b"{", 99),
    http.client.BadStatusLine("garbage"),
], ids=["refused", "timeout", "closed", "cut-off", "garbled"])
def test_transport_errors_are_temporary(exc):
    error = transport_error(exc, "http://127.0.0.1:1", "/k")
    assert type(error) is StoreUnavailable and error.key == "/k"
    assert type(exc).__name__ in str(error) and "http://127.0.0.1:1" in str(error)
