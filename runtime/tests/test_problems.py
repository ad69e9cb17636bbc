"""Errors as RFC 9457 problems and bad input refused, on a small app of the runtime's own (no
database, no Kafka): the shapes every service answers in, whatever its routes."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, ConfigDict

from portal_runtime.auth import SharedSecret, admin_only, issue_token, jwt_auth
from portal_runtime.errors import Conflict
from portal_runtime.problems import scrub
from portal_runtime.web import create_app

SECRET = "a-test-secret-of-at-least-32-bytes-0123456789"
ADMIN = {"Authorization": f"Bearer {issue_token(SECRET, 'ops', 'admin')}"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(Strict):
    item_id: uuid.UUID
    quantity: int
    price: Decimal
    on: date


class Lax(BaseModel):
    model_config = ConfigDict(strict=False)
    quantity: int


class AdminThings(Controller):
    """Guarded at the controller, as orders' and returns' admin routes are."""

    path = "/v1/admin/things"
    guards = [admin_only]

    @get("/")
    async def list_things(self) -> dict[str, Any]:
        return {"items": []}

    @post("/")
    async def make(self, data: JSONBody[LineIn]) -> dict[str, Any]:
        return data.model_dump(mode="json")


@post("/v1/lax")
async def lax(data: JSONBody[Lax]) -> dict[str, Any]:
    return data.model_dump()


@post("/v1/free", status_code=200)
async def free(data: JSONBody[Any] = None) -> dict[str, Any]:
    return {"got": data}


@get("/v1/boom")
async def boom() -> None:
    raise RuntimeError(
        "(sqlalchemy.dialects.postgresql.asyncpg.Error) duplicate key\n"
        "DETAIL:  Key (email)=(alice@example.test) already exists.\n"
        "[SQL: INSERT INTO profiles (email) VALUES ($1)]\n"
        "[parameters: ('alice@example.test',)]"
    )


@get("/v1/clash")
async def clash() -> None:
    raise Conflict("already ran", current_status="finished", status="already ran", title="mine")


@get("/v1/teapot")
async def teapot() -> None:
    raise ProblemDetailsException(detail="short and stout", status_code=418, type_="about:blank", title="I'm a teapot")


@pytest.fixture
async def client():
    app = create_app(
        service="probe",
        description="runtime problems",
        route_handlers=[AdminThings, lax, free, boom, clash, teapot],
        auth=jwt_auth(SharedSecret(SECRET)),
        readiness={},
        tracer_provider=TracerProvider(),
    )
    async with AsyncTestClient(app) as c:
        yield c


LINE = {"item_id": str(uuid.uuid4()), "quantity": 2, "price": "10.50", "on": "2027-01-31"}


async def test_options_answers_204_without_a_token_even_under_a_controller_guard(client):
    for path in ("/v1/admin/things", "/v1/lax", "/v1/free"):
        answer = await client.options(path)
        assert answer.status_code == 204 and "OPTIONS" in answer.headers["allow"], (path, answer.text)
    refused = await client.get("/v1/admin/things")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer realm="portal"'


async def test_a_refused_token_says_why_in_www_authenticate(client):
    forged = issue_token("another-secret-of-at-least-32-bytes-987654", "ops", "admin")
    answer = await client.get("/v1/admin/things", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401 and answer.json()["detail"] == "Invalid token: Signature verification failed"
    assert answer.headers["www-authenticate"] == (
        'Bearer realm="portal", error="invalid_token", error_description="Signature verification failed"'
    )


async def test_a_500_is_a_generic_problem_logged_with_traceback_and_trace_id_without_personal_data(client, caplog):
    with caplog.at_level(logging.ERROR, logger="portal_runtime.problems"):
        answer = await client.get("/v1/boom?email=bob@example.test", headers=ADMIN)
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["type"] == "https://portal.example/problems/internal-error" and body["status"] == 500
    assert "duplicate" not in body["detail"] and len(body["trace_id"]) == 32
    assert body["trace_id"] in body["detail"] and body["correlation_id"] == answer.headers["x-correlation-id"]
    [record] = [r for r in caplog.records if r.name == "portal_runtime.problems"]
    logged = record.getMessage()
    assert "Traceback (most recent call last)" in logged and "in boom" in logged, logged
    assert body["trace_id"] in logged and "GET /v1/boom " in logged and "RuntimeError" in logged
    assert "@example.test" not in logged and "DETAIL" not in logged and "[parameters: hidden]" in logged
    assert "[SQL: INSERT INTO profiles (email) VALUES ($1)]" in logged  # the statement, without its values


def test_scrub_cuts_out_sql_parameters_detail_lines_and_emails():
    message = "boom for carol@corp.example.com\nDETAIL:  Key (x)=(1)\n[parameters: (1, 'a')]\n(Background)"
    assert scrub(message) == "boom for <email>\n[parameters: hidden]\n(Background)"


async def test_domain_members_never_overwrite_the_problem_members(client):
    body = (await client.get("/v1/clash", headers=ADMIN)).json()
    assert body["status"] == 409 and body["title"] != "mine" and body["current_status"] == "finished"
    assert body["type"] == "https://portal.example/problems/conflict" and body["detail"] == "already ran"


async def test_a_problem_raised_as_such_is_rendered_by_litestars_plugin(client):
    answer = await client.get("/v1/teapot", headers=ADMIN)
    assert answer.status_code == 418 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json() == {"status": 418, "type": "about:blank", "title": "I'm a teapot", "detail": "short and stout"}


async def test_bodies_are_validated_strictly_as_json_unless_a_model_opts_out(client):
    made = await client.post("/v1/admin/things", json=LINE, headers=ADMIN)
    assert made.status_code == 201 and made.json()["price"] == "10.50", made.text
    for bad in ("2", True, 2.5):
        refused = await client.post("/v1/admin/things", json={**LINE, "quantity": bad}, headers=ADMIN)
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["field"] == "quantity", refused.text
    # 2.0 is an integer as JSON Schema's `integer`, which the OpenAPI documents declare, has it
    whole = await client.post("/v1/admin/things", json={**LINE, "quantity": 2.0}, headers=ADMIN)
    assert whole.status_code == 201, whole.text
    assert (await client.post("/v1/lax", json={"quantity": "2"}, headers=ADMIN)).json() == {"quantity": 2}


async def test_an_optional_body_may_be_absent_but_what_comes_is_screened(client):
    assert (await client.post("/v1/free", headers=ADMIN)).json() == {"got": None}
    assert (await client.post("/v1/free", json={"a": [1, {"b": "c"}]}, headers=ADMIN)).status_code == 200
    nul = await client.post("/v1/free", json={"a": [1, {"b": "c\u0000"}]}, headers=ADMIN)
    assert nul.status_code == 400 and nul.json()["field"] == "a.1.b", nul.text
    deep = await client.post("/v1/free", json={"a": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}, headers=ADMIN)
    assert deep.status_code == 200, deep.text  # 17 levels are fine
    too_deep = b"[" * 65 + b"]" * 65
    answer = await client.post("/v1/free", content=too_deep, headers={**ADMIN, "content-type": "application/json"})
    assert answer.status_code == 400 and "nested deeper than 64" in answer.json()["detail"]
    fine = b"[" * 64 + b"]" * 64
    answer = await client.post("/v1/free", content=fine, headers={**ADMIN, "content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    vendor = await client.post(
        "/v1/free", content=b'{"a": 1}', headers={**ADMIN, "content-type": "application/merge-patch+json"}
    )
    assert vendor.status_code == 200, vendor.text
    latin = await client.post(
        "/v1/free", content=b'{"a": 1}', headers={**ADMIN, "content-type": "application/json; charset=latin-1"}
    )
    assert latin.status_code == 415, latin.text
