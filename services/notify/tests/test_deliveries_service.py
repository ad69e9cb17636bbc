"""Notify's use cases on a fake unit of work (no database, milliseconds): what each one stores and
publishes, and what it refuses; where each email goes while an address is confirmed or not. The
SQL side (locks, SKIP LOCKED, the per-account order of sending) is in test_service.py on a real
PostgreSQL."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import timedelta

import pytest
from notify_samples import (
    AT,
    CLIENT_AREA,
    CONTACT,
    information_requested,
    invoice_issued,
    order_placed,
    payment_received,
    profile,
    renewal_invoice,
    service_reactivated,
    service_suspended,
    submitted,
    units_balance_low,
    units_cap_reached,
    units_credited,
    units_plan_paused,
    units_purchase_failed,
    units_purchased,
    units_top_up_failed,
)

from notify.adapters.causes import cause_of, context_of
from notify.adapters.events import to_contract
from notify.adapters.smtp import SendError
from notify.adapters.templates import TemplateRenderer
from notify.domain import events as domain
from notify.domain.deliveries import SECRET_SLOT, Audience, Delivery, RetryPolicy, Status
from notify.domain.recipients import CONFIRMATION_TEMPLATE, ConfirmationExpired, Confirming, Recipient
from notify.service.confirmations import Confirmations
from notify.service.deliveries import DeliveryService
from notify.service.inbound import Inbound
from notify.service.sending import Sender
from portal_contracts import Envelope
from portal_contracts.events.billing import BillTo
from portal_contracts.events.notify import EmailFailed, EmailSent
from portal_runtime import context
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.testing import FakeUnitOfWork, FakeUnitsOfWork

POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=10), cap=timedelta(minutes=5))
RENDERER = TemplateRenderer()  # one Jinja environment for the module
ACME, OTHER = Principal("alice", "acme", "customer"), Principal("otto", "other", "customer")
ADMIN = Principal("olga", "ops", "admin")


class FakeRecipients:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[str, Recipient] = {}
        self.locked: list[str] = []

    async def lock_account(self, account_id):
        self.locked.append(account_id)

    async def get(self, account_id, *, for_update=False):
        found = self.rows.get(account_id)
        return self.uow.track(copy.deepcopy(found), self) if found else None

    async def account_of_token(self, token_hash):
        return next(
            (r.account_id for r in self.rows.values() if getattr(r.confirmation, "token_hash", 0) == token_hash), None
        )

    def add(self, recipient):
        return self.uow.track(recipient, self)

    async def save(self, recipient):
        self.rows[recipient.account_id] = copy.deepcopy(recipient)


class FakeUsers:
    """notify's copy of customer-account users (none in these tests)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, object] = {}

    async def of_token(self, token_hash):
        return None

    async def by_login(self, account_id, login):
        return None


class FakeDeliveries:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, Delivery] = {}
        self.pages = 0

    def add(self, delivery):
        return self.uow.track(delivery, self)

    async def has_cause(self, cause_event_id):
        return any(d.cause_event_id == cause_event_id for d in self.rows.values())

    async def has_key(self, dedup_key):
        return any(d.dedup_key == dedup_key for d in self.rows.values())

    async def get(self, delivery_id, *, for_update=False):
        found = self.rows.get(delivery_id)
        return self.uow.track(copy.deepcopy(found), self) if found else None

    async def waiting_for(self, account_id):
        waiting = (Status.WAITING, Status.AWAITING)
        found = [d for d in self.rows.values() if d.account_id == account_id and d.status in waiting]
        return [self.uow.track(copy.deepcopy(d), self) for d in sorted(found, key=lambda d: (d.created_at, d.id))]

    async def next_due(self, now):
        pending = [d for d in self.rows.values() if d.status == Status.PENDING]
        due = [
            d
            for d in pending
            if d.next_attempt_at <= now
            and not any(
                (o.account_id, o.recipient) == (d.account_id, d.recipient) and o.created_at < d.created_at
                for o in pending
            )
        ]
        first = min(due, key=lambda d: (d.next_attempt_at, d.id), default=None)
        return self.uow.track(copy.deepcopy(first), self) if first else None

    async def save(self, delivery):
        self.rows[delivery.id] = copy.deepcopy(delivery)

    async def page(self, *, account_id, status, page, to_business=True):
        self.pages += 1
        found = [
            d
            for d in self.rows.values()
            if (account_id is None or d.account_id == account_id)
            and (status is None or d.status == status)
            and (to_business or d.audience != "business")
        ]
        found.sort(key=lambda d: d.id)
        found.sort(key=lambda d: d.created_at, reverse=True)
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeNotifyUnitOfWork(FakeUnitOfWork):
    """Also remembers the context each contract event was published in (its correlation and
    causation ids, which the real unit of work writes on the envelope)."""

    def __init__(self) -> None:
        super().__init__(self._map)
        self.recipients = FakeRecipients(self)
        self.deliveries = FakeDeliveries(self)
        self.users = FakeUsers(self)
        self.published_in: list[context.Causation] = []

    def _map(self, event):
        mapped = to_contract(event)
        if mapped is not None:
            self.published_in.append(context.current())
        return mapped


