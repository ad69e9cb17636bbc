"""Every error answer as an RFC 9457 problem (`application/problem+json`), through Litestar's
problem details plugin: `ProblemDetailsException` carries the problem and renders it; the
handlers here turn a `DomainError`, any of Litestar's `HTTPException`s and an unexpected
exception into one.

A problem has `type` (a URI per kind, `https://portal.example/problems/<kind>`, or `about:blank`
for a status without a kind of its own), `title`, `status` and `detail`, and members that say what
is wrong: `field`, `current_status` and a domain error's other members; `errors` (each with the
`field` path, `message` and `source`) for a request that failed validation. `status_code` and a
validation error's `extra` (Litestar's own list) stay beside them for clients written against the
earlier shape.

A 500 answers a generic detail naming the trace id; the log has the traceback, the trace and
correlation ids and the route, and no request data (no query string, no body, SQL parameters and
email addresses cut out of the exception messages).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from opentelemetry import trace

from portal_runtime import context
from portal_runtime.errors import DomainError

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://portal.example/problems/"
MEDIA_TYPE = "application/problem+json"
REALM = "portal"

# kind -> title; a kind's `type` is PROBLEM_BASE + kind
KINDS: dict[str, str] = {
    "bad-request": "Bad request",
    "validation-error": "The request failed validation",
    "malformed-body": "The body is not well-formed JSON",
    "invalid-character": "The request has a character that no text may hold",
    "unauthorized": "Authentication required",
    "forbidden": "Not allowed",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "conflict": "Conflicts with the current state",
    "precondition-failed": "The resource changed since it was read",
    "payload-too-large": "The body is too large",
    "unsupported-media-type": "Unsupported media type",
    "invalid-input": "Refused by a rule",
    "payment-declined": "The payment was declined",
    "not-offered-yet": "Not offered (yet)",
    "job-failed": "The job failed",
    "internal-error": "Internal server error",
    "unavailable": "Service unavailable",
}
KIND_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    500: "internal-error",
    503: "unavailable",
}
RESERVED = frozenset({"type", "title", "status", "detail", "instance"})
# Litestar's ValidationException for a required parameter that is absent (it has no `extra`).
_MISSING = re.compile(r"^Missing required (\w+) parameter '([^']+)'")


def problem(
    status: int,
    detail: str,
    /,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    members: Mapping[str, Any] | None = None,
    **more: Any,
) -> ProblemDetailsException:
    """A problem to raise or render: `kind` names its type (one of KINDS; by default the status's
    own kind, or `about:blank`); `members` (and `more`) are its extension members (None values
    left out; the RFC's own members are never overwritten by one)."""
    kind = kind or KIND_BY_STATUS.get(status)
    if kind:
        type_, title = PROBLEM_BASE + kind, KINDS.get(kind, kind)
    else:
        type_, title = "about:blank", _phrase(status)
    given = {**(members or {}), **more}
    extra = {"status_code": status, **{k: v for k, v in given.items() if v is not None and k not in RESERVED}}
    return ProblemDetailsException(
        detail=detail, status_code=status, headers=dict(headers or {}), extra=extra, type_=type_, title=title
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def bearer_challenge(error: str | None = None, description: str | None = None) -> str:
    """A `WWW-Authenticate` value (RFC 6750 section 3): no error code when no token came at all."""
    parts = [f'Bearer realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
        if description:
            parts.append(f'error_description="{_quotable(description)}"')
    return ", ".join(parts)


def _quotable(text: str) -> str:
    """What may stand in a quoted header parameter: printable ASCII without `"` and `\\`."""
    return "".join(c for c in text if " " <= c <= "~" and c not in '"\\')[:200]


# -- handlers --------------------------------------------------------------------------------


def domain_error_to_problem(exc: DomainError) -> ProblemDetailsException:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    members = {"field": exc.field, **exc.extra}
    return problem(exc.status_code, exc.message, kind=exc.problem_kind, headers=headers, members=members)


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """Litestar's own errors (validation, 401, 403, 404, 405, 413, ...) as problems."""
    status = exc.status_code
    if status >= 500 and status != 503:
        return server_error_handler(request, exc)
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        entries = exc.extra if isinstance(exc.extra, list) else []
        errors = [
            {
                name: e[key]
                for name, key in (("field", "key"), ("message", "message"), ("source", "source"))
                if e.get(key)
            }
            for e in entries
            if isinstance(e, Mapping)
        ]
        missing = _MISSING.match(exc.detail or "")
        if missing and not errors:  # Litestar says which parameter in its message only
            source, name = missing.groups()
            errors = [{"field": name, "message": f"the {source} parameter {name} is required", "source": source}]
        # One field at fault is named as `field` too, as a domain error names it.
        at = errors[0].get("field") if len(errors) == 1 else None
        found = problem(
            status, exc.detail, kind="validation-error", headers=headers, field=at, errors=errors, extra=exc.extra
        )
    elif isinstance(exc.__cause__, SerializationException):
        found = problem(status, f"malformed JSON body: {exc.detail}", kind="malformed-body", headers=headers)
    else:
        if status == 401:
            headers.setdefault("WWW-Authenticate", bearer_challenge("invalid_token", exc.detail))
        members = exc.extra if isinstance(exc.extra, Mapping) else {"extra": exc.extra}
        found = problem(status, exc.detail, headers=headers, members=members)
    return found.to_response(request)


def server_error_handler(request: Request, exc: Exception) -> Response:
    """A 500: logged with its traceback, answered with a generic detail."""
    span = trace.get_current_span().get_span_context()
    trace_id = f"{span.trace_id:032x}" if span.is_valid else None
    correlation_id = context.current().correlation_id
    route = request.scope.get("path_template") or request.scope.get("path", "?")
    log.error(
        "500 on %s %s (trace_id=%s, correlation_id=%s): %s\n%s",
        request.method,
        route,
        trace_id,
        correlation_id,
        type(exc).__name__,
        scrubbed_traceback(exc),
    )
    detail = "the server failed on this request"
    if trace_id:
        detail += f"; the error is logged under trace id {trace_id}"
    found = problem(500, detail, trace_id=trace_id, correlation_id=str(correlation_id) if correlation_id else None)
    return found.to_response(request)


_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.S)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(message: str) -> str:
    """An exception message without request data: SQL parameters, PostgreSQL's DETAIL lines
    (which quote the values of a key) and email addresses cut out."""
    message = _SQL_PARAMETERS.sub("[parameters: hidden]", message)
    lines = [line for line in message.splitlines() if not line.lstrip().startswith("DETAIL:")]
    return _EMAIL.sub("<email>", "\n".join(lines))[:2000]


def scrubbed_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and its causes, as Python prints it, with each message scrubbed
    (no local variables are ever shown)."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception, another exception occurred:"
        else:
            current = None
    out: list[str] = []
    for i, (each, _) in enumerate(reversed(chain)):
        if i:
            out.append(f"\n{chain[len(chain) - i][1]}\n\n")
        out.append("Traceback (most recent call last):\n")
        out.extend(traceback.format_list(traceback.extract_tb(each.__traceback__)))
        name = f"{type(each).__module__}.{type(each).__qualname__}".removeprefix("builtins.")
        message = scrub(str(each))
        out.append(f"{name}: {message}\n" if message else f"{name}\n")
    return "".join(out).rstrip("\n")


def problem_details_plugin() -> ProblemDetailsPlugin:
    """Litestar's plugin, rendering every `ProblemDetailsException` (raised anywhere) and turning
    a `DomainError` into one."""
    config = ProblemDetailsConfig(exception_to_problem_detail_map={DomainError: domain_error_to_problem})
    return ProblemDetailsPlugin(config)


EXCEPTION_HANDLERS: dict[Any, Any] = {HTTPException: http_exception_handler, Exception: server_error_handler}
