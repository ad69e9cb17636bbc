"""Fixtures for tests across services: real Kafka and PostgreSQL from the `infra` fixture
(portal_stack.pytest_plugin), a fresh database per test, and in-memory span export."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    return exporter, SimpleSpanProcessor(exporter)