class FakeTransport:
    def __init__(self, fail: list[Exception | None] | None = None) -> None:
        self.sent: list[Delivery] = []
        self.texts: list[str] = []  # as the mailbox reads them (a secret in its slot)
        self.fail = list(fail or [])

    async def send(self, delivery) -> None:
        if self.fail and (error := self.fail.pop(0)) is not None:
            raise error
        self.sent.append(delivery)
        self.texts.append(delivery.to_send().text)

    def to(self, address: str) -> list[Delivery]:
        return [d for d in self.sent if d.recipient == address]


@pytest.fixture
def uow() -> FakeNotifyUnitOfWork:
    return FakeNotifyUnitOfWork()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(AT)


CONFIRMING = Confirming(valid_for=timedelta(hours=48), link="https://portal.test/confirm?token={token}")


@pytest.fixture
def inbound(uow, clock) -> Inbound:
    return Inbound(FakeUnitsOfWork(uow), RENDERER, clock, CONFIRMING)


@pytest.fixture
def confirmations(uow, clock) -> Confirmations:
    return Confirmations(FakeUnitsOfWork(uow), RENDERER, clock)


@pytest.fixture
def deliveries(uow, clock) -> DeliveryService:
    return DeliveryService(FakeUnitsOfWork(uow), clock)


def sender(uow, clock, transport) -> Sender:
    return Sender(FakeUnitsOfWork(uow), clock, transport, POLICY)


def wrap(event) -> Envelope:
    return Envelope.wrap(event, producer="test", occurred_at=AT)


async def caused(inbound, event, envelope: Envelope | None = None) -> Delivery | None:
    """The account's delivery the event's handler records (None when it records none)."""
    recorded = await inbound.email_caused(event, cause_of(envelope or wrap(event)))
    return recorded[0] if recorded else None


async def changed(inbound, event, envelope: Envelope | None = None) -> Recipient | None:
    """The profile's handler, as the consumer calls it."""
    return await inbound.profile_changed(event, cause_of(envelope or wrap(event)))


def known(uow, account: str = "acme", email: str = "ops@acme.test", language: str = "en") -> None:
    """An account whose address was confirmed before the test (as a confirmation leaves it)."""
    uow.recipients.rows[account] = Recipient(account, language, AT, email=email, confirmed_at=AT)


def confirmation_to(uow, address: str) -> Delivery:
    [found] = [
        d for d in uow.deliveries.rows.values() if d.template == CONFIRMATION_TEMPLATE and d.recipient == address
    ]
    return found


def token_for(uow, address: str) -> str:
    """The token the confirmation email to `address` will carry (its secret, until it is sent)."""
    return confirmation_to(uow, address).secret


def token_in(text: str) -> str:
    [token] = set(re.findall(r"token=([A-Za-z0-9_-]+)", text))
    return token


def about(delivery: Delivery, envelope: Envelope) -> dict:
    """What EmailSent and EmailFailed say of which email (acme's "request received")."""
    return {
        "delivery_id": delivery.id,
        "account_id": "acme",
        "template": "request_received",
        "cause_event_id": envelope.event_id,
    }


async def drain(uow, clock, transport) -> int:
    return await sender(uow, clock, transport).drain()


# -- the consumer side: recipients and recorded deliveries -----------------------------------------


async def test_an_event_for_a_known_recipient_records_a_rendered_pending_delivery(inbound, uow):
    known(uow, language="de")
    envelope = wrap(submitted())
    delivery = await caused(inbound, submitted(), envelope)
    stored = uow.deliveries.rows[delivery.id]
    assert (stored.status, stored.recipient, stored.language, stored.next_attempt_at) == (
        Status.PENDING,
        "ops@acme.test",
        "de",
        AT,
    )
    assert stored.subject == "Wir haben Ihre Anfrage erhalten" and "Gesamtbetrag" in stored.text
    assert (stored.cause_event_id, stored.correlation_id, stored.cause.event_type) == (
        envelope.event_id,
        envelope.correlation_id,
        "RequestSubmitted",
    )
    assert uow.recipients.locked == ["acme"], "recording takes the account's lock"
    assert uow.published == [], "recording an email publishes nothing"


