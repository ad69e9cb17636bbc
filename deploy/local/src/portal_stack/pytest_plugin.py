"""pytest plugin (loaded with `-p portal_stack.pytest_plugin`): the session fixture `infra`.

Real Kafka, PostgreSQL and a mail sink are started once per session unless PORTAL_* variables
name existing servers (see portal_stack.config). Missing infrastructure fails the test with a
message saying what is missing and how to provide it; it is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def infra() -> Iterator[object]:
    """A portal_stack.testing.TestInfra: kafka_bootstrap, database_url(service), smtp_host,
    smtp_port, mailsink_url and `await messages(to=None)`."""
    try:
        from portal_stack.errors import InfraError
        from portal_stack.stack import contract_topics
        from portal_stack.testing import TestInfra
    except ImportError as exc:
        pytest.fail(f"portal_stack cannot be imported ({exc}); run `uv sync` at the repository "
                    "root to install its dependencies", pytrace=False)
    try:
        handle = TestInfra(topics=contract_topics(required=False))
    except InfraError as exc:
        pytest.fail(f"test infrastructure is missing: {exc}", pytrace=False)
    except Exception as exc:  # noqa: BLE001 - report, never skip
        pytest.fail(f"test infrastructure failed to start: {type(exc).__name__}: {exc}",
                    pytrace=False)
    try:
        yield handle
    finally:
        handle.close()
