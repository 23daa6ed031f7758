"""A small client of Bosun's API for the command line: kubeconfig in, Kubernetes calls out.

Reads the kubeconfig kubectl would read (server, CA, bearer token, namespace of the context),
keeps one TLS connection alive across calls, and turns every error answer into a ClientError that
carries the server's Status, so the CLI prints it exactly as kubectl does. Streams (watch, logs)
get a connection of their own. TLS is verified unless the kubeconfig says
`insecure-skip-tls-verify`. Standard library only (http.client and ssl).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bosun.errors import BosunError, ConfigError, TemporaryError
from bosun.objects.status import kubectl_text

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
CHECKOUT = Path(__file__).resolve().parents[3]
USER_AGENT = "bosun-ctl"
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
            405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge",
            415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
            500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


class ClientError(BosunError):
    """The server answered with an error. `status` is its Status object (or one made from the
    HTTP code when the body was none)."""

    def __init__(self, status: dict) -> None:
        super().__init__(status.get("message") or status.get("reason") or "unknown error")
        self.status = status

    @property
    def reason(self) -> str:
        return str(self.status.get("reason") or "")

    @property
    def code(self) -> int:
        code = self.status.get("code")
        return code if isinstance(code, int) else 0

    @property
    def message(self) -> str:
        return str(self.status.get("message") or "")

    def kubectl_text(self) -> str:
        """`Error from server (NotFound): pods "x" not found`, as kubectl prints it."""
        return kubectl_text(self.status)

    def with_source(self, verb: str, source: str) -> ClientError:
        """The same error with `error when creating "FILE": ` before the message, as kubectl
        reports errors about objects read from files."""
        return ClientError({**self.status,
                            "message": f'error when {verb} "{source}": {self.message}'})


class ConnectError(TemporaryError):
    """The server could not be reached, or its certificate was not trusted."""


@dataclass(frozen=True)
class KubeConfig:
    """What one kubeconfig context says about where the API is and who we are."""

    server: str
    namespace: str = "default"
    token: str | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    client_cert: bytes | None = None
    client_key: bytes | None = None
    path: Path | None = None


def kubeconfig_paths(explicit: str | None = None) -> list[Path]:
    """The kubeconfig files to read: --kubeconfig, else $KUBECONFIG (a colon-separated list),
    else `.lab/kubeconfig` of this checkout when the lab wrote one, else ~/.kube/config."""
    if explicit:
        return [Path(explicit)]
    if os.environ.get("KUBECONFIG"):
        return [Path(p) for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    lab = CHECKOUT / ".lab" / "kubeconfig"
    if lab.exists():
        return [lab]
    return [Path.home() / ".kube" / "config"]


def load_kubeconfig(explicit: str | None = None, context: str | None = None) -> KubeConfig:
    """The current (or named) context of the kubeconfig files, merged as kubectl merges them:
    the first file to name a cluster, user, context or current-context wins.

    Raises ConfigError for a missing explicit file, unreadable YAML or a missing entry.
    """
    paths = kubeconfig_paths(explicit)
    if explicit and not paths[0].exists():
        raise ConfigError(f"stat {explicit}: no such file or directory")
    merged: dict = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    origin: dict[tuple[str, str], Path] = {}
    for path in paths:
        if path.exists():
            _merge(merged, origin, path)
    name = context or merged["current-context"]
    if not name:
        raise ConfigError("no configuration has been provided: set KUBECONFIG or pass "
                          "--kubeconfig (the lab writes .lab/kubeconfig)")
    ctx = merged["contexts"].get(name)
    if ctx is None:
        raise ConfigError(f'context "{name}" does not exist')
    cluster = merged["clusters"].get(ctx.get("cluster"))
    if cluster is None or not cluster.get("server"):
        raise ConfigError(f'cluster "{ctx.get("cluster")}" of context "{name}" has no server')
    user = merged["users"].get(ctx.get("user")) or {}
    base = origin.get(("clusters", ctx.get("cluster")), paths[0]).parent
    user_base = origin.get(("users", ctx.get("user")), paths[0]).parent
    return KubeConfig(
        server=cluster["server"].rstrip("/"),
        namespace=ctx.get("namespace") or "default",
        token=_token(user, user_base),
        ca_data=_data(cluster, "certificate-authority", base),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        client_cert=_data(user, "client-certificate", user_base),
        client_key=_data(user, "client-key", user_base),
        path=origin.get(("contexts", name)),
    )


def _merge(merged: dict, origin: dict, path: Path) -> None:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read the kubeconfig: {error}", str(path)) from error
    if not isinstance(document, dict):
        raise ConfigError("a kubeconfig must be a YAML mapping", str(path))
    for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
        for entry in document.get(section) or []:
            if isinstance(entry, dict) and entry.get("name") not in merged[section]:
                merged[section][entry.get("name")] = entry.get(inner) or {}
                origin[(section, entry.get("name"))] = path
    if not merged["current-context"]:
        merged["current-context"] = document.get("current-context") or ""


def _data(entry: Mapping, key: str, base: Path) -> bytes | None:
    """`KEY-data` (base64) or the file `KEY` names, relative to the kubeconfig's folder."""
    if entry.get(f"{key}-data"):
        try:
            return base64.b64decode(entry[f"{key}-data"])
        except ValueError as error:
            raise ConfigError(f"{key}-data is not base64: {error}") from error
    if entry.get(key):
        try:
            return (base / entry[key]).read_bytes()
        except OSError as error:
            raise ConfigError(f"cannot read {key}: {error}") from error
    return None