async def test_an_unknown_recipient_waits_then_awaits_the_confirmation_which_renders_it_in_its_language(
    inbound, confirmations, uow
):
    first = await caused(inbound, submitted())
    asked = await caused(inbound, information_requested())
    elsewhere = await caused(inbound, submitted("other", request_id=uuid.uuid4()))
    assert {d.status for d in uow.deliveries.rows.values()} == {Status.WAITING}

    recipient = await changed(inbound, profile("acme", "ops@acme.test", "pl"))
    assert recipient is not None and uow.recipients.rows["acme"].language == "pl"
    rows = uow.deliveries.rows
    assert {(rows[d.id].status, rows[d.id].recipient) for d in (first, asked)} == {(Status.AWAITING, None)}
    assert rows[elsewhere.id].status == Status.WAITING

    await confirmations.confirm(token_for(uow, "ops@acme.test"))
    assert {(rows[d.id].status, rows[d.id].language) for d in (first, asked)} == {(Status.PENDING, "pl")}
    assert rows[first.id].subject == "Otrzymaliśmy Twoje zgłoszenie" and rows[first.id].recipient == "ops@acme.test"
    assert rows[elsewhere.id].status == Status.WAITING and rows[elsewhere.id].recipient is None
    assert uow.recipients.locked == ["acme", "acme", "other", "acme", "acme"], "every side takes the account's lock"
    assert uow.published == []


async def test_the_same_cause_twice_records_one_delivery(inbound, uow):
    envelope = wrap(invoice_issued())
    assert await caused(inbound, invoice_issued(), envelope) is not None
    assert await caused(inbound, invoice_issued(), envelope) is None
    assert len(uow.deliveries.rows) == 1


async def test_an_older_profile_is_ignored_and_saves_nothing(inbound, confirmations, uow):
    await changed(inbound, profile("acme", "new@acme.test", "tr", at=AT + timedelta(hours=1)))
    commits, deliveries = uow.commits, len(uow.deliveries.rows)
    assert await changed(inbound, profile("acme", "old@acme.test", "en", at=AT)) is None
    assert uow.commits == commits and len(uow.deliveries.rows) == deliveries, "no confirmation for it"
    stored = uow.recipients.rows["acme"]
    assert (stored.pending_email, stored.language) == ("new@acme.test", "tr")
    await confirmations.confirm(token_for(uow, "new@acme.test"))
    delivery = await caused(inbound, submitted())
    assert uow.deliveries.rows[delivery.id].subject == "Talebinizi aldık"


async def test_an_invalid_profile_is_refused_and_addresses_nothing(inbound, uow):
    waiting = await caused(inbound, submitted())
    with pytest.raises(InvalidInput) as refused:
        await changed(inbound, profile("acme", "not-an-address", "en"))
    assert refused.value.field == "email"
    assert uow.recipients.rows == {} and uow.deliveries.rows[waiting.id].status == Status.WAITING
    assert len(uow.deliveries.rows) == 1, "no confirmation"


# -- confirming an address -----------------------------------------------------------------------


async def test_a_new_address_gets_one_confirmation_email_and_the_token_only_as_its_secret(inbound, uow, clock):
    envelope = wrap(profile("acme", "ops@acme.test", "de"))
    await changed(inbound, envelope.payload(), envelope)
    [delivery] = uow.deliveries.rows.values()
    assert (delivery.template, delivery.status, delivery.recipient, delivery.language) == (
        CONFIRMATION_TEMPLATE,
        Status.PENDING,
        "ops@acme.test",
        "de",
    )
    assert (delivery.cause_event_id, delivery.cause.event_type) == (envelope.event_id, "AccountProfileChanged")
    assert delivery.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    token = delivery.secret
    assert token and token not in delivery.text + delivery.html, "the stored rendering holds the slot"
    assert f"https://portal.test/confirm?token={SECRET_SLOT}" in delivery.text and "48 Stunden" in delivery.text
    stored = uow.recipients.rows["acme"]
    assert (stored.email, stored.pending_email) == (None, "ops@acme.test")
    assert token not in repr(stored) and stored.confirmation.token_hash != token
    assert uow.published == [], "nothing leaves notify (the token least of all)"

    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 1
    assert f"https://portal.test/confirm?token={token}" in transport.texts[0], "the mailbox reads the token"
    assert uow.deliveries.rows[delivery.id].secret is None, "forgotten once sent"


