"""Identity, access and input errors at the HTTP edge, on a real service (catalog): every bad
request answers a 4xx problem (RFC 9457, `application/problem+json`) that names what is wrong,
changes nothing and leaves the service ready."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from catalog.bootstrap import definition as catalog_definition
from portal_runtime.auth import issue_token
from portal_runtime.testing import TEST_SECRET, bearer, eventually, running_service

ADMIN = bearer("ops", "admin")
GOOD = {"sku": "SEO-1", "name": "SEO", "price": "10.00", "currency": "EUR", "billing": "one_time"}


@pytest.fixture
async def catalog(new_database, kafka):
    async with running_service(catalog_definition(), database_url=await new_database("catalog"), kafka=kafka) as (
        rt,
        http,
    ):
        # right after start, readiness may still wait for the Kafka connection (503 until then)
        await eventually(lambda: ready(http), timeout=15, what="catalog ready")
        yield http


async def item_count(http) -> int:
    return (await http.get("/v1/items", params={"status": "active"}, headers=ADMIN)).json()["total"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "no token"),
        (auth("not-a-jwt"), "garbage token"),
        (auth(issue_token("another-key-entirely-0123456789abcdef", "ops", "admin")), "forged"),
        (
            auth(
                jwt.encode(
                    {
                        "sub": "ops",
                        "role": "admin",
                        "iat": datetime.now(UTC) - timedelta(days=2),
                        "exp": datetime.now(UTC) - timedelta(days=1),
                    },
                    TEST_SECRET,
                    "HS256",
                )
            ),
            "expired",
        ),
        (
            auth(
                jwt.encode(
                    {"sub": "ops", "role": "root", "exp": datetime.now(UTC) + timedelta(hours=1)}, TEST_SECRET, "HS256"
                )
            ),
            "unknown role",
        ),
    ],
)
async def test_missing_forged_or_expired_token_answers_401(catalog, headers, why):
    before = await item_count(catalog)
    response = await catalog.post("/v1/admin/items", json=GOOD, headers=headers)
    assert response.status_code == 401, why
    assert response.json()["detail"]
    assert await item_count(catalog) == before


async def test_customer_gets_403_on_admin_operation(catalog):
    response = await catalog.post("/v1/admin/items", json=GOOD, headers=bearer("acme"))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, content_type, names",
    [
        (b'{"sku": "A", "name": ', "application/json", None),
        (
            b'{"sku": "A", "name": "n", "price": "ten", "currency": "EUR", "billing": "one_time"}',
            "application/json",
            "price",
        ),
        (
            b'{"sku": "A", "name": "n", "price": "1", "currency": "EUR", "billing": "one_time", "colour": "red"}',
            "application/json",
            "colour",
        ),
        (
            b'{"sku": "A", "name": "n", "price": "1", "currency": "EUR", "billing": "weekly"}',
            "application/json",
            "billing",
        ),
        (b'{"name": "n", "price": "1", "currency": "EUR", "billing": "one_time"}', "application/json", "sku"),
    ],
)
async def test_bad_input_answers_4xx_naming_the_problem_and_changes_nothing(catalog, body, content_type, names):
    before = await item_count(catalog)
    response = await catalog.post("/v1/admin/items", content=body, headers={**ADMIN, "content-type": content_type})
    assert response.status_code == 400, response.text
    text = response.text
    if names:
        assert names in text, f"the answer should name {names!r}: {text}"
    else:
        assert "JSON" in text or "decode" in text.lower(), text
    assert await item_count(catalog) == before


async def test_domain_rule_answers_422_with_the_field(catalog):
    response = await catalog.post("/v1/admin/items", json={**GOOD, "billing": "recurring"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["field"] == "billing_period_months"


async def test_conflict_answers_409_with_current_status(catalog):
    item = (await catalog.post("/v1/admin/items", json=GOOD, headers=ADMIN)).json()
    assert (await catalog.post(f"/v1/admin/items/{item['id']}/retire", headers=ADMIN)).status_code == 200
    again = await catalog.post(f"/v1/admin/items/{item['id']}/retire", headers=ADMIN)
    assert again.status_code == 409 and again.json()["current_status"] == "retired"
    # customers no longer see a retired item; admins still do
    assert (await catalog.get(f"/v1/items/{item['id']}", headers=bearer("acme"))).status_code == 404
    assert (await catalog.get(f"/v1/items/{item['id']}", headers=ADMIN)).json()["status"] == "retired"


async def test_health_openapi_and_asyncapi_answer_without_token(catalog):
    assert (await catalog.get("/health/live")).json() == {"status": "alive"}
    answer = await catalog.get("/health/ready")
    # catalog consumes too (orders.users: which users' tokens it still takes)
    assert answer.status_code == 200 and answer.json()["checks"] == {"database": "ok", "kafka": "ok", "consumer": "ok"}
    assert "/v1/items" in (await catalog.get("/schema/openapi.json")).json()["paths"]
    assert (await catalog.get("/schema/swagger")).status_code == 200
    doc = (await catalog.get("/asyncapi.json")).json()
    assert any(ch["address"] == "orders.requests" for ch in doc["channels"].values())
    assert (
        "AsyncApiStandalone" in (await catalog.get("/asyncapi")).text
        or "asyncapi" in (await catalog.get("/asyncapi")).text.lower()
    )


async def test_readiness_fails_when_the_database_is_unreachable(kafka):
    url = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    from portal_runtime.service import ServiceRuntime
    from portal_runtime.settings import ServiceSettings

    rt = ServiceRuntime(
        catalog_definition(),
        ServiceSettings(
            service_name="catalog", database_url=url, kafka_bootstrap_servers=kafka, jwt_secret=TEST_SECRET
        ),
    )
    with pytest.raises(OSError):
        await rt.check_database()
    await rt.engine.dispose()


async def test_a_huge_offset_is_a_400_naming_it_not_a_500(catalog):
    listed = await catalog.get("/v1/items", params={"offset": str(2**63)}, headers=bearer("acme"))
    assert listed.status_code == 400 and "offset" in listed.text, listed.text
    assert (await catalog.get("/v1/items", params={"limit": "0"}, headers=bearer("acme"))).status_code == 400
    assert await ready(catalog)


# -- errors are RFC 9457 problems ------------------------------------------------------------

PROBLEM = "application/problem+json"
PROBLEMS = "https://portal.example/problems/"


def assert_problem(response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    assert body["type"] == (PROBLEMS + kind if kind else body["type"]), body
    return body


async def ready(http) -> bool:
    return (await http.get("/health/ready")).status_code == 200


async def test_every_error_is_a_problem_that_says_what_is_wrong(catalog):
    missing = await catalog.post("/v1/admin/items", json=GOOD)
    assert_problem(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == 'Bearer realm="portal"'  # no token: no error code (RFC 6750)
    forged = await catalog.post("/v1/admin/items", json=GOOD, headers=auth("not-a-jwt"))
    assert_problem(forged, 401, "unauthorized")
    challenge = forged.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="portal", error="invalid_token", error_description="'), challenge
    assert_problem(await catalog.post("/v1/admin/items", json=GOOD, headers=bearer("acme")), 403, "forbidden")
    assert_problem(await catalog.get(f"/v1/items/{uuid.uuid4()}", headers=ADMIN), 404, "not-found")
    assert_problem(await catalog.get("/v1/nowhere", headers=ADMIN), 404, "not-found")
    assert_problem(await catalog.delete("/v1/items", headers=ADMIN), 405, "method-not-allowed")
    rule = assert_problem(
        await catalog.post("/v1/admin/items", json={**GOOD, "billing": "recurring"}, headers=ADMIN),
        422,
        "invalid-input",
    )
    assert rule["field"] == "billing_period_months"
    item = (await catalog.post("/v1/admin/items", json=GOOD, headers=ADMIN)).json()
    await catalog.post(f"/v1/admin/items/{item['id']}/retire", headers=ADMIN)
    clash = assert_problem(await catalog.post(f"/v1/admin/items/{item['id']}/retire", headers=ADMIN), 409, "conflict")
    assert clash["current_status"] == "retired"
    invalid = assert_problem(
        await catalog.post(
            "/v1/admin/items", json={**GOOD, "prices": [{"cycle": "weekly", "price": "1"}]}, headers=ADMIN
        ),
        400,
        "validation-error",
    )
    assert [e["field"] for e in invalid["errors"]] == ["prices.0.cycle"], invalid
    assert [e["key"] for e in invalid["extra"]] == ["prices.0.cycle"], invalid  # Litestar's list, as before
    assert_problem(await catalog.post("/v1/admin/items", content=b'{"sku": ', headers=JSON), 400, "malformed-body")


# -- bad input is a 4xx, never a 500 (issue 11, item 6) --------------------------------------

JSON = {**ADMIN, "content-type": "application/json"}


async def refused(catalog, status: int, kind: str, send) -> dict:
    """`send` answers `status` with a problem of `kind`, changes nothing and leaves catalog ready."""
    before = await item_count(catalog)
    body = assert_problem(await send(), status, kind)
    assert await item_count(catalog) == before
    assert await ready(catalog), "catalog should stay ready after bad input"
    return body


@pytest.mark.parametrize(
    "body, names",
    [
        ({**GOOD, "name": "SEO\u0000"}, "name"),
        ({**GOOD, "prices": [{"cycle": "one_time", "price": "1"}], "sku": "A\u0000"}, "sku"),
        ({**GOOD, "description": "x", "prices": [{"cycle": "one\u0000", "price": "1"}]}, "prices.0.cycle"),
        ({**GOOD, "ext\u0000ra": 1}, "ext\\u0000ra"),
    ],
)
async def test_a_nul_character_in_the_body_is_a_400_naming_where(catalog, body, names):
    problem = await refused(
        catalog, 400, "invalid-character", lambda: catalog.post("/v1/admin/items", json=body, headers=ADMIN)
    )
    assert problem["field"] == names and "NUL" in problem["detail"], problem


async def test_a_nul_character_in_the_query_string_is_a_400_naming_the_parameter(catalog):
    for query in ("status=%00", "account_id=a%00b", "offset=0&x=%00"):
        problem = await refused(
            catalog, 400, "invalid-character", lambda q=query: catalog.get(f"/v1/items?{q}", headers=ADMIN)
        )
        assert problem["field"] == query.rsplit("&", 1)[-1].split("=")[0], problem


async def test_an_invalid_utf8_byte_inside_a_json_string_is_a_400(catalog):
    raw = b'{"sku": "A", "name": "SEO \xff", "price": "10.00", "currency": "EUR", "billing": "one_time"}'
    problem = await refused(
        catalog, 400, "malformed-body", lambda: catalog.post("/v1/admin/items", content=raw, headers=JSON)
    )
    assert "UTF-8" in problem["detail"], problem


@pytest.mark.parametrize("depth", [65, 1000])
async def test_deeply_nested_json_is_a_400(catalog, depth):
    raw = b'{"sku": "A", "name": "n", "parents": ' + b"[" * depth + b"]" * depth + b"}"
    problem = await refused(
        catalog, 400, "malformed-body", lambda: catalog.post("/v1/admin/items", content=raw, headers=JSON)
    )
    assert "nested deeper than 64" in problem["detail"], problem


async def test_options_needs_no_token_and_answers_204_with_allow_on_every_route(catalog):
    """`Allow` names every method of the path (Litestar's own answer named only the first
    handler's when a path has several)."""
    for path, allowed in (
        ("/v1/items", "GET, OPTIONS"),
        (f"/v1/items/{uuid.uuid4()}", "GET, OPTIONS"),
        ("/v1/admin/items", "OPTIONS, POST"),
        (f"/v1/admin/items/{uuid.uuid4()}", "OPTIONS, PATCH"),
        ("/v1/admin/jobs", "GET, OPTIONS"),
        ("/v1/admin/jobs/purge/run", "OPTIONS, POST"),
        ("/v1/admin/clock", "DELETE, GET, OPTIONS, PUT"),
    ):
        answer = await catalog.options(path)
        assert (answer.status_code, answer.headers["allow"]) == (204, allowed), (path, answer.text)
    assert await ready(catalog)


@pytest.mark.parametrize(
    "change, names",
    [
        ({"units": "3"}, "units"),
        ({"units": True}, "units"),
        ({"billing": "recurring", "billing_period_months": "3"}, "billing_period_months"),
        ({"billing": "recurring", "billing_period_months": True}, "billing_period_months"),
        ({"billing": "recurring", "billing_period_months": 3.5}, "billing_period_months"),
        ({"price": 12.5}, "price"),  # an amount is decimal text: a JSON number may have lost digits
        ({"price": 12}, "price"),
    ],
)
async def test_a_string_a_boolean_or_a_fraction_for_a_number_is_a_400_naming_the_field(catalog, change, names):
    problem = await refused(
        catalog,
        400,
        "validation-error",
        lambda: catalog.post("/v1/admin/items", json={**GOOD, **change}, headers=ADMIN),
    )
    assert [e["field"] for e in problem["errors"]] == [names], problem


async def test_decimal_text_and_an_integral_number_for_an_integer_are_valid(catalog):
    """`3.0` is an integer as JSON Schema's `integer` (which the document declares) has it."""
    for price in ("12.50", "12.5", "12"):
        made = await catalog.post("/v1/admin/items", json={**GOOD, "sku": f"P-{price}", "price": price}, headers=ADMIN)
        assert made.status_code == 201 and made.json()["price"] in ("12.50", "12.5", "12", "12.00"), made.text
    monthly = {**GOOD, "sku": "P-M", "billing": "recurring", "billing_period_months": 3.0}
    made = await catalog.post("/v1/admin/items", json=monthly, headers=ADMIN)
    assert made.status_code == 201 and made.json()["billing_period_months"] == 3, made.text


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
async def test_a_json_body_not_sent_as_json_is_a_415_naming_the_expected_type(catalog, content_type):
    headers = {**ADMIN, **({"content-type": content_type} if content_type else {})}
    raw = json.dumps(GOOD).encode()
    problem = await refused(
        catalog, 415, "unsupported-media-type", lambda: catalog.post("/v1/admin/items", content=raw, headers=headers)
    )
    assert problem["expected"] == "application/json" and "application/json" in problem["detail"], problem
    assert problem["field"] == "Content-Type"
    ok = await catalog.post(
        "/v1/admin/items", content=raw, headers={**ADMIN, "content-type": "application/json; charset=utf-8"}
    )
    assert ok.status_code == 201, ok.text


async def test_cors_is_off_by_default_and_allows_the_configured_front_end(new_database, kafka):
    async with running_service(
        catalog_definition(),
        database_url=await new_database("catalog"),
        kafka=kafka,
        relay=False,
        cors_allow_origins=["https://portal.example"],
    ) as (_, http):
        allowed = await http.options(
            "/v1/admin/items", headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"}
        )
        assert allowed.headers.get("access-control-allow-origin") == "https://portal.example", allowed.headers
        other = await http.options(
            "/v1/admin/items", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
