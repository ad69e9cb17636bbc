"""Local portal stack: real Kafka, PostgreSQL and a mail sink started without Docker.

Heavy modules are imported lazily so that importing the package (for example through the
pytest plugin) costs nothing.
"""

from __future__ import annotations

from portal_stack.errors import InfraError

SERVICES: tuple[str, ...] = ("catalog", "orders", "returns", "billing", "notify")
HTTP_PORTS: dict[str, int] = {
    "catalog": 8001,
    "orders": 8002,
    "returns": 8003,
    "billing": 8004,
    "notify": 8005,
}


def topics() -> dict[str, int]:
    """Topic name -> partition count, as declared by the contracts package."""
    try:
        from portal_contracts.registry import all_topics
    except ImportError as exc:  # pragma: no cover - depends on the workspace state
        raise InfraError(
            "cannot read the topic list: `from portal_contracts.registry import all_topics` failed "
            f"({exc}); install the workspace (`uv sync` at the repository root)"
        ) from exc
    return dict(all_topics())


__all__ = ["HTTP_PORTS", "SERVICES", "InfraError", "topics"]
