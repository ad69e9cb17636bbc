"""Prepaid units' use cases: the wallet (opened with the initial grant on an account's first touch),
usage reports, admins' adjustments, what the partner sees, billing's copy of the unit packages,
and manual purchases. One unit of work each; every change of a wallet holds its row locked
(`SELECT ... FOR UPDATE`) until it commits.

After every change of a wallet's balance (usage, adjustment, purchase credited) a use case calls
`after_balance_change(uow, wallet)` in the same unit of work, the wallet still locked: the
automatic plan's top-up decision (`billing.service.top_ups`) is hooked there, so exactly one
top-up follows however many reports come at once.

A manual purchase is paid like an invoice (`billing.service.payments`), once per Idempotency-Key:
1. claim: one unit of work opens the wallet, claims the key, prices the cart from billing's copy
   of the packages, makes the purchase (pending) and issues its invoice (`unit_top_up`, due
   today); it commits. A refusal raises and rolls everything back (the key stays free).
2. charge: the card is charged with no transaction open and no lock held, with the gateway's
   idempotency key `unit-purchase:<purchase_id>` (asked again, it answers the first result).
3. record (`record_outcome`, shared with the plan's charger): one unit of work locks the wallet
   and the invoice; approved: the payment on the invoice, one `purchased` entry, the purchase
   completed; declined: the invoice voided (`payment_declined`), the purchase failed, nothing
   credited. The answer is stored for the key and commits with them. Units are credited there,
   never before.
The same key again answers the first answer (201 or 402); a new key is a new purchase. A request
that died between its claim and its record (its process killed while the card was charged) is taken
over by a retry with its key once the pending purchase is older than CLAIM_LEASE_SECONDS, as a
payment's is (`billing.service.payments`): the purchase's id is derived from caller, key and request,
so the retry finds it and charges with the same gateway key (the first charge's result, no second
charge), and the record replays an answer already stored for the key."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from billing.adapters.gateway import GatewayResult, PaymentGateway
from billing.domain.cards import Card
from billing.domain.invoices import BillTo, Line, Payment, SourceKind
from billing.domain.units import (
    EntryKind,
    LedgerEntry,
    Priced,
    PurchaseSource,
    PurchaseStatus,
    UnitPackage,
    UnitPurchase,
    Wallet,
    price,
)
from billing.service.invoicing import Invoicing, IssueInvoice
from billing.service.payments import ANSWER_POLL_SECONDS, ANSWER_WAIT_SECONDS, CLAIM_LEASE_SECONDS
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date, start_of
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.idempotency import Answer, KeyWithoutAnswer, fingerprint
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)

# Called after every change of a wallet's balance, in its unit of work, the wallet row locked.
AfterBalanceChange = Callable[[Any, Wallet], Awaitable[None]]
# The account's automatic plan, for what the partner sees (None: it has none).
PlanOf = Callable[[Any, str], Awaitable[Any]]
# Turns a recorded manual purchase into the HTTP answer kept for replays of its key.
RenderPurchase = Callable[[UnitPurchase], Answer]

DECLINED = "payment_declined"  # the reason a declined purchase's invoice is voided with


async def no_hook(uow: Any, wallet: Wallet) -> None:
    """The default `after_balance_change`: nothing follows."""


async def no_plan(uow: Any, account_id: str) -> None:
    """The default `plan_of`: no account has a plan."""


PURCHASES = uuid.UUID("0b9e4f6a-3c21-4d8e-b7a5-9f1e2d3c4b5a")  # namespace of manual purchases' ids


def purchase_id_of(caller: str, key: str, fingerprint: str) -> uuid.UUID:
    """The one purchase a manual request with this key and body makes (found again by its retries)."""
    return uuid.uuid5(PURCHASES, f"{caller}\n{key}\n{fingerprint}")


def gateway_key(purchase: UnitPurchase) -> str:
    """The gateway's idempotency key of a purchase's one charge (manual or plan)."""
    return f"unit-purchase:{purchase.purchase_id}"


def month_of(day: date) -> tuple[date, date]:
    """The first day of `day`'s month and of the next."""
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class WalletView:
    """What the partner sees of its units: `used_this_month` is the units consumed in the
    business's calendar month `month` (YYYY-MM)."""

    account_id: str
    balance: int
    used_this_month: int
    month: str
    low_balance_at: int
    plan: Any


@dataclass(frozen=True)
class UsageRecorded:
    """A usage report's entry; `created` is False when the usage id was recorded before."""

    entry: LedgerEntry
    created: bool


@dataclass(frozen=True)
class ManualPurchase:
    lines: list[tuple[uuid.UUID, int]]
    card: Card