async def test_while_a_change_is_pending_emails_go_to_the_confirmed_address_then_to_the_new_one(
    inbound, confirmations, uow, clock
):
    known(uow, email="old@acme.test")
    await changed(inbound, profile("acme", "new@acme.test", "en", at=AT + timedelta(minutes=1)))
    meanwhile = await caused(inbound, submitted())
    assert uow.deliveries.rows[meanwhile.id].recipient == "old@acme.test"
    transport = FakeTransport()
    await drain(uow, clock, transport)
    assert [d.template for d in transport.to("new@acme.test")] == [CONFIRMATION_TEMPLATE], "only the confirmation"
    assert [d.template for d in transport.to("old@acme.test")] == ["request_received"]

    [sent] = [t for d, t in zip(transport.sent, transport.texts, strict=True) if d.recipient == "new@acme.test"]
    confirmed = await confirmations.confirm(token_in(sent))
    assert (confirmed.email, confirmed.confirmed_at, confirmed.pending_email) == ("new@acme.test", AT, None)
    later = await caused(inbound, information_requested())
    assert uow.deliveries.rows[later.id].recipient == "new@acme.test"
    await drain(uow, clock, transport)
    assert [d.template for d in transport.to("new@acme.test")] == [CONFIRMATION_TEMPLATE, "information_requested"]
    assert len(transport.to("old@acme.test")) == 1


async def test_emails_that_awaited_the_confirmation_go_out_once_however_often_it_is_confirmed(
    inbound, confirmations, uow, clock
):
    await changed(inbound, profile("acme", "ops@acme.test", "en"))
    received = await caused(inbound, submitted())
    clock.advance(seconds=1)
    asked = await caused(inbound, information_requested())
    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 1 and [d.template for d in transport.sent] == [CONFIRMATION_TEMPLATE]
    assert {uow.deliveries.rows[d.id].status for d in (received, asked)} == {Status.AWAITING}

    token = token_in(transport.texts[0])  # as the mailbox reads it
    clock.advance(minutes=5)
    first = await confirmations.confirm(token)
    again = await confirmations.confirm(token)
    assert (
        (first.email, first.confirmed_at)
        == (again.email, again.confirmed_at)
        == ("ops@acme.test", AT + timedelta(minutes=5, seconds=1))
    )
    assert await drain(uow, clock, transport) == 2
    assert [d.id for d in transport.sent[1:]] == [received.id, asked.id], "in the order of their events, once each"
    assert await drain(uow, clock, transport) == 0


async def test_the_same_address_again_sends_no_second_confirmation(inbound, uow):
    twice = wrap(profile("acme", "ops@acme.test", "en"))
    await changed(inbound, twice.payload(), twice)
    assert await changed(inbound, twice.payload(), twice) is None, "a replay is an older profile"
    await changed(inbound, profile("acme", "ops@acme.test", "tr", at=AT + timedelta(minutes=1)))
    assert uow.recipients.rows["acme"].language == "tr"
    assert [d.template for d in uow.deliveries.rows.values()] == [CONFIRMATION_TEMPLATE]


async def test_an_unknown_replaced_or_expired_token_is_refused_and_changes_nothing(inbound, confirmations, uow, clock):
    with pytest.raises(NotFound):
        await confirmations.confirm("no-such-token")
    await changed(inbound, profile("acme", "first@acme.test", "en"))
    replaced = token_for(uow, "first@acme.test")
    await changed(inbound, profile("acme", "second@acme.test", "en", at=AT + timedelta(seconds=1)))
    with pytest.raises(NotFound):
        await confirmations.confirm(replaced)
    waiting = await caused(inbound, submitted())
    clock.advance(hours=48)
    commits = uow.commits
    with pytest.raises(ConfirmationExpired) as expired:
        await confirmations.confirm(token_for(uow, "second@acme.test"))
    assert expired.value.status_code == 410
    assert uow.commits == commits and uow.recipients.rows["acme"].email is None
    assert uow.deliveries.rows[waiting.id].status == Status.AWAITING


# -- the sender --------------------------------------------------------------------------------------


async def test_a_sent_email_publishes_email_sent_caused_by_the_emails_cause(inbound, uow, clock):
    known(uow)
    envelope = wrap(submitted())
    delivery = await caused(inbound, submitted(), envelope)
    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 1
    assert [d.id for d in transport.sent] == [delivery.id]
    stored = uow.deliveries.rows[delivery.id]
    assert (stored.status, stored.attempts, stored.sent_at) == (Status.SENT, 1, AT)
    assert uow.published == [EmailSent(**about(delivery, envelope), sent_at=AT)]
    assert uow.published_in == [context.Causation(envelope.correlation_id, envelope.event_id)]
    assert await drain(uow, clock, transport) == 0, "nothing is sent twice"


