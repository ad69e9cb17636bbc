"""Helpers of the ledger's tests on a real PostgreSQL: billing's use cases on one unit-of-work
factory (no broker: events stop in the outbox), orders of one line invoiced as orders would tell
them, bank transfers, account payments and the identities every statement and balance keeps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from billing.adapters.events import to_contract
from billing.adapters.gateway import SandboxGateway
from billing.adapters.ledger_tables import LedgerRow
from billing.adapters.repository import BillingUnitOfWork
from billing.domain.invoices import Invoice, Line
from billing.domain.orders import OrderCancellation
from billing.domain.payments import PaymentRequest
from billing.domain.returned_goods import ReceivedGoods, ReceivedLine
from billing.http.account_payments import render as render_account_payment
from billing.http.invoices import render
from billing.service.account_payments import AccountPaymentsService, ReceiveAccountPayment
from billing.service.balances import Balances
from billing.service.invoices import BillingService
from billing.service.orders import InvoiceOrder
from billing.service.returned_goods import ReturnedGoods
from billing.service.statements import AccountStatements
from billing.settings import BillingSettings
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

OPS = Principal("olga", "ops", "admin")


@dataclass
class Books:
    """Billing's use cases on one database and clock."""

    clock: FrozenClock
    billing: BillingService
    account_payments: AccountPaymentsService
    balances: Balances
    statements: AccountStatements
    engine: object

    @classmethod
    def on(cls, url: str, now: datetime) -> Books:
        engine = make_engine(url)
        clock = FrozenClock(now)
        uow = UnitsOfWork(make_sessionmaker(engine), Outbox("billing", clock), to_contract, BillingUnitOfWork)
        billing = BillingService(uow, clock, SandboxGateway(uow.sessions, clock), BillingSettings().payee(), UTC)
        return cls(
            clock,
            billing,
            AccountPaymentsService(uow, clock, UTC),
            Balances(uow),
            AccountStatements(uow, clock, UTC),
            engine,
        )

    @property
    def uow(self) -> UnitsOfWork:
        return self.billing.uow

    async def order(
        self, account: str, net: str, *, tax_rate: str = "0", number: str | None = None, quantity: int = 1
    ) -> Invoice:
        """An order of one line of `quantity` for `net` (taxed at `tax_rate`), invoiced (due the day it
        is placed)."""
        order_id = uuid.uuid4()
        price = (Decimal(net) / quantity).quantize(Decimal("0.0001"))
        line = Line("Goods", quantity, price, amount=Decimal(net), tax_rate=Decimal(tax_rate), sku="GOODS")
        cmd = InvoiceOrder(order_id, "cart", account, "EUR", lines=[line], total=Decimal(net), number=number)
        return await self.billing.invoice_order(cmd)

    async def transfer(self, invoice: Invoice, amount: Decimal | str) -> None:
        request = PaymentRequest(invoice.id, "bank_transfer", Decimal(amount), "EUR", "bank")
        answer = await self.billing.pay(request, caller=OPS, idempotency_key=str(uuid.uuid4()), render=render)
        assert answer.status_code == 201, answer.body

    async def advance(self, account: str, amount: str, *, key: str | None = None) -> dict:
        cmd = ReceiveAccountPayment(account, Decimal(amount), "EUR", "bank_transfer", reference="bank ref")
        answer = await self.account_payments.receive(
            cmd, caller=OPS, idempotency_key=key or str(uuid.uuid4()), render=render_account_payment
        )
        assert answer.status_code == 201, answer.body
        return answer.body

    async def cancel(self, invoice: Invoice, settlement: str = "credit") -> None:
        order_id = uuid.UUID(invoice.source.id)
        now = self.clock.now()
        await self.billing.cancel_order(
            OrderCancellation(
                order_id, invoice.account_id, "admin", now, settlement=settlement, cancelled_by="ops/olga"
            )
        )

    async def return_goods(self, invoice: Invoice, quantity: int, resolution: str) -> None:
        """Goods of the invoice's one line received back (a goods receipt of a return), credited."""
        [line] = invoice.lines
        await ReturnedGoods(self.uow, self.clock).receive(
            ReceivedGoods(
                receipt_id=uuid.uuid4(),
                receipt_number="GR-2026-000001",
                rma_id=uuid.uuid4(),
                rma_number="RMA-2026-000001",
                account_id=invoice.account_id,
                invoice_id=invoice.id,
                invoice_number=invoice.number,
                resolution=resolution,
                lines=(ReceivedLine(line.line_id, line.description, quantity),),
                received_at=self.clock.now(),
            )
        )

    async def invoice(self, invoice_id: uuid.UUID) -> Invoice:
        return await self.billing.get_invoice(invoice_id, OPS)

    async def ledger_sum(self, account: str) -> Decimal:
        async with self.uow.sessions() as s:
            return Decimal(
                await s.scalar(
                    select(func.coalesce(func.sum(LedgerRow.debit - LedgerRow.credit), 0)).where(
                        LedgerRow.account_id == account
                    )
                )
            )

    async def check_identities(self, account: str, starts: list[date], end: date) -> Decimal:
        """Statements of the adjacent periods beginning on `starts` (the last up to `end`) chain
        (closing = the next opening), each closes at opening + debits - credits, the last closing is
        the ledger's sum = the customer balance = the balance by order's total. The customer balance."""
        previous = None
        ends = [later - timedelta(days=1) for later in starts[1:]] + [end]
        for start, end in zip(starts, ends, strict=True):
            s = await self.statements.statement(account, "EUR", start, end)
            assert s.opening_balance + s.debits - s.credits == s.closing_balance
            if s.entries:
                assert s.entries[-1].balance == s.closing_balance
            if previous is not None:
                assert previous.closing_balance == s.opening_balance
            previous = s
        [balance] = [b for b in (await self.balances.balance(OPS, account)).balances if b.currency == "EUR"] or [None]
        customer = balance.balance if balance else Decimal(0)
        by_order = await self.balances.by_order(OPS, "EUR", account)
        assert sum((o.due for o in by_order.orders), Decimal(0)) + by_order.on_account == by_order.total
        assert by_order.total == customer == await self.ledger_sum(account)
        if previous is not None:
            assert previous.closing_balance == customer
        return customer
