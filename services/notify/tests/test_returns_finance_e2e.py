"""The emails of returns and the account's money (issue 16) through notify on the real Kafka, PostgreSQL and a
real SMTP server: an RMA's steps (from returns.rma), a credit note for the returned goods (billing.invoices)
and a reconciliation statement (billing.statements) reach the account in its language, each once although
every event is delivered twice; a cancelled order's credit note causes none."""

from __future__ import annotations

import uuid

from returns_finance_samples import (
    credit_note_issued,
    expected_date_changed,
    goods_received,
    return_approved,
    return_requested,
    statement_issued,
)
from test_notify_e2e import account, caused_by_events, confirmed, envelope, produce, settings

from notify.bootstrap import definition
from portal_runtime.testing import bearer, eventually, running_service


async def test_the_returns_and_statement_emails_reach_the_account_once_each(new_database, kafka, smtp):
    acct, address = account()
    told = {"account_id": acct}
    async with running_service(
        definition(settings(smtp.port)), database_url=await new_database("notify"), kafka=kafka
    ) as (_, http):
        await confirmed(kafka, http, smtp, acct, address, "tr")
        events = [
            return_requested(),
            return_approved("refund"),
            expected_date_changed(),
            goods_received("first"),
            goods_received("last"),
            credit_note_issued("refund", applied="500.00", rest="224.70"),
            statement_issued(),
        ]
        # a cancelled order's credit note first: on the same invoice (the key), so handled before the others
        cancelled = credit_note_issued(reason="cancelled_order", credit_note_id=uuid.uuid4()).model_copy(update=told)
        await produce(kafka, envelope(cancelled))
        envelopes = [envelope(event.model_copy(update=told)) for event in events]
        await produce(kafka, *envelopes)
        await produce(kafka, *envelopes)  # every event delivered twice

        def all_arrived():
            found = caused_by_events(smtp, address)
            return found if len(found) >= len(events) else None

        arrived = await eventually(all_arrived, what="the returns and statement emails", timeout=60)
        assert sorted(m["X-Portal-Template"] for m in arrived) == [
            "credit_note_issued",
            "goods_received",
            "goods_received",
            "rma_approved",
            "rma_expected_date_changed",
            "rma_received",
            "statement_issued",
        ]
        assert {m["Content-Language"] for m in arrived} == {"tr"}
        by_template = {m["X-Portal-Template"]: m for m in arrived}
        text = {template: m.get_body(("plain",)).get_content() for template, m in by_template.items()}
        assert by_template["rma_received"]["Subject"] == "RMA-2026-000001 numaralı iade talebinizi aldık"
        assert "Tahmini tamamlanma tarihi: 15 Şubat 2026" in text["rma_approved"]
        assert "Vergiler dahil toplam: €724,70" in text["credit_note_issued"]
        assert "€224,70 tutarı size iade edilecektir." in text["credit_note_issued"]
        assert "Kapanış bakiyesi: €1.234,50" in text["statement_issued"]

        # what the account sees: its confirmation and the seven, nothing for the cancelled order's credit note
        mine = (await http.get("/v1/deliveries", headers=bearer(acct), params={"limit": 50})).json()
        assert mine["total"] == len(events) + 1
