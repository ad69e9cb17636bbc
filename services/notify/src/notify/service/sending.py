"""The sender: takes due deliveries one at a time, sends, and records the outcome with its
event (EmailSent / EmailFailed) in the same unit of work, one per attempt.

The delivery row stays locked (FOR UPDATE SKIP LOCKED) while its email is handed to the SMTP
server, so parallel senders never send the same one. If the process dies after the server
accepted the email but before the commit, the row is still pending and the email is sent
again (same Message-ID): at least once, never lost; a double needs a crash in that window."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from notify.adapters.causes import caused_by
from notify.adapters.smtp import SendError, redact
from notify.domain.deliveries import Delivery, RetryPolicy, Status
from portal_runtime.clock import Clock
from portal_runtime.faults import Waiting, describe, poll_forever
from portal_runtime.metrics import EMAILS
from portal_runtime.uow import UnitsOfWork
from portal_runtime.wake import Wakeup

log = logging.getLogger(__name__)

# A trigger on `deliveries` notifies this channel when a transaction that inserted some commits
# (notify's migration 0008).
DELIVERIES_CHANNEL = "notify_deliveries"


class Transport(Protocol):
    async def send(self, delivery: Delivery) -> None:
        """Hand the email over; raise SendError when it was not accepted."""


class Sender:
    def __init__(self, uow: UnitsOfWork, clock: Clock, transport: Transport, policy: RetryPolicy) -> None:
        self.uow = uow
        self.clock = clock
        self.transport = transport
        self.policy = policy

    async def send_next(self) -> Delivery | None:
        """Attempt the most overdue pending delivery; None when nothing is due."""
        async with self.uow() as uow:
            delivery = await uow.deliveries.next_due(self.clock.now())  # locked until this unit of work ends
            if delivery is None:
                return None
            try:
                await self.transport.send(delivery)
            except Exception as exc:  # every failure is recorded on the delivery, none is lost
                error = exc if isinstance(exc, SendError) else SendError(redact(f"{type(exc).__name__}: {exc}"))
                delivery.attempt_failed(error.reason, self.clock.now(), self.policy, permanent=error.permanent)
                log.warning(
                    "notify: delivery %s (%s) attempt %d failed%s: %s",
                    delivery.id,
                    delivery.template,
                    delivery.attempts,
                    ", giving up" if delivery.status == Status.FAILED else "",
                    error.reason,
                )
            else:
                delivery.succeeded(self.clock.now())
                log.info("notify: delivery %s (%s) sent", delivery.id, delivery.template)
            with caused_by(delivery.cause):  # EmailSent / EmailFailed belong to the email's conversation
                await uow.commit()
            outcome = {Status.SENT: "sent", Status.FAILED: "given_up"}.get(delivery.status, "failed")
            EMAILS.labels("notify", outcome).inc()  # portal_emails_total, once the attempt is recorded
        return delivery

    async def drain(self) -> int:
        """Send until nothing is due; returns how many attempts were made."""
        count = 0
        while await self.send_next() is not None:
            count += 1
        return count

    async def run(self, *, poll_seconds: float, concurrency: int = 1, wakeup: Wakeup | None = None) -> None:
        """Forever: drain what is due, then wait a poll interval, or less: until a transaction
        that staged a delivery commits (`wakeup`, on `DELIVERIES_CHANNEL`); the poll still finds
        retries whose backoff ended. Survives a database or SMTP outage."""
        waiting = Waiting("notify", "sender")  # logged once per outage, not per try
        try:
            await asyncio.gather(
                *(
                    poll_forever(
                        self.drain,
                        waiting=waiting,
                        poll_seconds=poll_seconds,
                        describe_error=lambda exc: redact(describe(exc)),
                        pause=wakeup.wait if wakeup is not None else asyncio.sleep,
                    )
                    for _ in range(concurrency)
                )
            )
        finally:
            if wakeup is not None:
                await wakeup.close()
