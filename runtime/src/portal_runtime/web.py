"""The Litestar application of a service: auth, errors that name the field, health, OpenAPI,
the system's AsyncAPI document, tracing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.exceptions import ClientException, SerializationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import TracerProvider

from portal_runtime import context
from portal_runtime.auth import jwt_auth
from portal_runtime.errors import DomainError
from portal_runtime.paging import page_parameters

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


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    body.update({k: v for k, v in exc.extra.items() if v is not None})
    return Response(body, status_code=exc.status_code)


def client_error_handler(_: Request, exc: ClientException) -> Response:
    """Litestar's 400s, with a body that could not be decoded said in so many words."""
    detail = exc.detail
    if isinstance(exc.__cause__, SerializationException):
        detail = f"malformed JSON body: {detail}"
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": detail}
    if exc.extra:
        body["extra"] = exc.extra
    return Response(body, status_code=exc.status_code, headers=exc.headers)


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
    description: str,
    route_handlers: Sequence[Any],
    jwt_secret: str,
    readiness: dict[str, ReadinessCheck],
    tracer_provider: TracerProvider | None = None,
    dependencies: dict[str, Any] | None = None,
    on_startup: Sequence[Callable[..., Any]] = (),
    on_shutdown: Sequence[Callable[..., Any]] = (),
    debug: bool = False,
) -> Litestar:
    auth = jwt_auth(jwt_secret)
    # HTTP rate, errors and latency per route template, beside the runtime's own metrics
    # (portal_runtime.metrics), at /metrics.
    prometheus = PrometheusConfig(
        app_name=service, prefix="portal", group_path=True, exclude=["/health", "/metrics"], labels={"service": service}
    )
    config = AppConfig(
        route_handlers=[*route_handlers, *health_routes(readiness), *asyncapi_routes(), MetricsController],
        middleware=[correlation_middleware, prometheus.middleware],
        dependencies={"page": Provide(page_parameters, sync_to_thread=False), **(dependencies or {})},
        exception_handlers={DomainError: domain_error_handler, ClientException: client_error_handler},
        openapi_config=OpenAPIConfig(
            title=f"{service} API",
            version="1.0.0",
            description=description,
            render_plugins=[SwaggerRenderPlugin()],
        ),
        plugins=[OpenTelemetryPlugin(OpenTelemetryConfig(tracer_provider=tracer_provider))],
        request_max_body_size=1_048_576,
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        debug=debug,
    )
    return Litestar.from_config(auth.on_app_init(config))
