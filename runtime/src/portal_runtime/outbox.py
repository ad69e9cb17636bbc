"""Staging events in the outbox, inside the caller's transaction."""

from __future__ import annotations

import uuid

from opentelemetry import propagate
from sqlalchemy.ext.asyncio import AsyncSession

from portal_contracts import Envelope, Event
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.db import OutboxRecord


class Outbox:
    """Adds events to the outbox of one service. The caller owns the transaction: the state
    change and its events commit together or not at all.

    Per-aggregate order: rows are published in id order, and a service locks its aggregate row
    (SELECT … FOR UPDATE) before staging, so two transactions on one aggregate cannot interleave.
    """

    def __init__(self, producer: str, clock: Clock | None = None) -> None:
        self.producer = producer
        self.clock = clock or SystemClock()

    def stage(
        self,
        session: AsyncSession,
        payload: Event,
        *,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> Envelope:
        trace: dict[str, str] = {}
        propagate.inject(trace)  # the current span's context travels with the event
        now = self.clock.now()
        envelope = Envelope.wrap(
            payload,
            producer=self.producer,
            occurred_at=now,
            correlation_id=correlation_id,
            causation_id=causation_id,
            trace=trace,
        )
        session.add(
            OutboxRecord(
                event_id=envelope.event_id,
                topic=payload.topic,
                key=envelope.key,
                event_type=envelope.type,
                envelope=envelope.model_dump(mode="json"),
                created_at=now,
            )
        )
        return envelope
