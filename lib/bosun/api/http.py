"""The REST endpoint: HTTP in, calls into `rest.Api`, JSON/Table/Status out (aiohttp).

Only this module speaks HTTP. Every store call runs in a worker thread so the event loop keeps
serving; watches stream one JSON event per line over a chunked response until the client goes,
`timeoutSeconds` passes, or the server stops. Any error becomes a Kubernetes Status object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from bosun import __version__
from bosun.api import discovery, negotiation, patchtypes, paths, tables
from bosun.api.auth import TokenFile
from bosun.api.query import Query
from bosun.api.rest import Api
from bosun.objects.status import (
    ApiError,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    Unauthorized,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024  # Kubernetes' own limit on a request body
DEFAULT_WATCH_SECONDS = (1800, 3600)  # as Kubernetes: a random time in this range
PUBLIC_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_status(), status=error.code)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return status_response(error)
    except web.HTTPRequestEntityTooLarge:
        return status_response(RequestEntityTooLarge(
            f"the request body is larger than {MAX_BODY_BYTES} bytes"))
    except web.HTTPException as error:
        if error.status == 404:
            return status_response(NotFound.path())
        if error.status == 405:
            return status_response(MethodNotAllowed("", request.method.lower()))
        raise
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception:
        log.exception("internal error serving %s %s", request.method, request.path_qs)
        return status_response(InternalError("an error on the server prevented the request "
                                             "from succeeding; see the server log"))


def auth_middleware(tokens: TokenFile | None):
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if tokens is None or request.path in PUBLIC_PATHS:
            return await handler(request)
        user = tokens.authenticate(request.headers.get("Authorization"))
        if user is None:
            raise Unauthorized()
        request["user"] = user  # what a user may do is checked once the path is parsed
        return await handler(request)

    return authenticate


def _verb(request: web.Request, target: paths.Target, query: Query) -> str:
    """The Kubernetes verb of a request: get/list/watch/create/update/patch/delete/..."""
    if request.method == "GET":
        if query.watch or target.watch_path:
            return "watch"
        return "get" if target.name else "list"
    if request.method == "DELETE" and target.name is None:
        return "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
        request.method, request.method.lower())


def authorize(request: web.Request, target: paths.Target, query: Query) -> None:
    """Raises Forbidden when the request's user may not do this (no user: auth is off)."""
    user = request.get("user")
    if user is None:
        return
    verb = _verb(request, target, query)
    if not user.may(verb):
        resource = target.resource + (f"/{target.subresource}" if target.subresource else "")
        where = f' in the namespace "{target.namespace}"' if target.namespace else ""
        raise Forbidden(target.resource, target.name or "",
                        f'User "{user.name}" cannot {verb} resource "{resource}" in API group '
                        f'""{where}')


