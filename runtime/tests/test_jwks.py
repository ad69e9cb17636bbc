"""Tokens of an identity provider: the test is the issuer, serving its own JWKS over HTTP on
127.0.0.1 with generated RS256 and ES256 key pairs, and the services check tokens against it
(JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE) as they would against Keycloak's. On the runtime's own
app, then on a real service (catalog), then a service refusing to start with half a configuration."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from litestar import Request, get
from opentelemetry.sdk.trace import TracerProvider

from portal_runtime.auth import Principal, jwt_auth_from
from portal_runtime.settings import ServiceSettings
from portal_runtime.testing import TEST_SECRET, bearer, running_service, served
from portal_runtime.web import create_app

AUDIENCE = "portal-customer"


class Issuer:
    """An OIDC issuer's key set: private keys it signs with, their public halves published at
    `jwks_url` (http.server in a thread). A key added while it runs is published at once (a
    rotation); `fetches` counts the key set's downloads; `hold()` makes the next download wait
    until `release()`."""

    def __init__(self) -> None:
        self.private: dict[str, Any] = {}
        self.published: list[dict[str, Any]] = []
        self.fetches = 0
        self.fetching = threading.Event()
        self.released = threading.Event()
        self.released.set()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                issuer.fetching.set()
                issuer.released.wait(10)
                body = json.dumps({"keys": issuer.published}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.jwks_url = f"{self.url}/realms/portal/protocol/openid-connect/certs"
        self.iss = f"{self.url}/realms/portal"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_key(self, kid: str, algorithm: str) -> None:
        if algorithm == "RS256":
            key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            public = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.private[kid] = (key, algorithm)
        self.published.append({**public, "kid": kid, "alg": algorithm, "use": "sig"})

    def token(self, kid: str = "rsa-1", *, key: Any = None, **claims: Any) -> str:
        """A token as Keycloak would issue it (user `alice` of account `acme`), claims overridable."""
        signing_key, algorithm = self.private[kid]
        now = datetime.now(UTC)
        payload = {
            "iss": self.iss,
            "aud": AUDIENCE,
            "sub": "6f1c2a4e-alice",
            "account": "acme",
            "role": "customer",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in payload.items() if v is not None}, key or signing_key, algorithm, headers={"kid": kid}
        )

    def hold(self) -> None:
        self.fetching.clear()
        self.released.clear()

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    issuer.add_key("rsa-1", "RS256")
    issuer.add_key("ec-1", "ES256")
    issuer.thread.start()
    yield issuer
    issuer.release()
    issuer.server.shutdown()
    issuer.server.server_close()


def idp_settings(issuer: Issuer, **values: Any) -> ServiceSettings:
    """A service's settings trusting `issuer`; JWT_SECRET is set too (as `./portal up` sets it),
    and must then check nothing."""
    trusting = {
        "jwt_secret": TEST_SECRET,
        "jwt_jwks_url": issuer.jwks_url,
        "jwt_issuer": issuer.iss,
        "jwt_audience": AUDIENCE,
        "jwt_jwks_refetch_seconds": 0,  # a rotated key is fetched at its first token
    }
    return ServiceSettings(service_name="probe", database_url="x", **{**trusting, **values})


@get("/v1/whoami", sync_to_thread=False)
def whoami(request: Request[Principal, Any, Any]) -> dict[str, str]:
    me = request.user
    return {"user": me.user_id, "account": me.account_id, "role": me.role, "actor": me.actor}


@contextlib.asynccontextmanager
async def probe(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The runtime's app with `settings`' token check, served over HTTP in this event loop (so a
    request that waits does not hold up the next one, as Litestar's test client would)."""
    app = create_app(
        service="probe",
        description="identity provider tokens",
        route_handlers=[whoami],
        auth=jwt_auth_from(settings),
        readiness={},
        tracer_provider=TracerProvider(),
    )
    async with served(app, "the probe app") as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_tokens_signed_with_the_issuers_rsa_and_ec_keys_name_the_user_of_the_account(issuer):
    async with probe(idp_settings(issuer)) as client:
        for kid in ("rsa-1", "ec-1"):
            answer = await client.get("/v1/whoami", headers=auth(issuer.token(kid)))
            assert answer.status_code == 200, (kid, answer.text)
            assert answer.json() == {
                "user": "6f1c2a4e-alice",
                "account": "acme",
                "role": "customer",
                "actor": "acme/6f1c2a4e-alice",
            }
        admin = await client.get("/v1/whoami", headers=auth(issuer.token(sub="olga", account="ops", role="admin")))
        assert admin.json()["actor"] == "ops/olga" and admin.json()["role"] == "admin"
    assert issuer.fetches == 1  # the key set is kept, not fetched per token


def refused_because(answer) -> str:
    assert answer.status_code == 401, answer.text
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="portal", error="invalid_token", error_description="'), challenge
    reason = answer.json()["detail"].removeprefix("Invalid token: ")
    assert reason.replace('"', "") in challenge, (reason, challenge)
    return reason


