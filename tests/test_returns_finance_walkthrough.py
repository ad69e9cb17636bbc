"""The README's returns-and-balances walkthrough ("8. Returns, credit notes and balances"), run as
written (as tests/test_order_manager_walkthrough.py runs section 7): its shell block, section by
section, in one bash against the running catalog, orders, billing, returns and notify, waiting
between sections until the system is quiet. The tax invoice it downloads is read back afterwards.
Fails when the README's commands and the services part ways."""

from __future__ import annotations

import shutil
import uuid
from collections import Counter

from flow import CONFIRMATION, local_addresses, readme_sections, run_walkthrough
from order_manager import pdf_pages
from returns_finance import (
    CREDIT_NOTE_ISSUED,
    GOODS_RECEIVED,
    RMA_APPROVED,
    RMA_DATE_CHANGED,
    RMA_RECEIVED,
    STATEMENT_ISSUED,
    running_finance_portal,
)

SECTION_TITLE = "## 8. Returns, credit notes and balances"
SECTION_TIMEOUT = 45  # a section waiting for an event that never comes fails with what it printed

# What each numbered section must print (a few telling pieces of it).
EXPECT = {
    1: ['{"account_id":"nova","payment_terms_days":30}', '{"email":"nova@example.test"}'],
    2: ['{"total":"465.78","balance_due":"465.78","tax":["68.40","2.45"]}', '{"status":"shipped"}'],
    3: ['{"status":422,"field":"invoice_number"}', '{"status":422,"field":"lines[0].quantity","available":3}'],
    4: ['[{"status":"requested","problem":"Arrived damaged","quantities":[2,3]}]'],
    5: [
        '{"status":"approved","resolution":"credit"}',
        '{"status":409,"current_status":"approved"}',
        '{"moved":true}',
    ],
    6: [
        '{"lines":[1,3]}',
        '{"status":422,"field":"lines[0].quantity","remaining":1}',
        '{"lines":[1]}',
        '{"status":"received","received":[2,3]}',
        "2",
    ],
    7: [
        '[{"total":"120.00","tax_total":"22.80"},{"total":"134.97","tax_total":"23.85"}]',
        '{"balance_due":"164.16"}',
        '[{"currency":"EUR","owed":"164.16","advance":"0.00","balance":"164.16"}]',
    ],
    8: [
        '{"allocated":["164.16"],"advance":"35.84"}',
        '[{"currency":"EUR","owed":"0.00","advance":"35.84","balance":"-35.84"}]',
        '{"orders":[{"invoiced":"465.78","paid":"164.16","credited":"301.62","due":"0.00"}],'
        '"on_account":"-35.84","total":"-35.84"}',
    ],
    9: [
        '{"opening_balance":"0.00","debits":"465.78","credits":"501.62","closing_balance":"-35.84",'
        '"kinds":["invoice","credit_note","credit_note","advance_payment"]}'
    ],
    10: [
        '{"status":"confirmed","closing_balance":"-35.84"}',
        '{"status":409,"current_status":"confirmed"}',
        '["confirmed"]',
    ],
    11: [
        '["credit_note","goods_issue","goods_receipt","invoice","reconciliation_statement","tax_invoice"]',
        "tax invoice: 200 application/pdf",
    ],
    12: [RMA_RECEIVED, RMA_APPROVED, RMA_DATE_CHANGED, GOODS_RECEIVED, CREDIT_NOTE_ISSUED, STATEMENT_ISSUED],
}


def test_the_returns_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in readme_sections(SECTION_TITLE)] == [0, *EXPECT], "README sections and EXPECT part ways"


async def test_the_returns_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    nova = f"nova-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    async with running_finance_portal(infra, new_database, kafka, test_clock=False) as portal:
        swaps = {
            **local_addresses(portal),
            "localhost:8003": f"127.0.0.1:{portal.http['returns'].base_url.port}",
            "nova@example.test": nova,
            "/tmp/nova-": f"{tmp_path}/nova-",
        }
        expect = {n: [e.replace("nova@example.test", nova) for e in texts] for n, texts in EXPECT.items()}
        await run_walkthrough(portal, readme_sections(SECTION_TITLE), swaps, expect, tmp_path, timeout=SECTION_TIMEOUT)
        kinds = Counter(m["headers"]["X-Portal-Template"] for m in await infra.messages(to=nova))
        assert kinds[CONFIRMATION] == 1, kinds
        assert [kinds[k] for k in (RMA_RECEIVED, RMA_APPROVED, RMA_DATE_CHANGED)] == [1, 1, 1], kinds
        assert [kinds[k] for k in (GOODS_RECEIVED, CREDIT_NOTE_ISSUED, STATEMENT_ISSUED)] == [2, 2, 1], kinds

    # The tax invoice it downloaded: TAX INVOICE, the tax per rate (19 %: 360.00 net, 68.40 tax; 7 %:
    # 34.93 net, 2.45 tax) and the total.
    text = " ".join("\n".join(pdf_pages((tmp_path / "nova-tax-invoice.pdf").read_bytes())).split())
    for phrase in ("TAX INVOICE", "Cordless drill", "Packing tape", "360.00", "68.40", "34.93", "2.45", "465.78"):
        assert phrase in text, (phrase, text)