class Server:
    """The aiohttp application around one Api."""

    def __init__(self, api: Api, tokens: TokenFile | None, *, workers: int = 32) -> None:
        self.api = api
        self.tokens = tokens
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="bosun-api")
        self.stopping = threading.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES,
                              middlewares=[errors_middleware, auth_middleware(self.tokens)])
        for path in ("/healthz", "/livez", "/readyz"):
            app.router.add_get(path, self.health)
        app.router.add_get("/version", self.version)
        app.router.add_get("/api", self.api_versions)
        app.router.add_get("/apis", self.api_groups)
        app.router.add_get("/api/v1", self.resource_list)
        app.router.add_get("/openapi/v3", self.openapi_index)
        app.router.add_get("/openapi/v3/api/v1", self.openapi_v1)
        app.router.add_get("/openapi/v2", self.openapi_v2)
        app.router.add_route("*", "/api/v1/{tail:.+}", self.dispatch)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_shutdown(self, _app: web.Application) -> None:
        self.stopping.set()

    async def run(self, fn, *args, **kwargs):
        """fn(*args) in a worker thread (store calls block)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    # -- fixed documents -----------------------------------------------------------------------
    async def health(self, _request: web.Request) -> web.Response:
        healthy = await self.run(self.api.healthy)
        return web.Response(text="ok" if healthy else "etcd not answering",
                            status=200 if healthy else 503)

    async def version(self, _request: web.Request) -> web.Response:
        return web.json_response(discovery.version(__version__))

    async def api_versions(self, request: web.Request) -> web.Response:
        return web.json_response(discovery.api_versions(request.host))

    async def api_groups(self, _request: web.Request) -> web.Response:
        return web.json_response(discovery.api_groups())

    async def resource_list(self, _request: web.Request) -> web.Response:
        return web.json_response(discovery.resource_list())

    async def openapi_index(self, _request: web.Request) -> web.Response:
        return web.json_response(discovery.openapi_index())

    async def openapi_v1(self, _request: web.Request) -> web.Response:
        return web.json_response(discovery.openapi_v1())

    async def openapi_v2(self, _request: web.Request) -> web.Response:
        """An OpenAPI v2 document with nothing in it: Bosun describes itself in v3 only.

        kubectl asks for v2 when v3 has no operation for a kind, as for a `kind: List` file;
        on a 404 it refuses the file, while an empty document makes it check each item by its
        own kind (in v3, then the server's strict validation). The empty protobuf message is
        the empty document in the only encoding kubectl reads v2 in.
        """
        return web.Response(body=b"", content_type=discovery.OPENAPI_V2_PROTOBUF)

    # -- resources -----------------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            target = paths.parse(request.match_info["tail"], self.api.namespaced)
        except paths.UnknownPath:
            raise NotFound.path() from None
        query = Query.from_mapping(request.query)
        authorize(request, target, query)
        method = request.method
        if method == "GET" and (query.watch or target.watch_path):
            if target.name is not None and target.subresource is None:
                query = query.with_name(target.name)
                target = paths.Target(target.resource, target.namespace)
            return await self.watch(request, target, query)
        if method == "GET" and target.subresource == "log":
            return await self.logs(request, target, query)
        if method == "GET":
            result = await self.run(self.api.get if target.name else self.api.list, target, query)
            return self.reply(request, target, result, query)
        if method == "DELETE":
            options = await self._optional_body(request)
            if target.name is None:
                result = await self.run(self.api.delete_collection, target, query, options)
            else:
                result = await self.run(self.api.delete, target, query, options)
            return self.reply(request, target, result, query)
        body = await request.read()
        if method == "POST":
            obj = negotiation.decode_object(body, request.headers.get("Content-Type"))
            result = await self.run(self.api.create, target, obj, query)
            return self.reply(request, target, result, query, status=201)
        if method == "PUT":
            obj = negotiation.decode_object(body, request.headers.get("Content-Type"))
            result = await self.run(self.api.update, target, obj, query)
            return self.reply(request, target, result, query)
        if method == "PATCH":
            kind = negotiation.media_type(request.headers.get("Content-Type"))
            patch = negotiation.decode_body(body, kind) if kind != patchtypes.APPLY else None
            result = await self.run(self.api.patch, target, kind, patch, query)
            return self.reply(request, target, result, query)
        raise MethodNotAllowed(target.resource, method.lower())

    async def _optional_body(self, request: web.Request) -> dict:
        body = await request.read()
        if not body.strip():
            return {}
        return negotiation.decode_object(body, request.headers.get("Content-Type"))

    def reply(self, request: web.Request, target: paths.Target, result, query: Query,
              status: int = 200) -> web.Response:
        obj, warnings = result if isinstance(result, tuple) else (result, [])
        headers = {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else {}
        if negotiation.wants_table(request.headers.get("Accept")) and _tabular(obj):
            list_meta = obj.get("metadata") or {}
            table = tables.table(target.resource, _items(obj), self.api.now(),
                                 list_meta.get("resourceVersion"),
                                 negotiation.table_include_object(query.include_object))
            if "items" in obj and list_meta.get("continue"):
                table["metadata"]["continue"] = list_meta["continue"]  # paged kubectl get
            return _table_response(table, status, headers)
        return web.json_response(obj, status=status, headers=headers)

    async def watch(self, request: web.Request, target: paths.Target,
                    query: Query) -> web.StreamResponse:
        as_table = negotiation.wants_table(request.headers.get("Accept"))
        include = negotiation.table_include_object(query.include_object)
        seconds = query.timeout_seconds or random.randint(*DEFAULT_WATCH_SECONDS)
        stream = await self.run(self.api.watch, target, query)  # raises Gone, NotFound, ...
        response = web.StreamResponse(headers={
            "Content-Type": negotiation.TABLE_CONTENT_TYPE if as_table else "application/json",
            "Cache-Control": "no-cache, private",
        })
        response.enable_chunked_encoding()
        await response.prepare(request)
        events: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        pump = threading.Thread(target=_pump, args=(stream, events, loop), daemon=True,
                                name="bosun-watch")
        pump.start()
        try:
            await self._send_events(response, events, target, as_table, include, seconds)
        finally:
            stream.close()
        return response

    async def _send_events(self, response, events, target, as_table, include, seconds) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not self.stopping.is_set():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                event = await asyncio.wait_for(events.get(), timeout=min(left, 1.0))
            except TimeoutError:
                continue
            if event is None:
                return
            if isinstance(event, ApiError):
                payload = {"type": "ERROR", "object": event.to_status()}
            else:
                obj = event.object
                if as_table:
                    obj = tables.table(target.resource, [obj], self.api.now(), None, include)
                payload = {"type": event.type, "object": obj}
            await response.write(json.dumps(payload).encode() + b"\n")

    async def logs(self, request: web.Request, target: paths.Target,
                   query: Query) -> web.StreamResponse:
        chunks = await self.run(self.api.logs, target, query)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        iterator = iter(chunks)
        while (chunk := await self.run(next, iterator, None)) is not None:
            await response.write(chunk)
        return response


def _pump(stream, events: asyncio.Queue, loop: asyncio.AbstractEventLoop) -> None:
    """Carry a blocking watch iterator's events to the event loop; None marks the end."""
    try:
        for event in stream:
            loop.call_soon_threadsafe(events.put_nowait, event)
    except ApiError as error:
        loop.call_soon_threadsafe(events.put_nowait, error)
    except Exception:  # a broken stream ends the watch; the client re-lists and re-watches
        log.exception("watch stream failed")
    finally:
        loop.call_soon_threadsafe(events.put_nowait, None)


def _tabular(obj: dict) -> bool:
    return obj.get("kind") not in ("Status", "Scale") and "metadata" in obj


def _items(obj: dict) -> list[dict]:
    return obj["items"] if "items" in obj else [obj]


def _table_response(table: dict, status: int, headers: dict) -> web.Response:
    return web.Response(body=json.dumps(table).encode(), status=status,
                        headers={**headers, "Content-Type": negotiation.TABLE_CONTENT_TYPE})