async def test_failed_attempts_back_off_publish_nothing_then_end_with_email_failed(inbound, uow, clock):
    known(uow)
    envelope = wrap(submitted())
    delivery = await caused(inbound, submitted(), envelope)
    refused = SendError("SMTPConnectError: Error connecting to 127.0.0.1 on port 1")
    transport = FakeTransport([refused] * 3)
    assert await drain(uow, clock, transport) == 1
    stored = uow.deliveries.rows[delivery.id]
    assert (stored.status, stored.attempts, stored.next_attempt_at) == (Status.PENDING, 1, AT + timedelta(seconds=10))
    clock.advance(seconds=9)
    assert await drain(uow, clock, transport) == 0, "not due before its backoff ends"
    clock.advance(seconds=1)
    assert await drain(uow, clock, transport) == 1
    assert uow.published == []
    clock.advance(seconds=20)
    assert await drain(uow, clock, transport) == 1
    stored = uow.deliveries.rows[delivery.id]
    assert (stored.status, stored.attempts, stored.failed_at) == (Status.FAILED, 3, clock.now())
    assert uow.published == [
        EmailFailed(**about(delivery, envelope), error=refused.reason, attempts=3, failed_at=clock.now())
    ]
    assert uow.published_in == [context.Causation(envelope.correlation_id, envelope.event_id)]


async def test_a_permanent_refusal_fails_at_once_and_an_unexpected_error_is_recorded_without_the_address(
    inbound, uow, clock
):
    known(uow)
    refused = await caused(inbound, submitted())
    assert await drain(uow, clock, FakeTransport([SendError("recipient refused (550)", permanent=True)])) == 1
    clock.advance(seconds=1)
    broken = await caused(inbound, information_requested())
    assert await drain(uow, clock, FakeTransport([RuntimeError("boom for ops@acme.test")])) == 1
    rows = uow.deliveries.rows
    assert (rows[refused.id].status, rows[refused.id].attempts) == (Status.FAILED, 1)
    assert (rows[broken.id].status, rows[broken.id].last_error) == (Status.PENDING, "RuntimeError: boom for <address>")
    assert [type(e) for e in uow.published] == [EmailFailed]


async def test_a_waiting_delivery_is_never_attempted(inbound, uow, clock):
    await caused(inbound, submitted())
    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 0 and transport.sent == []


# -- reading and retrying ----------------------------------------------------------------------------


async def failed_delivery(inbound, uow, clock) -> Delivery:
    known(uow)
    delivery = await caused(inbound, submitted())
    await drain(uow, clock, FakeTransport([SendError("550 message refused", permanent=True)]))
    assert uow.deliveries.rows[delivery.id].status == Status.FAILED
    uow.published.clear()
    return delivery


async def test_retry_makes_a_failed_delivery_pending_with_fresh_attempts_and_publishes_nothing(
    inbound, deliveries, uow, clock
):
    delivery = await failed_delivery(inbound, uow, clock)
    clock.advance(minutes=1)
    retried = await deliveries.retry(delivery.id)
    stored = uow.deliveries.rows[delivery.id]
    assert (retried.status, stored.status, stored.attempts, stored.next_attempt_at) == (
        Status.PENDING,
        Status.PENDING,
        0,
        clock.now(),
    )
    assert stored.failed_at is None and uow.published == []
    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 1 and [type(e) for e in uow.published] == [EmailSent]


@pytest.mark.parametrize("state", ["pending", "sent"])
async def test_retrying_a_delivery_that_has_not_failed_is_a_409_that_changes_nothing(
    inbound, deliveries, uow, clock, state
):
    known(uow)
    delivery = await caused(inbound, submitted())
    if state == "sent":
        await drain(uow, clock, FakeTransport())
    before, commits, published = copy.deepcopy(uow.deliveries.rows[delivery.id]), uow.commits, list(uow.published)
    with pytest.raises(InvalidTransition) as refused:
        await deliveries.retry(delivery.id)
    assert refused.value.status_code == 409 and refused.value.extra["current_status"] == state
    assert uow.deliveries.rows[delivery.id] == before, "nothing saved"
    assert uow.commits == commits and uow.published == published, "nothing published"


async def test_retrying_an_unknown_delivery_is_404(deliveries):
    with pytest.raises(NotFound):
        await deliveries.retry(uuid.uuid4())


