"""Applying other services' events. Each method runs in the consumer's transaction (the inbox
row is in it already), so the event's effect and "applied" commit together.

A delivery whose recipient is not known yet is recorded as `waiting_for_recipient` (not
raised for a retry): the profile travels on another topic and may come much later; a retry
loop would dead-letter the email after a few attempts and hold up the partition meanwhile.
The profile, when it arrives, renders the waiting deliveries and makes them pending. Both
sides take the same per-account lock first, so they cannot pass each other."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.causes import context_of, event_of, template_for
from notify.adapters.repository import Cause, DeliveryRepository, RecipientRepository
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import Delivery
from notify.domain.recipients import Recipient
from portal_contracts import Envelope, Event
from portal_contracts.events.orders import AccountProfileChanged
from portal_runtime.clock import Clock

log = logging.getLogger(__name__)


class Inbound:
    def __init__(self, renderer: TemplateRenderer, clock: Clock) -> None:
        self.renderer = renderer
        self.clock = clock

    async def profile_changed(self, session: AsyncSession, event: AccountProfileChanged) -> Recipient | None:
        """Keep the newest profile (by changed_at); address the deliveries that waited for it.
        Returns the recipient if this profile was taken, None if an older one was ignored."""
        now = self.clock.now()
        recipients = RecipientRepository(session)
        await recipients.lock_account(event.account_id)
        recipient = await recipients.get(event.account_id, for_update=True)
        if recipient is None:
            recipient = Recipient.create(
                account_id=event.account_id, email=event.email, language=event.language, changed_at=event.changed_at
            )
        elif not recipient.apply(email=event.email, language=event.language, changed_at=event.changed_at):
            log.info("notify: older profile of account %s ignored", event.account_id)
            return None
        await recipients.save(recipient, now)
        deliveries = DeliveryRepository(session)
        for delivery, cause in await deliveries.waiting_for(event.account_id):
            content = self.renderer.render(
                delivery.template,
                recipient.language,
                context_of(event_of(cause.event_type, cause.version, cause.payload)),
            )
            delivery.address(recipient.email, recipient.language, content, now=now)
            await deliveries.save(delivery, now)
            log.info("notify: delivery %s (%s) addressed, pending", delivery.id, delivery.template)
        return recipient

    async def email_caused(self, session: AsyncSession, envelope: Envelope, event: Event) -> Delivery | None:
        """Record the one email this event causes; None if its cause has a delivery already."""
        now = self.clock.now()
        account_id: str = event.account_id  # every email-causing event names its account
        recipients = RecipientRepository(session)
        await recipients.lock_account(account_id)
        recipient = await recipients.get(account_id)
        template = template_for(event)
        address = content = None
        if recipient is not None:
            address = (recipient.email, recipient.language)
            content = self.renderer.render(template, recipient.language, context_of(event))
        delivery = Delivery.record(
            account_id=account_id,
            template=template,
            cause_event_id=envelope.event_id,
            correlation_id=envelope.correlation_id,
            now=now,
            address=address,
            content=content,
        )
        added = await DeliveryRepository(session).add(
            delivery, Cause(envelope.type, envelope.version, envelope.data), now
        )
        if not added:
            log.info("notify: %s %s has a delivery already", envelope.type, envelope.event_id)
            return None
        log.info("notify: delivery %s (%s) recorded, %s", delivery.id, template, delivery.status)
        return delivery
