"""Fixtures: real Kafka and PostgreSQL from the `infra` fixture, a fresh database per test."""

from __future__ import annotations
