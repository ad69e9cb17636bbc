"""Each service's OpenAPI document as a client generator and a gateway need it, and the gateway's
one document made from the five.

Litestar writes a service's document from its handlers; `document(app)` completes it with what
Litestar does not know, in this one place, so that a new endpoint gets it by being written:

- operation ids are the handlers' names in camelCase (`submit_request` → `submitRequest`), so a
  handler is named as its operation (verb first) and a generated client reads the same;
- the errors every operation can answer, each a problem (`Problem`, `application/problem+json`),
  from what the operation takes: 400 on every one (malformed or invalid input; any query string
  can hold a NUL), 401 with `WWW-Authenticate` outside the public paths, 403 behind `admin_only`,
  404 on a path with ids, 413/415/422 on a JSON body and 422 on query or header parameters. What
  only a handler knows (409 on a forbidden transition, 412 on a stale If-Match, 402 on a declined
  card) it names itself: `responses=problems({409: "why"})`, with headers where the answer has
  them (`problem_spec(..., headers={"Retry-After": ...})`);
- request bodies described by pydantic's own JSON schema of their model: Litestar's leaves out
  what pydantic checks (a `pattern`, the bounds of an optional field, `additionalProperties:
  false` of a model that forbids extra fields), so a client or a fuzzer sending what the document
  allows was refused. A handler that parses its body itself names the model that describes it:
  `opt={"body": Model}`; a body with a default (`data: JSONBody[Model | None] = None`) is
  documented as optional, since the operation takes a request without one;
- a text parameter without its `null` choice (`x: str | None = None`: it is sent or left out,
  and `null` would be the text "null"); other types keep it, as Litestar reads `?status=null` as
  no filter;
- the bearer security scheme without the `name` Litestar gives it (only an apiKey scheme has
  one; openapi-spec-validator refuses the document with it).

Amounts of money come as decimal text (`"49.90"`, `decimal_text()`), as every event carries them:
a JSON number is refused, since many clients' JSON turns it into a binary float first.

The served `/schema/openapi.json` and the Swagger page show the completed document (their render
plugins below), the same that `document(app)` gives a test or `./portal openapi`.

`gateway_document` merges the five completed documents for an API gateway: one address (the
gateway's, one `servers` entry) and one tag per service naming the upstream of each operation. A
`servers` entry per service would say that every path is served at every address, and a path-level
one would make generated clients bypass the gateway. The runtime's own admin endpoints (jobs, test
clock: `x-per-service`) are at the same paths in every service and mean that service's own jobs
and clock, so a gateway cannot route them by path; they stay out of it and are reached at each
service's address. Schema names that two services use for different schemas get the service's
name as a prefix (`OrdersStatus`, `BillingStatus`); identical ones are shared.
"""

from __future__ import annotations

import copy
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.routes import HTTPRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from portal_runtime.auth import PUBLIC_PATHS, admin_only
from portal_runtime.problems import MEDIA_TYPE, PROBLEM_BASE

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.handlers import HTTPRouteHandler

    from portal_runtime.service import ServiceDefinition

PROBLEM = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}
PER_SERVICE = "x-per-service"  # an operation every service has at the same path (the runtime's admin)
REF_TEMPLATE = "#/components/schemas/{model}"


def decimal_text(*, digits: int, places: int = 2, positive: bool = False) -> Any:
    """An amount as JSON text, at most `digits` digits of which `places` after the point (and
    above zero when `positive`); the same pattern checks it and documents it."""
    pattern = rf"^\d{{1,{digits - places}}}(\.\d{{1,{places}}})?$"
    if positive:
        pattern = r"^(?!0*(\.0*)?$)" + pattern[1:]
    shape = re.compile(pattern)
    example = "49.90" if places == 2 else "49." + "9" * places

    def text_only(value: Any) -> Any:
        if isinstance(value, Decimal):
            return value  # made in code, not read from JSON
        if not isinstance(value, str) or not shape.match(value):
            raise ValueError(
                f"an amount is decimal text with at most {places} decimals"
                + (", above zero" if positive else "")
                + f', e.g. "{example}" (a JSON number is not taken: it may have lost digits on the way)'
            )
        return Decimal(value)

    schema = {"type": "string", "pattern": pattern, "examples": [example]}
    return Annotated[Decimal, BeforeValidator(text_only), WithJsonSchema(schema)]


