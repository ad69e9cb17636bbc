"""HTTP: the accounts' subscriptions."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from orders.http.models import SubscriptionOut
from orders.service.subscriptions import SubscriptionService
from portal_runtime.auth import Principal
from portal_runtime.paging import Page, PageRequest


class SubscriptionController(Controller):
    path = "/v1/subscriptions"
    tags = ["subscriptions"]

    @get("/", summary="The caller's account's subscriptions (admins: every account's, or account_id's)")
    async def list_subscriptions(
        self,
        request: Request[Principal, object, object],
        subscriptions: NamedDependency[SubscriptionService],
        page: NamedDependency[PageRequest],
        account_id: FromQuery[str | None] = None,
    ) -> Page[SubscriptionOut]:
        found = await subscriptions.list(request.user, account_id, page)
        return found.map(SubscriptionOut.of)
