import uuid
from decimal import Decimal

import pytest
from orders_testkit import NOW, offer

from orders.domain import events
from orders.domain.offers import NotOfferedYet
from orders.domain.requests import LIFECYCLE, ServiceRequest, Status
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition

DRAFT, SUBMITTED, DISCARDED = Status.DRAFT, Status.SUBMITTED, Status.DISCARDED
INFORMATION_REQUESTED, APPROVED, REJECTED, ACTIVE = (
    Status.INFORMATION_REQUESTED,
    Status.APPROVED,
    Status.REJECTED,
    Status.ACTIVE,
)

A = offer("49.90", name="SEO")
B = offer("12.00", billing="one_time", name="Setup")
OFFERS = {A.item_id: A, B.item_id: B}


def draft(*lines) -> ServiceRequest:
    r = ServiceRequest.create("acme", by="acme", now=NOW)
    for o, qty in lines or ((A, 2),):
        r.set_line(o.item_id, qty, OFFERS)
    return r


def in_status(status: str) -> ServiceRequest:
    r = draft()
    path = {
        DRAFT: [],
        DISCARDED: ["discard"],
        SUBMITTED: ["submit"],
        INFORMATION_REQUESTED: ["submit", "ask"],
        APPROVED: ["submit", "approve"],
        REJECTED: ["submit", "reject"],
        ACTIVE: ["submit", "approve", "activate"],
    }[status]
    for step in path:
        ACTIONS[step](r)
    assert r.status == status
    r.events.clear()
    return r


ACTIONS = {
    "submit": lambda r: r.submit(OFFERS, by="acme", now=NOW),
    "discard": lambda r: r.discard(by="acme", now=NOW),
    "ask": lambda r: r.ask("Which domain?", by="ops", now=NOW),
    "answer": lambda r: r.answer("example.com", by="acme", now=NOW),
    "approve": lambda r: r.approve(by="ops", now=NOW),
    "reject": lambda r: r.reject("Not in your region", by="ops", now=NOW),
    "activate": lambda r: r.activate(by="billing", now=NOW),
}
TARGET = {
    "submit": SUBMITTED,
    "discard": DISCARDED,
    "ask": INFORMATION_REQUESTED,
    "answer": SUBMITTED,
    "approve": APPROVED,
    "reject": REJECTED,
    "activate": ACTIVE,
}
ALLOWED = {
    (DRAFT, "submit"),
    (DRAFT, "discard"),
    (SUBMITTED, "ask"),
    (SUBMITTED, "approve"),
    (SUBMITTED, "reject"),
    (INFORMATION_REQUESTED, "answer"),
    (INFORMATION_REQUESTED, "reject"),
    (APPROVED, "activate"),
}


# The typed event each move raises.
RAISES = {
    "submit": events.RequestSubmitted,
    "discard": events.RequestDiscarded,
    "ask": events.InformationRequested,
    "answer": events.InformationProvided,
    "approve": events.RequestApproved,
    "reject": events.RequestRejected,
    "activate": events.RequestActivated,
}


def test_the_transition_table_is_the_documented_one():
    moves = {(s, a): t for (s, a), t in LIFECYCLE.table.items() if a != "edit"}
    assert {(s, a) for s, a in moves} == ALLOWED
    assert all(moves[(s, a)] == TARGET[a] for s, a in moves)
    assert {s for s, a in LIFECYCLE.table if a == "edit"} == {DRAFT} == {LIFECYCLE.table[(DRAFT, "edit")]}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_in_every_status(status, action):
    r = in_status(status)
    history = list(r.history)
    if (status, action) in ALLOWED:
        ACTIONS[action](r)
        assert r.status == TARGET[action]
        step = r.history[-1]
        assert r.history == [*history, step]
        assert (step.from_status, step.to_status, step.at) == (status, TARGET[action], NOW)
        [event] = r.events
        assert type(event) is RAISES[action] and (event.request_id, event.account_id, event.at) == (r.id, "acme", NOW)
    elif (status, action) == (ACTIVE, "activate"):
        assert ACTIONS[action](r) == []  # a payment seen again: nothing to do
        assert r.status == ACTIVE and r.events == [] and r.history == history
    else:
        before = (r.status, r.updated_at, list(r.lines))
        with pytest.raises(InvalidTransition) as err:
            ACTIONS[action](r)
        assert err.value.status_code == 409 and err.value.extra["current_status"] == status
        assert (r.status, r.updated_at, list(r.lines)) == before
        assert r.events == [] and r.history == history


def test_create_starts_a_draft_with_its_history():
    r = ServiceRequest.create("acme", by="acme", now=NOW)
    assert r.status == DRAFT and r.lines == []
    [step] = r.history
    assert (step.from_status, step.to_status, step.by) == (None, DRAFT, "acme")
    assert r.events == []  # nothing to publish for a draft


@pytest.mark.parametrize("status", [s for s in Status if s != DRAFT])
def test_only_a_draft_is_edited(status):
    r = in_status(status)
    with pytest.raises(InvalidTransition) as err:
        r.set_line(B.item_id, 1, OFFERS)
    assert err.value.extra["current_status"] == status
    with pytest.raises(InvalidTransition):
        r.remove_line(A.item_id)
    assert [(line.item_id, line.quantity) for line in r.lines] == [(A.item_id, 2)]


