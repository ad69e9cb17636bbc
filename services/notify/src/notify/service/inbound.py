"""Applying other services' events. Called by the consumer's handlers, each use case joins the
consumer's unit of work (the inbox row is in it already), so the event's effect and "applied"
commit together.

A delivery whose recipient is not known yet is recorded as `waiting_for_recipient` (not
raised for a retry): the profile travels on another topic and may come much later; a retry
loop would dead-letter the email after a few attempts and hold up the partition meanwhile.
The profile, when it arrives, asks its address to confirm (`notify.domain.recipients`); the
waiting deliveries then await the confirmation, and go to the address once it is confirmed
(`notify.service.confirmations`). Every side takes the same per-account lock first, so they
cannot pass each other, and one account's deliveries are recorded (and later sent) in the order
of their events."""

from __future__ import annotations

import logging

from notify.adapters.causes import context_of, template_for
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import Cause, Delivery
from notify.domain.recipients import Confirming, Recipient
from notify.service.addressing import ask_to_confirm, release
from portal_contracts import Event
from portal_contracts.events.orders import AccountProfileChanged
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class Inbound:
    def __init__(
        self, uow: UnitsOfWork, renderer: TemplateRenderer, clock: Clock, confirming: Confirming = Confirming()
    ) -> None:
        self.uow = uow
        self.renderer = renderer
        self.clock = clock
        self.confirming = confirming

    async def profile_changed(self, event: AccountProfileChanged, cause: Cause) -> Recipient | None:
        """Keep the newest profile (by changed_at): its language at once; a new address gets
        one confirmation email (caused by this event), and the account's emails keep going to
        the address confirmed before, or wait. Returns the recipient if this profile was taken,
        None if an older one was ignored."""
        now = self.clock.now()
        async with self.uow() as uow:
            await uow.recipients.lock_account(event.account_id)
            recipient = await uow.recipients.get(event.account_id, for_update=True)
            profile = {"email": event.email, "language": event.language, "changed_at": event.changed_at}
            if recipient is None:
                recipient = uow.recipients.add(
                    Recipient.create(
                        account_id=event.account_id, **profile, now=now, valid_for=self.confirming.valid_for
                    )
                )
            elif not recipient.apply(**profile, now=now, valid_for=self.confirming.valid_for):
                log.info("notify: older profile of account %s ignored", event.account_id)
                return None  # nothing to save
            ask_to_confirm(uow, recipient, self.renderer, self.confirming, cause, now)
            await release(uow, recipient, self.renderer, now)
            await uow.commit()
        return recipient

    async def email_caused(self, event: Event, cause: Cause) -> Delivery | None:
        """Record the one email this event causes; None if its cause has a delivery already, or
        if it causes none (`template_for`). It goes to the confirmed address; it waits while the
        account has none."""
        now = self.clock.now()
        account_id: str = event.account_id  # every email-causing event names its account
        template = template_for(event)
        if template is None:
            log.info("notify: %s %s causes no email of its own", cause.event_type, cause.event_id)
            return None
        async with self.uow() as uow:
            await uow.recipients.lock_account(account_id)
            if await uow.deliveries.has_cause(cause.event_id):
                log.info("notify: %s %s has a delivery already", cause.event_type, cause.event_id)
                return None
            recipient = await uow.recipients.get(account_id)
            address = content = None
            if recipient is not None and recipient.email is not None:
                address = (recipient.email, recipient.language)
                content = self.renderer.render(template, recipient.language, context_of(event))
            delivery = uow.deliveries.add(
                Delivery.record(
                    account_id=account_id, template=template, cause=cause, now=now, address=address, content=content
                )
            )
            if recipient is not None and recipient.email is None:
                delivery.await_confirmation(now)
            await uow.commit()
        log.info("notify: delivery %s (%s) recorded, %s", delivery.id, template, delivery.status)
        return delivery
