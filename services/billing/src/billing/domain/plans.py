"""An account's automatic unit plan, and the one rule it lives by: when does it top up, and by how
much.

The plan names the package it buys, the threshold (the balance at or below which it buys; 0,
"used up", by default), an optional monthly spending cap (an amount in the package's currency),
the card it charges (only the gateway's token, the brand and the last four digits are kept), and
the billing address and contact its invoices are addressed to.

`decide` is the top-up decision as a pure function of the plan, the balance, the package, what the
plan spent this business month, whether one of its purchases is still being charged, and the time:
no top-up; capped (the top-up would take the month over the cap: none is made at all, no partial
one); or a top-up of the smallest number of packages that brings the balance back above the
threshold, bought in one purchase. The caller holds the wallet's row lock while it decides and
starts the purchase, which is what makes "exactly one top-up" hold across processes.

A declined charge waits `RetryPolicy.retry_after` before the next try (`next_attempt_at`); after
`max_declines` declines in a row the plan pauses, and only a new card resumes it. Its events
(TopUpFailed, PlanPaused, CapReached) live here beside it, since nothing else raises them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.domain.invoices import BillTo
from billing.domain.units import UnitPackage
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import cents
from portal_runtime.lifecycle import Lifecycle, Transition

MAX_THRESHOLD = 1_000_000_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
SYSTEM = "system/units-plan"  # who acts when the plan acts by itself (tops up, pauses): history rows, `by`


class PlanStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    OFF = "off"


class PausedReason(StrEnum):
    DECLINED = "declined"


# "pause": too many declines in a row; "resume": a new card; "turn_on" / "turn_off": the account.
LIFECYCLE = Lifecycle(
    "plan",
    {
        (PlanStatus.ACTIVE, "pause"): PlanStatus.PAUSED,
        (PlanStatus.PAUSED, "resume"): PlanStatus.ACTIVE,
        (PlanStatus.ACTIVE, "turn_off"): PlanStatus.OFF,
        (PlanStatus.PAUSED, "turn_off"): PlanStatus.OFF,
        (PlanStatus.OFF, "turn_on"): PlanStatus.ACTIVE,
    },
)


def _text(value: str | None, name: str, *, longest: int, required: bool = True) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{name} must not be blank", field=name)
        return None
    if len(value) > longest:
        raise InvalidInput(f"{name} has at most {longest} characters", field=name)
    return value.strip()


@dataclass(frozen=True)
class PlanCard:
    """The card the plan charges, as the gateway saved it: its token, brand and last four digits."""

    token: str
    brand: str
    last4: str


@dataclass(frozen=True)
class BillingAddress:
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2, upper case
    company: str | None = None
    line2: str | None = None

    def __post_init__(self) -> None:
        for name, longest, required in (
            ("line1", 200, True),
            ("postal_code", 20, True),
            ("city", 100, True),
            ("company", 200, False),
            ("line2", 200, False),
        ):
            value = _text(getattr(self, name), f"billing_address.{name}", longest=longest, required=required)
            object.__setattr__(self, name, value)
        if not COUNTRY.match(self.country or ""):
            raise InvalidInput("a country is two capital letters (ISO 3166-1)", field="billing_address.country")


@dataclass(frozen=True)
class BillingContact:
    """Who receives the plan's invoices and notices."""

    name: str
    email: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "billing_contact.name", longest=200))
        email = _text(self.email, "billing_contact.email", longest=254)
        if not EMAIL.match(email):
            raise InvalidInput("an email address has one @ and a dot after it", field="billing_contact.email")
        object.__setattr__(self, "email", email)


@dataclass(frozen=True)
class PlanTerms:
    """What the account chooses: the package, the threshold, the cap, whom the invoices go to."""

    package_item_id: uuid.UUID
    billing_address: BillingAddress
    billing_contact: BillingContact
    threshold: int = 0
    monthly_cap: Decimal | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= MAX_THRESHOLD:
            raise InvalidInput(f"threshold is 0 to {MAX_THRESHOLD}", field="threshold")
        if self.monthly_cap is not None:
            if self.monthly_cap <= 0:
                raise InvalidInput("a monthly cap is more than zero (or null: no cap)", field="monthly_cap")
            if self.monthly_cap != cents(self.monthly_cap):
                raise InvalidInput("a monthly cap has at most two decimal places", field="monthly_cap")


@dataclass(frozen=True)
class RetryPolicy:
    """How long a declined top-up waits before the next try, and how many declines in a row pause
    the plan (settings BILLING_UNITS_RETRY_SECONDS, BILLING_UNITS_MAX_DECLINES)."""

    retry_after: timedelta = timedelta(hours=1)
    max_declines: int = 3

    def __post_init__(self) -> None:
        if self.retry_after <= timedelta(0) or self.max_declines < 1:
            raise ValueError("a retry policy waits more than 0 s and pauses after at least 1 decline")


# -- the decision ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoTopUp:
    why: str


