"""Local tokens (HS256 with JWT_SECRET) naming a user of an account, on a small app of the
runtime's own auth: what a token must carry, what a refusal says, the settings that refuse to
start, and `portal-token`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError
from typer.testing import CliRunner

from portal_runtime.auth import Principal, issue_token, jwt_auth_from
from portal_runtime.settings import ServiceSettings
from portal_runtime.testing import TEST_SECRET, bearer
from portal_runtime.token import app as token_cli
from portal_runtime.web import create_app


@get("/v1/whoami", sync_to_thread=False)
def whoami(request: Request[Principal, Any, Any]) -> dict[str, str]:
    me = request.user
    return {"user": me.user_id, "account": me.account_id, "role": me.role, "actor": me.actor}


def settings(**values: Any) -> ServiceSettings:
    return ServiceSettings(service_name="probe", database_url="x", **values)


@pytest.fixture
async def client():
    app = create_app(
        service="probe",
        description="auth",
        route_handlers=[whoami],
        auth=jwt_auth_from(settings(jwt_secret=TEST_SECRET)),
        readiness={},
        tracer_provider=TracerProvider(),
    )
    async with AsyncTestClient(app) as c:
        yield c


def signed(claims: dict[str, Any], *, secret: str = TEST_SECRET, algorithm: str = "HS256") -> dict[str, str]:
    now = datetime.now(UTC)
    token = jwt.encode({"iat": now, "exp": now + timedelta(hours=1), **claims}, secret, algorithm)
    return {"Authorization": f"Bearer {token}"}


async def refusal(client, headers: dict[str, str]) -> str:
    """The reason a refused token's 401 gives, checked to be the same in the body and the challenge."""
    answer = await client.get("/v1/whoami", headers=headers)
    assert answer.status_code == 401, answer.text
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="portal", error="invalid_token", error_description="'), challenge
    assert answer.headers["content-type"].startswith("application/problem+json")
    detail = answer.json()["detail"]
    assert detail.startswith("Invalid token: "), detail
    return detail.removeprefix("Invalid token: ")


def test_a_local_token_names_the_user_the_account_and_the_role():
    claims = jwt.decode(issue_token(TEST_SECRET, "acme", "customer", user_id="alice"), TEST_SECRET, ["HS256"])
    assert (claims["sub"], claims["account"], claims["role"]) == ("alice", "acme", "customer")
    # without a user, the role's name is the user, so `bearer("acme")` keeps working
    assert jwt.decode(issue_token(TEST_SECRET, "ops", "admin"), TEST_SECRET, ["HS256"])["sub"] == "admin"
    with pytest.raises(ValueError, match="positive"):
        issue_token(TEST_SECRET, "acme", "customer", ttl=timedelta(0))