def account_for(caller: Principal, account_id: str | None) -> str:
    """The account a units request acts on: a customer's own (another account's answers 404, as
    for one that does not exist); an admin names it."""
    if caller.is_admin:
        if not account_id:
            raise InvalidInput("an admin names the account", field="account_id")
        return account_id
    if account_id not in (None, caller.account_id):
        raise NotFound(f"no units of account {account_id}")
    return caller.account_id


async def start_purchase(
    uow: Any,
    invoicing: Invoicing,
    *,
    priced: Priced,
    account_id: str,
    source: PurchaseSource,
    by: str,
    now: datetime,
    tz: tzinfo,
    attempt: int | None = None,
    bill_to: BillTo | None = None,
    purchase_id: uuid.UUID | None = None,
) -> UnitPurchase:
    """A pending purchase and its one invoice (source `unit_top_up`, the purchase's id; due on the
    business date; addressed to `bill_to` when given), in the caller's unit of work."""
    purchase = UnitPurchase.start(
        account_id=account_id,
        source=source,
        priced=priced,
        by=by,
        now=now,
        attempt=attempt,
        bill_to=bill_to,
        purchase_id=purchase_id,
    )
    invoice = await invoicing.issue_in(
        uow,
        IssueInvoice(
            source_kind=SourceKind.UNIT_TOP_UP,
            source_id=str(purchase.purchase_id),
            account_id=account_id,
            currency=priced.currency,
            lines=[
                Line(
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                    item_id=line.item_id,
                    sku=line.sku,
                    currency=priced.currency,
                )
                for line in priced.lines
            ],
            expected_total=priced.total,
            due_on=business_date(now, tz),
            bill_to=bill_to,
        ),
    )
    purchase.invoiced(invoice_id=invoice.id, number=invoice.number)
    return uow.unit_purchases.add(purchase)


async def record_outcome(
    uow: Any,
    purchase: UnitPurchase,
    result: GatewayResult,
    *,
    card_brand: str | None,
    card_last4: str | None,
    now: datetime,
) -> Wallet:
    """Record a purchase's charge (manual or plan), in the caller's unit of work: the wallet row
    locked first, then the invoice. Approved: a payment on the invoice (paid), one `purchased`
    entry, the purchase completed (UnitsPurchased, UnitsCredited). Declined: the invoice voided
    (`payment_declined`), the purchase failed, nothing credited (UnitsPurchaseFailed for a manual
    one). Does not call `after_balance_change` (the caller decides what follows). The wallet,
    locked."""
    wallet = await uow.wallets.get(purchase.account_id, for_update=True)
    if wallet is None:  # opened when the purchase was claimed
        raise LookupError(f"account {purchase.account_id} has no wallet")
    invoice = await uow.invoices.get(purchase.invoice_id, for_update=True)
    if result.approved:
        if invoice.balance_due > 0:
            payment = Payment(
                id=uuid.uuid4(),
                method="card",
                amount=invoice.balance_due,
                currency=invoice.currency,
                payer_reference=purchase.account_id,
                paid_at=now,
                recorded_by=purchase.by,
                card_brand=card_brand,
                card_last4=card_last4,
                gateway_reference=result.reference,
            )
            invoice.record_payment(payment, now=now)
        entry = wallet.credit(
            EntryKind.PURCHASED,
            purchase.units,
            now=now,
            purchase_id=purchase.purchase_id,
            source=purchase.source,
            invoice_id=purchase.invoice_id,
            by=purchase.by,
        )
        purchase.complete(entry, card_brand=card_brand, card_last4=card_last4, now=now)
    else:
        reason = result.reason or "declined"
        if invoice.voidable:
            invoice.void(reason=DECLINED, by=purchase.by, now=now)
        purchase.fail(reason, card_brand=card_brand, card_last4=card_last4, now=now)
    return wallet