class Problem(BaseModel):
    """An error answer (RFC 9457). Members beyond the RFC's say what is wrong; a problem may
    carry others of its kind (`current_revision`, `reason`, ...)."""

    model_config = ConfigDict(extra="allow", title=PROBLEM)

    type: str = Field(
        description=f"what kind of problem: `{PROBLEM_BASE}<kind>`, or `about:blank`",
        examples=[f"{PROBLEM_BASE}not-found"],
    )
    title: str = Field(description="the kind's title, the same for every problem of the kind")
    status: int = Field(ge=400, le=599, description="the HTTP status")
    detail: str = Field(description="what went wrong with this request, for a person")
    field: str | None = Field(default=None, description="the input at fault (`lines.0.quantity`, `If-Match`)")
    current_status: str | None = Field(default=None, description="on a 409: the object's status now")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="on a validation error: one entry per field (`field`, `message`, `source`)"
    )
    status_code: int | None = Field(default=None, description="the same as `status` (for earlier clients)")
    trace_id: str | None = Field(default=None, description="on a 500: the trace the log has it under")


@dataclass
class ProblemSpec(ResponseSpec):
    """A problem answer a handler documents in its `responses=`, with the headers it carries
    (name → description; documented as optional strings)."""

    headers: Mapping[str, str] = field(default_factory=dict)


def problem_spec(description: str, *, headers: Mapping[str, str] | None = None) -> ProblemSpec:
    return ProblemSpec(
        data_container=Problem,
        description=description,
        media_type=MEDIA_TYPE,
        generate_examples=False,
        headers=dict(headers or {}),
    )


def problems(described: Mapping[int, str]) -> dict[int, ResponseSpec]:
    """`responses=` of a handler: the problems only it answers (status → when)."""
    return {status: problem_spec(description) for status, description in described.items()}


COMMON = {
    400: "Malformed or invalid input: a body that is not well-formed JSON (`malformed-body`), a value that "
    "fails validation (`validation-error`, with `errors` naming each field) or a NUL character in a text "
    "(`invalid-character`)",
    401: "No bearer token, or one that was refused (`unauthorized`); `WWW-Authenticate` says why",
    403: "For admins only (`forbidden`)",
    404: "Not found, or another account's (`not-found`): both answer alike",
    413: "The body is larger than 1 MiB (`payload-too-large`)",
    415: "A body not sent as `application/json` (`unsupported-media-type`)",
    422: "Well-formed, but refused by a rule (`invalid-input`), naming the `field`",
}
CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'the Bearer challenge (RFC 6750): `Bearer realm="portal"`, with `error="invalid_token"` '
        "and `error_description` when a token came and was refused",
        "required": True,
        "schema": {"type": "string"},
    }
}


def operation_id(handler: HTTPRouteHandler, *_: Any) -> str:
    """The handler's name in camelCase: `submit_request` → `submitRequest`."""
    head, *rest = handler.handler_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class SwaggerPage(SwaggerRenderPlugin):
    """Swagger UI over the completed document."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document(request.app))


class JsonDocument(JsonRenderPlugin):
    """`/schema/openapi.json`: the completed document."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, document(request.app))


def openapi_config(service: str, description: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title=f"{service} API",
        version="1.0.0",
        description=description,
        operation_id_creator=operation_id,
        render_plugins=[JsonDocument(), SwaggerPage()],
    )


# -- one service's document ------------------------------------------------------------------

_CACHE = "_portal_openapi_document"  # in the app's state


