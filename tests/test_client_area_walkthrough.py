"""The README's client-area walkthrough, run as written (as tests/test_readme_walkthrough.py runs
the seller's): its shell block, section by section, in one bash against the running services
with their test clocks on, waiting between sections until the system is quiet. Fails when the
README's commands and the services part ways."""

from __future__ import annotations

import shutil
import uuid

from client_area import SAYS, TERMINATED
from flow import local_addresses, readme_sections, run_walkthrough, running_portal

SECTION_TITLE = "## 4. Walk through the client area"
EN = SAYS["en"]

# What each numbered section must print (a few telling pieces of it).
EXPECT = {
    1: ["2027-01-31", '"name":"SSL certificate"', '"en":"Secure your shop with HTTPS"', '"max_per_parent":1'],
    2: ['"language":"en"', '"confirmed_at":'],
    3: ['"name":"SSL certificate","kind":"add_on","text":"Secure your shop with HTTPS"'],
    4: ['"total":"10.00"', '"domain":"bistro.example.test"', '"period_start":"2027-01-31","period_end":"2027-02-28"'],
    5: [
        '"source_kind":"order","total":"10.00","due_on":"2027-01-31"',
        '"status":"paid"',
        '"price":"10.00","cycle":"monthly","status":"active","next_due_on":"2027-02-28"',
        '"active":1',
    ],
    6: ["2027-02-10", '"field":"cycle"', '"unit_price":"2.25","amount":"1.45"', '"next_due_on":"2027-02-28"'],
    7: [
        '"due_on":"2027-02-28","total":"12.25"',
        '"period_start":"2027-02-28","period_end":"2027-03-31"',
        '"run_status":"ran"',
        "renewals already ran for 2027-02-14",
        "\n1\n",
    ],
    8: ['"status":"suspended","suspend_reason":"overdue"'],
    9: [
        '"status":"paid"',
        '"status":"active","anchor_on":"2027-01-31","next_due_on":"2027-03-31","add_ons":["2027-03-31"]',
        '"current_status":"paid"',
    ],
    10: ['"cancel_at_period_end":true,"ends_on":"2027-03-31"', '"status":"cancelled","add_ons":["cancelled"]'],
    11: [says for kind, says in sorted(EN.items()) if kind != TERMINATED],
}


def test_the_client_area_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in readme_sections(SECTION_TITLE)] == [0, *EXPECT], "README sections and EXPECT part ways"


async def test_the_client_area_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    email = f"bistro-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        swaps = {**local_addresses(portal), "bistro@example.test": email}
        await run_walkthrough(portal, readme_sections(SECTION_TITLE), swaps, EXPECT, tmp_path)
        mails = await infra.messages(to=email)
        assert {m["headers"]["Content-Language"] for m in mails} == {"en"}
        templates = [m["headers"]["X-Portal-Template"] for m in mails]
        assert templates.count("email_confirmation") == 1, templates
        # one email per event: no template twice for one invoice or one step of the service
        for single in ("service_overdue", "service_suspended", "service_reactivated", "service_renewed"):
            assert templates.count(single) == 1, templates
        assert templates.count("order_received") == 2 and templates.count("order_invoice") == 3, templates
