"""HTTP: the caller's subscriptions."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency

from orders.http.models import SubscriptionOut
from orders.service.subscriptions import SubscriptionService
from portal_runtime.auth import Principal


class SubscriptionController(Controller):
    path = "/v1/subscriptions"
    tags = ["subscriptions"]

    @get("/", summary="The caller's account's subscriptions")
    async def list_own(
        self, request: Request[Principal, object, object], subscriptions: NamedDependency[SubscriptionService]
    ) -> list[SubscriptionOut]:
        return [SubscriptionOut.of(s) for s in await subscriptions.for_account(request.user.account_id)]
