"""Identity, access and input errors at the HTTP edge, on a real service (catalog): every bad
request answers a 4xx that names the problem and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from catalog.bootstrap import definition as catalog_definition
from portal_runtime.auth import issue_token
from portal_runtime.testing import TEST_SECRET, bearer, running_service

ADMIN = bearer("ops", "admin")
GOOD = {"sku": "SEO-1", "name": "SEO", "price": "10.00", "currency": "EUR", "billing": "one_time"}


@pytest.fixture
async def catalog(new_database, kafka):
    async with running_service(catalog_definition(), database_url=await new_database("catalog"), kafka=kafka) as (
        rt,
        http,
    ):
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
    response = await catalog.post("/v1/items", json=GOOD, headers=headers)
    assert response.status_code == 401, why
    assert response.json()["detail"]
    assert await item_count(catalog) == before


async def test_customer_gets_403_on_admin_operation(catalog):
    response = await catalog.post("/v1/items", json=GOOD, headers=bearer("acme"))
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
    response = await catalog.post("/v1/items", content=body, headers={**ADMIN, "content-type": content_type})
    assert response.status_code == 400, response.text
    text = response.text
    if names:
        assert names in text, f"the answer should name {names!r}: {text}"
    else:
        assert "JSON" in text or "decode" in text.lower(), text
    assert await item_count(catalog) == before


async def test_domain_rule_answers_422_with_the_field(catalog):
    response = await catalog.post("/v1/items", json={**GOOD, "billing": "recurring"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["field"] == "billing_period_months"


async def test_conflict_answers_409_with_current_status(catalog):
    item = (await catalog.post("/v1/items", json=GOOD, headers=ADMIN)).json()
    assert (await catalog.post(f"/v1/items/{item['id']}/retire", headers=ADMIN)).status_code == 200
    again = await catalog.post(f"/v1/items/{item['id']}/retire", headers=ADMIN)
    assert again.status_code == 409 and again.json()["current_status"] == "retired"
    # customers no longer see a retired item; admins still do
    assert (await catalog.get(f"/v1/items/{item['id']}", headers=bearer("acme"))).status_code == 404
    assert (await catalog.get(f"/v1/items/{item['id']}", headers=ADMIN)).json()["status"] == "retired"


async def test_health_openapi_and_asyncapi_answer_without_token(catalog):
    assert (await catalog.get("/health/live")).json() == {"status": "alive"}
    ready = await catalog.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
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
    assert (await catalog.get("/health/ready")).status_code == 200