def _token(user: Mapping, base: Path) -> str | None:
    if user.get("token"):
        return str(user["token"])
    if user.get("tokenFile"):
        try:
            return (base / user["tokenFile"]).read_text().strip()
        except OSError as error:
            raise ConfigError(f"cannot read tokenFile: {error}") from error
    return None


def ssl_context(config: KubeConfig) -> ssl.SSLContext:
    """Verification against the kubeconfig's CA (or the system's), off only when it says so."""
    context = ssl.create_default_context(
        cadata=config.ca_data.decode() if config.ca_data else None)
    if config.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if config.client_cert and config.client_key:
        # load_cert_chain reads files only: write them to a private folder, load, remove.
        with tempfile.TemporaryDirectory(prefix="bosun-ctl-") as folder:
            cert, key = Path(folder, "client.crt"), Path(folder, "client.key")
            for target, data in ((cert, config.client_cert), (key, config.client_key)):
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
            context.load_cert_chain(str(cert), str(key))
    return context


def resource_path(resource: str, namespace: str | None = None, name: str | None = None,
                  subresource: str | None = None) -> str:
    """`/api/v1/namespaces/NS/pods/NAME/log`; namespace None for cluster-scoped objects or all
    namespaces."""
    parts = ["/api/v1"]
    if namespace:
        parts += ["namespaces", _segment(namespace)]
    parts.append(resource)
    if name is not None:
        parts.append(_segment(name))
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    warnings: list[str] = field(default_factory=list)

    def json(self) -> dict:
        try:
            value = json.loads(self.body)
        except ValueError as error:
            raise ClientError(_status(500, f"the server's answer is not JSON: {error}")) from None
        if not isinstance(value, dict):
            raise ClientError(_status(500, "the server's answer is not a JSON object"))
        return value


