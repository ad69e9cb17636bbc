"""A reconciliation statement (`billing.domain.reconciliation`), without a database: its figures are
the account statement's as issued, its number its own series; answered once (confirmed, or disputed
with a note of 1 to 2000 characters), every other move refused with the current status; a period
ends by today and not before it starts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.domain.reconciliation import (
    ReconciliationStatement,
    StatementConfirmed,
    StatementDisputed,
    StatementIssued,
    StatementStatus,
    statement_number,
)
from billing.domain.statements import AccountStatement, StatementEntry
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
D = Decimal


def figures(end: date = date(2026, 3, 20)) -> AccountStatement:
    entry = StatementEntry(
        date(2026, 3, 2), "invoice", "INV-2026-000001", "Invoice INV-2026-000001", D("50"), 0, D("60")
    )
    return AccountStatement("acme", "EUR", date(2026, 3, 1), end, D("10"), [entry], D("50"), D("0"), D("60"))


def issued() -> ReconciliationStatement:
    return ReconciliationStatement.issue(
        number=statement_number(2026, 1), figures=figures(), today=NOW.date(), by="ops/olga", now=NOW, note=" Q1 "
    )


def test_numbers_and_figures_as_issued():
    assert statement_number(2026, 12) == "ST-2026-000012"
    with pytest.raises(ValueError):
        statement_number(2026, 0)
    st = issued()
    assert (st.number, st.status, st.note, st.opening_balance, st.closing_balance) == (
        "ST-2026-000001",
        StatementStatus.OPEN,
        "Q1",
        D("10"),
        D("60"),
    )
    assert st.entries == figures().entries and st.events == [StatementIssued(st)]
    assert [(h.from_status, h.to_status) for h in st.history] == [(None, StatementStatus.OPEN)]


def test_answered_once():
    st = issued()
    st.confirm(by="acme/alice", now=NOW)
    assert (st.status, st.answered_by, st.answered_at) == (StatementStatus.CONFIRMED, "acme/alice", NOW)
    with pytest.raises(InvalidTransition) as again:
        st.dispute(note="wrong", by="acme/alice", now=NOW)
    assert again.value.current_status is StatementStatus.CONFIRMED
    other = issued()
    for note in ("", "   ", "x" * 2001, None):
        with pytest.raises(InvalidInput) as refused:
            other.dispute(note=note, by="acme/alice", now=NOW)
        assert refused.value.field == "note"
    assert other.status is StatementStatus.OPEN
    other.dispute(note=" Missing a payment ", by="acme/alice", now=NOW)
    assert (other.status, other.dispute_note) == (StatementStatus.DISPUTED, "Missing a payment")
    assert [type(e) for e in other.events] == [StatementIssued, StatementDisputed]
    assert [type(e) for e in st.events] == [StatementIssued, StatementConfirmed]
    with pytest.raises(InvalidTransition):
        other.confirm(by="acme/alice", now=NOW)


def test_a_period_ends_by_today():
    with pytest.raises(InvalidInput) as late:
        ReconciliationStatement.issue(
            number="ST-2026-000001", figures=figures(date(2026, 3, 21)), today=NOW.date(), by="ops/olga", now=NOW
        )
    assert late.value.field == "period_end"