async def test_the_principal_is_the_user_of_its_account(client):
    answer = await client.get("/v1/whoami", headers=bearer("acme", user="alice"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"user": "alice", "account": "acme", "role": "customer", "actor": "acme/alice"}
    assert (await client.get("/v1/whoami", headers=bearer("ops", "admin"))).json()["actor"] == "ops/admin"


@pytest.mark.parametrize(
    "claims, names",
    [
        ({"sub": "alice", "role": "customer"}, "`account` claim"),
        ({"sub": "alice", "account": "", "role": "customer"}, "`account` claim"),
        ({"sub": "alice", "account": ["acme"], "role": "customer"}, "`account` claim"),
        ({"sub": "alice", "account": "acme"}, "`role` claim"),
        ({"sub": "alice", "account": "acme", "role": "root"}, "`role` claim"),
        ({"sub": "alice", "account": "acme", "role": ["customer", "admin"]}, "`role` claim"),
        ({"account": "acme", "role": "customer"}, "sub"),
        ({"sub": "a" * 150, "account": "b" * 60, "role": "customer"}, "longer than 199"),
    ],
)
async def test_a_token_missing_what_names_the_principal_is_refused_saying_what(client, claims, names):
    assert names in await refusal(client, signed(claims))


async def test_a_role_list_as_identity_providers_write_it_holds_one_of_ours(client):
    headers = signed({"sub": "alice", "account": "acme", "role": ["offline_access", "admin"]})
    assert (await client.get("/v1/whoami", headers=headers)).json()["role"] == "admin"


async def test_forged_expired_unsigned_or_garbage_tokens_say_why(client):
    now = datetime.now(UTC)
    who = {"sub": "alice", "account": "acme", "role": "customer"}
    assert await refusal(client, signed(who, secret="another-secret-of-at-least-32-bytes")) == (
        "Signature verification failed"
    )
    expired = signed({**who, "iat": now - timedelta(hours=2), "exp": now - timedelta(minutes=5)})
    assert await refusal(client, expired) == "Signature has expired"
    unsigned = {"Authorization": f"Bearer {jwt.encode({**who, 'exp': now + timedelta(hours=1)}, None, 'none')}"}
    assert await refusal(client, unsigned) == "algorithm none is not accepted here (only HS256)"
    assert await refusal(client, {"Authorization": "Bearer not-a-jwt"}) == "the token is not a JWT"
    # no token at all: a challenge without an error code (RFC 6750)
    missing = await client.get("/v1/whoami")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="portal"'


async def test_a_little_clock_skew_between_issuer_and_service_is_taken(client):
    now = datetime.now(UTC)
    who = {"sub": "alice", "account": "acme", "role": "customer"}
    ahead = signed({**who, "iat": now + timedelta(seconds=10)})  # the issuer's clock runs ahead of ours
    assert (await client.get("/v1/whoami", headers=ahead)).status_code == 200
    just_expired = signed({**who, "iat": now - timedelta(hours=1), "exp": now - timedelta(seconds=10)})
    assert (await client.get("/v1/whoami", headers=just_expired)).status_code == 200


def test_settings_refuse_to_start_without_a_way_to_check_tokens():
    cases = [
        ({}, "no way to check bearer tokens"),
        ({"jwt_secret": ""}, "no way to check bearer tokens"),
        ({"jwt_jwks_url": "https://idp.example/certs"}, "JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE"),
        (
            {"jwt_jwks_url": "https://idp.example/certs", "jwt_issuer": "https://idp.example"},
            "JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE",
        ),
        (
            {"jwt_jwks_url": "file:///etc/passwd", "jwt_issuer": "https://idp.example", "jwt_audience": "portal"},
            "is not an http(s) URL",
        ),
        ({"jwt_secret": TEST_SECRET, "jwt_account_claim": "sub"}, "is a registered claim"),
    ]
    for values, message in cases:
        with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
            settings(**values)
    assert settings(jwt_jwks_url="https://idp.example/certs", jwt_issuer="i", jwt_audience="a").jwt_secret is None


def test_portal_token_names_the_user_and_refuses_a_lifetime_that_is_not_positive():
    runner = CliRunner()
    env = {"JWT_SECRET": TEST_SECRET}
    made = runner.invoke(token_cli, ["--account", "acme", "--user", "alice", "--role", "customer"], env=env)
    assert made.exit_code == 0, made.output
    claims = jwt.decode(made.output.strip(), TEST_SECRET, ["HS256"])
    assert (claims["sub"], claims["account"], claims["role"]) == ("alice", "acme", "customer")
    admin = runner.invoke(token_cli, ["--account", "ops", "--role", "admin"], env=env)
    assert jwt.decode(admin.output.strip(), TEST_SECRET, ["HS256"])["sub"] == "admin"
    for hours in ("0", "-1", "nan", "inf"):
        refused = runner.invoke(token_cli, ["--account", "acme", "--hours", hours], env=env)
        assert refused.exit_code == 2 and "lifetime must be more than 0" in refused.output, refused.output
        assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert "role's name" in runner.invoke(token_cli, ["--help"], env=env).output
