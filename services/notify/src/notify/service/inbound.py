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
of their events.

An automatic unit plan's notice goes to its billing contact too (`billing_contact_of`), in the
account's language: a second delivery of the same event, addressed at once when the account's
profile is known (the contact's address is the one billing gives, not the account's), else waiting
for the profile like the account's. When the contact's address is the account's confirmed one as
the event comes, the account's email is the one sent. A redelivered event finds its deliveries and records none.
Log lines name accounts, events and deliveries, never an address or a name."""

from __future__ import annotations

import logging
from datetime import datetime

from notify.adapters.causes import billing_contact_of, context_of, template_for
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import Audience, Cause, Delivery
from notify.domain.recipients import Confirming, Recipient, usable_address
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

    async def email_caused(self, event: Event, cause: Cause) -> list[Delivery]:
        """Record the emails this event causes: the account's, and the billing contact's where the
        event names one. Nothing (an empty list) if its cause has its deliveries already, or if it
        causes no email (`template_for`). The account's goes to its confirmed address, and waits
        while it has none."""
        now = self.clock.now()
        account_id: str = event.account_id  # every email-causing event names its account
        template = template_for(event)
        if template is None:
            log.info("notify: %s %s causes no email of its own", cause.event_type, cause.event_id)
            return []
        async with self.uow() as uow:
            await uow.recipients.lock_account(account_id)
            if await uow.deliveries.has_cause(cause.event_id):
                log.info("notify: %s %s has its deliveries already", cause.event_type, cause.event_id)
                return []
            recipient = await uow.recipients.get(account_id)
            deliveries = [uow.deliveries.add(self._to_account(recipient, account_id, template, event, cause, now))]
            contact = self._to_contact(recipient, account_id, template, event, cause, now)
            if contact is not None:
                deliveries.append(uow.deliveries.add(contact))
            await uow.commit()
        for delivery in deliveries:
            log.info(
                "notify: delivery %s (%s, %s) recorded, %s", delivery.id, template, delivery.audience, delivery.status
            )
        return deliveries

    def _to_account(
        self, recipient: Recipient | None, account_id: str, template: str, event: Event, cause: Cause, now: datetime
    ) -> Delivery:
        address = content = None
        if recipient is not None and recipient.email is not None:
            address = (recipient.email, recipient.language)
            content = self.renderer.render(template, recipient.language, context_of(event))
        delivery = Delivery.record(
            account_id=account_id, template=template, cause=cause, now=now, address=address, content=content
        )
        if recipient is not None and recipient.email is None:
            delivery.await_confirmation(now)
        return delivery

    def _to_contact(
        self, recipient: Recipient | None, account_id: str, template: str, event: Event, cause: Cause, now: datetime
    ) -> Delivery | None:
        """The billing contact's email, if the event names a contact with a usable address other
        than the account's confirmed one."""
        contact = billing_contact_of(event)
        if contact is None:
            return None
        email = contact.email.strip()
        if not usable_address(email):
            log.warning("notify: %s %s names a billing contact address that cannot be used", template, cause.event_id)
            return None
        if recipient is not None and recipient.email is not None and same_address(recipient.email, email):
            return None  # the account's email reaches the contact already
        address = content = None
        if recipient is not None:
            address = (email, recipient.language)
            content = self.renderer.render(template, recipient.language, context_of(event, Audience.BILLING_CONTACT))
        return Delivery.record(
            account_id=account_id,
            template=template,
            cause=cause,
            now=now,
            address=address,
            content=content,
            audience=Audience.BILLING_CONTACT,
        )


def same_address(one: str, other: str) -> bool:
    """One mailbox, however its address is capitalised (as mail providers treat them)."""
    return one.strip().casefold() == other.strip().casefold()