async def test_each_refusal_says_why(issuer):
    now = datetime.now(UTC)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "wrong issuer": (issuer.token(iss="https://evil.example/realms/portal"), "Invalid issuer"),
        "wrong audience": (issuer.token(aud="another-client"), "Audience doesn't match"),
        "no audience": (issuer.token(aud=None), 'Token is missing the "aud" claim'),
        "expired": (
            issuer.token(iat=now - timedelta(hours=1), exp=now - timedelta(minutes=5)),
            "Signature has expired",
        ),
        "unknown kid": (
            jwt.encode({"sub": "x"}, stranger, "RS256", headers={"kid": "rsa-9"}),
            "unknown key id rsa-9: not in the issuer's key set",
        ),
        "bad signature": (issuer.token("rsa-1", key=stranger), "Signature verification failed"),
        "HS256 with the local secret": (
            bearer("acme")["Authorization"].removeprefix("Bearer "),
            "algorithm HS256 is not accepted here (only RS256, ES256)",
        ),
        "missing account claim": (issuer.token(account=None), "the token has no `account` claim naming the account"),
        "unknown role": (issuer.token(role="superuser"), "the `role` claim must name one of customer, admin"),
        "no kid": (
            jwt.encode({"sub": "x"}, issuer.private["rsa-1"][0], "RS256"),
            "the token names no key (`kid` header)",
        ),
    }
    async with probe(idp_settings(issuer)) as client:
        for why, (token, reason) in cases.items():
            assert refused_because(await client.get("/v1/whoami", headers=auth(token))) == reason, why


async def test_a_key_rotated_in_after_start_is_taken_at_its_first_token(issuer):
    async with probe(idp_settings(issuer)) as client:
        assert (await client.get("/v1/whoami", headers=auth(issuer.token("rsa-1")))).status_code == 200
        issuer.add_key("rsa-2", "RS256")  # the issuer rotates: tokens from now on name the new key
        answer = await client.get("/v1/whoami", headers=auth(issuer.token("rsa-2")))
        assert answer.status_code == 200, answer.text
        assert (await client.get("/v1/whoami", headers=auth(issuer.token("rsa-1")))).status_code == 200
    assert issuer.fetches == 2


async def test_unknown_kids_do_not_fetch_the_key_set_more_often_than_allowed(issuer):
    async with probe(idp_settings(issuer, jwt_jwks_refetch_seconds=60)) as client:
        assert (await client.get("/v1/whoami", headers=auth(issuer.token("rsa-1")))).status_code == 200
        stranger = ec.generate_private_key(ec.SECP256R1())
        for n in range(5):
            made_up = jwt.encode({"sub": "x"}, stranger, "ES256", headers={"kid": f"made-up-{n}"})
            assert refused_because(await client.get("/v1/whoami", headers=auth(made_up))).startswith("unknown key id")
    assert issuer.fetches == 1


async def test_the_account_claim_can_have_another_name(issuer):
    async with probe(idp_settings(issuer, jwt_account_claim="portal_account")) as client:
        renamed = issuer.token(account=None, portal_account="globex")
        assert (await client.get("/v1/whoami", headers=auth(renamed))).json()["account"] == "globex"
        refused = await client.get("/v1/whoami", headers=auth(issuer.token()))
        assert refused_because(refused) == "the token has no `portal_account` claim naming the account"


async def test_fetching_the_keys_never_blocks_the_event_loop(issuer):
    async with probe(idp_settings(issuer)) as client:
        issuer.hold()  # the issuer answers the first download only when released
        waiting = asyncio.create_task(client.get("/v1/whoami", headers=auth(issuer.token())))
        assert await asyncio.to_thread(issuer.fetching.wait, 10), "the service never fetched the key set"
        # while the download hangs, the service answers other requests
        assert (await asyncio.wait_for(client.get("/health/live"), 5)).status_code == 200
        assert not waiting.done()
        issuer.release()
        assert (await asyncio.wait_for(waiting, 10)).status_code == 200


async def test_an_issuer_that_cannot_be_reached_is_a_503_not_a_refused_token(issuer):
    issuer.server.shutdown()
    issuer.server.server_close()
    async with probe(idp_settings(issuer)) as client:
        answer = await client.get("/v1/whoami", headers=auth(issuer.token()))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5", answer.text
    assert answer.json()["detail"] == "the identity provider's keys cannot be fetched now"


async def test_a_real_service_takes_the_issuers_tokens_and_no_local_ones(issuer, new_database, kafka):
    from catalog.bootstrap import definition as catalog_definition

    async with running_service(
        catalog_definition(),
        database_url=await new_database("catalog"),
        kafka=kafka,
        consume=False,
        relay=False,
        jwt_jwks_url=issuer.jwks_url,
        jwt_issuer=issuer.iss,
        jwt_audience=AUDIENCE,
    ) as (_, http):
        admin = auth(issuer.token("ec-1", sub="olga", account="ops", role="admin"))
        customer = auth(issuer.token("rsa-1"))
        jobs = await http.get("/v1/admin/jobs", headers=admin)
        assert jobs.status_code == 200 and "purge" in jobs.text, jobs.text
        assert (await http.get("/v1/admin/jobs", headers=customer)).status_code == 403
        listed = await http.get("/v1/items", headers=customer)
        assert listed.status_code == 200 and listed.json()["total"] == 0, listed.text
        local = await http.get("/v1/items", headers=bearer("acme"))
        assert refused_because(local) == "algorithm HS256 is not accepted here (only RS256, ES256)"


async def test_a_service_with_half_an_identity_provider_configuration_refuses_to_start(issuer):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "PORTAL_JWT"))}
    base["DATABASE_URL"] = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    cases = {
        "no issuer or audience": ({"JWT_JWKS_URL": issuer.jwks_url}, "JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE"),
        "no way at all": ({}, "no way to check bearer tokens"),
    }

    async def start(env: dict[str, str]) -> tuple[int | None, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "catalog",
            "api",
            env={**base, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode, err.decode()

    results = await asyncio.gather(*(start(env) for env, _ in cases.values()))
    for (why, (_, message)), (code, err) in zip(cases.items(), results, strict=True):
        assert code == 2 and "catalog cannot run" in err and message in err, (why, code, err)
