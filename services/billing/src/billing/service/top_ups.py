"""The automatic unit plan's use cases (put it, save its card, turn it off, read it) and its
top-ups.

The decision ("does the plan want a top-up now?", `billing.domain.plans.decide`) is made in the
transaction that holds the account's wallet row locked (`SELECT ... FOR UPDATE`): after every
debit and credit (hooked as the wallets' `after_balance_change`), when the plan is turned on or
its card saved, after an approved top-up, and by the job `unit-top-ups`. A top-up it wants is a
pending plan purchase with its invoice, made in that same transaction; since one of the plan's
purchases pending stops the next decision, however many usage reports arrive at once, on however
many worker replicas, one top-up is made.

The charge must not run inside the wallet lock and must survive a crash of the worker, so it is
made by a background loop of billing's worker role (`Charger.run`, as notify's SMTP sender in
`notify.service.sending`): it takes the oldest pending plan purchase with `FOR UPDATE SKIP
LOCKED` (parallel replicas never take the same one), charges the plan's saved card through the
gateway with the idempotency key `unit-purchase:<purchase_id>` while holding only that purchase
row (not the wallet), then locks the wallet row, records the outcome (`record_outcome`, shared
with manual purchases) and the plan's (declines, backoff, pause), and commits. A crash before the
commit leaves the purchase pending: it is charged again with the same key, and the gateway (the
sandbox as a real provider) answers the first result again across processes, so money moves
once and the units are credited once. When idle it looks again every
`BILLING_UNITS_CHARGE_POLL_SECONDS` (0.2 s).

Approved: credited as a manual purchase (invoice paid, UnitsPurchased to the billing contact too,
UnitsCredited), declines start over, and the decision runs again (more usage may have come in the
meantime). Declined: the invoice voided, nothing credited, one more decline in a row, the next
try after `BILLING_UNITS_RETRY_SECONDS` (UnitsTopUpFailed); at `BILLING_UNITS_MAX_DECLINES` in
a row the plan pauses (UnitsPlanPaused) until a new card is saved. A retry after the backoff comes
with the next usage report or the job, which run the same decision."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any

from billing.adapters.gateway import GatewayResult, PaymentGateway
from billing.domain.cards import Card
from billing.domain.plans import (
    SYSTEM,
    Capped,
    Plan,
    PlanCard,
    PlanStatus,
    PlanTerms,
    RetryPolicy,
    TopUp,
    first_of_next_month,
)
from billing.domain.units import Priced, PurchaseLine, PurchaseSource, UnitPackage, UnitPurchase, Wallet
from billing.service.units import UnitWallets, account_for, gateway_key, record_outcome, start_purchase
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date, start_of
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.faults import Waiting, poll_forever
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartedTopUp:
    """A top-up the plan started at once (turned on, or resumed, at or below its threshold)."""

    purchase_id: uuid.UUID
    reason: str


@dataclass(frozen=True)
class PlanView:
    """A plan as the partner sees it: with billing's copy of its package (None when unknown), and
    the top-up its change started, if any."""

    plan: Plan
    package: UnitPackage | None
    top_up: StartedTopUp | None = None


@dataclass(frozen=True)
class PutPlan:
    terms: PlanTerms
    card: Card | None = None  # needed when the account has no card saved


class TopUps:
    def __init__(
        self,
        uow: UnitsOfWork,
        clock: Clock,
        gateway: PaymentGateway,
        wallets: UnitWallets,
        *,
        tz: tzinfo,
        policy: RetryPolicy,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.gateway = gateway
        self.wallets = wallets
        self.tz = tz
        self.policy = policy

    # -- the plan -------------------------------------------------------------------------------
    async def put_plan(self, caller: Principal, cmd: PutPlan, *, account_id: str | None = None) -> PlanView:
        """Create or change the account's plan; it is active afterwards (a paused one only with a
        new card). At or below the threshold, a top-up starts at once (`top_up`). The card is saved
        through the gateway between a check of the request and the transaction that keeps it."""
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:  # refused before the gateway keeps a card for nothing
            await self._package(uow, cmd.terms.package_item_id)
            if cmd.card is None and await uow.plans.get(account_id) is None:
                raise InvalidInput("a plan needs a card to charge", field="card")
        card = await self._save_card(cmd.card) if cmd.card is not None else None
        async with self.uow() as uow:
            wallet = await self.wallets.wallet_in(uow, account_id)  # locked: the plan changes under it
            package = await self._package(uow, cmd.terms.package_item_id)
            plan = await uow.plans.get(account_id, for_update=True)
            if plan is None:
                plan = uow.plans.add(Plan.start(account_id, cmd.terms, card, by=caller.actor, now=self.clock.now()))
            else:
                plan.change(cmd.terms, card, by=caller.actor, now=self.clock.now())
            started = await self.decide(uow, wallet, plan, package)
            await uow.commit()
        return PlanView(plan, package, started)

    async def _package(self, uow: Any, item_id: uuid.UUID) -> UnitPackage:
        package = await uow.unit_packages.get(item_id)
        if package is None or package.retired:
            raise InvalidInput(f"{item_id} is not a unit package on sale", field="package_item_id")
        return package

    async def save_card(self, caller: Principal, card: Card, *, account_id: str | None = None) -> PlanView:
        """A new card for the plan: a paused plan is active again (declines start over) and, at or
        below its threshold, tops up at once."""
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:  # 404 before the gateway keeps a card for nothing
            if await uow.plans.get(account_id) is None:
                raise NotFound(f"account {account_id} has no plan")
        saved = await self._save_card(card)
        async with self.uow() as uow:
            wallet = await self.wallets.wallet_in(uow, account_id)
            plan = await uow.plans.get(account_id, for_update=True)
            plan.save_card(saved, by=caller.actor, now=self.clock.now())
            package = await uow.unit_packages.get(plan.package_item_id)
            started = await self.decide(uow, wallet, plan, package)
            await uow.commit()
        return PlanView(plan, package, started)

    async def turn_off(self, caller: Principal, *, account_id: str | None = None) -> PlanView:
        """No more top-ups (a purchase already being charged is still recorded)."""
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:
            await self.wallets.wallet_in(uow, account_id)
            plan = await self._plan(uow, account_id, for_update=True)
            plan.turn_off(by=caller.actor, now=self.clock.now())
            package = await uow.unit_packages.get(plan.package_item_id)
            await uow.commit()
        return PlanView(plan, package)

    async def get_plan(self, caller: Principal, *, account_id: str | None = None) -> PlanView:
        account_id = account_for(caller, account_id)
        async with self.uow() as uow:
            view = await self.plan_of(uow, account_id)
        if view is None:
            raise NotFound(f"account {account_id} has no plan")
        return view

    async def plan_of(self, uow: Any, account_id: str) -> PlanView | None:
        """The account's plan in `uow` (what `GET /v1/units` shows), None when it has none."""
        plan = await uow.plans.get(account_id)
        if plan is None:
            return None
        return PlanView(plan, await uow.unit_packages.get(plan.package_item_id))

    async def _plan(self, uow: Any, account_id: str, *, for_update: bool = False) -> Plan:
        plan = await uow.plans.get(account_id, for_update=for_update)
        if plan is None:
            raise NotFound(f"account {account_id} has no plan")
        return plan

    async def _save_card(self, card: Card) -> PlanCard:
        saved = await self.gateway.save_card(card)
        return PlanCard(token=saved.token, brand=saved.brand, last4=saved.last4)

    # -- the decision -----------------------------------------------------------------------------
    async def after_balance_change(self, uow: Any, wallet: Wallet) -> None:
        """The wallets' hook: in their unit of work, the wallet row locked."""
        plan = await uow.plans.get(wallet.account_id, for_update=True)
        if plan is not None:
            await self.decide(uow, wallet, plan)

    async def decide(
        self, uow: Any, wallet: Wallet, plan: Plan, package: UnitPackage | None = None
    ) -> StartedTopUp | None:
        """The decision for `plan`, with `wallet` locked in `uow`: a top-up it wants is started
        (a pending plan purchase and its invoice) in this unit of work."""
        if plan.status is not PlanStatus.ACTIVE or wallet.balance > plan.threshold:
            return None  # the rules that need no query first: this is most usage reports
        now = self.clock.now()
        today = business_date(now, self.tz)
        package = package or await uow.unit_packages.get(plan.package_item_id)
        decision = plan.consider(
            balance=wallet.balance,
            package=package,
            spent_this_month=await self._spent(uow, plan, package, today),
            pending=await uow.unit_purchases.pending_plan(plan.account_id),
            now=now,
            today=today,
        )
        if isinstance(decision, Capped):
            log.info("plan of %s reached its cap for %s: none is made", plan.account_id, decision.month)
        if not isinstance(decision, TopUp):
            return None
        purchase = await start_purchase(
            uow,
            self.wallets.invoicing,
            priced=Priced((PurchaseLine.of(package, decision.quantity),), package.currency),
            account_id=plan.account_id,
            source=PurchaseSource.PLAN,
            by=SYSTEM,
            now=now,
            tz=self.tz,
            attempt=plan.attempt,
            bill_to=plan.bill_to(),
        )
        log.info(
            "plan of %s tops up %d units (purchase %s): %s",
            plan.account_id,
            decision.units,
            purchase.purchase_id,
            decision.reason,
        )
        return StartedTopUp(purchase.purchase_id, decision.reason)

    async def _spent(self, uow: Any, plan: Plan, package: UnitPackage | None, today: date) -> Decimal:
        """What the plan's completed purchases charged in the business month of `today`."""
        if plan.monthly_cap is None or package is None:
            return Decimal(0)
        start, end = start_of(today.replace(day=1), self.tz), start_of(first_of_next_month(today), self.tz)
        return await uow.unit_purchases.plan_spent(plan.account_id, package.currency, start, end)

    # -- the job ----------------------------------------------------------------------------------
    async def run_due(self, as_of: date | None = None) -> dict[str, int]:
        """The job `unit-top-ups`: the decision for every active plan whose account is at or below
        its threshold (a retry after the backoff when no usage came), each in its own unit of work.
        It decides as of the clock's now whatever date it runs for: run again, it starts nothing
        twice (a pending top-up stops the next one)."""
        async with self.uow() as uow:
            accounts = await uow.plans.due()
        started = 0
        for account_id in accounts:
            async with self.uow() as uow:
                wallet = await self.wallets.wallet_in(uow, account_id)
                plan = await uow.plans.get(account_id, for_update=True)
                if plan is not None and await self.decide(uow, wallet, plan) is not None:
                    started += 1
                await uow.commit()
        return {"plans_due": len(accounts), "top_ups_started": started}


