"""A disabled user is refused by every service: orders at once (its own row, in the transaction of
the change), another service (returns here) once orders' UserAccessChanged reaches it over Kafka;
a password change likewise refuses the old token there. Both services on the real Kafka and
PostgreSQL, each with its own database."""

from __future__ import annotations

import time

from sqlalchemy import select

from orders.bootstrap import definition as orders
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import bearer, eventually, running_service
from returns.bootstrap import definition as returns

OPS = bearer("ops", "admin")
PASSWORD = "correct horse battery staple"


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_a_disabled_user_is_refused_by_another_service_once_the_event_arrives(new_database, kafka):
    orders_db, returns_db = await new_database("orders"), await new_database("returns")
    async with (
        running_service(orders(), database_url=orders_db, kafka=kafka) as (ort, o),
        running_service(returns(), database_url=returns_db, kafka=kafka) as (_, r),
    ):
        body = {"login": "zoe", "name": "Zoe", "email": "zoe@acme.example", "language": "en", "account_role": "buyer"}
        user = (await o.post("/v1/admin/accounts/acme/users", json=body, headers=OPS)).json()
        async with ort.sessions() as s:
            (invited,) = await s.scalars(select(OutboxRecord).where(OutboxRecord.event_type == "UserInvited"))
        link = invited.envelope["data"]["set_password_token"]
        assert (await o.post("/v1/auth/password", json={"token": link, "password": PASSWORD})).status_code == 200
        form = {"grant_type": "password", "username": "zoe", "password": PASSWORD}
        first = (await o.post("/v1/auth/token", data=form)).json()["access_token"]
        assert (await r.get("/v1/returns", headers=auth(first))).status_code == 200

        changed = await o.post(
            "/v1/auth/password/change",
            json={"old_password": PASSWORD, "new_password": "a different long one"},
            headers=auth(first),
        )
        second = changed.json()["access_token"]

        async def old_token_refused():
            answer = await r.get("/v1/returns", headers=auth(first))
            return answer.status_code == 401 and "password changed" in answer.json()["detail"]

        await eventually(old_token_refused, what="returns refuses the token from before the password change")
        assert (await r.get("/v1/returns", headers=auth(second))).status_code == 200

        assert (await o.post(f"/v1/admin/users/{user['user_id']}/disable", headers=OPS)).status_code == 200
        assert (await o.get("/v1/me", headers=auth(second))).status_code == 401  # orders: at once
        started = time.monotonic()

        async def disabled_refused():
            answer = await r.get("/v1/returns", headers=auth(second))
            return answer.status_code == 401 and "the user is disabled" in answer.json()["detail"]

        await eventually(disabled_refused, what="returns refuses the disabled user's token")
        assert time.monotonic() - started < 10
