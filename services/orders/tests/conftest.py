"""Fixtures for orders' tests: real Kafka and PostgreSQL from the `infra` fixture, a fresh
database per test (same names as the repository's tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
