"""Events notify publishes about the emails it sends."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime

from portal_contracts.base import Event, event


@event(topic="notify.deliveries", version=1, key="delivery_id")
class EmailSent(Event):
    delivery_id: uuid.UUID
    account_id: str
    template: str
    cause_event_id: uuid.UUID
    sent_at: AwareDatetime


@event(topic="notify.deliveries", version=1, key="delivery_id")
class EmailFailed(Event):
    delivery_id: uuid.UUID
    account_id: str
    template: str
    cause_event_id: uuid.UUID
    error: str
    attempts: int
    failed_at: AwareDatetime
