"""Applying other services' events. Called by the consumer's handlers, each use case joins the
consumer's unit of work (the inbox row is in it already), so the event's effect and "applied"
commit together.

A delivery whose recipient is not known yet is recorded as `waiting_for_recipient` (not
raised for a retry): the profile travels on another topic and may come much later; a retry
loop would dead-letter the email after a few attempts and hold up the partition meanwhile.
The profile, when it arrives, renders the waiting deliveries and makes them pending. Both
sides take the same per-account lock first, so they cannot pass each other, and one account's
deliveries are recorded (and later sent) in the order of their events."""

from __future__ import annotations

import logging

from notify.adapters.causes import context_of, event_of, template_for
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import Cause, Content, Delivery
from notify.domain.recipients import Recipient
from portal_contracts import Event
from portal_contracts.events.orders import AccountProfileChanged
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class Inbound:
    def __init__(self, uow: UnitsOfWork, renderer: TemplateRenderer, clock: Clock) -> None:
        self.uow = uow
        self.renderer = renderer
        self.clock = clock

    async def profile_changed(self, event: AccountProfileChanged) -> Recipient | None:
        """Keep the newest profile (by changed_at); address the deliveries that waited for it.
        Returns the recipient if this profile was taken, None if an older one was ignored."""
        now = self.clock.now()
        async with self.uow() as uow:
            await uow.recipients.lock_account(event.account_id)
            recipient = await uow.recipients.get(event.account_id, for_update=True)
            if recipient is None:
                recipient = uow.recipients.add(
                    Recipient.create(
                        account_id=event.account_id,
                        email=event.email,
                        language=event.language,
                        changed_at=event.changed_at,
                    )
                )
            elif not recipient.apply(email=event.email, language=event.language, changed_at=event.changed_at):
                log.info("notify: older profile of account %s ignored", event.account_id)
                return None  # nothing to save
            for delivery in await uow.deliveries.waiting_for(event.account_id):
                content = self._render(delivery.template, recipient.language, delivery.cause)
                delivery.address(recipient.email, recipient.language, content, now=now)
                log.info("notify: delivery %s (%s) addressed, pending", delivery.id, delivery.template)
            await uow.commit()
        return recipient

    async def email_caused(self, event: Event, cause: Cause) -> Delivery | None:
        """Record the one email this event causes; None if its cause has a delivery already."""
        now = self.clock.now()
        account_id: str = event.account_id  # every email-causing event names its account
        template = template_for(event)
        async with self.uow() as uow:
            await uow.recipients.lock_account(account_id)
            if await uow.deliveries.has_cause(cause.event_id):
                log.info("notify: %s %s has a delivery already", cause.event_type, cause.event_id)
                return None
            recipient = await uow.recipients.get(account_id)
            address = content = None
            if recipient is not None:
                address = (recipient.email, recipient.language)
                content = self.renderer.render(template, recipient.language, context_of(event))
            delivery = uow.deliveries.add(
                Delivery.record(
                    account_id=account_id, template=template, cause=cause, now=now, address=address, content=content
                )
            )
            await uow.commit()
        log.info("notify: delivery %s (%s) recorded, %s", delivery.id, template, delivery.status)
        return delivery

    def _render(self, template: str, language: str, cause: Cause) -> Content:
        """A delivery that waited for its recipient, rendered from its stored cause."""
        event = event_of(cause.event_type, cause.version, cause.payload)
        return self.renderer.render(template, language, context_of(event))
