"""Events returns publishes about RMA requests (`returns.rma`, keyed by the RMA): requested, approved
(with a resolution and an expected completion date, which may change later), rejected, and the goods
receipts recorded for it (partial receipts allowed)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import Event, event


class ReturnLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: str = Field(description="the invoice line's description")
    quantity: int = Field(ge=1)
    reason: str
    line_id: uuid.UUID | None = Field(default=None, description="billing's invoice line id, where the invoice has them")


Resolution = Literal["refund", "credit", "replace", "repair"]


@event(topic="returns.rma", version=1, key="rma_id")
class ReturnRequested(Event):
    rma_id: uuid.UUID
    account_id: str
    invoice_number: str
    lines: list[ReturnLine]
    requested_at: AwareDatetime
    number: str | None = Field(default=None, description="the RMA's number, RMA-2026-000001")
    invoice_id: uuid.UUID | None = None
    problem: str | None = Field(default=None, description="the customer's description of the problem")


@event(topic="returns.rma", version=1, key="rma_id")
class ReturnApproved(Event):
    """An admin approved the request: what will be done (`resolution`) and by when (`expected_on`, the
    expected completion date in the business's time zone)."""

    rma_id: uuid.UUID
    number: str = Field(description="the RMA's number, RMA-2026-000001")
    account_id: str
    invoice_id: uuid.UUID | None = None
    invoice_number: str
    resolution: Resolution
    expected_on: date
    lines: list[ReturnLine]
    note: str | None = None
    approved_by: str
    approved_at: AwareDatetime


@event(topic="returns.rma", version=1, key="rma_id")
class ReturnRejected(Event):
    rma_id: uuid.UUID
    number: str
    account_id: str
    invoice_number: str
    reason: str
    rejected_by: str
    rejected_at: AwareDatetime


@event(topic="returns.rma", version=1, key="rma_id")
class ReturnExpectedDateChanged(Event):
    """An admin moved an approved request's expected completion date."""

    rma_id: uuid.UUID
    number: str
    account_id: str
    invoice_number: str
    expected_on: date
    previous_expected_on: date
    note: str | None = None
    changed_by: str
    changed_at: AwareDatetime


class ReceivedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    invoice_line_id: uuid.UUID | None = Field(description="billing's invoice line id (None on invoices without ids)")
    description: str
    quantity: int = Field(ge=1)


@event(topic="returns.rma", version=1, key="rma_id")
class GoodsReceived(Event):
    """A goods receipt: what arrived for an approved request, numbered in its own series
    (GR-2026-000001). `rma_status` is the request's status after it: partly_received while less than
    was approved has arrived, received when all of it has. Billing credits the received quantity when
    the resolution is refund or credit."""

    receipt_id: uuid.UUID
    number: str
    rma_id: uuid.UUID
    rma_number: str
    account_id: str
    invoice_id: uuid.UUID | None = None
    invoice_number: str
    resolution: Resolution
    lines: list[ReceivedLine]
    rma_status: Literal["partly_received", "received"]
    received_by: str
    received_at: AwareDatetime
