"""The README's walkthrough, run as written: its shell block, section by section, in one bash
against the running services (their ports put in for 8001-8005 and the mail sink's for 8025),
waiting between sections until the system is quiet, as a person typing would. Fails when the
README's commands and the services part ways."""

from __future__ import annotations

import shutil
import uuid

from flow import local_addresses, readme_sections, run_walkthrough, running_portal

SECTION_TITLE = "## 3. Walk through the flow"

# What each numbered section must print (a few telling pieces of it).
EXPECT = {
    1: ['"name":"Premium listing"', '"name":"Store setup"'],
    2: ['"language":"de"', '"confirmed_at":'],
    3: ['"total": "349.90"', '"199.90"'],
    4: ['"status": "submitted"', '"status":"submitted"'],
    5: ['"information_requested"'],
    6: ['"submitted"'],
    7: ['"approved"'],
    8: ['"number": "INV-', '"iban"', '"status": "issued"'],
    9: ['"status": "partially_paid"', '"balance_due": "79.90"', '"status": "paid"', '"balance_due": "0.00"'],
    10: ['"name":"Premium listing","status":"active"', '"next_due_on":null', '["approved","active","billing"]'],
    11: [
        "Bitte bestätigen Sie Ihre E-Mail-Adresse",
        "Wir haben Ihre Anfrage erhalten",
        "Ihre Dienste sind aktiv",
        '"template":"services_active","status":"sent"',
    ],
    12: ['"rejected"', '"status_code":409', '"current_status":"rejected"'],
    13: ["Ihre Anfrage", "wurde abgelehnt", "One premium listing per shop."],
}


def walkthrough() -> list[tuple[int, str]]:
    """The README's walkthrough block as (section number, commands); 0 is the preamble."""
    return readme_sections(SECTION_TITLE)


def test_the_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in walkthrough()] == [0, *EXPECT], "README sections and EXPECT part ways"


async def test_the_readme_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    email = f"acme-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    async with running_portal(infra, new_database, kafka) as portal:
        swaps = {**local_addresses(portal), "acme@example.test": email}
        await run_walkthrough(portal, walkthrough(), swaps, EXPECT, tmp_path)
        mails = await infra.messages(to=email)
        # the address's confirmation, six for the first request, two (received, rejected) for the second
        assert len(mails) == 9, [m["subject"] for m in mails]
        assert [m["headers"]["X-Portal-Template"] for m in mails].count("email_confirmation") == 1
        assert {m["headers"]["Content-Language"] for m in mails} == {"de"}
