"""Event handlers: the profile feeds the recipients; each email-causing event records one delivery."""

from __future__ import annotations

from notify.adapters.causes import TEMPLATES
from notify.service.inbound import Inbound
from portal_contracts.events.orders import AccountProfileChanged
from portal_runtime.consumer import EventConsumer, Incoming


def register(consumer: EventConsumer, inbound: Inbound) -> None:
    @consumer.on(AccountProfileChanged)
    async def profile_changed(d: Incoming) -> None:
        await inbound.profile_changed(d.session, d.event)

    async def email_caused(d: Incoming) -> None:
        await inbound.email_caused(d.session, d.envelope, d.event)

    for event_cls in TEMPLATES:
        consumer.on(event_cls)(email_caused)
