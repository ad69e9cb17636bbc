"""What happens to an RMA, as the domain says it (typed; mapped to contract events in
`returns.adapters.events`). Standard library only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from returns.domain.rma import ReturnLine


@dataclass(frozen=True)
class ReturnRequested:
    rma_id: uuid.UUID
    account_id: str
    invoice_number: str
    lines: tuple[ReturnLine, ...]
    at: datetime


@dataclass(frozen=True)
class ReturnApproved:
    rma_id: uuid.UUID
    account_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReturnRejected:
    rma_id: uuid.UUID
    account_id: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReturnReceived:
    """The returned goods arrived."""

    rma_id: uuid.UUID
    account_id: str
    by: str
    at: datetime


RmaEvent = ReturnRequested | ReturnApproved | ReturnRejected | ReturnReceived