async def test_lists_are_scoped_customers_their_own_admins_all_or_one_account(inbound, deliveries, uow, clock):
    mine = await caused(inbound, submitted())
    clock.advance(seconds=1)
    newer = await caused(inbound, information_requested())
    theirs = await caused(inbound, submitted("other", request_id=uuid.uuid4()))
    page = PageRequest(10, 0)

    own = await deliveries.list_deliveries(ACME, page=page)
    assert [d.id for d in own.items] == [newer.id, mine.id] and own.total == 2, "newest first"
    assert (await deliveries.list_deliveries(ACME, account_id="acme", page=page)).total == 2
    pages = uow.deliveries.pages
    asked_for_another = await deliveries.list_deliveries(ACME, account_id="other", page=page)
    assert (asked_for_another.items, asked_for_another.total, asked_for_another.limit) == ([], 0, 10)
    assert uow.deliveries.pages == pages, "an empty page without a query"

    assert (await deliveries.list_deliveries(ADMIN, page=page)).total == 3
    assert [d.id for d in (await deliveries.list_deliveries(ADMIN, account_id="other", page=page)).items] == [theirs.id]
    assert (await deliveries.list_deliveries(ADMIN, status=Status.SENT, page=page)).total == 0
    second = await deliveries.list_deliveries(ADMIN, account_id="acme", page=PageRequest(1, 1))
    assert ([d.id for d in second.items], second.total, second.limit, second.offset) == ([mine.id], 2, 1, 1)


async def test_another_accounts_delivery_is_404_like_a_missing_one(inbound, deliveries):
    mine = await caused(inbound, submitted())
    assert (await deliveries.get_delivery(ACME, mine.id)).id == mine.id
    assert (await deliveries.get_delivery(ADMIN, mine.id)).id == mine.id
    with pytest.raises(NotFound):
        await deliveries.get_delivery(OTHER, mine.id)
    with pytest.raises(NotFound):
        await deliveries.get_delivery(ADMIN, uuid.uuid4())


# -- the one mapping -------------------------------------------------------------------------------


def test_only_the_end_of_a_delivery_is_published():
    delivery_id, cause_id = uuid.uuid4(), uuid.uuid4()
    assert to_contract(domain.DeliveryAddressed(delivery_id, "acme", "de", AT)) is None
    assert to_contract(domain.DeliveryAwaitsConfirmation(delivery_id, "acme", AT)) is None
    assert to_contract(domain.ConfirmationRequested("acme", "ops@acme.test", "de", "token", AT)) is None
    assert to_contract(domain.AddressConfirmed("acme", AT)) is None
    assert to_contract(domain.AttemptFailed(delivery_id, 1, "451", AT)) is None
    assert to_contract(domain.DeliveryRetried(delivery_id, AT)) is None
    failed = to_contract(domain.EmailFailed(delivery_id, "acme", "request_received", cause_id, "", 3, AT))
    assert failed == EmailFailed(
        delivery_id=delivery_id,
        account_id="acme",
        template="request_received",
        cause_event_id=cause_id,
        error="unknown error",
        attempts=3,
        failed_at=AT,
    )
    with pytest.raises(TypeError):
        to_contract(object())


# -- the client area's emails (issue 12) ------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(CLIENT_AREA))
async def test_each_client_area_event_records_one_delivery_rendered_in_the_accounts_language(template, inbound, uow):
    known(uow, language="tr")
    event = CLIENT_AREA[template]()
    envelope = wrap(event)
    delivery = await caused(inbound, event, envelope)
    stored = uow.deliveries.rows[delivery.id]
    expected = RENDERER.render(template, "tr", context_of(event))
    assert (stored.template, stored.status, stored.recipient, stored.language) == (
        template,
        Status.PENDING,
        "ops@acme.test",
        "tr",
    )
    assert (stored.subject, stored.text, stored.html) == (expected.subject, expected.text, expected.html)
    assert (stored.cause.event_type, stored.cause.event_id) == (event.event_type, envelope.event_id)
    assert await caused(inbound, event, envelope) is None, "the same event again records nothing more"
    assert len(uow.deliveries.rows) == 1 and uow.published == []


async def test_an_order_invoice_published_as_v1_and_v2_is_one_email_from_v2(inbound, uow):
    known(uow)
    v2 = renewal_invoice()
    v1 = invoice_issued(invoice_id=v2.invoice_id).model_copy(update={"request_id": None, "number": v2.number})
    assert await caused(inbound, v1) is None
    delivery = await caused(inbound, v2)
    assert [d.template for d in uow.deliveries.rows.values()] == ["order_invoice"]
    assert uow.deliveries.rows[delivery.id].subject == "Renewal invoice INV-2026-0100, due on March 31, 2026"


async def test_the_seller_flows_invoice_stays_its_v1_email_and_its_v2_records_nothing(inbound, uow):
    known(uow)
    v1 = invoice_issued()
    v2 = renewal_invoice(source_kind="service_request").model_copy(update={"invoice_id": v1.invoice_id})
    assert (await caused(inbound, v1)).template == "invoice_issued"
    assert await caused(inbound, v2) is None
    [stored] = uow.deliveries.rows.values()
    assert stored.subject == "Your request is approved – invoice INV-2026-0042"