def test_lines_are_added_changed_and_removed():
    r = draft((A, 1), (B, 3))
    r.set_line(A.item_id, 5, OFFERS)
    assert [(line.item_id, line.quantity) for line in r.lines] == [(A.item_id, 5), (B.item_id, 3)]
    r.remove_line(A.item_id)
    assert [line.item_id for line in r.lines] == [B.item_id]
    with pytest.raises(NotFound) as err:
        r.remove_line(A.item_id)
    assert err.value.field == "item_id"


@pytest.mark.parametrize("qty", [0, -1, 1001])
def test_quantity_is_bounded(qty):
    with pytest.raises(InvalidInput) as err:
        draft().set_line(B.item_id, qty, OFFERS)
    assert err.value.field == "quantity"


def test_an_item_not_offered_cannot_be_added_and_is_named():
    gone = offer(status="retired")
    unknown = uuid.uuid4()
    r = draft()
    for item_id, refusal in ((gone.item_id, InvalidInput), (unknown, NotOfferedYet)):
        with pytest.raises(refusal) as err:
            r.set_line(item_id, 1, {**OFFERS, gone.item_id: gone})
        assert err.value.field == "item_id" and err.value.extra["item_id"] == str(item_id)
    # unknown to the copy: perhaps created a moment ago, so worth asking again (409, Retry-After)
    assert (NotOfferedYet.status_code, NotOfferedYet.problem_kind, NotOfferedYet.retry_after) == (
        409,
        "not-offered-yet",
        1,
    )
    assert [line.item_id for line in r.lines] == [line.item_id for line in draft().lines]


def test_one_currency_per_request():
    usd = offer(currency="USD")
    r = draft()
    with pytest.raises(InvalidInput) as err:
        r.set_line(usd.item_id, 1, {**OFFERS, usd.item_id: usd}, field="lines[1].item_id")
    assert err.value.field == "lines[1].item_id" and "USD" in err.value.message
    assert [line.item_id for line in r.lines] == [A.item_id]


def test_an_empty_request_cannot_be_submitted():
    r = ServiceRequest.create("acme", by="acme", now=NOW)
    with pytest.raises(Conflict) as err:
        r.submit(OFFERS, by="acme", now=NOW)
    assert err.value.field == "lines" and r.status == DRAFT


def test_submitting_with_a_retired_item_names_it_and_changes_nothing():
    r = draft((A, 1), (B, 1))
    retired_b = offer(status="retired", item_id=B.item_id)
    with pytest.raises(Conflict) as err:
        r.submit({A.item_id: A, B.item_id: retired_b}, by="acme", now=NOW)
    assert err.value.field == "item_id" and err.value.extra["item_id"] == str(B.item_id)
    assert r.status == DRAFT and r.submitted_at is None and all(line.frozen is None for line in r.lines)


def test_submit_freezes_prices_so_later_catalog_changes_do_not_move_the_total():
    r = draft((A, 2), (B, 1))
    summary = r.submit(OFFERS, by="acme", now=NOW)
    assert summary.total == Decimal("111.80") and summary.currency == "EUR"
    dearer = {A.item_id: offer("99.00", item_id=A.item_id), B.item_id: offer("1.00", item_id=B.item_id)}
    assert r.summary(dearer).total == Decimal("111.80")
    assert r.total == Decimal("111.80") and r.submitted_at == NOW


def test_a_draft_is_priced_from_the_current_offers():
    r = draft((A, 2))
    assert r.summary({A.item_id: offer("5.00", item_id=A.item_id)}).total == Decimal("10.00")


def test_answering_returns_to_review_and_keeps_the_note():
    r = in_status(INFORMATION_REQUESTED)
    r.answer("  example.com ", by="acme", now=NOW)
    assert r.status == SUBMITTED and r.history[-1].note == "example.com"
    [provided] = r.events
    assert (provided.answer, provided.by) == ("example.com", "acme")


@pytest.mark.parametrize("action, field", [("ask", "question"), ("reject", "reason")])
def test_blank_notes_are_refused_naming_the_field(action, field):
    r = in_status(SUBMITTED)
    with pytest.raises(InvalidInput) as err:
        getattr(r, action)("   ", by="ops", now=NOW)
    assert err.value.field == field and r.status == SUBMITTED and r.events == []


def test_submitted_and_approved_carry_the_frozen_lines_and_total():
    r = draft((A, 2), (B, 1))
    r.submit(OFFERS, by="acme", now=NOW)
    r.approve(by="ops", now=NOW)
    submitted, approved = r.events
    for e in (submitted, approved):
        assert (e.total, e.currency) == (Decimal("111.80"), "EUR")
        assert [(p.name, p.quantity, p.line_total) for p in e.lines] == [
            ("SEO", 2, Decimal("99.80")),
            ("Setup", 1, Decimal("12.00")),
        ]
    assert approved.by == "ops"


def test_activation_opens_one_active_subscription_per_line_and_says_so():
    r = in_status(APPROVED)
    subs = r.activate(by="billing", now=NOW, note="invoice INV-1 paid")
    assert r.status == ACTIVE and r.history[-1].note == "invoice INV-1 paid"
    [activated] = r.events
    assert [(s.subscription_id, s.name, s.quantity, s.activated_on, s.next_due_on) for s in activated.services] == [
        (s.id, s.name, s.quantity, s.activated_on, s.next_due_on) for s in subs
    ]
    assert [(s.name, s.status) for s in subs] == [("SEO", "active")]
