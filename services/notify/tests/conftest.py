"""Fixtures of notify's tests: a fresh database per test (real PostgreSQL), Kafka, and a real
SMTP server (aiosmtpd) on a free loopback port that collects what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from portal_runtime.db import make_engine, make_sessionmaker


@pytest.fixture
async def sessions(migrated_database):
    """A migrated notify database (no Kafka): sessions for service-level tests."""
    from notify.bootstrap import definition

    engine = make_engine(await migrated_database(definition()))
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailCollector:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.received if address in rcpts]


class SmtpServer:
    """A real SMTP server on 127.0.0.1:<port>; can be started late (to play "the server is back")."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mail = MailCollector()
        self._controller: Controller | None = None

    async def start(self) -> None:
        self._controller = Controller(self.mail, hostname="127.0.0.1", port=self.port)
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None


@pytest.fixture
async def smtp():
    server = SmtpServer(free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def smtp_down():
    """A port where nothing listens yet; `await smtp_down.start()` brings the server up."""
    server = SmtpServer(free_port())
    try:
        yield server
    finally:
        await server.stop()
