"""Entrypoint of the portal image: `<service> <role> [options]` runs `python -m <service> <role>` in
this very process, as `-m` would (`<role>` alone takes the service from PORTAL_SERVICE, and no
arguments both from PORTAL_SERVICE and PORTAL_ROLE); `topics` creates the Kafka topics (topics.py
beside this file).

No shell sits in between, so SIGTERM reaches the service. The process is PID 1 in its container,
where a signal without a handler does nothing: the api, worker and relay roles handle SIGTERM
themselves (uvicorn shuts down gracefully), and for the rest (migrate, dlq) this module makes
SIGTERM end the process at once, as it would outside a container."""

from __future__ import annotations

import os
import runpy
import signal
import sys

SERVICES = ("catalog", "orders", "returns", "billing", "notify")
USAGE = (
    "usage: <image> <service> <role> [options]   (or PORTAL_SERVICE=<service> PORTAL_ROLE=<role>)\n"
    f"  service: {' | '.join(SERVICES)}\n"
    "  role:    api | worker | relay | migrate | run | dlq list | dlq replay ...   (`<service> --help`)\n"
    "or:    <image> topics [--replication-factor N] [--min-insync-replicas N]"
)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> None:
    service_env = os.environ.get("PORTAL_SERVICE")
    if not argv:
        argv = [part for part in (service_env, os.environ.get("PORTAL_ROLE")) if part]
    elif service_env and argv[0] not in (*SERVICES, "topics", "-h", "--help"):
        argv = [service_env, *argv]  # `<image> api` with PORTAL_SERVICE=orders (the Kubernetes manifests)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        raise SystemExit(0 if argv else 2)
    service, *rest = argv
    signal.signal(signal.SIGTERM, _terminated)
    if service == "topics":
        import topics

        topics.main(rest)
        return
    if service not in SERVICES:
        print(f"unknown service {service!r}\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)
    sys.argv = [service, *rest]
    runpy.run_module(service, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
