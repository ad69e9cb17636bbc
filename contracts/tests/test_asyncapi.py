"""The AsyncAPI document describes the wire as it is (a channel per topic, the whole CloudEvent, headers,
key, every consumer group, the dead-letter topics) and the AsyncAPI parser accepts it."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

from portal_contracts.asyncapi import channel_id, message_id, system_asyncapi
from portal_contracts.envelope import CONTENT_TYPE
from portal_contracts.registry import READS, TOPICS, all_events, all_topics, dead_letter_topic, owner_of

CHECK = Path(__file__).resolve().parents[1] / "asyncapi-check"
DOC = system_asyncapi().to_jsonable()


def validate(document: dict) -> subprocess.CompletedProcess:
    """Run the AsyncAPI parser (contracts/asyncapi-check) over `document`."""
    node = shutil.which("node")
    assert node and shutil.which("npm"), (
        "node and npm are needed for the AsyncAPI parser: install Node.js 18 or later (e.g. apt-get install nodejs npm)"
    )
    assert (CHECK / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        f"the AsyncAPI parser is not installed: run `npm ci --ignore-scripts --prefix {CHECK}` "
        "(scripts/ensure-tools.sh does, from ./run-tests)"
    )
    return subprocess.run(
        [node, str(CHECK / "validate.mjs")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CHECK,
    )


def test_the_asyncapi_parser_accepts_the_document():
    result = validate(DOC)
    assert result.returncode == 0, f"the AsyncAPI parser refused the document:\n{result.stdout}{result.stderr}"
    assert "valid AsyncAPI 3.0.0 (0 warnings)" in result.stdout, result.stdout


def test_the_parser_check_fails_on_a_broken_document_and_says_where():
    broken = copy.deepcopy(DOC)
    broken["operations"]["billing_receive_orders_requests"]["channel"] = {"$ref": "#/channels/no_such_topic"}
    result = validate(broken)
    assert result.returncode == 1, result.stdout
    assert "operations/billing_receive_orders_requests/channel" in result.stdout, result.stdout


def test_one_channel_per_topic_with_a_message_per_event_whose_payload_is_the_cloudevent():
    channels = DOC["channels"]
    assert sorted(c["address"] for c in channels.values()) == sorted(all_topics())
    for topic, partitions in TOPICS.items():
        assert channels[channel_id(topic)]["bindings"]["kafka"] == {
            "topic": topic,
            "partitions": partitions,
            "bindingVersion": "0.5.0",
        }
    schemas, messages = DOC["components"]["schemas"], DOC["components"]["messages"]
    for cls in all_events():
        assert message_id(cls) in channels[channel_id(cls.topic)]["messages"], (cls, cls.topic)
        message = messages[message_id(cls)]
        payload = message["payload"]
        assert {"specversion", "id", "source", "type", "time", "subject", "data"} <= set(payload["required"])
        assert {"datacontenttype", "dataversion", "correlationid", "causationid", "traceparent", "tracestate"} <= set(
            payload["properties"]
        )
        assert payload["properties"]["type"]["const"] == cls.event_type
        assert payload["properties"]["dataversion"]["const"] == cls.version
        data = payload["properties"]["data"]["$ref"]
        assert set(schemas[data.rsplit("/", 1)[-1]]["properties"]) == set(cls.model_json_schema()["properties"])
        headers = message["headers"]["properties"]
        assert headers["content-type"]["const"] == CONTENT_TYPE and headers["event-type"]["const"] == cls.event_type
        assert {"event-id", "correlation_id", "traceparent"} <= set(headers)
        assert message["bindings"]["kafka"]["key"] == payload["properties"]["subject"]


def test_every_reader_receives_in_its_group_and_every_owner_sends():
    operations = DOC["operations"]
    for service, events in READS.items():
        for topic in {cls.topic for cls in all_events() if (cls.event_type, cls.version) in events}:
            op = operations[f"{service}_receive_{channel_id(topic)}"]
            assert op["action"] == "receive" and op["bindings"]["kafka"]["groupId"]["const"] == service
            applied = {ref["$ref"].rsplit("/", 1)[-1] for ref in op["messages"]}
            assert applied == {
                message_id(c) for c in all_events() if c.topic == topic and (c.event_type, c.version) in events
            }
        assert operations[f"{service}_send_{channel_id(dead_letter_topic(service))}"]["action"] == "send"
    for topic in TOPICS:
        assert operations[f"{owner_of(topic)}_send_{channel_id(topic)}"]["action"] == "send"
    assert {op["action"] for op in operations.values()} == {"send", "receive"}


def test_dead_letter_topics_are_channels_with_their_headers():
    for service in ("catalog", "orders", "returns", "billing", "notify"):
        channel = DOC["channels"][channel_id(dead_letter_topic(service))]
        assert channel["address"] == f"{service}.dlq" and "DeadLetter" in channel["messages"]
    headers = DOC["components"]["messages"]["DeadLetter"]["headers"]
    assert {"x-error", "x-original-topic", "x-original-partition", "x-original-offset", "x-attempts"} <= set(
        headers["required"]
    )
    assert "content-type" in headers["properties"]  # the original message's headers stay


def test_decimal_amounts_are_strings_in_the_document():
    amount = DOC["components"]["schemas"]["Money"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"]
    assert '"type": "number"' not in json.dumps(DOC)


def test_the_command_prints_the_document(capsys):
    from portal_contracts.__main__ import main

    assert main(["asyncapi"]) == 0
    assert json.loads(capsys.readouterr().out) == DOC
    assert system_asyncapi().title == "Portal events"