class UnitWallets:
    def __init__(
        self,
        uow: UnitsOfWork,
        clock: Clock,
        gateway: PaymentGateway,
        invoicing: Invoicing,
        *,
        tz: tzinfo,
        initial_grant: int,
        low_balance_at: int,
        after_balance_change: AfterBalanceChange | None = None,
        plan_of: PlanOf | None = None,
    ) -> None:
        """`initial_grant` (BILLING_UNITS_INITIAL_GRANT) and `low_balance_at`
        (BILLING_UNITS_LOW_BALANCE_AT) are what a new wallet starts with; `tz` is the business's
        time zone (its dates and months)."""
        self.uow = uow
        self.clock = clock
        self.gateway = gateway
        self.invoicing = invoicing
        self.tz = tz
        self.initial_grant = initial_grant
        self.low_balance_at = low_balance_at
        self.after_balance_change: AfterBalanceChange = after_balance_change or no_hook
        self.plan_of: PlanOf = plan_of or no_plan

    async def wallet_in(self, uow: Any, account_id: str) -> Wallet:
        """The account's wallet in `uow`, locked; opened with the initial grant on first touch."""
        return await uow.wallets.open(
            account_id, grant=self.initial_grant, low_balance_at=self.low_balance_at, now=self.clock.now()
        )

    # -- what the partner sees ----------------------------------------------------------------
    async def view(self, caller: Principal, account_id: str | None = None) -> WalletView:
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:
            wallet = await self.wallet_in(uow, account_id)
            view = await self._view(uow, wallet)
            await uow.commit()  # a wallet opened now keeps its grant
        return view

    async def set_low_balance_at(self, caller: Principal, level: int, account_id: str | None = None) -> WalletView:
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:
            wallet = await self.wallet_in(uow, account_id)
            wallet.set_low_balance_at(level)
            view = await self._view(uow, wallet)
            await uow.commit()
        return view

    async def _view(self, uow: Any, wallet: Wallet) -> WalletView:
        today = business_date(self.clock.now(), self.tz)
        first, following = month_of(today)
        used = await uow.wallets.consumed_between(
            wallet.account_id, start_of(first, self.tz), start_of(following, self.tz)
        )
        return WalletView(
            account_id=wallet.account_id,
            balance=wallet.balance,
            used_this_month=used,
            month=f"{first:%Y-%m}",
            low_balance_at=wallet.low_balance_at,
            plan=await self.plan_of(uow, wallet.account_id),
        )

    async def ledger(
        self,
        caller: Principal,
        *,
        account_id: str | None = None,
        kind: EntryKind | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
        page: PageRequest,
    ) -> Slice[LedgerEntry]:
        """Newest first; `from_date`..`to_date` are business dates, both included. A customer naming
        another account gets an empty page, as on every list; an admin names the account."""
        if from_date and to_date and to_date < from_date:
            raise InvalidInput("`to` is on or after `from`", field="to")
        if caller.scope(account_id).empty:
            return Slice.empty(page)
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:
            await self.wallet_in(uow, account_id)
            await uow.commit()  # a wallet opened now keeps its grant, which the page below shows
        async with self.uow() as uow:
            return await uow.wallets.ledger(
                account_id,
                kind=kind,
                start=start_of(from_date, self.tz) if from_date else None,
                end=start_of(to_date + timedelta(days=1), self.tz) if to_date else None,
                page=page,
            )

    # -- usage and adjustments ---------------------------------------------------------------
    async def record_usage(self, *, account_id: str, usage_id: str, units: int, used_on: date) -> UsageRecorded:
        """One `consumed` entry per (account, usage id), even below zero. The same id again with
        the same figures is answered with the first entry; with other figures it is a 409 (field
        usage_id). Called by the consumer, it joins its unit of work."""
        if units < 1:
            raise InvalidInput("units used are at least 1", field="units")
        async with self.uow() as uow:
            wallet = await self.wallet_in(uow, account_id)
            known = await uow.wallets.entry_for_usage(account_id, usage_id)
            if known is not None:
                if not known.same_usage(units, used_on):
                    raise Conflict(
                        f"usage {usage_id} is recorded already with other figures "
                        f"({-known.units} units used on {known.used_on})",
                        field="usage_id",
                    )
                return UsageRecorded(known, created=False)
            entry = wallet.consume(usage_id=usage_id, units=units, used_on=used_on, now=self.clock.now())
            await self.after_balance_change(uow, wallet)
            await uow.commit()
        return UsageRecorded(entry, created=True)

    async def adjust(self, caller: Principal, *, account_id: str, units: int, note: str) -> LedgerEntry:
        """An admin's correction (`adjusted` entry, up or down)."""
        async with self.uow() as uow:
            wallet = await self.wallet_in(uow, account_id)
            entry = wallet.adjust(units, note=note, by=caller.actor, now=self.clock.now())
            await self.after_balance_change(uow, wallet)
            await uow.commit()
        return entry

    # -- the packages on sale (catalog's copy) -------------------------------------------------
    async def package_published(self, package: UnitPackage) -> bool:
        """Keep a package as catalog published it (unless a newer revision is kept); True if kept."""
        async with self.uow() as uow:
            kept = await uow.unit_packages.put(package)
            await uow.commit()
        return kept

    async def package_withdrawn(self, item_id: uuid.UUID, revision: int) -> bool:
        """Catalog retired the item, or it is no longer a unit package: not sold from now on."""
        async with self.uow() as uow:
            retired = await uow.unit_packages.retire(item_id, revision)
            await uow.commit()
        return retired

    async def preview(self, lines: list[tuple[uuid.UUID, int]]) -> Priced:
        """The cart priced by the server, nothing stored."""
        async with self.uow() as uow:
            return price(lines, await uow.unit_packages.many([item_id for item_id, _ in lines]))

    # -- manual purchases -----------------------------------------------------------------------
    async def purchase(
        self, cmd: ManualPurchase, *, caller: Principal, idempotency_key: str, render: RenderPurchase
    ) -> Answer:
        """Buy packages by card for the caller's own account, once per Idempotency-Key: claim,
        charge, record (see the module)."""
        card = cmd.card
        canonical = {
            "operation": "unit-purchase",
            "lines": [[str(item_id), quantity] for item_id, quantity in cmd.lines],
            "card": [card.brand, card.last4, card.expiry_month, card.expiry_year],
        }
        claimed = await self._claim(cmd, caller=caller, key=idempotency_key, fingerprint=fingerprint(canonical))
        if isinstance(claimed, Answer):
            return claimed
        if claimed.total > 0:
            result = await self.gateway.charge_card(
                card=card,
                amount=claimed.total,
                currency=claimed.currency,
                description=f"Invoice {claimed.invoice_number}",
                idempotency_key=gateway_key(claimed),
            )
        else:  # free packages: nothing to charge
            result = GatewayResult(approved=True)
        async with self.uow() as uow:
            purchase = await uow.unit_purchases.get(claimed.purchase_id, for_update=True)
            recorded = await uow.idempotency.answered(caller.account_id, idempotency_key)
            if recorded is not None:  # another request with this key recorded it (see the module)
                return recorded
            wallet = await record_outcome(
                uow, purchase, result, card_brand=card.brand, card_last4=card.last4, now=self.clock.now()
            )
            if purchase.status is PurchaseStatus.COMPLETED:
                await self.after_balance_change(uow, wallet)
            answer = await uow.idempotency.store(caller.account_id, idempotency_key, render(purchase))
            await uow.commit()
        return answer

    async def _claim(
        self, cmd: ManualPurchase, *, caller: Principal, key: str, fingerprint: str
    ) -> UnitPurchase | Answer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WAIT_SECONDS
        while True:
            try:
                async with self.uow() as uow:
                    await self.wallet_in(uow, caller.account_id)
                    replayed = await uow.idempotency.claim(caller.account_id, key, fingerprint)
                    if replayed is not None:
                        return replayed
                    packages = await uow.unit_packages.many([item_id for item_id, _ in cmd.lines])
                    purchase = await start_purchase(
                        uow,
                        self.invoicing,
                        priced=price(cmd.lines, packages),
                        account_id=caller.account_id,
                        source=PurchaseSource.MANUAL,
                        by=caller.actor,
                        now=self.clock.now(),
                        tz=self.tz,
                        purchase_id=purchase_id_of(caller.account_id, key, fingerprint),
                    )
                    await uow.commit()
                    return purchase
            except KeyWithoutAnswer:
                # The key's first request is charging (claimed, no answer yet): wait for its answer,
                # or take it over when it is presumed dead (see the module).
                taken = await self._take_over(caller=caller, key=key, fingerprint=fingerprint)
                if taken is not None:
                    return taken
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(ANSWER_POLL_SECONDS)

    async def _take_over(self, *, caller: Principal, key: str, fingerprint: str) -> UnitPurchase | Answer | None:
        """The pending purchase of this key's first request, when that request is presumed dead; its
        answer when it has one by now; None while it may still be charging."""
        async with self.uow() as uow:
            answer = await uow.idempotency.answered(caller.account_id, key)
            if answer is not None:
                return answer
            purchase = await uow.unit_purchases.get(purchase_id_of(caller.account_id, key, fingerprint))
            if purchase is None or purchase.status is not PurchaseStatus.PENDING:
                return None
            if (self.clock.now() - purchase.created_at).total_seconds() < CLAIM_LEASE_SECONDS:
                return None
            log.warning("unit purchase %s: a retry took over a request that had no answer", purchase.purchase_id)
            return purchase

    async def list_purchases(
        self,
        caller: Principal,
        *,
        account_id: str | None = None,
        source: PurchaseSource | None = None,
        status: PurchaseStatus | None = None,
        page: PageRequest,
    ) -> Slice[UnitPurchase]:
        """A customer's own purchases; an admin's of every account, or of `account_id`'s."""
        scope = caller.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.unit_purchases.page(account_id=scope.account_id, source=source, status=status, page=page)

    async def get_purchase(self, caller: Principal, purchase_id: uuid.UUID) -> UnitPurchase:
        async with self.uow() as uow:
            purchase = await uow.unit_purchases.get(purchase_id)
        if purchase is None or not caller.owns(purchase.account_id):
            raise NotFound(f"no unit purchase {purchase_id}")
        return purchase