@dataclass(frozen=True)
class Capped:
    """The top-up would take the month's spending over the cap: none is made this month."""

    month: str  # YYYY-MM, the business's calendar month
    cap: Decimal
    spent: Decimal
    needed: Decimal
    currency: str
    resumes_on: date


@dataclass(frozen=True)
class TopUp:
    """Buy `quantity` packages in one purchase: `reason` says why (as the plan's answer shows it)."""

    quantity: int
    units: int
    total: Decimal
    currency: str
    reason: str


Decision = NoTopUp | Capped | TopUp


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def packages_needed(balance: int, threshold: int, units: int) -> int:
    """The smallest n >= 1 with balance + n × units > threshold (2,500 short of 0 with 1,000-unit
    packages: 3)."""
    if units < 1:
        raise ValueError("a package holds at least one unit")
    return max(1, (threshold - balance) // units + 1)


def decide(
    plan: Plan,
    *,
    balance: int,
    package: UnitPackage | None,
    spent_this_month: Decimal,
    pending: bool,
    now: datetime,
    today: date,
) -> Decision:
    """Does the plan want a top-up now? `today` is the business date of `now` (its month is the
    cap's); `pending`: one of the plan's purchases is still being charged; `spent_this_month`: the
    plan's completed purchases' totals in that month; `package`: billing's copy of the plan's
    package (None when it is unknown)."""
    if plan.status is not PlanStatus.ACTIVE:
        return NoTopUp(f"the plan is {plan.status}")
    if balance > plan.threshold:
        return NoTopUp(f"the balance ({balance}) is above the threshold ({plan.threshold})")
    if pending:
        return NoTopUp("a top-up is being charged")
    if plan.next_attempt_at is not None and now < plan.next_attempt_at:
        return NoTopUp(f"a declined top-up is tried again at {plan.next_attempt_at.isoformat()}")
    month = month_of(today)
    if plan.capped_month == month:
        return NoTopUp(f"the monthly cap was reached in {month}")
    if package is None or package.retired:
        return NoTopUp(f"the package {plan.package_item_id} is not on sale")
    quantity = packages_needed(balance, plan.threshold, package.units)
    total = cents(package.price * quantity)
    if plan.monthly_cap is not None and spent_this_month + total > plan.monthly_cap:
        return Capped(month, plan.monthly_cap, spent_this_month, total, package.currency, first_of_next_month(today))
    return TopUp(
        quantity=quantity,
        units=quantity * package.units,
        total=total,
        currency=package.currency,
        reason=f"the balance ({balance}) is at or below the threshold ({plan.threshold})",
    )


# -- events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUpFailed:
    """The plan's charge was declined: nothing credited, the invoice voided; `next_attempt_at` is
    the next try (None once paused)."""

    account_id: str
    purchase_id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    total: Decimal
    currency: str
    reason: str
    declines_in_a_row: int
    next_attempt_at: datetime | None
    plan_paused: bool
    billing_contact: BillingContact
    at: datetime


@dataclass(frozen=True)
class PlanPaused:
    account_id: str
    reason: PausedReason
    declines_in_a_row: int
    billing_contact: BillingContact
    at: datetime


@dataclass(frozen=True)
class CapReached:
    account_id: str
    month: str
    cap: Decimal
    spent: Decimal
    needed: Decimal
    currency: str
    resumes_on: date
    billing_contact: BillingContact
    at: datetime


# -- the plan ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """One per account. `history` holds the moves of its lifecycle made since it was loaded."""

    account_id: str
    package_item_id: uuid.UUID
    threshold: int
    monthly_cap: Decimal | None
    card: PlanCard
    billing_address: BillingAddress
    billing_contact: BillingContact
    created_at: datetime
    updated_at: datetime
    status: PlanStatus = PlanStatus.ACTIVE
    paused_reason: PausedReason | None = None
    declines_in_a_row: int = 0
    next_attempt_at: datetime | None = None
    capped_month: str | None = None
    history: list[Transition[PlanStatus]] = field(default_factory=list)
    events: list[TopUpFailed | PlanPaused | CapReached] = field(default_factory=list, repr=False)

    @classmethod
    def start(cls, account_id: str, terms: PlanTerms, card: PlanCard | None, *, by: str, now: datetime) -> Plan:
        """A new plan, active at once: it needs a card."""
        if not account_id:
            raise InvalidInput("a plan needs an account", field="account_id")
        if card is None:
            raise InvalidInput("a plan needs a card to charge", field="card")
        plan = cls(
            account_id=account_id,
            package_item_id=terms.package_item_id,
            threshold=terms.threshold,
            monthly_cap=terms.monthly_cap,
            card=card,
            billing_address=terms.billing_address,
            billing_contact=terms.billing_contact,
            created_at=now,
            updated_at=now,
        )
        plan.history.append(LIFECYCLE.begin(PlanStatus.ACTIVE, by=by, at=now))
        return plan

    # -- what the account does -------------------------------------------------------------------------
    def change(self, terms: PlanTerms, card: PlanCard | None, *, by: str, now: datetime) -> None:
        """New terms (and a new card, when given). A plan that was off is on again; a paused one
        stays paused unless a new card comes with the terms (only a new card resumes it)."""
        self.package_item_id = terms.package_item_id
        self.threshold = terms.threshold
        self.monthly_cap = terms.monthly_cap
        self.billing_address = terms.billing_address
        self.billing_contact = terms.billing_contact
        self.updated_at = now
        if card is not None:
            self.save_card(card, by=by, now=now)
        if self.status is PlanStatus.OFF:
            self._move("turn_on", by=by, now=now)

    def save_card(self, card: PlanCard, *, by: str, now: datetime) -> bool:
        """A new card: declines and backoff start over, and a paused plan is active again (True)."""
        self.card = card
        self.declines_in_a_row = 0
        self.next_attempt_at = None
        self.updated_at = now
        if self.status is PlanStatus.PAUSED:
            self.paused_reason = None
            self._move("resume", by=by, now=now, note="a new card was saved")
            return True
        return False

    def turn_off(self, *, by: str, now: datetime) -> None:
        """No more top-ups (a plan that is off already stays so)."""
        if self.status is not PlanStatus.OFF:
            self.paused_reason = None
            self._move("turn_off", by=by, now=now)
            self.updated_at = now

    # -- what the top-ups do ---------------------------------------------------------------------------
    def consider(
        self,
        *,
        balance: int,
        package: UnitPackage | None,
        spent_this_month: Decimal,
        pending: bool,
        now: datetime,
        today: date,
    ) -> Decision:
        """`decide`, and what the plan keeps of it: a cap reached in an earlier month is cleared;
        a cap reached now is kept for the month (`capped_month`) and told once (CapReached)."""
        month = month_of(today)
        if self.capped_month is not None and self.capped_month < month:
            self.capped_month = None
            self.updated_at = now
        decision = decide(
            self,
            balance=balance,
            package=package,
            spent_this_month=spent_this_month,
            pending=pending,
            now=now,
            today=today,
        )
        if isinstance(decision, Capped):
            self.capped_month = decision.month
            self.updated_at = now
            self.events.append(
                CapReached(
                    account_id=self.account_id,
                    month=decision.month,
                    cap=decision.cap,
                    spent=decision.spent,
                    needed=decision.needed,
                    currency=decision.currency,
                    resumes_on=decision.resumes_on,
                    billing_contact=self.billing_contact,
                    at=now,
                )
            )
        return decision

    @property
    def attempt(self) -> int:
        """The number of the next try since the last approved one (1 after an approval)."""
        return self.declines_in_a_row + 1

    def bill_to(self) -> BillTo:
        """Whom its invoices are addressed to."""
        address, contact = self.billing_address, self.billing_contact
        return BillTo(
            name=contact.name,
            email=contact.email,
            company=address.company,
            line1=address.line1,
            line2=address.line2,
            postal_code=address.postal_code,
            city=address.city,
            country=address.country,
        )

    def top_up_approved(self, *, now: datetime) -> None:
        self.declines_in_a_row = 0
        self.next_attempt_at = None
        self.updated_at = now

    def top_up_declined(
        self,
        *,
        purchase_id: uuid.UUID,
        invoice_id: uuid.UUID,
        invoice_number: str,
        total: Decimal,
        currency: str,
        reason: str,
        policy: RetryPolicy,
        now: datetime,
    ) -> None:
        """One more decline in a row: tried again after the policy's wait, or paused at its
        `max_declines` (TopUpFailed, and PlanPaused when it paused)."""
        self.declines_in_a_row += 1
        self.updated_at = now
        paused = self.status is PlanStatus.ACTIVE and self.declines_in_a_row >= policy.max_declines
        if paused:
            self._move("pause", by=SYSTEM, now=now, note=f"{self.declines_in_a_row} declines in a row")
            self.paused_reason = PausedReason.DECLINED
            self.next_attempt_at = None
        else:
            self.next_attempt_at = now + policy.retry_after
        self.events.append(
            TopUpFailed(
                account_id=self.account_id,
                purchase_id=purchase_id,
                invoice_id=invoice_id,
                invoice_number=invoice_number,
                total=total,
                currency=currency,
                reason=reason,
                declines_in_a_row=self.declines_in_a_row,
                next_attempt_at=self.next_attempt_at,
                plan_paused=paused,
                billing_contact=self.billing_contact,
                at=now,
            )
        )
        if paused:
            self.events.append(
                PlanPaused(
                    account_id=self.account_id,
                    reason=PausedReason.DECLINED,
                    declines_in_a_row=self.declines_in_a_row,
                    billing_contact=self.billing_contact,
                    at=now,
                )
            )

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.status = step.to_status
        self.history.append(step)
