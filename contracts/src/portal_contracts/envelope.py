"""The envelope every event travels in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import Event


class Envelope(BaseModel):
    """What goes on the wire: metadata around one event payload (`data`).

    Unknown fields are ignored, not refused: a producer that adds an envelope field must not send
    every message to the dead-letter topics of consumers not yet redeployed. Its schema is recorded
    as `contracts/schemas/Envelope.json` and held to the same compatibility check as the events."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID
    type: str = Field(min_length=1)
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str = Field(min_length=1)
    key: str
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    trace: dict[str, str] = Field(default_factory=dict, description="W3C trace context (traceparent, tracestate)")
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: Event,
        *,
        producer: str,
        occurred_at: datetime,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        trace: dict[str, str] | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        event_id = event_id or uuid.uuid4()
        return cls(
            event_id=event_id,
            type=payload.event_type,
            version=payload.version,
            occurred_at=occurred_at,
            producer=producer,
            key=payload.key(),
            correlation_id=correlation_id or event_id,
            causation_id=causation_id,
            trace=trace or {},
            data=payload.model_dump(mode="json"),
        )

    def payload(self) -> Event:
        """The typed event, looked up by (type, version); raises LookupError or ValidationError."""
        from portal_contracts.registry import lookup

        return lookup(self.type, self.version).model_validate(self.data)
