"""The customer balance and the balance by order, per currency: what the account's open invoices
still owe (`owed`, Σ balance due) less its account credit (`advance`: advances and credit notes
settled as credit, less what invoices took of it). The balance by order splits the same figure by
what the invoices are for (an order, a service request, a renewal, ...): Σ due + on_account (= -
advance) = total = the customer balance, which is also the ledger's sum (`billing.domain.ledger`).

A customer reads its own (another account: 404); an admin names the account (422 without)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from billing.adapters.tables import InvoiceRow, OrderCancellationRow
from billing.domain.invoices import Status
from billing.domain.orders import ORDER_SOURCES
from billing.service.credit_notes import credit_account
from portal_runtime.auth import Principal
from portal_runtime.uow import UnitsOfWork

ZERO = Decimal(0)
OPEN = (Status.ISSUED.value, Status.PARTIALLY_PAID.value)


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    owed: Decimal
    advance: Decimal

    @property
    def balance(self) -> Decimal:
        return self.owed - self.advance


@dataclass(frozen=True)
class CustomerBalance:
    account_id: str
    balances: list[CurrencyBalance]


@dataclass
class OrderBalance:
    source_kind: str
    source_id: str
    order_number: str | None = None
    invoices: list[str] = field(default_factory=list)
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    due: Decimal = ZERO


@dataclass(frozen=True)
class BalanceByOrder:
    account_id: str
    currency: str
    orders: list[OrderBalance]
    on_account: Decimal  # -advance

    @property
    def total(self) -> Decimal:
        return sum((o.due for o in self.orders), ZERO) + self.on_account


def _credited(row: InvoiceRow) -> Decimal:
    """What credit notes took off the invoice's due (`amount_credited`, where billing keeps it)."""
    return getattr(row, "amount_credited", None) or ZERO


def _due(row: InvoiceRow) -> Decimal:
    if row.status not in OPEN:
        return ZERO
    return row.total - row.amount_paid - _credited(row)


class Balances:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def balance(self, caller: Principal, account_id: str | None = None) -> CustomerBalance:
        account = credit_account(caller, account_id)
        async with self.uow() as uow:
            owed: dict[str, Decimal] = {}
            for row in await uow.session.scalars(
                select(InvoiceRow).where(InvoiceRow.account_id == account, InvoiceRow.status.in_(OPEN))
            ):
                owed[row.currency] = owed.get(row.currency, ZERO) + _due(row)
            credit = {b.currency: b.amount for b in await uow.account_credits.balances(account)}
        currencies = sorted(set(owed) | set(credit))
        return CustomerBalance(
            account,
            [CurrencyBalance(c, owed.get(c, ZERO), credit.get(c, ZERO)) for c in currencies],
        )

    async def by_order(self, caller: Principal, currency: str, account_id: str | None = None) -> BalanceByOrder:
        account = credit_account(caller, account_id)
        async with self.uow() as uow:
            rows = list(
                await uow.session.scalars(
                    select(InvoiceRow)
                    .where(InvoiceRow.account_id == account, InvoiceRow.currency == currency)
                    .order_by(InvoiceRow.issued_at, InvoiceRow.number)
                )
            )
            order_ids = [i for i in {_uuid(r.source_id) for r in rows if r.source_kind in ORDER_SOURCES} if i]
            numbers = {}
            if order_ids:  # an order's number as billing was told it: placed, else cancelled
                for order_id, number in await uow.session.execute(
                    select(OrderCancellationRow.order_id, OrderCancellationRow.number).where(
                        OrderCancellationRow.order_id.in_(order_ids), OrderCancellationRow.number.is_not(None)
                    )
                ):
                    numbers[str(order_id)] = number
                numbers.update(await uow.ledger.order_numbers(order_ids))
            advance = await uow.ledger.credit_of(account, currency)
            groups: dict[tuple[str, str], OrderBalance] = {}
            for r in rows:  # read in the session (its rows expire when it closes)
                key = (r.source_kind, r.source_id)
                group = groups.setdefault(key, OrderBalance(r.source_kind, r.source_id, numbers.get(r.source_id)))
                group.invoices.append(r.number)
                group.invoiced += r.total
                group.paid += r.amount_paid
                group.credited += _credited(r)
                group.due += _due(r)
        return BalanceByOrder(account, currency, list(groups.values()), -advance)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
