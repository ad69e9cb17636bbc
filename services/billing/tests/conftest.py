"""Fixtures of billing's tests: real Kafka and PostgreSQL from the `infra` fixture, a fresh
database per test (as in /tests/conftest.py), and billing's own test kit on the path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
