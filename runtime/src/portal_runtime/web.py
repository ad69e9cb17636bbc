"""The Litestar application of a service: auth, errors as problem details that name the field
(`portal_runtime.problems`), bad input refused with a 4xx before any handler, health, OpenAPI,
the system's AsyncAPI document, tracing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get
from litestar._signature.types import ExtendedMsgSpecValidationError
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.pydantic import PydanticDIPlugin, PydanticInitPlugin, PydanticSchemaPlugin
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import TracerProvider
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from portal_runtime import context
from portal_runtime.auth import BearerJWTAuth
from portal_runtime.openapi import openapi_config
from portal_runtime.paging import page_parameters
from portal_runtime.problems import EXCEPTION_HANDLERS, problem, problem_details_plugin
from portal_runtime.telemetry import http_tracing

ReadinessCheck = Callable[[], Awaitable[None]]


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    """Every request runs under a correlation id: the caller's `X-Correlation-ID` when it is a
    UUID, a new one otherwise. The events it causes carry it (`portal_runtime.context`), and the
    answer names it in `X-Correlation-ID`."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(b"x-correlation-id", b"").decode("latin-1")
        try:
            cid = uuid.UUID(raw) if raw else uuid.uuid4()
        except ValueError:
            cid = uuid.uuid4()
        context.set_for_request(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-correlation-id", str(cid).encode())]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


def correlation_id(request: Request) -> uuid.UUID | None:
    """The caller's X-Correlation-ID, when it is a UUID, ties the events it causes together."""
    raw = request.headers.get("x-correlation-id")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


# -- bad input: a 4xx, never a 500 ---------------------------------------------------------

MAX_JSON_DEPTH = 64  # arrays and objects within each other; no body of ours comes near


def _json_media_type(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _printable(name: str) -> str:
    return name.replace("\x00", "\\u0000")


def _nul(where: str, field: str) -> ProblemDetailsException:
    return problem(
        400,
        f"{where} {_printable(field)!r} holds a NUL character (\\u0000), which no text may hold",
        kind="invalid-character",
        field=_printable(field),
    )


def _unsupported(request: Request) -> ProblemDetailsException:
    given = request.headers.get("content-type") or "none"
    return problem(
        415,
        f"the body must be sent as application/json (UTF-8); the Content-Type was {given}",
        field="Content-Type",
        expected="application/json",
    )


def _malformed(detail: str) -> ProblemDetailsException:
    return problem(400, f"malformed JSON body: {detail}", kind="malformed-body")


def _screen_json(value: Any) -> None:
    """Refuse a decoded body nested deeper than MAX_JSON_DEPTH or with a NUL in a text (a key
    or a value), naming the path (`lines.0.reason`). Iterative: depth costs no stack."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise _nul("the body's field", ".".join(path) or "(the body)")
            continue
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        if len(path) >= MAX_JSON_DEPTH:
            raise _malformed(f"nested deeper than {MAX_JSON_DEPTH} levels")
        for key, child in items:
            key = str(key)
            if "\x00" in key:
                raise _nul("the body's field", ".".join((*path, key)))
            stack.append((child, (*path, key)))


async def screen_request(request: Request) -> None:
    """Before any handler (after authentication and guards): a NUL in a query parameter or a
    text path parameter is a 400 naming it; a JSON body (of a handler that takes one) must come
    as `application/json` (415 otherwise, or, without any Content-Type, 400 when it is not JSON
    either), be UTF-8 inside its strings, nest at most MAX_JSON_DEPTH levels and hold no NUL
    (400 naming where). PostgreSQL refuses NUL in text and a deep body exhausts the decoder's
    stack: both used to be 500s."""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise _nul("the query parameter", name)
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise _nul("the path parameter", name)
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    kwarg = data.kwarg_definition if data else None
    media = getattr(kwarg, "media_type", RequestEncodingType.JSON)
    if data is None or media != RequestEncodingType.JSON:
        return
    body = await request.body()
    if not body:
        return  # no body: the handler's validation answers for a missing one
    content_type, options = request.content_type
    charset = options.get("charset", "utf-8").lower()
    if content_type and (not _json_media_type(content_type) or charset not in ("utf-8", "utf8")):
        raise _unsupported(request)
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise _malformed(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise _malformed(f"a string is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x})") from exc
    except RecursionError as exc:
        raise _malformed(f"nested deeper than {MAX_JSON_DEPTH} levels") from exc
    if not content_type:
        raise _unsupported(request)  # JSON, but not said so
    _screen_json(value)


async def before_request(request: Request) -> Response | None:
    """OPTIONS is answered here (see `options_answer`); every other request is screened."""
    if request.method == "OPTIONS":
        return options_answer(request)
    await screen_request(request)
    return None


def options_answer(request: Request) -> Response:
    """204 with `Allow` naming every method of the path. Litestar's own answer names only the
    methods of the first handler registered on a path (it keeps the OPTIONS handler it made for
    that one when the path's route is made again with the others)."""
    allowed = request.app.state.get(_ALLOW)
    if allowed is None:
        routes = [route for route in request.app.routes if isinstance(route, HTTPRoute)]
        allowed = {path: ", ".join(sorted(r.methods)) for r in routes for path in (r.path, r.path_format)}
        request.app.state[_ALLOW] = allowed
    return Response(None, status_code=204, headers={"Allow": allowed.get(request.scope["path_template"], "OPTIONS")})


_ALLOW = "_portal_allow_by_path"  # in the app's state


def _strict_json_model(model_type: type[BaseModel], value: Any) -> BaseModel:
    """A pydantic body is validated as the JSON it came as, strictly (`"3"` or `true` is no
    integer, `3.0` is one; a string stays a valid Decimal, UUID or date, as JSON has no such types), unless the
    model sets `strict` itself (`ConfigDict(strict=False)` to opt out)."""
    if isinstance(value, model_type):
        return value
    strict = None if "strict" in model_type.model_config else True
    try:
        raw = msgspec.json.encode(_integral(value))
    except (TypeError, msgspec.EncodeError):  # not from a JSON body: as Litestar would
        raw = None
    try:
        if raw is None:
            return model_type.model_validate(value)
        return model_type.model_validate_json(raw, strict=strict)
    except PydanticValidationError as exc:
        raise ExtendedMsgSpecValidationError(errors=list(exc.errors(include_input=False, include_url=False))) from exc


def _integral(value: Any) -> Any:
    """`value` with every float that has no fraction (`3.0`) as the integer it is: JSON Schema's
    `integer`, which the documents declare, takes `3.0`, so an integer field does too (a float
    field still takes `3`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _is_pydantic_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


class StrictPydanticInitPlugin(PydanticInitPlugin):
    """Litestar's pydantic plugin with bodies validated by `_strict_json_model`."""

    @classmethod
    def decoders(cls, validate_strict: bool = False) -> list[tuple[Callable[[Any], bool], Callable[[Any, Any], Any]]]:
        return [(_is_pydantic_model, _strict_json_model), *super().decoders(validate_strict)]


def health_routes(checks: dict[str, ReadinessCheck]) -> list:
    @get("/health/live", media_type=MediaType.JSON, include_in_schema=False, sync_to_thread=False)
    def live() -> dict[str, str]:
        return {"status": "alive"}

    @get("/health/ready", include_in_schema=False)
    async def ready() -> Response[dict[str, Any]]:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # readiness reports, it does not raise
                results[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
        ok = all(v == "ok" for v in results.values())
        return Response(
            {"status": "ready" if ok else "not ready", "checks": results},
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )

    return [live, ready]


def asyncapi_routes() -> list:
    from faststream.specification.asyncapi.site import get_asyncapi_html

    from portal_contracts.asyncapi import system_asyncapi

    @get("/asyncapi", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
    def page() -> str:
        return get_asyncapi_html(system_asyncapi(), try_it_out_path=None)

    @get("/asyncapi.json", media_type=MediaType.JSON, include_in_schema=False, sync_to_thread=False)
    def document() -> dict[str, Any]:
        return system_asyncapi().to_jsonable()

    return [page, document]


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def create_app(
    *,
    service: str,
    role: str = "run",
    description: str,
    route_handlers: Sequence[Any],
    auth: BearerJWTAuth,
    readiness: dict[str, ReadinessCheck],
    tracer_provider: TracerProvider | None = None,
    dependencies: dict[str, Any] | None = None,
    on_startup: Sequence[Callable[..., Any]] = (),
    on_shutdown: Sequence[Callable[..., Any]] = (),
    debug: bool = False,
    cors_allow_origins: Sequence[str] = (),
) -> Litestar:
    # Portal front-ends on other origins (CORS_ALLOW_ORIGINS); none by default.
    cors = (
        CORSConfig(
            allow_origins=list(cors_allow_origins),
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Correlation-ID"],
            expose_headers=["ETag", "X-Correlation-ID"],
        )
        if cors_allow_origins
        else None
    )
    # HTTP rate, errors (status_code 5xx) and latency per route template, beside the runtime's own
    # metrics (portal_runtime.metrics), at /metrics on every role.
    prometheus = PrometheusConfig(
        app_name=service,
        prefix="portal",
        group_path=True,
        exclude=["/health", "/metrics"],
        labels={"service": service, "role": role},
    )
    config = AppConfig(
        route_handlers=[*route_handlers, *health_routes(readiness), *asyncapi_routes(), MetricsController],
        middleware=[correlation_middleware, prometheus.middleware],
        cors_config=cors,
        dependencies={"page": Provide(page_parameters, sync_to_thread=False), **(dependencies or {})},
        exception_handlers=dict(EXCEPTION_HANDLERS),
        before_request=before_request,
        openapi_config=openapi_config(service, description),
        plugins=[
            http_tracing(tracer_provider),
            problem_details_plugin(),
            StrictPydanticInitPlugin(),
            PydanticSchemaPlugin(),
            PydanticDIPlugin(),
        ],
        request_max_body_size=1_048_576,
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        debug=debug,
    )
    return Litestar.from_config(auth.on_app_init(config))