async def test_a_renewal_order_records_no_email_its_invoice_is_the_one(inbound, uow):
    known(uow)
    assert await caused(inbound, order_placed(source="renewal")) is None
    assert uow.deliveries.rows == {} and uow.commits == 0


async def test_a_service_event_for_an_unconfirmed_address_waits_then_goes_out_once_in_its_language(
    inbound, confirmations, uow, clock
):
    suspended = await caused(inbound, service_suspended())
    clock.advance(seconds=1)
    reactivated = await caused(inbound, service_reactivated())
    await changed(inbound, profile("acme", "ops@acme.test", "de"))
    rows = uow.deliveries.rows
    assert {rows[d.id].status for d in (suspended, reactivated)} == {Status.AWAITING}

    await confirmations.confirm(token_for(uow, "ops@acme.test"))
    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 3  # the confirmation and the two, in the order of their events
    assert [d.subject for d in transport.sent if d.template != CONFIRMATION_TEMPLATE] == [
        "Ihr Dienst Web Hosting <Pro> (example.com) wurde gesperrt",
        "Ihr Dienst Web Hosting <Pro> (example.com) ist wieder aktiv",
    ]
    assert await drain(uow, clock, transport) == 0


# -- prepaid units (issue 13): the automatic plan's notices go to its billing contact too ------------

PLAN_NOTICES = {
    "units_purchased": lambda: units_purchased(source="plan"),
    "units_top_up_failed": units_top_up_failed,
    "units_plan_paused": units_plan_paused,
    "units_cap_reached": units_cap_reached,
}


async def recorded(inbound, event, envelope: Envelope | None = None) -> list[Delivery]:
    """Every delivery the event's handler records."""
    return await inbound.email_caused(event, cause_of(envelope or wrap(event)))


def by_audience(uow) -> dict[Audience, Delivery]:
    found = {d.audience: d for d in uow.deliveries.rows.values() if d.template != CONFIRMATION_TEMPLATE}
    assert len(found) == len([d for d in uow.deliveries.rows.values() if d.template != CONFIRMATION_TEMPLATE])
    return found


@pytest.mark.parametrize("template", sorted(PLAN_NOTICES))
async def test_a_plan_notice_goes_to_the_account_and_its_billing_contact_once_each_however_often_it_comes(
    template, inbound, uow, clock
):
    known(uow, language="de")
    event = PLAN_NOTICES[template]()
    envelope = wrap(event)
    first = await recorded(inbound, event, envelope)
    assert [d.audience for d in first] == [Audience.ACCOUNT, Audience.BILLING_CONTACT]
    rows = by_audience(uow)
    account, contact = rows[Audience.ACCOUNT], rows[Audience.BILLING_CONTACT]
    assert {(d.template, d.status, d.language, d.cause_event_id) for d in (account, contact)} == {
        (template, Status.PENDING, "de", envelope.event_id)
    }
    assert (account.recipient, contact.recipient) == ("ops@acme.test", "billing@acme.test")
    assert account.subject == contact.subject
    assert account.text.startswith("Guten Tag,\n") and contact.text.startswith("Guten Tag Berta <Billing>,\n")

    assert await recorded(inbound, event, envelope) == [], "a redelivered event records nothing more"
    assert await recorded(inbound, event.model_copy(), envelope) == []
    assert len(uow.deliveries.rows) == 2 and uow.published == []

    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 2 and await drain(uow, clock, transport) == 0
    assert sorted(d.recipient for d in transport.sent) == ["billing@acme.test", "ops@acme.test"]
    sent = [e for e in uow.published if isinstance(e, EmailSent)]
    assert sorted(e.delivery_id for e in sent) == sorted((account.id, contact.id))
    assert {(e.template, e.cause_event_id) for e in sent} == {(template, envelope.event_id)}


@pytest.mark.parametrize(
    "event",
    [units_purchased(), units_credited(), units_credited(source="plan"), units_purchase_failed(), units_balance_low()],
    ids=["manual receipt", "credited", "credited by the plan", "purchase failed", "balance low"],
)
async def test_a_manual_receipt_and_the_accounts_own_notices_go_to_the_account_alone(event, inbound, uow):
    known(uow, language="pl")
    [delivery] = await recorded(inbound, event)
    assert (delivery.audience, delivery.recipient, delivery.language) == (Audience.ACCOUNT, "ops@acme.test", "pl")


