"""The README's prepaid-units walkthrough ("5. Prepaid units: both ways to buy"), run as written
(as tests/test_readme_walkthrough.py runs the seller's): its shell block, section by section, in
one bash against the running services, waiting between sections until the system is quiet.
Fails when the README's commands and the services part ways."""

from __future__ import annotations

import shutil
import uuid

from flow import CONFIRMATION, local_addresses, readme_sections, run_walkthrough, running_portal
from units import CREDITED, PURCHASE_FAILED, RECEIPT

SECTION_TITLE = "## 5. Prepaid units: both ways to buy"

# What each numbered section must print (a few telling pieces of it).
EXPECT = {
    2: [
        '"language":"en"',
        '"confirmed_at":',
        '"balance":2000,"used_this_month":0',
        '"low_balance_at":100,"plan":null',
        '{"seq":1,"kind":"granted","units":2000,"balance_after":2000}',
    ],
    3: ['{"units":7000,"total":"297.00","currency":"EUR"', '{"name":"1,000 units","quantity":2,"amount":"98.00"}'],
    4: [
        '"status":"completed","units":7000,"total":"297.00","balance_after":9000',
        '"card_brand":"visa","card_last4":"4242"',
        '{"status":"completed","balance_after":9000}',
        '{"status":402,"reason":"card_declined","purchase_status":"failed"}',
        '{"source":"manual","status":"failed","total":"49.00"',
    ],
    5: [
        '"kind":"consumed","units":-8000,"balance_after":1000',
        " 201\n",
        " 200\n",
        '{"balance":1000,"used_this_month":8000}',
    ],
    6: [
        '"status":"active","threshold":500,"monthly_cap":"300.00","card":{"brand":"visa","last4":"4242"},"top_up":null'
    ],
    7: [
        '{"status":"completed","units":1000,"total":"49.00"',
        '"source_kind":"unit_top_up","status":"paid","total":"49.00"',
        '"bill_to":{"name":"Dana Meyer","email":"billing@nimbus.example.test","company":"Nimbus GmbH"',
        '"kind":"purchased","units":1000,"balance_after":1400,"source":"plan"',
    ],
    8: ["2,000 free units granted to your account", "Automatic top-up: receipt and invoice"],
}


def test_the_units_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in readme_sections(SECTION_TITLE)] == [0, 1, *EXPECT], "README sections and EXPECT part ways"


async def test_the_units_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    partner = f"nimbus-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    contact = f"billing-{uuid.uuid4().hex[:8]}@nimbus.example.test"
    async with running_portal(infra, new_database, kafka) as portal:
        swaps = {**local_addresses(portal), "billing@nimbus.example.test": contact, "nimbus@example.test": partner}
        expect = {n: [e.replace("billing@nimbus.example.test", contact) for e in texts] for n, texts in EXPECT.items()}
        await run_walkthrough(portal, readme_sections(SECTION_TITLE), swaps, expect, tmp_path)
        # the partner's: its address's confirmation, the grant, a receipt and the units credited for each
        # purchase, the declined one (no invoice or payment email besides: the receipt is both)
        to_partner = [m["headers"]["X-Portal-Template"] for m in await infra.messages(to=partner)]
        assert sorted(to_partner) == sorted(
            [CONFIRMATION, CREDITED, RECEIPT, CREDITED, PURCHASE_FAILED, RECEIPT, CREDITED]
        ), to_partner
        assert [m["headers"]["X-Portal-Template"] for m in await infra.messages(to=contact)] == [RECEIPT]
