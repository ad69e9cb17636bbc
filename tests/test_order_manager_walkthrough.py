"""The README's order-manager walkthrough ("7. The order manager"), run as written (as
tests/test_b2b_walkthrough.py runs section 6): its shell block, section by section, in one bash
against the running services, waiting between sections until the system is quiet. The PDFs it
downloads are read back afterwards. Fails when the README's commands and the services part ways."""

from __future__ import annotations

import shutil
import uuid

from b2b import ORDER_RECEIVED
from flow import CONFIRMATION, local_addresses, readme_sections, run_walkthrough, running_portal
from order_manager import ORDER_CANCELLED, ORDER_PARTIALLY_SHIPPED, ORDER_SHIPPED, pdf_pages

SECTION_TITLE = "## 7. The order manager"

# What each numbered section must print (a few telling pieces of it).
EXPECT = {
    1: ['{"email":"bolt@example.test"}'],
    2: [
        '{"status_label":"Completed","payment_status":"not_submitted","shipping_status":"unshipped"}',
        '[{"name":"Claw hammer","ordered":4,"shipped":0,"awaiting":4},'
        '{"name":"Nails, box of 100","ordered":10,"shipped":0,"awaiting":10}]',
        '{"status":409,"current_status":"not_submitted"}',
    ],
    3: ['{"status":"paid"}', '{"status_label":"Cleared"}', '[{"awaiting_quantity":14}]'],
    4: [
        '{"status":"shipped","tracking_url":"https://www.dhl.com/track?tracking-id=JD014600006"}',
        '{"status":422,"field":"lines[0].quantity","awaiting":2}',
        '{"name":"Claw hammer","ordered":4,"shipped":2,"awaiting":2}',
        '{"name":"Nails, box of 100","ordered":10,"shipped":10,"awaiting":0}',
    ],
    5: [
        '{"tracking_number":"JD014600007","quantities":[2,10]}',
        '{"status":"shipped"}',
        '{"status_label":"Shipped"}',
        '[{"carrier":"DHL","tracking_number":"JD014600007"},{"carrier":"UPS","tracking_number":"1Z999AA10123456784"}]',
        "[]",
    ],
    6: [
        '{"account_id":"bolt","payment_terms_days":30}',
        '{"status":"shipped"}',
        '{"due_in_days":30}',
        '{"view":"unpaid","has_it":true}',
        '{"view":"shipped","has_it":true}',
    ],
    7: [
        '{"account_id":"bolt","payment_terms_days":null}',
        '{"unpaid_days":45,"shipping_status":"unshipped"}',
        '{"unpaid_days":45,"shipping_status":"shipped"}',
        '{"status":"cancelled","current_status":null}',
        '{"status":409,"current_status":"shipped"}',
    ],
    8: [
        '{"side":"customer","body":"Could the hammers come with a receipt?"}',
        '{"side":"business","body":"Yes, it is in the box."}',
        '["customer","business"]',
    ],
    9: [
        '{"public_note":"Thank you for your order!","private_note":"Prefers DHL"}',
        '{"public_note":"Thank you for your order!","private_note":null}',
        "invoice: 200 application/pdf",
        "the shipped view: 200 application/pdf",
        "%PDF-",
    ],
    10: [
        '{"status":422,"field":"settlement"}',
        '{"status":"cancelled"}',
        '{"total":"48.00","settlement":"credit","credited":"48.00"}',
        '[{"currency":"EUR","amount":"48.00"}]',
    ],
    11: [ORDER_PARTIALLY_SHIPPED, ORDER_SHIPPED, ORDER_CANCELLED, "order_message"],
}


def test_the_order_manager_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in readme_sections(SECTION_TITLE)] == [0, *EXPECT], "README sections and EXPECT part ways"


async def test_the_order_manager_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    bolt = f"bolt-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    async with running_portal(infra, new_database, kafka) as portal:
        swaps = {**local_addresses(portal), "bolt@example.test": bolt, "/tmp/bolt-": f"{tmp_path}/bolt-"}
        expect = {n: [e.replace("bolt@example.test", bolt) for e in texts] for n, texts in EXPECT.items()}
        await run_walkthrough(portal, readme_sections(SECTION_TITLE), swaps, expect, tmp_path)
        kinds = [m["headers"]["X-Portal-Template"] for m in await infra.messages(to=bolt)]
        assert kinds.count(CONFIRMATION) == 1 and kinds.count(ORDER_RECEIVED) == 4, kinds
        assert (kinds.count(ORDER_PARTIALLY_SHIPPED), kinds.count(ORDER_SHIPPED)) == (1, 2), kinds
        assert (kinds.count(ORDER_CANCELLED), kinds.count("order_message")) == (2, 1), kinds

    # The PDFs it printed: the invoice with its lines and the public note, never the private one.
    [invoice] = pdf_pages((tmp_path / "bolt-invoice.pdf").read_bytes())[:1]
    flat = " ".join(invoice.split())
    for phrase in (
        "INVOICE",
        "Claw hammer",
        "Nails, box of 100",
        "96.00",
        "35.00",
        "131.00",
        "Thank you for your order!",
    ):
        assert phrase in flat, (phrase, invoice)
    assert "Prefers DHL" not in flat, invoice
    shipped_view = pdf_pages((tmp_path / "bolt-shipped.pdf").read_bytes())
    assert sum("INVOICE" in p for p in shipped_view) >= 2 and not any("Prefers DHL" in p for p in shipped_view)