async def test_the_contacts_email_waits_only_for_the_accounts_language_and_the_accounts_for_its_confirmation(
    inbound, confirmations, uow, clock
):
    account, contact = await recorded(inbound, units_top_up_failed())
    rows = uow.deliveries.rows
    assert {rows[d.id].status for d in (account, contact)} == {Status.WAITING}, "no profile: no language yet"

    await changed(inbound, profile("acme", "ops@acme.test", "tr"))
    assert (rows[contact.id].status, rows[contact.id].recipient, rows[contact.id].language) == (
        Status.PENDING,
        "billing@acme.test",
        "tr",
    )
    assert rows[contact.id].text.startswith("Merhaba Berta <Billing>,\n")
    assert (rows[account.id].status, rows[account.id].recipient) == (Status.AWAITING, None)

    clock.advance(seconds=1)
    later = await recorded(inbound, units_plan_paused())  # profile known, address not confirmed yet
    assert [(d.audience, rows[d.id].status) for d in later] == [
        (Audience.ACCOUNT, Status.AWAITING),
        (Audience.BILLING_CONTACT, Status.PENDING),
    ]

    await confirmations.confirm(token_for(uow, "ops@acme.test"))
    assert {rows[d.id].status for d in (account, later[0])} == {Status.PENDING}
    transport = FakeTransport()
    assert await drain(uow, clock, transport) == 5  # the confirmation, and two emails to each address
    assert [d.template for d in transport.to("billing@acme.test")] == ["units_top_up_failed", "units_plan_paused"]
    assert [d.template for d in transport.to("ops@acme.test") if d.template != CONFIRMATION_TEMPLATE] == [
        "units_top_up_failed",
        "units_plan_paused",
    ]


async def test_a_contact_whose_address_is_the_accounts_gets_the_one_email(inbound, uow):
    known(uow, email="Billing@ACME.test")
    [delivery] = await recorded(inbound, units_cap_reached())
    assert (delivery.audience, delivery.recipient) == (Audience.ACCOUNT, "Billing@ACME.test")


async def test_a_contact_address_that_cannot_be_used_is_left_out_and_never_logged(inbound, uow, caplog):
    known(uow)
    broken = CONTACT.model_copy(update={"email": "billing@acme.test\r\nBcc: all@victims.test"})
    with caplog.at_level("INFO"):
        [delivery] = await recorded(inbound, units_plan_paused().model_copy(update={"billing_contact": broken}))
    assert delivery.audience == Audience.ACCOUNT
    assert "names a billing contact address that cannot be used" in caplog.text
    assert "victims" not in caplog.text and "billing@" not in caplog.text


async def test_no_log_line_names_an_address_or_the_contact(inbound, confirmations, uow, clock, caplog):
    with caplog.at_level("DEBUG"):
        await recorded(inbound, units_purchased(source="plan"))
        await changed(inbound, profile("acme", "ops@acme.test", "en"))
        await confirmations.confirm(token_for(uow, "ops@acme.test"))
        await recorded(inbound, units_top_up_failed())
        await drain(uow, clock, FakeTransport())
    assert "recorded" in caplog.text and "addressed" in caplog.text
    for personal in ("billing@acme.test", "ops@acme.test", "Berta", "Billing>"):
        assert personal not in caplog.text


async def test_a_unit_purchases_invoice_records_no_email_in_either_version(inbound, uow):
    """The receipt (UnitsPurchased) is the purchase's invoice email: its InvoiceIssued v1 and v2
    (addressed to the plan's billing contact) record nothing, and commit nothing."""
    known(uow)
    v2 = renewal_invoice(source_kind="unit_top_up").model_copy(
        update={
            "bill_to": BillTo(
                name=CONTACT.name,
                email=CONTACT.email,
                line1="Main St 1",
                postal_code="10115",
                city="Berlin",
                country="DE",
            ),
        }
    )
    v1 = invoice_issued(invoice_id=v2.invoice_id).model_copy(update={"request_id": None, "number": v2.number})
    assert await recorded(inbound, v1) == [] and await recorded(inbound, v2) == []
    assert uow.deliveries.rows == {} and uow.commits == 0


async def test_a_unit_purchases_payment_records_no_email_and_another_invoices_payment_does(inbound, uow):
    """A unit purchase's receipt says it was paid: its PaymentReceived (`source_kind` unit_top_up)
    records nothing; a payment of any other invoice, or one told before `source_kind` existed,
    has its email."""
    known(uow)
    unit = payment_received().model_copy(update={"source_kind": "unit_top_up", "request_id": None})
    assert await recorded(inbound, unit) == [] and uow.deliveries.rows == {}
    for source_kind in ("service_request", None):
        paid = payment_received(invoice_id=uuid.uuid4()).model_copy(update={"source_kind": source_kind})
        assert [d.template for d in await recorded(inbound, paid)] == ["payment_received"]
