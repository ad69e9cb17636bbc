"""Logs as a log collector reads them (portal_runtime.telemetry.configure_logging): with
LOG_FORMAT=json every line a role writes is one JSON object with timestamp, level, service, role
and, inside a request or while an event is handled, the trace, span, correlation and event ids;
email addresses and tokens never reach it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid

import httpx

from catalog.bootstrap import definition as catalog
from portal_runtime.testing import TEST_SECRET, bearer, eventually, json_lines
from portal_stack._proc import free_port

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
HEX = re.compile(r"^[0-9a-f]+$")


def parse(stderr: str) -> list[dict]:
    assert stderr.strip(), "the process logged nothing"
    parsed = json_lines(stderr, "the process")
    for entry in parsed:
        assert {"timestamp", "level", "logger", "service", "role", "message"} <= entry.keys(), entry
    return parsed


async def test_an_api_process_logs_json_lines_with_the_requests_trace_id(migrated_database, tmp_path):
    url = await migrated_database(catalog())
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": TEST_SECRET,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "catalog", "api", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False) as http:

            async def ready() -> bool:
                assert proc.returncode is None, "catalog api exited"
                try:
                    return (await http.get("/health/ready")).status_code == 200
                except httpx.HTTPError:
                    return False

            await eventually(ready, timeout=60, interval=0.2, what="catalog api to be ready")
            # A job run by hand logs from inside the request, under the caller's trace.
            answer = await http.post(
                "/v1/admin/jobs/purge/run",
                headers={**bearer("ops", "admin"), "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
                json={},
            )
            assert answer.status_code == 200, answer.text
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    lines = parse(err.decode())
    assert {(e["service"], e["role"]) for e in lines} == {("catalog", "api")}
    [ran] = [e for e in lines if e["logger"] == "portal_runtime.jobs"]
    assert "job purge ran as of" in ran["message"] and ran["level"] == "info", ran
    assert ran["trace_id"] == TRACE_ID and len(ran["span_id"]) == 16 and HEX.match(ran["span_id"]), ran
    uuid.UUID(ran["correlation_id"])
    accessed = [e for e in lines if e["logger"] == "uvicorn.access" and "/v1/admin/jobs/purge/run" in e["message"]]
    assert accessed and accessed[0]["trace_id"] == TRACE_ID, accessed
    assert not any("127.0.0.1" in e["message"] for e in accessed), "the caller's address is personal data"
    assert any(e["logger"] == "uvicorn.error" and "Shutting down" in e["message"] for e in lines)


def test_a_line_written_while_an_event_is_handled_names_it_and_masks_personal_data():
    """As the consumer applies an event (under `context.caused_by`, inside FastStream's consumer
    span): a library's stdlib logger, with an address and a token in its message."""
    correlation, event = uuid.uuid4(), uuid.uuid4()
    script = f"""
import logging, uuid
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from portal_runtime import context
from portal_runtime.telemetry import configure_logging

configure_logging("notify", "worker", fmt="json")
tracer = TracerProvider().get_tracer("test")
with tracer.start_as_current_span("orders.requests process"), context.caused_by(
    uuid.UUID("{correlation}"), uuid.UUID("{event}")
):
    logging.getLogger("aiosmtplib").warning(
        "refused for jane.doe@example.test: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2ln"
    )
    try:
        raise ValueError("jane.doe@example.test is unknown")
    except ValueError:
        logging.getLogger("notify").exception("sending failed")
logging.getLogger("notify").info("outside any event")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    refused, failed, outside = parse(done.stderr)
    for entry in (refused, failed):
        assert (entry["service"], entry["role"]) == ("notify", "worker"), entry
        assert entry["event_id"] == str(event) and entry["correlation_id"] == str(correlation), entry
        assert len(entry["trace_id"]) == 32 and len(entry["span_id"]) == 16, entry
    assert refused["level"] == "warning" and refused["logger"] == "aiosmtplib"
    assert refused["message"] == "refused for [email]: Authorization: Bearer [token]", refused
    assert "ValueError: [email] is unknown" in failed["exception"], failed
    assert "example.test" not in done.stderr and "eyJ" not in done.stderr
    assert "event_id" not in outside and "trace_id" not in outside, outside
