"""Received emails kept as .eml files in a directory (survives restarts)."""

from __future__ import annotations

import copy
import email
import email.policy
import os
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

FROM_HEADER = "X-Portal-Mail-From"
RCPT_HEADER = "X-Portal-Rcpt-To"


class MailStore:
    """A message is written once (to a temporary name, then renamed) and never changed, so each
    is parsed once and kept: a test session polls the store for its emails many times, and
    parsing every stored message on every poll made those polls slower as the session went on."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._parsed: dict[str, dict[str, Any]] = {}

    def save(self, mail_from: str, rcpt_to: list[str], content: bytes) -> str:
        """Store one message with its envelope; returns its id (sortable by receive time)."""
        msg_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        envelope = (f"{FROM_HEADER}: {mail_from}\r\n{RCPT_HEADER}: {', '.join(rcpt_to)}\r\n").encode()
        tmp = self.directory / f".{msg_id}.tmp"
        tmp.write_bytes(envelope + content)
        os.replace(tmp, self.directory / f"{msg_id}.eml")
        return msg_id

    def ids(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.eml"))

    def get(self, msg_id: str) -> dict[str, Any] | None:
        if "/" in msg_id or msg_id.startswith("."):
            return None
        path = self.directory / f"{msg_id}.eml"
        if msg_id in self._parsed and path.exists():
            return copy.deepcopy(self._parsed[msg_id])  # the caller's to change
        try:
            raw = path.read_bytes()
        except OSError:
            self._parsed.pop(msg_id, None)
            return None
        self._parsed[msg_id] = parse(msg_id, raw)
        return copy.deepcopy(self._parsed[msg_id])

    def list(self, to: str | None = None) -> list[dict[str, Any]]:
        messages = [m for m in (self.get(i) for i in self.ids()) if m is not None]
        if to:
            wanted = to.strip().lower()
            messages = [m for m in messages if wanted in (r.lower() for r in m["rcpt_to"])]
        return messages

    def clear(self) -> int:
        self._parsed.clear()
        count = 0
        for path in self.directory.glob("*.eml"):
            path.unlink(missing_ok=True)
            count += 1
        return count


def _part(msg: EmailMessage, subtype: str) -> str | None:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content.replace("\r\n", "\n")


def parse(msg_id: str, raw: bytes) -> dict[str, Any]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    ns = int(msg_id.split("-", 1)[0])
    received = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    rcpt = [r.strip() for r in str(msg.get(RCPT_HEADER, "")).split(",") if r.strip()]
    headers: dict[str, str] = {}
    for key, value in msg.items():
        if key in (FROM_HEADER, RCPT_HEADER):
            continue
        headers[key] = f"{headers[key]}, {value}" if key in headers else str(value)
    return {
        "id": msg_id,
        "received_at": received.isoformat(),
        "mail_from": str(msg.get(FROM_HEADER, "")),
        "rcpt_to": rcpt,
        "subject": str(msg.get("Subject", "")),
        "text": _part(msg, "plain"),
        "html": _part(msg, "html"),
        "headers": headers,
    }
