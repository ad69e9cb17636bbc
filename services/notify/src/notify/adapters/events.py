"""Domain changes → published contract events, in one place."""

from __future__ import annotations

from datetime import datetime

from notify.domain.deliveries import FAILED, SENT, Delivery
from portal_contracts import Event
from portal_contracts.events.notify import EmailFailed, EmailSent


def to_contract(delivery: Delivery, change: str, now: datetime) -> Event:
    common = dict(
        delivery_id=delivery.id,
        account_id=delivery.account_id,
        template=delivery.template,
        cause_event_id=delivery.cause_event_id,
    )
    if change == SENT:
        return EmailSent(**common, sent_at=delivery.sent_at or now)
    if change == FAILED:
        return EmailFailed(
            **common,
            error=delivery.last_error or "unknown error",
            attempts=delivery.attempts,
            failed_at=delivery.failed_at or now,
        )
    raise ValueError(f"no contract event for change {change!r}")
