"""What happens to an RMA, as the domain says it (typed; mapped to contract events in
`returns.adapters.events`). Standard library only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from returns.domain.rma import GoodsReceipt, ReturnLine


@dataclass(frozen=True)
class ReturnRequested:
    rma_id: uuid.UUID
    account_id: str
    invoice_number: str
    lines: tuple[ReturnLine, ...]
    at: datetime
    number: str | None = None
    invoice_id: uuid.UUID | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ReturnApproved:
    rma_id: uuid.UUID
    number: str
    account_id: str
    invoice_id: uuid.UUID | None
    invoice_number: str
    resolution: str
    expected_on: date
    lines: tuple[ReturnLine, ...]
    note: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class ReturnRejected:
    rma_id: uuid.UUID
    number: str
    account_id: str
    invoice_number: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReturnExpectedDateChanged:
    rma_id: uuid.UUID
    number: str
    account_id: str
    invoice_number: str
    expected_on: date
    previous_expected_on: date
    note: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class GoodsReceived:
    """A goods receipt was recorded; `rma_status` is the RMA's status after it."""

    receipt: GoodsReceipt
    invoice_id: uuid.UUID | None
    resolution: str
    rma_status: str


@dataclass(frozen=True)
class ReturnCompleted:
    rma_id: uuid.UUID
    account_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReturnClosed:
    rma_id: uuid.UUID
    account_id: str
    by: str
    at: datetime


RmaEvent = (
    ReturnRequested
    | ReturnApproved
    | ReturnRejected
    | ReturnExpectedDateChanged
    | GoodsReceived
    | ReturnCompleted
    | ReturnClosed
)
