"""The README's B2B customer-portal walkthrough ("6. Walk through the B2B customer portal"), run as
written (as tests/test_units_walkthrough.py runs the units one): its shell block, section by section,
in one bash against the running services, waiting between sections until the system is quiet.
Fails when the README's commands and the services part ways."""

from __future__ import annotations

import shutil
import uuid

from b2b import ACCESS_GRANTED, ORDER_RECEIVED, QUOTE_SENT, SUPPORT_ANSWERED, SUPPORT_RECEIVED
from flow import CONFIRMATION, local_addresses, readme_sections, run_walkthrough, running_portal

SECTION_TITLE = "## 6. Walk through the B2B customer portal"

# What each numbered section must print (a few telling pieces of it).
EXPECT = {
    1: ['[{"name":"Hand tools","items":2}]', '{"title":"Hand tools brochure"'],
    2: ['{"email":"acme@example.test"}', '{"name":"ACME Tools GmbH","country":"DE"}'],
    3: ['{"login":"anna.acme","status":"invited"}', "password set: 200", '{"login":"anna.acme","name":"Anna Berg"'],
    4: [
        '"Cordless drill"',
        '"Circular saw"',
        '["Circular saw"]',
        "the lathe: 404",
        '{"name":"voltage","values":["18 V","18 V"]}',
        '{"name":"blade","values":[null,"190 mm"]}',
        "Hand tools 2027: drills and saws",
    ],
    5: [
        '{"total":"407.00"}',
        '"source":"cart","total":"407.00","checkout_status":"completed","payment_status":"not_submitted"',
        '"shipping_status":"unshipped","status_label":"Completed"',
    ],
    6: [
        '{"status":"sent","total":"1150.00"}',
        "one order",
        '"source":"quote","total":"1150.00"',
        '"unit_price":"115.00"',
    ],
    7: ['"skipped":[{"name":"Circular saw","reason":"invisible"}]', '"lines":[{"name":"Cordless drill","quantity":2}]'],
    8: ['"status":"answered"', '{"status":"closed"}', '"subject":"Delivery address","status":"closed"'],
    9: [ACCESS_GRANTED, SUPPORT_RECEIVED, SUPPORT_ANSWERED, QUOTE_SENT, ORDER_RECEIVED],
}


def test_the_b2b_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in readme_sections(SECTION_TITLE)] == [0, *EXPECT], "README sections and EXPECT part ways"


async def test_the_b2b_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    acme = f"acme-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    anna = f"anna-{uuid.uuid4().hex[:8]}@acme.example.test"
    async with running_portal(infra, new_database, kafka) as portal:
        swaps = {**local_addresses(portal), "acme@example.test": acme, "anna@acme.example.test": anna}
        expect = {n: [e.replace("acme@example.test", acme) for e in texts] for n, texts in EXPECT.items()}
        await run_walkthrough(portal, readme_sections(SECTION_TITLE), swaps, expect, tmp_path)
        to_anna = sorted(m["headers"]["X-Portal-Template"] for m in await infra.messages(to=anna))
        assert to_anna == sorted([ACCESS_GRANTED, SUPPORT_RECEIVED, SUPPORT_ANSWERED]), to_anna
        to_acme = [m["headers"]["X-Portal-Template"] for m in await infra.messages(to=acme)]
        assert to_acme.count(CONFIRMATION) == 1 and to_acme.count(QUOTE_SENT) == 1, to_acme
        assert to_acme.count(ORDER_RECEIVED) == 2, to_acme  # the cart's order and the quote's, once each
        assert {m["headers"]["Content-Language"] for m in await infra.messages(to=anna)} == {"en"}
