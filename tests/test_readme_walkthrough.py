"""The README's walkthrough, run as written: its shell block, section by section, in one bash
against the running services (their ports put in for 8001-8005 and the mail sink's for 8025),
waiting between sections until the system is quiet, as a person typing would. Fails when the
README's commands and the services part ways."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from flow import running_portal

from portal_runtime.testing import TEST_SECRET, eventually

ROOT = Path(__file__).resolve().parents[1]
SECTION_TITLE = "## 3. Walk through the flow"
MARKER = "__walkthrough_section_done__"

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
    readme = (ROOT / "README.md").read_text()
    start = readme.index(SECTION_TITLE)
    block = re.search(r"```sh\n(.*?)```", readme[start:], re.S)
    assert block, f"no ```sh block under {SECTION_TITLE!r} in README.md"
    sections, number, lines = [], 0, []
    for line in block.group(1).splitlines():
        m = re.match(r"# (\d+)\. ", line)
        if m:
            sections.append((number, "\n".join(lines)))
            number, lines = int(m.group(1)), []
        lines.append(line)
    sections.append((number, "\n".join(lines)))
    return sections


def test_the_walkthrough_has_the_sections_this_test_checks():
    assert [n for n, _ in walkthrough()] == [0, *EXPECT], "README sections and EXPECT part ways"


async def test_the_readme_walkthrough_runs_as_written(infra, new_database, kafka, tmp_path):
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the walkthrough needs {tool} (./run-tests installs it)"
    (tmp_path / "jwt_secret").write_text(TEST_SECRET)
    email = f"acme-{uuid.uuid4().hex[:8]}@example.test"  # the sink is shared by the whole test run
    async with running_portal(infra, new_database, kafka) as portal:
        ports = {name: client.base_url.port for name, client in portal.http.items()}
        sink = infra.mailsink_url.rstrip("/").removeprefix("http://")
        swaps = {
            "localhost:8001": f"127.0.0.1:{ports['catalog']}",
            "localhost:8002": f"127.0.0.1:{ports['orders']}",
            "localhost:8004": f"127.0.0.1:{ports['billing']}",
            "localhost:8005": f"127.0.0.1:{ports['notify']}",
            "localhost:8025": sink,
            "acme@example.test": email,
        }
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "--noprofile",
            "--norc",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PORTAL_DATA_DIR": str(tmp_path)},
        )
        try:
            for number, commands in walkthrough():
                for old, new in swaps.items():
                    commands = commands.replace(old, new)
                assert "localhost:" not in commands, f"section {number} talks to a port this test does not run"
                shell.stdin.write(f"{commands}\nprintf '\\n%s\\n' {MARKER}\n".encode())
                await shell.stdin.drain()
                lines: list[str] = []
                try:
                    await asyncio.wait_for(_until_marker(shell, lines), timeout=120)
                except TimeoutError:
                    pytest.fail(f"section {number} did not finish in 120 s; it printed:\n{''.join(lines)}")
                output = "".join(lines)
                assert "jq: error" not in output and "parse error" not in output, f"section {number}:\n{output}"
                for expected in EXPECT.get(number, []):
                    assert expected in output, f"section {number} did not print {expected!r}:\n{output}"
                await eventually(portal.settled, what=f"the system to settle after section {number}", timeout=60)
        finally:
            if shell.returncode is None:
                shell.kill()
            await shell.wait()
        mails = await infra.messages(to=email)
        # the address's confirmation, six for the first request, two (received, rejected) for the second
        assert len(mails) == 9, [m["subject"] for m in mails]
        assert [m["headers"]["X-Portal-Template"] for m in mails].count("email_confirmation") == 1
        assert {m["headers"]["Content-Language"] for m in mails} == {"de"}


async def _until_marker(shell, lines: list[str]) -> None:
    while True:
        line = await shell.stdout.readline()
        if not line:
            pytest.fail("the walkthrough's shell ended early:\n" + "".join(lines))
        text = line.decode()
        if text.strip() == MARKER:
            return
        lines.append(text)
