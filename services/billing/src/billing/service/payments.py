"""Paying invoices, once per Idempotency-Key, with the payment gateway called outside the
transaction that locks the invoice:

1. claim: one unit of work locks the invoice, claims the key (the runtime's `idempotency` table),
   checks everything (the invoice exists and is the caller's, the method is the caller's to use,
   the currency, the amount not above what is due less what payments in flight hold) and reserves
   the amount on the invoice (`payment_reservations`); it commits. A refusal raises and rolls the
   claim back (the key stays free for a corrected request).
2. charge: the gateway is asked, with no transaction open and no lock held.
3. record: a second unit of work locks the invoice again, turns the reservation into the payment
   (re-checking the amount due) or releases it on a decline, stores the answer for the key and
   commits with the events. An order's invoice whose order was cancelled while the payment was
   in flight is voided then, unless that payment paid it in full (`billing.service.orders`).

Two payments at once with different keys cannot both charge beyond what is due: the second's
claim sees the first's reservation and is refused before its card is charged. The same key sent
again while the first request is charging waits for the first answer and replays it.

A request that died between its claim and its record (its process killed while the gateway was
asked) leaves its key claimed without an answer and its amount reserved. A retry with the same key
takes it over: once the reservation is older than CLAIM_LEASE_SECONDS (or at once when the first
request gave its reservation back after a gateway error, its outcome unknown), the retry charges
with the same gateway key, which the gateway answers with the first charge's result (no second
charge), and records it. The reservation's id is derived from the caller, key and request, so the
retry finds it; the record replays an answer already stored for the key (a first request that was
only slow), so a payment is recorded once however many requests carry its key."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from billing.adapters.gateway import GatewayResult, PaymentGateway
from billing.domain.invoices import Invoice, Payment, Reservation, SourceKind
from billing.domain.payments import PaymentRequest, check_method, fingerprint
from billing.service.invoicing import visible
from billing.service.orders import void_if_cancelled
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict
from portal_runtime.idempotency import Answer, KeyWithoutAnswer
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)

# How long a request waits for the answer of another request with its key that is still charging.
ANSWER_WAIT_SECONDS = 30.0
ANSWER_POLL_SECONDS = 0.05
# A request still charging after this long is presumed dead: a retry with its key takes it over.
CLAIM_LEASE_SECONDS = 10.0
RESERVATIONS = uuid.UUID("6f1c2a4e-8d3b-4c57-9a0e-2b7d5e91c3f4")  # namespace of reservation ids


def reservation_id(caller: str, key: str, fingerprint: str) -> uuid.UUID:
    """The one reservation a request with this key and body makes (found again by its retries)."""
    return uuid.uuid5(RESERVATIONS, f"{caller}\n{key}\n{fingerprint}")


@dataclass(frozen=True)
class PaymentApproved:
    invoice: Invoice
    payment: Payment


@dataclass(frozen=True)
class PaymentDeclined:
    invoice: Invoice
    method: str
    reason: str


# Turns the outcome of a payment into the HTTP answer (status, JSON body) kept for replays.
Render = Callable[[PaymentApproved | PaymentDeclined], Answer]


@dataclass(frozen=True)
class _Claimed:
    invoice_number: str
    reservation_id: uuid.UUID


class Payments:
    def __init__(self, uow: UnitsOfWork, clock: Clock, gateway: PaymentGateway) -> None:
        self.uow = uow
        self.clock = clock
        self.gateway = gateway

    async def pay(self, request: PaymentRequest, *, caller: Principal, idempotency_key: str, render: Render) -> Answer:
        """Pay (or record a bank transfer), once per Idempotency-Key: claim, charge, record (see
        the module). Declines are answers too (stored, with PaymentFailed)."""
        check_method(request, is_admin=caller.is_admin)
        fp = fingerprint(request)
        claimed = await self._claim(request, caller=caller, key=idempotency_key, fingerprint=fp)
        if isinstance(claimed, Answer):
            return claimed
        try:
            result = await self._charge(
                request, claimed.invoice_number, gateway_key=f"{caller.account_id}:{idempotency_key}:{fp[:16]}"
            )
        except BaseException:
            # Whether money moved is unknown: the reservation is given back, and the key keeps its
            # claim without an answer (a retry with it asks the gateway again, which dedups by its key).
            await self._release(request.invoice_id, claimed.reservation_id)
            raise
        return await self._record(request, claimed, result, caller=caller, key=idempotency_key, render=render)

    # -- 1. claim and reserve ---------------------------------------------------------------
    async def _claim(
        self, request: PaymentRequest, *, caller: Principal, key: str, fingerprint: str
    ) -> _Claimed | Answer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WAIT_SECONDS
        while True:
            try:
                async with self.uow() as uow:
                    invoice = visible(
                        await uow.invoices.get(request.invoice_id, for_update=True), request.invoice_id, caller
                    )
                    if invoice.source.kind == SourceKind.UNIT_TOP_UP:
                        # Its purchase charges it (`billing.service.units`): a second payment here
                        # would charge the card twice for one set of units.
                        raise Conflict(
                            f"invoice {invoice.number} is paid by its unit purchase's own charge, not here",
                            current_status=invoice.status.value,
                        )
                    replayed = await uow.idempotency.claim(caller.account_id, key, fingerprint)
                    if replayed is not None:
                        return replayed
                    reservation = Reservation(
                        id=reservation_id(caller.account_id, key, fingerprint),
                        amount=request.amount,
                        method=request.method,
                        reserved_at=self.clock.now(),
                    )
                    invoice.reserve(reservation, currency=request.currency)
                    await uow.commit()
                    return _Claimed(invoice.number, reservation.id)
            except KeyWithoutAnswer:
                # The key's first request is charging (claimed, no answer yet): wait for its answer,
                # or take it over when it is presumed dead (see the module).
                taken = await self._take_over(request, caller=caller, key=key, fingerprint=fingerprint)
                if taken is not None:
                    return taken
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(ANSWER_POLL_SECONDS)

    async def _take_over(
        self, request: PaymentRequest, *, caller: Principal, key: str, fingerprint: str
    ) -> _Claimed | Answer | None:
        """The claim of this key's first request, when that request is presumed dead; its answer
        when it has one by now; None while it may still be charging."""
        held_id = reservation_id(caller.account_id, key, fingerprint)
        async with self.uow() as uow:
            invoice = visible(await uow.invoices.get(request.invoice_id, for_update=True), request.invoice_id, caller)
            answer = await uow.idempotency.answered(caller.account_id, key)
            if answer is not None:
                return answer
            held = next((r for r in invoice.reservations if r.id == held_id), None)
            if held is not None:
                age = (self.clock.now() - held.reserved_at).total_seconds()
                return _Claimed(invoice.number, held.id) if age >= CLAIM_LEASE_SECONDS else None
            # Given back after a gateway error (outcome unknown): held again, and asked again.
            invoice.reserve(
                Reservation(id=held_id, amount=request.amount, method=request.method, reserved_at=self.clock.now()),
                currency=request.currency,
            )
            await uow.commit()
            log.warning("payment of invoice %s: a retry took over a request that had no answer", invoice.number)
            return _Claimed(invoice.number, held_id)

    # -- 2. charge --------------------------------------------------------------------------
    async def _charge(self, request: PaymentRequest, number: str, *, gateway_key: str) -> GatewayResult:
        description = f"Invoice {number}"
        if request.method == "card":
            return await self.gateway.charge_card(
                card=request.card,
                amount=request.amount,
                currency=request.currency,
                description=description,
                idempotency_key=gateway_key,
            )
        if request.method == "paypal":
            return await self.gateway.charge_paypal(
                payer=request.payer_reference,
                amount=request.amount,
                currency=request.currency,
                description=description,
                idempotency_key=gateway_key,
            )
        return GatewayResult(approved=True)  # a bank transfer, recorded by an admin: the money is there

    # -- 3. record --------------------------------------------------------------------------
    async def _record(
        self,
        request: PaymentRequest,
        claimed: _Claimed,
        result: GatewayResult,
        *,
        caller: Principal,
        key: str,
        render: Render,
    ) -> Answer:
        async with self.uow() as uow:
            invoice = await uow.invoices.get(request.invoice_id, for_update=True)
            recorded = await uow.idempotency.answered(caller.account_id, key)
            if recorded is not None:  # another request with this key recorded it (see the module)
                return recorded
            now = self.clock.now()
            if result.approved:
                payment = Payment(
                    id=uuid.uuid4(),
                    method=request.method,
                    amount=request.amount,
                    currency=request.currency,
                    payer_reference=request.payer_reference,
                    paid_at=now,
                    recorded_by=caller.actor,
                    card_brand=request.card.brand if request.card else None,
                    card_last4=request.card.last4 if request.card else None,
                    gateway_reference=result.reference,
                )
                # The reservation held the amount since the claim: the re-check cannot find it taken.
                invoice.record_payment(payment, now=now, reservation_id=claimed.reservation_id)
                outcome: PaymentApproved | PaymentDeclined = PaymentApproved(invoice, payment)
            else:
                reason = result.reason or "declined"
                invoice.release(claimed.reservation_id)
                invoice.payment_failed(method=request.method, reason=reason, now=now)
                outcome = PaymentDeclined(invoice, request.method, reason)
            await void_if_cancelled(uow, invoice, self.clock)
            answer = await uow.idempotency.store(caller.account_id, key, render(outcome))
            await uow.commit()
        return answer

    async def _release(self, invoice_id: uuid.UUID, reservation_id: uuid.UUID) -> None:
        try:
            async with self.uow() as uow:
                invoice = await uow.invoices.get(invoice_id, for_update=True)
                invoice.release(reservation_id)
                await void_if_cancelled(uow, invoice, self.clock)
                await uow.commit()
        except Exception:  # the original failure matters more; the hold stays until released by hand
            log.exception("could not release reservation %s of invoice %s", reservation_id, invoice_id)
