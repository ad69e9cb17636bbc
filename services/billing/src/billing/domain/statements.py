"""The account statement of one account, currency and period (business dates, both ends included):
the opening balance (the ledger's sum before the period), every ledger row dated in the period with
the running balance after it, the period's debits and credits, and the closing balance =
opening + debits - credits, which is the next period's opening balance. Built from the ledger
(`billing.domain.ledger`), whose rows never change, so a closed period's figures never change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.domain.ledger import LedgerEntry
from portal_runtime.errors import InvalidInput

ZERO = Decimal(0)


@dataclass(frozen=True)
class StatementEntry:
    on: date
    kind: str
    document_number: str | None
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # running: after this entry


@dataclass(frozen=True)
class AccountStatement:
    account_id: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: Decimal
    entries: list[StatementEntry]
    debits: Decimal
    credits: Decimal
    closing_balance: Decimal


def check_period(period_start: date, period_end: date) -> None:
    if period_end < period_start:
        raise InvalidInput("the period ends on or after its start", field="to")


def build_statement(
    *,
    account_id: str,
    currency: str,
    period_start: date,
    period_end: date,
    opening_balance: Decimal,
    entries: list[LedgerEntry],
) -> AccountStatement:
    """`entries`: the ledger rows dated in the period, in the order they happened."""
    check_period(period_start, period_end)
    balance, debits, credits, rows = opening_balance, ZERO, ZERO, []
    for e in entries:
        if not period_start <= e.on <= period_end:
            raise ValueError(f"ledger row of {e.on} outside {period_start}..{period_end}")
        balance += e.debit - e.credit
        debits += e.debit
        credits += e.credit
        rows.append(StatementEntry(e.on, str(e.kind), e.document_number, e.description, e.debit, e.credit, balance))
    return AccountStatement(
        account_id=account_id,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        opening_balance=opening_balance,
        entries=rows,
        debits=debits,
        credits=credits,
        closing_balance=opening_balance + debits - credits,
    )
