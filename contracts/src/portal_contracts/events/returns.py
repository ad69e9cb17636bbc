"""Events returns publishes about RMA requests."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import Event, event


class ReturnLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: str
    quantity: int = Field(ge=1)
    reason: str


@event(topic="returns.rma", version=1, key="rma_id")
class ReturnRequested(Event):
    rma_id: uuid.UUID
    account_id: str
    invoice_number: str
    lines: list[ReturnLine]
    requested_at: AwareDatetime
