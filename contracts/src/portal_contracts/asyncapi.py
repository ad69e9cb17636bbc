"""The AsyncAPI 3.0 document of the whole bus, generated from the registered events.

Why not FastStream's generator (which made this document before): it describes one FastStream
app's own publishers and subscribers, a channel per handler with the handler's argument as payload.
The bus needs what it cannot say: a channel per topic carrying several events, the whole CloudEvent
that travels (attributes, with the event as `data`), the Kafka headers and key, every service's
consumer group, and the dead-letter topics. FastStream still renders the page: its
`get_asyncapi_html` takes any object with its `Specification` protocol, which `Document` has.

The schemas are the ones `contracts/schemas/` records (pydantic's, validation mode), so the document
says no more and no less than the compatibility check holds producers to. It is checked with the
AsyncAPI parser by contracts/tests/test_asyncapi.py (contracts/asyncapi-check).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from portal_contracts.base import Event
from portal_contracts.envelope import CONTENT_TYPE, ENVELOPE_VERSION, Envelope
from portal_contracts.registry import EXTERNAL_PUBLISHERS, READS, all_events, all_topics, dead_letter_topic, owner_of

KAFKA = "0.5.0"  # the version of AsyncAPI's Kafka bindings used
SCHEMAS = "#/components/schemas/"

# Headers every event message carries beside its CloudEvent value.
_EVENT_HEADERS: dict[str, Any] = {
    "content-type": {
        "type": "string",
        "const": CONTENT_TYPE,
        "description": "a structured-mode CloudEvent: the value is the whole event (CloudEvents Kafka binding)",
    },
    "event-type": {"type": "string", "description": "the CloudEvent `type`, to route or filter without parsing"},
    "event-id": {"type": "string", "format": "uuid", "description": "the CloudEvent `id`"},
    "correlation_id": {"type": "string", "format": "uuid", "description": "FastStream's; the `correlationid`"},
    "traceparent": {
        "type": "string",
        "description": "W3C trace context of the relay's publish span (a child of the event's `traceparent`)",
    },
    "tracestate": {"type": "string"},
    "x-replayed-from": {
        "type": "string",
        "description": "only on a message an SRE replayed from a dead-letter topic: `<dlq topic>/<partition>:<offset>`",
    },
}
_DEAD_LETTER_HEADERS: dict[str, Any] = {
    "x-error": {"type": "string", "description": "the exception, `Type: message` (at most 2000 characters)"},
    "x-error-trace": {"type": "string", "description": "the end of its traceback"},
    "x-original-topic": {"type": "string"},
    "x-original-partition": {"type": "string", "pattern": r"^\d+$"},
    "x-original-offset": {"type": "string", "pattern": r"^\d+$"},
    "x-consumer-group": {"type": "string", "description": "the service whose consumer gave up"},
    "x-attempts": {
        "type": "string",
        "pattern": r"^\d+$",
        "description": "tries made; 0: the value is not a CloudEvent of a known event, replaying cannot help",
    },
    "x-failed-at": {"type": "string", "format": "date-time"},
    "x-dead-letter-id": {"type": "string", "format": "uuid"},
}


@dataclass(frozen=True)
class Document:
    """An AsyncAPI document, with what FastStream's `Specification` protocol asks of one."""

    body: dict[str, Any]

    @property
    def title(self) -> str:
        return self.body["info"]["title"]

    def to_jsonable(self) -> dict[str, Any]:
        return self.body

    def to_json(self) -> str:
        return json.dumps(self.body, indent=2)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.body, sort_keys=False)


def message_id(cls: type[Event]) -> str:
    """`RequestSubmittedV1`: the message's key in the document."""
    return f"{cls.event_type}V{cls.version}"


def channel_id(topic: str) -> str:
    """`orders_requests` for the topic `orders.requests`."""
    return topic.replace(".", "_")


