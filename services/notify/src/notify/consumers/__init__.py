"""Event handlers: the profile feeds the recipients (a new address gets its confirmation email,
caused by the profile's event); each email-causing event records one delivery.
Each calls a use case, which joins the consumer's unit of work (the inbox row is in it)."""

from __future__ import annotations

from notify.adapters.causes import TEMPLATES, cause_of
from notify.service.inbound import Inbound
from portal_contracts.events.orders import AccountProfileChanged, UserActivated, UserContactChanged, UserInvited
from portal_runtime.consumer import EventConsumer, Incoming


def register(consumer: EventConsumer, inbound: Inbound) -> None:
    @consumer.on(AccountProfileChanged)
    async def profile_changed(d: Incoming) -> None:
        await inbound.profile_changed(d.event, cause_of(d.envelope))

    @consumer.on(UserInvited)
    async def user_invited(d: Incoming) -> None:
        await inbound.user_invited(d.event, cause_of(d.envelope))

    @consumer.on(UserActivated)
    async def user_activated(d: Incoming) -> None:
        await inbound.user_activated(d.event, cause_of(d.envelope))

    @consumer.on(UserContactChanged)
    async def user_contact_changed(d: Incoming) -> None:
        await inbound.user_contact_changed(d.event, cause_of(d.envelope))

    async def email_caused(d: Incoming) -> None:
        await inbound.email_caused(d.event, cause_of(d.envelope))

    for event_cls in TEMPLATES:
        consumer.on(event_cls)(email_caused)
