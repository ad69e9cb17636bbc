"""Who an email goes to, decided in one place for the profile's handler, the email-causing events'
handler and the confirmation: the account's confirmed address, and nothing else. Without a
profile an email waits for its recipient; with an address not confirmed yet, for the
confirmation. The one email sent to an address nobody confirmed is the confirmation itself, made
here from the recipient's ConfirmationRequested.

Every caller holds the account's lock (`recipients.lock_account`) first, so a delivery being
recorded and the confirmation that releases the waiting ones cannot pass each other."""

from __future__ import annotations

import logging
from datetime import datetime

from notify.adapters.causes import context_of, event_of
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import SECRET_SLOT, Cause, Content, Delivery, Status
from notify.domain.events import ConfirmationRequested
from notify.domain.recipients import CONFIRMATION_TEMPLATE, Confirming, Recipient

log = logging.getLogger(__name__)


def rendered(renderer: TemplateRenderer, template: str, language: str, cause: Cause) -> Content:
    """An email rendered from its stored cause (a delivery that waited, rendered now)."""
    event = event_of(cause.event_type, cause.version, cause.payload)
    return renderer.render(template, language, context_of(event))


async def release(uow, recipient: Recipient, renderer: TemplateRenderer, now: datetime) -> None:
    """What waits for this account: addressed to its confirmed address and rendered in its
    language, oldest first; without a confirmed address, marked as waiting for the confirmation."""
    for delivery in await uow.deliveries.waiting_for(recipient.account_id):
        if recipient.email is not None:
            content = rendered(renderer, delivery.template, recipient.language, delivery.cause)
            delivery.address(recipient.email, recipient.language, content, now=now)
            log.info("notify: delivery %s (%s) addressed, pending", delivery.id, delivery.template)
        elif delivery.status == Status.WAITING:
            delivery.await_confirmation(now)
            log.info("notify: delivery %s (%s) awaits the confirmation", delivery.id, delivery.template)


def ask_to_confirm(
    uow, recipient: Recipient, renderer: TemplateRenderer, confirming: Confirming, cause: Cause, now: datetime
) -> Delivery | None:
    """The confirmation email the recipient asked for, if it asked (a new address): one delivery
    to the new address, caused by the profile change, carrying the token as its secret."""
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
        )
    )
    log.info("notify: delivery %s (%s) recorded for account %s", delivery.id, delivery.template, recipient.account_id)
    return delivery
