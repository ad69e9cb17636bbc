"""The featured items the client area's banner shows: the offered services and add-ons an admin
features in catalog (orders' copy keeps the texts), each with its text in the caller's account
language (en when the account has not said). Only the items the caller's account may see (orders'
copy of catalog's access groups); admins see every one."""

from __future__ import annotations

from dataclasses import dataclass

from orders.domain.offers import Offer
from portal_runtime.auth import Principal
from portal_runtime.uow import UnitsOfWork

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class FeaturedItem:
    offer: Offer
    text: str


class FeaturedService:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def list(self, actor: Principal) -> list[FeaturedItem]:
        async with self.uow() as uow:
            profile = await uow.profiles.get(actor.account_id)
            offers = await uow.offers.featured()
            if not actor.is_admin:
                hidden = await uow.visibility.hidden(actor.account_id, [o.item_id for o in offers])
                offers = [o for o in offers if o.item_id not in hidden]
        language = profile.language if profile else DEFAULT_LANGUAGE
        return [FeaturedItem(o, o.featured.get(language) or o.featured.get(DEFAULT_LANGUAGE, "")) for o in offers]
