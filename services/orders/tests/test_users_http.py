"""Users of customer accounts and local sign-in over HTTP on the real PostgreSQL (and Kafka):
invited → password set through the link → a token from `POST /v1/auth/token` → a call → the
password changed (the old token refused) → disabled (refused); a locked login looks the same for an
existing and an unknown user; the token endpoint's form and its OAuth2 errors; with an identity
provider the sign-in endpoints are off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select

from orders.bootstrap import definition
from portal_runtime.access import LOCAL_ISSUER
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import TEST_SECRET, bearer, running_service

OPS, ACME, OTHER = bearer("ops", "admin"), bearer("acme"), bearer("other")
PASSWORD = "correct horse battery staple"


async def events(rt, event_type: str) -> list[dict]:
    stmt = select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id)
    async with rt.sessions() as s:
        return [r.envelope["data"] for r in await s.scalars(stmt)]


async def invite(http, rt, login: str, account: str = "acme") -> tuple[dict, str]:
    body = {
        "login": login,
        "name": "Alice",
        "email": f"{login}@acme.example",
        "language": "de",
        "account_role": "buyer",
    }
    r = await http.post(f"/v1/admin/accounts/{account}/users", json=body, headers=OPS)
    assert r.status_code == 201, r.text
    user = r.json()
    (invited,) = [e for e in await events(rt, "UserInvited") if e["user_id"] == user["user_id"]][-1:]
    return user, invited["set_password_token"]


async def sign_in(http, username: str, password: str):
    return await http.post(
        "/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_invited_password_set_token_changed_and_disabled(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, http):
        user, link = await invite(http, rt, "Alice.Buyer")
        assert (user["login"], user["status"], user["history"][0]["by"]) == ("alice.buyer", "invited", "ops/admin")
        assert user["invitation_expires_at"] is not None
        taken = await http.post(
            "/v1/admin/accounts/acme/users",
            json={
                "login": "alice.buyer",
                "name": "A",
                "email": "a@acme.example",
                "language": "en",
                "account_role": "x",
            },
            headers=OPS,
        )
        assert taken.status_code == 409 and taken.json()["field"] == "login"
        assert (await http.post("/v1/admin/accounts/acme/users", json={}, headers=ACME)).status_code == 403

        # invited: no password yet, answered like a wrong one
        assert (await sign_in(http, "alice.buyer", PASSWORD)).json()["error"] == "invalid_grant"

        for bad in ("short", "x" * 129):  # outside what the schema allows: 400 naming the field
            r = await http.post("/v1/auth/password", json={"token": link, "password": bad})
            assert r.status_code == 400 and r.json()["field"] == "password", r.text
        r = await http.post("/v1/auth/password", json={"token": link, "password": " Alice.Buyer "})  # the login
        assert r.status_code == 422 and r.json()["field"] == "password", r.text
        r = await http.post("/v1/auth/password", json={"token": link, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["status"] == "active", r.text
        used = await http.post("/v1/auth/password", json={"token": link, "password": PASSWORD})
        unknown = await http.post("/v1/auth/password", json={"token": "made-up", "password": PASSWORD})
        assert used.status_code == unknown.status_code == 400
        assert used.json()["detail"] == unknown.json()["detail"] and "not valid" in used.json()["detail"]

        signed = await sign_in(http, "ALICE.BUYER", PASSWORD)
        assert signed.status_code == 200, signed.text
        assert signed.headers["cache-control"] == "no-store"
        first = signed.json()
        assert first["token_type"] == "Bearer" and first["expires_in"] > 0
        claims = jwt.decode(first["access_token"], TEST_SECRET, algorithms=["HS256"])
        assert (claims["iss"], claims["sub"], claims["account"], claims["role"]) == (
            LOCAL_ISSUER,
            "alice.buyer",
            "acme",
            "customer",
        )
        assert claims["uid"] == user["user_id"] and isinstance(claims["iat"], float)

        me = await http.get("/v1/me", headers=auth(first["access_token"]))
        assert me.status_code == 200 and me.json()["login"] == "alice.buyer"
        changed = await http.put(
            "/v1/me",
            json={"name": "Alice B", "email": "alice@acme.example", "language": "pl", "phone": "+48 22 123"},
            headers=auth(first["access_token"]),
        )
        assert changed.status_code == 200 and changed.json()["language"] == "pl"
        assert [e["language"] for e in await events(rt, "UserContactChanged")] == ["pl"]
        company = await http.get("/v1/account/users", headers=auth(first["access_token"]))
        assert [u["login"] for u in company.json()["items"]] == ["alice.buyer"]
        assert (await http.get("/v1/account/users", headers=OTHER)).json()["items"] == []
        assert (await http.get("/v1/me", headers=ACME)).status_code == 404  # ./portal token: no portal user
        assert (await http.get(f"/v1/admin/users/{user['user_id']}", headers=ACME)).status_code == 403

        wrong = await http.post(
            "/v1/auth/password/change",
            json={"old_password": "not the password", "new_password": "another long password"},
            headers=auth(first["access_token"]),
        )
        assert wrong.status_code == 422 and wrong.json()["field"] == "old_password"
        r = await http.post(
            "/v1/auth/password/change",
            json={"old_password": PASSWORD, "new_password": "another long password"},
            headers=auth(first["access_token"]),
        )
        assert r.status_code == 200, r.text
        second = r.json()["access_token"]
        refused = await http.get("/v1/me", headers=auth(first["access_token"]))
        assert refused.status_code == 401 and "before the user's password changed" in refused.json()["detail"]
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert (await http.get("/v1/me", headers=auth(second))).status_code == 200
        assert (await sign_in(http, "alice.buyer", PASSWORD)).json()["error"] == "invalid_grant"

        r = await http.post(f"/v1/admin/users/{user['user_id']}/disable", headers=OPS)
        assert r.status_code == 200 and r.json()["status"] == "disabled"
        refused = await http.get("/v1/me", headers=auth(second))
        assert refused.status_code == 401 and "the user is disabled" in refused.json()["detail"]
        assert (await sign_in(http, "alice.buyer", "another long password")).json()["error"] == "invalid_grant"
        again = await http.post(f"/v1/admin/users/{user['user_id']}/disable", headers=OPS)
        assert again.status_code == 409 and again.json()["current_status"] == "disabled"

        r = await http.post(f"/v1/admin/users/{user['user_id']}/enable", headers=OPS)
        assert r.status_code == 200 and r.json()["status"] == "active"
        assert (await http.get("/v1/me", headers=auth(second))).status_code == 200

        detail = (await http.get(f"/v1/admin/users/{user['user_id']}", headers=OPS)).json()
        assert [(h["to_status"], h["by"]) for h in detail["history"]] == [
            ("invited", "ops/admin"),
            ("invited", "ops/admin"),
            ("active", "acme/alice.buyer"),
            ("active", "acme/alice.buyer"),
            ("disabled", "ops/admin"),
            ("active", "ops/admin"),
        ]
        assert [e["reason"] for e in await events(rt, "UserAccessChanged")] == [
            "password_set",
            "password_changed",
            "disabled",
            "enabled",
        ]
        assert len(await events(rt, "UserActivated")) == 1
        listed = (await http.get("/v1/admin/accounts/acme/users", headers=OPS)).json()
        assert listed["total"] == 1 and listed["items"][0]["status"] == "active"

        # a new link replaces the old one
        _, old_link = await invite(http, rt, "bob.buyer")
        bob = (await http.get("/v1/admin/accounts/acme/users", headers=OPS)).json()["items"][1]
        assert (await http.post(f"/v1/admin/users/{bob['user_id']}/invitation", headers=OPS)).status_code == 200
        new_link = (await events(rt, "UserInvited"))[-1]["set_password_token"]
        assert new_link != old_link
        stale = await http.post("/v1/auth/password", json={"token": old_link, "password": PASSWORD})
        assert stale.status_code == 400
        assert (await http.post("/v1/auth/password", json={"token": new_link, "password": PASSWORD})).status_code == 200


async def test_a_locked_login_looks_the_same_whether_the_user_exists(new_database, kafka):
    url = await new_database("orders")
    clock = FrozenClock(datetime.now(UTC))
    async with running_service(definition(), database_url=url, kafka=kafka, clock=clock) as (rt, http):
        _, link = await invite(http, rt, "carol")
        assert (await http.post("/v1/auth/password", json={"token": link, "password": PASSWORD})).status_code == 200

        # a success resets the count
        for _ in range(4):
            assert (await sign_in(http, "carol", "wrong password!")).status_code == 400
        assert (await sign_in(http, "carol", PASSWORD)).status_code == 200
        for _ in range(4):
            assert (await sign_in(http, "carol", "wrong password!")).status_code == 400
        assert (await sign_in(http, "carol", PASSWORD)).status_code == 200

        answers = {}
        for login in ("carol", "nobody"):
            for _ in range(5):
                r = await sign_in(http, login, "wrong password!")
                assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
            answers[login] = await sign_in(http, login, PASSWORD)
        carol, nobody = answers["carol"], answers["nobody"]
        assert carol.status_code == nobody.status_code == 429
        assert carol.json() == nobody.json()
        assert carol.headers["retry-after"] == nobody.headers["retry-after"] == str(15 * 60)

        clock.advance(minutes=14)
        assert (await sign_in(http, "carol", PASSWORD)).status_code == 429
        clock.advance(minutes=1)
        assert (await sign_in(http, "carol", PASSWORD)).status_code == 200

        # failures spread over more than the window do not lock
        for _ in range(4):
            assert (await sign_in(http, "carol", "wrong password!")).status_code == 400
        clock.advance(minutes=16)
        assert (await sign_in(http, "carol", "wrong password!")).status_code == 400
        assert (await sign_in(http, "carol", PASSWORD)).status_code == 200


async def test_the_token_endpoint_takes_a_form_and_answers_oauth2_errors(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, http):
        as_json = await http.post("/v1/auth/token", json={"grant_type": "password", "username": "a", "password": "b"})
        assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
        assert as_json.headers["cache-control"] == "no-store"
        other = await http.post("/v1/auth/token", data={"grant_type": "client_credentials"})
        assert other.status_code == 400 and other.json()["error"] == "unsupported_grant_type"
        missing = await http.post("/v1/auth/token", data={"grant_type": "password", "username": "a"})
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
        no_grant = await http.post("/v1/auth/token", data={"username": "a", "password": "b"})
        assert no_grant.json()["error"] == "invalid_request"
        twice = await http.post(
            "/v1/auth/token",
            content="grant_type=password&username=a&username=b&password=c",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert twice.json()["error"] == "invalid_request"
        assert set((await sign_in(http, "nobody", "x")).json()) == {"error", "error_description"}


async def test_with_an_identity_provider_sign_in_is_off_and_no_link_is_made(new_database, kafka):
    url = await new_database("orders")
    async with running_service(
        definition(),
        database_url=url,
        kafka=kafka,
        jwt_jwks_url="http://127.0.0.1:9/jwks.json",
        jwt_issuer="https://idp.example",
        jwt_audience="portal-api",
    ) as (rt, http):
        for path, kwargs in (
            ("/v1/auth/token", {"data": {"grant_type": "password", "username": "a", "password": "b"}}),
            ("/v1/auth/password", {"json": {"token": "t", "password": PASSWORD}}),
        ):
            r = await http.post(path, **kwargs)
            assert r.status_code == 404 and r.json()["detail"] == "sign-in is done by the identity provider"
        users = rt.definition.dependencies(rt)["users"].dependency()
        from portal_runtime.auth import Principal

        user = await users.create(
            Principal("admin", "ops", "admin"),
            "acme",
            login="dave",
            name="Dave",
            email="dave@acme.example",
            language="en",
            account_role="buyer",
        )
        (invited,) = await events(rt, "UserInvited")
        assert invited["user_id"] == str(user.id) and invited["set_password_token"] is None
        assert invited["expires_at"] is None
        assert timedelta(0) <= datetime.now(UTC) - user.created_at < timedelta(minutes=5)
