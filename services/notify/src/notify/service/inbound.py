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
the event comes, the account's email is the one sent. A redelivered event finds its deliveries and records none;
an order told by OrderPlaced v1 and v2 has one "order received" (`dedup_key_of`).

Users of customer accounts (orders.users) are recipients too (`notify.domain.users`): the invitation
goes to the invited address at once (its link is the proof) and carries the set-password token only
as the delivery's secret (the stored rendering and cause never hold it); a support request's emails go
to its sender's address once proven (by the user, or as the account's confirmed address), and wait
for it otherwise.

A customer's message in an order's thread goes to the business (`business_addressed`): to notify's own
BUSINESS_EMAIL in BUSINESS_LANGUAGE, addressed at once (nothing to wait for); the business's message
goes to the account like any of its emails. One email per message, shipment and cancelled order.
Log lines name accounts, events and deliveries, never an address, a name or a token."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from notify.adapters.causes import (
    ACCESS_GRANTED,
    billing_contact_of,
    business_addressed,
    context_of,
    dedup_key_of,
    template_for,
    user_addressee_of,
)
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import SECRET_SLOT, Audience, Cause, Delivery
from notify.domain.recipients import Confirming, Recipient, usable_address
from notify.domain.users import UserRecipient
from notify.service.addressing import ask_to_confirm, release, release_user
from portal_contracts import Event
from portal_contracts.events.orders import AccountProfileChanged, UserActivated, UserContactChanged, UserInvited
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class Inbound:
    def __init__(
        self,
        uow: UnitsOfWork,
        renderer: TemplateRenderer,
        clock: Clock,
        confirming: Confirming = Confirming(),
        portal_url: str = "http://127.0.0.1:3000",
        business: tuple[str, str] = ("orders@portal.invalid", "en"),
    ) -> None:
        self.uow = uow
        self.renderer = renderer
        self.clock = clock
        self.confirming = confirming
        self.portal_url = portal_url.rstrip("/")
        self.business = business  # the business's own address and language (BUSINESS_EMAIL, BUSINESS_LANGUAGE)

    async def user_invited(self, event: UserInvited, cause: Cause) -> Delivery | None:
        """Keep the user, and send its invitation to the invited address (unconfirmed: the link is
        the proof). None when this event has its delivery already."""
        now = self.clock.now()
        token = event.set_password_token
        # the stored cause never holds the token (a delivery keeps it as its secret until it is sent)
        cause = dataclasses.replace(
            cause, payload={k: v for k, v in cause.payload.items() if k != "set_password_token"}
        )
        async with self.uow() as uow:
            await uow.recipients.lock_account(event.account_id)
            if await uow.deliveries.has_cause(cause.event_id):
                log.info("notify: %s %s has its delivery already", cause.event_type, cause.event_id)
                return None
            user = await uow.users.get(event.user_id, for_update=True)
            if user is None:
                user = uow.users.add(
                    UserRecipient.invited(
                        user_id=event.user_id,
                        account_id=event.account_id,
                        login=event.login,
                        name=event.name,
                        email=event.email,
                        language=event.language,
                        at=event.invited_at,
                    )
                )
            else:
                user.reinvited(name=event.name, email=event.email, language=event.language, at=event.invited_at)
            context = {
                **{k: v for k, v in dict(event).items() if k != "set_password_token"},
                "person": event.name,
                "portal_url": self.portal_url,
                "link": f"{self.portal_url}/set-password?token={SECRET_SLOT}" if token else None,
                "code": SECRET_SLOT if token else None,
            }
            email = event.email.strip()
            delivery = uow.deliveries.add(
                Delivery.record(
                    account_id=event.account_id,
                    template=ACCESS_GRANTED,
                    cause=cause,
                    now=now,
                    address=(email, event.language),
                    content=self.renderer.render(ACCESS_GRANTED, event.language, context),
                    secret=token,
                    audience=Audience.USER,
                )
            )
            await uow.commit()
        log.info(
            "notify: delivery %s (%s, user) recorded for account %s", delivery.id, ACCESS_GRANTED, event.account_id
        )
        return delivery

    async def user_activated(self, event: UserActivated, cause: Cause) -> None:
        """The user set its first password through the link: the address it went to is proven, and
        the user's emails that awaited it go out."""
        now = self.clock.now()
        async with self.uow() as uow:
            await uow.recipients.lock_account(event.account_id)
            user = await uow.users.get(event.user_id, for_update=True)
            if user is None:  # its invitation was never seen (published before notify read users)
                user = uow.users.add(
                    UserRecipient.invited(
                        user_id=event.user_id,
                        account_id=event.account_id,
                        login=event.login,
                        name=event.login,
                        email=event.email,
                        language=event.language,
                        at=event.activated_at,
                    )
                )
            if user.activated(event.email, event.activated_at):
                log.info("notify: user %s of account %s proved its address", event.user_id, event.account_id)
                await release_user(uow, user, self.renderer, now)
            await uow.commit()

    async def user_contact_changed(self, event: UserContactChanged, cause: Cause) -> None:
        """The newest contact details win; an address the user has not proved gets a confirmation email."""
        now = self.clock.now()
        async with self.uow() as uow:
            await uow.recipients.lock_account(event.account_id)
            user = await uow.users.get(event.user_id, for_update=True)
            details = {"name": event.name, "email": event.email, "language": event.language}
            if user is None:
                user = uow.users.add(
                    UserRecipient.invited(
                        user_id=event.user_id,
                        account_id=event.account_id,
                        login=event.login,
                        **details,
                        at=event.changed_at - timedelta(microseconds=1),
                    )
                )
            if not user.contact_changed(
                **details, changed_at=event.changed_at, now=now, valid_for=self.confirming.valid_for
            ):
                log.info("notify: older contact details of user %s ignored", event.user_id)
                return
            ask_to_confirm(uow, user, self.renderer, self.confirming, cause, now)
            await uow.commit()

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
            dedup_key = dedup_key_of(event)
            if dedup_key is not None and await uow.deliveries.has_key(dedup_key):
                log.info("notify: %s %s is told by another event's email", cause.event_type, cause.event_id)
                return []
            if business_addressed(event):
                delivery = uow.deliveries.add(self._to_business(account_id, template, event, cause, now, dedup_key))
                await uow.commit()
                log.info("notify: delivery %s (%s, business) recorded, %s", delivery.id, template, delivery.status)
                return [delivery]
            recipient = await uow.recipients.get(account_id)
            addressee = user_addressee_of(event)
            if addressee is not None:
                user = await uow.users.by_login(account_id, addressee.login)
                delivery = self._to_user(recipient, user, template, event, cause, now)
                uow.deliveries.add(delivery)
                await uow.commit()
                log.info("notify: delivery %s (%s, user) recorded, %s", delivery.id, template, delivery.status)
                return [delivery]
            first = self._to_account(recipient, account_id, template, event, cause, now)
            first.dedup_key = dedup_key
            deliveries = [uow.deliveries.add(first)]
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

    def _to_business(
        self, account_id: str, template: str, event: Event, cause: Cause, now: datetime, dedup_key: str | None
    ) -> Delivery:
        """The business's email (a customer's message): to its own address, in its language, at once."""
        email, language = self.business
        return Delivery.record(
            account_id=account_id,
            template=template,
            cause=cause,
            now=now,
            address=(email, language),
            content=self.renderer.render(template, language, context_of(event, Audience.BUSINESS)),
            audience=Audience.BUSINESS,
            dedup_key=dedup_key,
        )

    def _to_user(
        self,
        recipient: Recipient | None,
        user: UserRecipient | None,
        template: str,
        event: Event,
        cause: Cause,
        now: datetime,
    ) -> Delivery:
        """A user's email (a support request's sender): to the address the event names, in its
        language, if that address is proven (the user's, or the account's confirmed one); else it
        awaits that proof."""
        addressee = user_addressee_of(event)
        assert addressee is not None
        email = addressee.email.strip()
        proven = (user is not None and same_address(user.confirmed_email or "", email)) or (
            recipient is not None and recipient.email is not None and same_address(recipient.email, email)
        )
        delivery = Delivery.record(
            account_id=event.account_id,
            template=template,
            cause=cause,
            now=now,
            address=(email, addressee.language) if proven else None,
            content=self.renderer.render(template, addressee.language, context_of(event)) if proven else None,
            audience=Audience.USER,
        )
        if not proven:
            delivery.pending_address = email
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