def document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document, completed (see the module's docstring); made once per app."""
    if _CACHE not in app.state:
        app.state[_CACHE] = _complete(app.openapi_schema.to_schema(), _handlers(app))
    return app.state[_CACHE]


def _handlers(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    found = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                found[(route.path_format, method.lower())] = handler
    return found


def _complete(doc: dict[str, Any], handlers: Mapping[tuple[str, str], HTTPRouteHandler]) -> dict[str, Any]:
    for scheme in doc.get("components", {}).get("securitySchemes", {}).values():
        if scheme.get("type") == "http":
            scheme.pop("name", None)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            handler = handlers.get((path, method))
            if isinstance(operation, dict) and handler is not None:
                _describe_body(operation, handler, schemas)
                _complete_operation(path, operation, handler)
    schemas[PROBLEM] = Problem.model_json_schema()
    return doc


def _describe_body(operation: dict[str, Any], handler: HTTPRouteHandler, schemas: dict[str, Any]) -> None:
    """The JSON body as pydantic checks it (see the module's docstring)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    model = handler.opt.get("body") or (_model_in(data.annotation) if data is not None else None)
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if model is None or content is None:
        return
    if data is not None and data.has_default:
        operation["requestBody"]["required"] = False
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode="validation")
    described = {**schema.pop("$defs", {}), model.__name__: schema}
    for each in described.values():
        for member in each.get("properties", {}).values():
            # `x: str = None`: may be left out, never null; there is no default to send
            if member.get("default", ...) is None and not _nullable(member):
                del member["default"]
    schemas.update(described)
    ref = {"$ref": REF_TEMPLATE.format(model=model.__name__)}
    # `JSONBody[Model | None]` takes a JSON null as no body
    content["schema"] = {"anyOf": [ref, {"type": "null"}]} if data is not None and data.is_optional else ref


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_nullable(s) for s in schema.get("anyOf", []))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model of a body annotation (`Model`, `Model | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    found = [m for m in map(_model_in, typing.get_args(annotation)) if m is not None]
    return found[0] if len(found) == 1 else None


def _complete_operation(path: str, operation: dict[str, Any], handler: HTTPRouteHandler) -> None:
    own = dict(handler.responses or {})
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        # `x: str | None = None`: the text is there or not; "null" would be that text
        schema = parameter.get("schema", {})
        choices = [c for c in schema.get("oneOf", []) if c != {"type": "null"}]
        if "oneOf" in schema and len(choices) == 1 and choices[0].keys() <= {"type", "maxLength", "minLength"}:
            parameter["schema"] = {**{k: v for k, v in schema.items() if k != "oneOf"}, **choices[0]}
    places = {p.get("in") for p in parameters}
    body = "requestBody" in operation
    common = {400}
    if not (handler.opt.get("exclude_from_auth") or any(path.startswith(p) for p in PUBLIC_PATHS)):
        common.add(401)
    if admin_only in (getattr(guard, "func", guard) for guard in handler.resolve_guards()):
        common.add(403)
    if "path" in places:
        common.add(404)
    if body:
        common |= {413, 415, 422}
    if places & {"query", "header"}:
        common.add(422)
    responses = operation.setdefault("responses", {})
    for status in sorted(common - set(own)):
        responses[str(status)] = {"description": COMMON[status]}
    for status, answer in responses.items():
        for header in answer.get("headers", {}).values():
            if "schema" not in header and "content" not in header:
                header["schema"] = {"type": "string"}  # a documentation-only header has none
        if not status.startswith(("4", "5")):
            continue
        if int(status) in handler.opt.get("own_error_media", ()):
            continue  # e.g. OAuth2's token endpoint: its errors are RFC 6749's JSON, not problem details
        answer["content"] = {MEDIA_TYPE: {"schema": PROBLEM_REF}}
        spec = own.get(int(status))
        headers = spec.headers if isinstance(spec, ProblemSpec) else {}
        if headers:
            answer["headers"] = {
                name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
            }
        elif status == "401":
            answer["headers"] = copy.deepcopy(CHALLENGE)
    if handler.opt.get("per_service"):
        operation[PER_SERVICE] = True


# -- the gateway's document ------------------------------------------------------------------

_REF = re.compile(r"^#/components/schemas/(.+)$")


def offline_app(definition: ServiceDefinition) -> Litestar:
    """The service's app as its `api` role builds it, for its document only: nothing connects or
    starts (the database and broker settings are placeholders that are never used)."""
    from portal_runtime.service import ServiceRuntime
    from portal_runtime.settings import ServiceSettings

    settings = ServiceSettings(
        service_name=definition.name,
        database_url="postgresql+asyncpg://openapi@127.0.0.1:9/openapi",
        jwt_secret="placeholder-never-signs-anything-0123456789",
    )
    return ServiceRuntime(definition, settings).app(consume=False, relay=False)


def gateway_document(
    documents: Mapping[str, dict[str, Any]], *, server: str = "/", version: str = "1.0.0"
) -> dict[str, Any]:
    """One document from the services' completed documents (service name → document)."""
    versions: dict[str, dict[str, dict[str, Any]]] = {}  # schema name → {service: schema}
    for service, doc in documents.items():
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            versions.setdefault(name, {})[service] = schema
    # A name clashes when its services' schemas differ, or when they refer to a name that clashes.
    clashing = {name for name, each in versions.items() if len({_text(s) for s in each.values()}) > 1}
    while more := {
        name
        for name, each in versions.items()
        if name not in clashing and len(each) > 1 and _refs(next(iter(each.values()))) & clashing
    }:
        clashing |= more
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    owner: dict[str, str] = {}
    security_schemes: dict[str, Any] = {}
    for service, doc in documents.items():
        renamed = {name: service[:1].upper() + service[1:] + name for name in clashing if service in versions[name]}
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renamed.get(name, name)] = _rename(schema, renamed)
        security_schemes.update(doc.get("components", {}).get("securitySchemes", {}))
        for path, item in doc.get("paths", {}).items():
            operations = {m: op for m, op in item.items() if not (isinstance(op, dict) and op.get(PER_SERVICE))}
            if not operations:
                continue
            if path in paths:
                raise ValueError(f"{path} is served by both {owner[path]} and {service}; a gateway routes by path")
            owner[path] = service
            paths[path] = _rename(operations, renamed)  # a copy: the service's document stays as it is
            for operation in paths[path].values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation["tags"] = [service]
    # Only what the gateway's operations use (the per-service ones' answers stay out with them).
    used, todo = set(), _refs(paths)
    while todo:
        used |= todo
        todo = set().union(*(_refs(schemas[name]) for name in todo)) - used
    schemas = {name: schema for name, schema in schemas.items() if name in used}
    first = next(iter(documents.values()), {})
    return {
        "openapi": first.get("openapi", "3.1.0"),
        "info": {
            "title": "Portal API",
            "version": version,
            "description": "The five services' APIs behind one gateway: each operation's tag names the service "
            "that answers it. Each service also answers its own admin endpoints (`/v1/admin/jobs`, "
            "`/v1/admin/clock`) at its own address; a gateway does not route them.",
        },
        "servers": [{"url": server, "description": "the gateway"}],
        "tags": [
            {"name": service, "description": doc.get("info", {}).get("description", "")}
            for service, doc in documents.items()
        ],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": security_schemes},
        "security": first.get("security", []),
    }


def _text(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True)


def _refs(value: Any) -> set[str]:
    """The schema names `value` refers to."""
    return {m.group(1) for m in re.finditer(r'"\$ref": "#/components/schemas/([^"]+)"', _text(value))}


def _rename(value: Any, names: Mapping[str, str]) -> Any:
    """`value` with each `$ref` to a renamed schema pointing at its new name."""
    if isinstance(value, dict):
        out = {k: _rename(v, names) for k, v in value.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)) and m.group(1) in names:
            out["$ref"] = f"#/components/schemas/{names[m.group(1)]}"
        return out
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    return value
