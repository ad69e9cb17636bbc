"""The payment gateway behind card, saved-card and PayPal payments, and a sandbox that behaves
like a provider's test mode.

Charges carry an idempotency key: asking again with the same key returns the first result and
moves no more money. A real provider keeps these results on its side, for every client process
at once. The sandbox is a test double of such a provider, and it must keep that promise across
processes too: two billing replicas (or a worker that crashed and charges a pending purchase
again) asking with one key must move money once, and tests must be able to count the charges
from outside the process. So `SandboxGateway` keeps its state in billing's own database:

- `gateway_sandbox_charges`: one row per idempotency key (its primary key) with the result
  (approved + reference, or the decline reason) and what was charged: method, card brand and
  last four digits, amount, currency, description, when. The first request inserts it
  (`INSERT ... ON CONFLICT DO NOTHING`), then every request reads the row that won, so two
  processes asking at the same moment get the same answer.
- `gateway_sandbox_cards`: saved cards: token, brand, last four digits and the decline reason of
  the test number it was saved from. Never the card number, never the cvc.

It works in its own short transactions on its own sessions, never the caller's: a caller that
rolls back does not undo a charge, as with a real provider. `InMemorySandboxGateway` follows the
same rules in process memory, for tests without PostgreSQL. `charges(...)` reads the charges
back for tests."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from billing.adapters.sandbox_tables import SandboxCardRow, SandboxChargeRow
from billing.domain.cards import Card
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.db import make_engine, make_sessionmaker


@dataclass(frozen=True)
class GatewayResult:
    approved: bool
    reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SavedCard:
    """A card kept by the provider: billing keeps only these three."""

    token: str
    brand: str
    last4: str


class PaymentGateway(Protocol):
    async def charge_card(
        self, *, card: Card, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult: ...

    async def charge_paypal(
        self, *, payer: str, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult: ...

    async def save_card(self, card: Card) -> SavedCard: ...

    async def charge_saved_card(
        self, *, token: str, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult:
        """A token the gateway does not know declines with reason "unknown_card"."""
        ...


# Test numbers in the style of the big providers' test modes.
DECLINING_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}
DECLINING_PAYPAL = {"declined@paypal.example": "payer_action_required"}
UNKNOWN_CARD = "unknown_card"


@dataclass(frozen=True)
class SandboxCharge:
    """One answered charge as the sandbox keeps it (a row of `gateway_sandbox_charges`)."""

    idempotency_key: str
    approved: bool
    reference: str | None
    reason: str | None
    method: str  # card | saved_card | paypal
    brand: str | None
    last4: str | None
    amount: Decimal
    currency: str
    description: str
    charged_at: datetime

    @property
    def result(self) -> GatewayResult:
        return GatewayResult(approved=self.approved, reference=self.reference, reason=self.reason)


@dataclass(frozen=True)
class SandboxCard:
    """A saved card as the sandbox keeps it (a row of `gateway_sandbox_cards`)."""

    token: str
    brand: str
    last4: str
    decline_reason: str | None
    saved_at: datetime


class _Sandbox:
    """The sandbox's rules, whatever keeps its state: every valid card approves except the
    declining test numbers (4242424242424242 approves, 4000000000000002 declines); a card saved
    from a declining number declines with its reason when charged; PayPal approves every payer
    except declined@paypal.example. Only brand and last four digits are kept."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    async def charge_card(
        self, *, card: Card, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult:
        reason = DECLINING_CARDS.get(card.number)
        return await self._charge(
            self._attempt(idempotency_key, reason, "card", amount, currency, description, card.brand, card.last4)
        )

    async def charge_paypal(
        self, *, payer: str, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult:
        reason = DECLINING_PAYPAL.get(payer.strip().lower())
        return await self._charge(self._attempt(idempotency_key, reason, "paypal", amount, currency, description))

    async def save_card(self, card: Card) -> SavedCard:
        saved = SandboxCard(
            token=f"sbx_card_{uuid.uuid4().hex[:24]}",
            brand=card.brand,
            last4=card.last4,
            decline_reason=DECLINING_CARDS.get(card.number),
            saved_at=self.clock.now(),
        )
        await self._save(saved)
        return SavedCard(saved.token, saved.brand, saved.last4)

    async def charge_saved_card(
        self, *, token: str, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult:
        card = await self._card(token)
        if card is None:
            attempt = self._attempt(idempotency_key, UNKNOWN_CARD, "saved_card", amount, currency, description)
        else:
            attempt = self._attempt(
                idempotency_key,
                card.decline_reason,
                "saved_card",
                amount,
                currency,
                description,
                card.brand,
                card.last4,
            )
        return await self._charge(attempt)

    def _attempt(
        self,
        key: str,
        reason: str | None,
        method: str,
        amount: Decimal,
        currency: str,
        description: str,
        brand: str | None = None,
        last4: str | None = None,
    ) -> SandboxCharge:
        return SandboxCharge(
            idempotency_key=key,
            approved=reason is None,
            reference=None if reason else f"sbx_{uuid.uuid4().hex[:16]}",
            reason=reason,
            method=method,
            brand=brand,
            last4=last4,
            amount=amount,
            currency=currency,
            description=description,
            charged_at=self.clock.now(),
        )

    async def _charge(self, attempt: SandboxCharge) -> GatewayResult:
        """The result stored for the attempt's key: this attempt's when it is the first."""
        raise NotImplementedError

    async def _save(self, card: SandboxCard) -> None:
        raise NotImplementedError

    async def _card(self, token: str) -> SandboxCard | None:
        raise NotImplementedError


class SandboxGateway(_Sandbox):
    """The sandbox in billing's database (see the module), on sessions of that database that no
    caller's unit of work shares (e.g. the runtime's `rt.sessions`)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.sessions = sessions

    async def _charge(self, attempt: SandboxCharge) -> GatewayResult:
        async with self.sessions() as session, session.begin():
            # Waits for another transaction inserting the same key, then does nothing; the read
            # (a new snapshot in READ COMMITTED) sees the row that won.
            await session.execute(
                insert(SandboxChargeRow)
                .values(**asdict(attempt))
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = await session.get_one(SandboxChargeRow, attempt.idempotency_key)
            return GatewayResult(approved=row.approved, reference=row.reference, reason=row.reason)

    async def _save(self, card: SandboxCard) -> None:
        async with self.sessions() as session, session.begin():
            session.add(SandboxCardRow(**asdict(card)))

    async def _card(self, token: str) -> SandboxCard | None:
        async with self.sessions() as session:
            row = await session.get(SandboxCardRow, token)
        return None if row is None else SandboxCard(row.token, row.brand, row.last4, row.decline_reason, row.saved_at)


class InMemorySandboxGateway(_Sandbox):
    """The same sandbox in process memory, for tests without PostgreSQL (one process only).
    `charges` holds the approved charges (the money that moved), as `charges(...)` answers."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._results: dict[str, SandboxCharge] = {}
        self._cards: dict[str, SandboxCard] = {}
        self.charges: list[SandboxCharge] = []

    async def _charge(self, attempt: SandboxCharge) -> GatewayResult:
        charge = self._results.setdefault(attempt.idempotency_key, attempt)
        if charge is attempt and charge.approved:
            self.charges.append(charge)
        return charge.result

    async def _save(self, card: SandboxCard) -> None:
        self._cards[card.token] = card

    async def _card(self, token: str) -> SandboxCard | None:
        return self._cards.get(token)


async def charges(
    source: str | AsyncEngine | async_sessionmaker[AsyncSession] | AsyncSession, *, approved: bool | None = True
) -> list[SandboxCharge]:
    """The charges the DB-backed sandbox answered, oldest first, read from billing's database
    (its URL, an engine, a session maker or a session): by default the approved ones (money that
    moved); `approved=False` the declines, `approved=None` all of them."""
    query = select(SandboxChargeRow).order_by(SandboxChargeRow.charged_at, SandboxChargeRow.idempotency_key)
    if approved is not None:
        query = query.where(SandboxChargeRow.approved.is_(approved))
    if isinstance(source, AsyncSession):
        rows = list(await source.scalars(query))
    elif isinstance(source, str):
        engine = make_engine(source)
        try:
            return await charges(engine, approved=approved)
        finally:
            await engine.dispose()
    else:
        sessions = source if isinstance(source, async_sessionmaker) else make_sessionmaker(source)
        async with sessions() as session:
            rows = list(await session.scalars(query))
    return [SandboxCharge(**{c.key: getattr(row, c.key) for c in SandboxChargeRow.__table__.columns}) for row in rows]