class Charger:
    """Charges pending plan purchases one at a time (see the module): the worker's background loop."""

    def __init__(self, uow: UnitsOfWork, clock: Clock, gateway: PaymentGateway, top_ups: TopUps) -> None:
        self.uow = uow
        self.clock = clock
        self.gateway = gateway
        self.top_ups = top_ups

    async def charge_next(self) -> UnitPurchase | None:
        """Charge and record the oldest pending plan purchase nobody holds; None when there is none."""
        async with self.uow() as uow:
            purchase = await uow.unit_purchases.next_pending_plan()  # locked until this unit of work ends
            if purchase is None:
                return None
            card = await uow.plans.card(purchase.account_id)
            result = await self._charge(purchase, card)
            await self.record(uow, purchase, result, card)
            await uow.commit()
        return purchase

    async def _charge(self, purchase: UnitPurchase, card: PlanCard | None) -> GatewayResult:
        if purchase.total <= 0:
            return GatewayResult(approved=True)  # free packages: nothing to charge
        return await self.gateway.charge_saved_card(
            token=card.token if card else "",  # no plan (never so: plans are not deleted): unknown_card
            amount=purchase.total,
            currency=purchase.currency,
            description=f"Invoice {purchase.invoice_number}",
            idempotency_key=gateway_key(purchase),
        )

    async def record(self, uow: Any, purchase: UnitPurchase, result: GatewayResult, card: PlanCard | None) -> None:
        """The outcome of the charge, the wallet row locked: the purchase's (shared with manual
        purchases), then the plan's, then (approved) the decision again."""
        now = self.clock.now()
        wallet = await record_outcome(
            uow,
            purchase,
            result,
            card_brand=card.brand if card else None,
            card_last4=card.last4 if card else None,
            now=now,
        )
        plan = await uow.plans.get(purchase.account_id, for_update=True)  # first read here: under the wallet
        if plan is None:
            return
        if result.approved:
            plan.top_up_approved(now=now)
            # Stored now, so that the decision sees this purchase completed (not pending) and spent.
            await uow.unit_purchases.save(purchase)
            await self.top_ups.decide(uow, wallet, plan)
        else:
            plan.top_up_declined(
                purchase_id=purchase.purchase_id,
                invoice_id=purchase.invoice_id,
                invoice_number=purchase.invoice_number,
                total=purchase.total,
                currency=purchase.currency,
                reason=purchase.reason or "declined",
                policy=self.top_ups.policy,
                now=now,
            )

    async def drain(self) -> int:
        """Charge until nothing is pending; how many were charged."""
        count = 0
        while await self.charge_next() is not None:
            count += 1
        return count

    async def run(self, *, poll_seconds: float) -> None:
        """Forever: charge what is pending, then wait a poll interval. Survives a database or
        gateway outage (the purchase stays pending and is charged again with its key)."""
        waiting = Waiting("billing", "unit top-up charger")  # logged once per outage, not per try
        await poll_forever(self.drain, waiting=waiting, poll_seconds=poll_seconds)