@cache
def system_asyncapi() -> Document:
    events = all_events()
    refs, top = models_json_schema(
        [(Envelope, "validation"), *((cls, "validation") for cls in events)], ref_template=SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = top["$defs"]
    envelope = schemas[refs[(Envelope, "validation")]["$ref"].removeprefix(SCHEMAS)]
    by_topic: dict[str, list[type[Event]]] = defaultdict(list)
    for cls in events:
        by_topic[cls.topic].append(cls)

    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, carried in by_topic.items():
        cid, owner = channel_id(topic), owner_of(topic)
        channels[cid] = {
            "address": topic,
            "title": topic,
            "description": (
                f"Published by {EXTERNAL_PUBLISHERS[topic]} (`{owner}`), in the portal's CloudEvents envelope, keyed "
                "by the account id (the CloudEvent `subject`); readers count each report once by its own id. "
                if topic in EXTERNAL_PUBLISHERS
                else f"Published by {owner} only, from its outbox: each message keyed by the aggregate id "
                "(the CloudEvent `subject`), so one aggregate's events stay in order. "
            )
            + f"{all_topics()[topic]} partitions.",
            "messages": {message_id(cls): {"$ref": f"#/components/messages/{message_id(cls)}"} for cls in carried},
            "bindings": {"kafka": {"topic": topic, "partitions": all_topics()[topic], "bindingVersion": KAFKA}},
        }
        for cls in carried:
            messages[message_id(cls)] = _event_message(cls, envelope, refs[(cls, "validation")], schemas)
        operations[f"{owner}_send_{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "title": f"{owner} publishes on {topic}",
            "summary": "The publisher's own producer; the portal's services do not send here."
            if topic in EXTERNAL_PUBLISHERS
            else "The relay publishes the outbox in order (idempotent producer, acks=all).",
            "tags": [{"name": owner}],
            "messages": [{"$ref": f"#/channels/{cid}/messages/{message_id(cls)}"} for cls in carried],
        }

    for service, read in READS.items():
        reading: dict[str, list[type[Event]]] = defaultdict(list)
        for cls in events:
            if (cls.event_type, cls.version) in read:
                reading[cls.topic].append(cls)
        for topic, applied in sorted(reading.items()):
            cid = channel_id(topic)
            operations[f"{service}_receive_{cid}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "title": f"{service} reads {topic}",
                "summary": f"In consumer group `{service}`; applies these events once each (inbox) and ignores "
                "the others of the topic; the offset is committed after the effect.",
                "tags": [{"name": service}],
                "messages": [{"$ref": f"#/channels/{cid}/messages/{message_id(cls)}"} for cls in applied],
                "bindings": {"kafka": {"groupId": {"type": "string", "const": service}, "bindingVersion": KAFKA}},
            }

    messages["DeadLetter"] = _dead_letter_message()
    for service in sorted({t.split(".")[0] for t in all_topics() if t.endswith(".dlq")}):
        topic, cid = dead_letter_topic(service), channel_id(dead_letter_topic(service))
        channels[cid] = {
            "address": topic,
            "title": topic,
            "description": f"What {service}'s consumer could not apply: after its retries, or at once when the "
            f"value is not a CloudEvent of a known event. `python -m {service} dlq list | replay` reads it and "
            "puts letters back on their original topic."
            + ("" if service in READS else f" {service} applies no events today, so nothing is written here."),
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": {"kafka": {"topic": topic, "partitions": all_topics()[topic], "bindingVersion": KAFKA}},
        }
        if service in READS:
            operations[f"{service}_send_{cid}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{cid}"},
                "title": f"{service} dead-letters on {topic}",
                "tags": [{"name": service}],
                "messages": [{"$ref": f"#/channels/{cid}/messages/DeadLetter"}],
            }

    return Document(
        {
            "asyncapi": "3.0.0",
            "info": {
                "title": "Portal events",
                "version": str(ENVELOPE_VERSION),
                "description": "Every event on the portal's Kafka bus: a CloudEvents 1.0 event in structured JSON "
                "mode, one channel per topic. The version is the envelope's (contracts/schemas/Envelope.v<N>.json); "
                "each event has its own (`dataversion`).",
            },
            "defaultContentType": CONTENT_TYPE,
            "servers": {
                "local": {
                    "host": "127.0.0.1:19092",
                    "protocol": "kafka",
                    "description": "the broker `./portal up` starts; elsewhere, KAFKA_BOOTSTRAP_SERVERS",
                }
            },
            "channels": channels,
            "operations": operations,
            "components": {"schemas": schemas, "messages": messages},
        }
    )


def _event_message(
    cls: type[Event], envelope: dict[str, Any], data_ref: dict[str, str], schemas: dict[str, Any]
) -> dict[str, Any]:
    event_schema = schemas[data_ref["$ref"].removeprefix(SCHEMAS)]
    key = {k: v for k, v in event_schema["properties"][cls.key_field].items() if k != "title"}
    key["description"] = f"`data.{cls.key_field}`, the aggregate the event is about"
    doc = " ".join((cls.__doc__ or "").split()) or f"Version {cls.version} of {cls.event_type}."
    return {
        "name": cls.event_type,
        "title": f"{cls.event_type} v{cls.version}",
        "summary": doc.split(". ")[0].rstrip("."),
        "description": doc,
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {**_EVENT_HEADERS, "event-type": {"type": "string", "const": cls.event_type}},
            "required": ["content-type", "event-type", "event-id", "correlation_id"],
        },
        "payload": {
            "type": "object",
            "title": f"{cls.event_type} v{cls.version} CloudEvent",
            "properties": {
                **envelope["properties"],
                "type": {"type": "string", "const": cls.event_type},
                "dataversion": {"type": "integer", "const": cls.version},
                "subject": key,
                "data": data_ref,
            },
            "required": envelope["required"],
        },
        "correlationId": {"location": "$message.payload#/correlationid"},
        "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA}},
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": "A message a consumer gave up on: the original key and value, its headers, and why.",
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "description": "The original message's headers (content-type, event-type, event-id, ...) and these.",
            "properties": {**_EVENT_HEADERS, **_DEAD_LETTER_HEADERS},
            "required": list(_DEAD_LETTER_HEADERS),
        },
        "payload": {
            "description": "The original value, byte for byte: a CloudEvent (components/schemas/Envelope) of a topic "
            "the service reads or, when `x-attempts` is 0, bytes that are not one."
        },
        "bindings": {
            "kafka": {"key": {"type": "string", "description": "the original message's key"}, "bindingVersion": KAFKA}
        },
    }
