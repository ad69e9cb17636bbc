import asyncio
import json
import smtplib
import urllib.request
from email.message import EmailMessage

from portal_stack._proc import free_port
from portal_stack.mailsink import MailSink

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def send(host: str, port: int, to: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = "shop@example.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Plain body")
    msg.add_alternative("<p>HTML <b>body</b></p>", subtype="html")
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(msg)


def get(url: str) -> tuple[int, str]:
    with OPENER.open(url, timeout=10) as resp:
        return resp.status, resp.read().decode()


async def test_sink_receives_and_lists(infra):
    await infra.clear_messages()
    await asyncio.to_thread(send, infra.smtp_host, infra.smtp_port, "alice@example.test", "Order 42")
    await asyncio.to_thread(send, infra.smtp_host, infra.smtp_port, "bob@example.test", "Other")
    [msg] = await infra.messages(to="alice@example.test")
    assert msg["subject"] == "Order 42"
    assert msg["mail_from"] == "shop@example.test"
    assert msg["rcpt_to"] == ["alice@example.test"]
    assert msg["text"].strip() == "Plain body"
    assert "<b>body</b>" in msg["html"]
    assert msg["headers"]["To"] == "alice@example.test" and msg["received_at"]
    assert len(await infra.messages()) == 2

    status, page = await asyncio.to_thread(get, infra.mailsink_url + "/")
    assert status == 200 and "Order 42" in page and f"/messages/{msg['id']}" in page
    status, page = await asyncio.to_thread(get, f"{infra.mailsink_url}/messages/{msg['id']}")
    assert status == 200 and "Plain body" in page and "&lt;b&gt;body" in page
    await infra.clear_messages()
    assert await infra.messages() == []


async def test_messages_survive_restart(tmp_path):
    smtp_port = free_port()
    sink = MailSink(tmp_path / "mail", smtp_port=smtp_port, http_port=free_port(avoid={smtp_port}))
    await sink.start()
    try:
        await asyncio.to_thread(send, "127.0.0.1", smtp_port, "carol@example.test", "Kept")
    finally:
        await sink.stop()
    await sink.start()
    try:
        status, body = await asyncio.to_thread(get, sink.url + "/api/messages")
        assert status == 200 and [m["subject"] for m in json.loads(body)] == ["Kept"]
    finally:
        await sink.stop()