class Client:
    """Calls on one API server. Not thread-safe; one connection, kept alive between calls."""

    def __init__(self, config: KubeConfig, *, timeout: float | None = 30.0,
                 warn: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.timeout = timeout
        self.warn = warn
        url = urllib.parse.urlsplit(config.server)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"the server URL {config.server!r} is not http(s)://HOST[:PORT]")
        self._tls = url.scheme == "https"
        self._host, self._port = url.hostname, url.port or (443 if self._tls else 80)
        self._prefix = url.path.rstrip("/")
        self._ssl = ssl_context(config) if self._tls else None
        self._conn: http.client.HTTPConnection | None = None

    # -- verbs -------------------------------------------------------------------------------
    def get(self, path: str, query: Mapping[str, object] | None = None,
            accept: str = JSON) -> dict:
        return self.request("GET", path, query=query, accept=accept).json()

    def list(self, path: str, query: Mapping[str, object] | None = None,
             accept: str = JSON) -> dict:
        """Every page of a list (limit/continue), as one list.

        Tables are asked for whole: Bosun's Tables do not carry the `continue` of a page.
        """
        query = dict(query or {})
        if accept == JSON:
            query["limit"] = 500
        first = self.get(path, query, accept)
        page = first
        while (page.get("metadata") or {}).get("continue"):
            page = self.get(path, {**query, "continue": page["metadata"]["continue"]}, accept)
            first["items"] = (first.get("items") or []) + (page.get("items") or [])
        (first.get("metadata") or {}).pop("continue", None)
        return first

    def create(self, path: str, obj: dict, query: Mapping[str, object] | None = None) -> dict:
        return self.request("POST", path, query=query, body=obj).json()

    def replace(self, path: str, obj: dict, query: Mapping[str, object] | None = None) -> dict:
        return self.request("PUT", path, query=query, body=obj).json()

    def patch(self, path: str, patch: object, patch_type: str = STRATEGIC_PATCH,
              query: Mapping[str, object] | None = None) -> dict:
        return self.request("PATCH", path, query=query, body=patch, content_type=patch_type).json()

    def delete(self, path: str, body: dict | None = None,
               query: Mapping[str, object] | None = None) -> dict:
        return self.request("DELETE", path, query=query, body=body).json()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: Mapping[str, object] | None = None,
                body: object = None, content_type: str = JSON, accept: str = JSON) -> Reply:
        """One call on the kept-alive connection. Raises ClientError, ConnectError."""
        target = self._target(path, query)
        data = None if body is None else json.dumps(body).encode()
        headers = self._headers(accept, content_type if data is not None else None)
        response = self._send(method, target, data, headers)
        payload = response.read()
        if response.will_close:
            self.close()
        reply = Reply(response.status, response.headers, payload, _warnings(response.headers))
        self._report(reply)
        return reply

    def stream(self, path: str, query: Mapping[str, object] | None = None,
               accept: str = JSON) -> Stream:
        """A long answer (watch, logs) on a connection of its own, without a read timeout.

        Raises ClientError when the server refuses, ConnectError when it cannot be reached.
        """
        conn = self._connect(timeout=None)
        try:
            conn.request("GET", self._target(path, query), headers=self._headers(accept, None))
            response = conn.getresponse()
        except OSError as error:
            conn.close()
            raise _connect_error(self._host, self._port, error) from None
        if response.status >= 400:
            payload = response.read()
            conn.close()
            self._report(Reply(response.status, response.headers, payload))
        return Stream(conn, response)

    def _target(self, path: str, query: Mapping[str, object] | None) -> str:
        pairs = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        return self._prefix + path + (f"?{urllib.parse.urlencode(pairs)}" if pairs else "")

    def _headers(self, accept: str, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        if self.config.token and self._tls:  # as kubectl: never a token in the clear
            headers["Authorization"] = f"Bearer {self.config.token}"
        return headers

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._tls:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout,
                                               context=self._ssl)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def _send(self, method: str, target: str, data: bytes | None,
              headers: dict[str, str]) -> http.client.HTTPResponse:
        """The response, retrying once on a fresh connection when the server had closed the
        kept-alive one (it did not read the request then, so a retry is safe)."""
        while True:
            reused = self._conn is not None
            conn = self._conn or self._connect(self.timeout)
            self._conn = conn
            try:
                conn.request(method, target, body=data, headers=headers)
                return conn.getresponse()
            except _STALE as error:
                self.close()
                if not reused:
                    raise _connect_error(self._host, self._port, error) from None
            except (OSError, http.client.HTTPException) as error:
                self.close()
                raise _connect_error(self._host, self._port, error) from None

    def _report(self, reply: Reply) -> None:
        """Pass warnings on; raise ClientError for an error answer."""
        if self.warn is not None:
            for warning in reply.warnings:
                self.warn(warning)
        if reply.status < 400:
            return
        try:
            status = json.loads(reply.body)
        except ValueError:
            status = None
        if not isinstance(status, dict) or status.get("kind") != "Status":
            text = reply.body.decode(errors="replace").strip()
            status = _status(reply.status, text or _default_message(reply.status))
        raise ClientError(status)


class Stream:
    """An open streaming answer. Iterate `lines()` (watch) or `chunks()` (logs); close it."""

    def __init__(self, conn: http.client.HTTPConnection,
                 response: http.client.HTTPResponse) -> None:
        self._conn = conn
        self._response = response

    def lines(self) -> Iterator[bytes]:
        """Lines as they arrive, until the server ends the answer."""
        try:
            while line := self._response.readline():
                if line.strip():
                    yield line
        except (OSError, http.client.HTTPException):
            return  # a broken stream ends like a closed one: the caller decides what next

    def chunks(self) -> Iterator[bytes]:
        try:
            while chunk := self._response.read1(65536):
                yield chunk
        except (OSError, http.client.HTTPException):
            return

    def close(self) -> None:
        self._response.close()
        self._conn.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _warnings(headers: http.client.HTTPMessage) -> list[str]:
    """The texts of `Warning: 299 - "text"` headers."""
    found = []
    for header in headers.get_all("Warning") or []:
        for part in header.split(", 299 "):
            text = part.removeprefix("299 ").removeprefix("- ").strip()
            found.append(text[1:-1] if text.startswith('"') and text.endswith('"') else text)
    return found


def _status(code: int, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": _REASONS.get(code, "Unknown"), "code": code}


def _default_message(code: int) -> str:
    if code == 404:
        return "the server could not find the requested resource"
    return f"the server responded with the status code {code} but did not return more " \
           f"information"


def _connect_error(host: str, port: int, error: BaseException) -> ConnectError:
    where = f"{host}:{port}"
    if isinstance(error, ConnectionRefusedError):
        return ConnectError(f"The connection to the server {where} was refused - did you "
                            f"specify the right host or port?")
    if isinstance(error, ssl.SSLCertVerificationError):
        return ConnectError(f"Unable to connect to the server: tls: failed to verify "
                            f"certificate: {error.verify_message}")
    if isinstance(error, TimeoutError):
        return ConnectError(f"Unable to connect to the server: {where}: timed out")
    return ConnectError(f"Unable to connect to the server: {where}: {error}")
