"""Who an email goes to, decided in one place for the profile's handler, the email-causing events'
handler and the confirmation: the account's confirmed address, and nothing else. Without a
profile an email waits for its recipient; with an address not confirmed yet, for the
confirmation. The one email sent to an address nobody confirmed is the confirmation itself, made
here from the recipient's ConfirmationRequested. (A billing contact's email goes to the address
its event names, in the account's language: it waits only for the profile.)

Every caller holds the account's lock (`recipients.lock_account`) first, so a delivery being
recorded and the confirmation that releases the waiting ones cannot pass each other."""

from __future__ import annotations

import logging
from datetime import datetime

from notify.adapters.causes import billing_contact_of, context_of, event_of, user_addressee_of
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import SECRET_SLOT, Audience, Cause, Content, Delivery, Status
from notify.domain.events import ConfirmationRequested
from notify.domain.recipients import CONFIRMATION_TEMPLATE, Confirming, Recipient
from notify.domain.users import UserRecipient, same_address

log = logging.getLogger(__name__)


def rendered(renderer: TemplateRenderer, delivery: Delivery, language: str) -> Content:
    """An email rendered from its stored cause (a delivery that waited, rendered now)."""
    cause = delivery.cause
    event = event_of(cause.event_type, cause.version, cause.payload)
    return renderer.render(delivery.template, language, context_of(event, delivery.audience))


def contact_address(delivery: Delivery) -> str:
    """The billing contact's address, as the delivery's stored cause names it."""
    cause = delivery.cause
    contact = billing_contact_of(event_of(cause.event_type, cause.version, cause.payload))
    if contact is None:
        raise ValueError(f"delivery {delivery.id} is for a billing contact its cause does not name")
    return contact.email.strip()


async def release(uow, recipient: Recipient, renderer: TemplateRenderer, now: datetime) -> None:
    """What waits for this account: addressed to its confirmed address and rendered in its
    language, oldest first; without a confirmed address, marked as waiting for the confirmation.
    A billing contact's email goes to the contact's address as soon as the language is known."""
    for delivery in await uow.deliveries.waiting_for(recipient.account_id):
        if delivery.audience == Audience.USER:
            if recipient.email is not None and same_address(delivery.pending_address, recipient.email):
                address_user_delivery(renderer, delivery, now)  # the sender's address is the account's
            continue
        if delivery.audience == Audience.BILLING_CONTACT:
            content = rendered(renderer, delivery, recipient.language)
            delivery.address(contact_address(delivery), recipient.language, content, now=now)
            log.info("notify: delivery %s (%s, billing contact) addressed, pending", delivery.id, delivery.template)
        elif recipient.email is not None:
            content = rendered(renderer, delivery, recipient.language)
            delivery.address(recipient.email, recipient.language, content, now=now)
            log.info("notify: delivery %s (%s) addressed, pending", delivery.id, delivery.template)
        elif delivery.status == Status.WAITING:
            delivery.await_confirmation(now)
            log.info("notify: delivery %s (%s) awaits the confirmation", delivery.id, delivery.template)


def address_user_delivery(renderer: TemplateRenderer, delivery: Delivery, now: datetime) -> None:
    """A user's email that awaited its address: to that address now, in the language its cause names."""
    cause = delivery.cause
    addressee = user_addressee_of(event_of(cause.event_type, cause.version, cause.payload))
    language = addressee.language if addressee is not None else "en"
    address = delivery.pending_address or (addressee.email.strip() if addressee else None)
    if address is None:
        raise ValueError(f"delivery {delivery.id} is for a user its cause does not name")
    delivery.address(address, language, rendered(renderer, delivery, language), now=now)
    log.info("notify: delivery %s (%s, user) addressed, pending", delivery.id, delivery.template)


async def release_user(uow, user: UserRecipient, renderer: TemplateRenderer, now: datetime) -> None:
    """A user proved an address: its emails that awaited that address go to it, oldest first."""
    for delivery in await uow.deliveries.waiting_for(user.account_id):
        if delivery.audience == Audience.USER and same_address(delivery.pending_address, user.confirmed_email):
            address_user_delivery(renderer, delivery, now)


def ask_to_confirm(
    uow,
    recipient: Recipient | UserRecipient,
    renderer: TemplateRenderer,
    confirming: Confirming,
    cause: Cause,
    now: datetime,
) -> Delivery | None:
    """The confirmation email the recipient asked for, if it asked (a new address): one delivery
    to the new address, caused by the profile change, carrying the token as its secret. A user's
    changed address (a `UserRecipient`) is asked the same way, its email for the user."""
    asked = next((e for e in recipient.events if isinstance(e, ConfirmationRequested)), None)
    if asked is None:
        return None
    context = {
        "email": asked.email,
        "link": confirming.link.replace("{token}", SECRET_SLOT),
        "code": SECRET_SLOT,
        "hours": confirming.hours,
    }
    delivery = uow.deliveries.add(
        Delivery.record(
            account_id=recipient.account_id,
            template=CONFIRMATION_TEMPLATE,
            cause=cause,
            now=now,
            address=(asked.email, asked.language),
            content=renderer.render(CONFIRMATION_TEMPLATE, asked.language, context),
            secret=asked.token,
            audience=Audience.USER if isinstance(recipient, UserRecipient) else Audience.ACCOUNT,
        )
    )
    log.info("notify: delivery %s (%s) recorded for account %s", delivery.id, delivery.template, recipient.account_id)
    return delivery
