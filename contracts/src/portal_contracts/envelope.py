"""The envelope every event travels in: a CloudEvents 1.0 event in structured JSON mode.

Why CloudEvents: a reader outside our Python code (another team's service, a stream processor, a
bridge to a cloud event bus) can read our topics with any CloudEvents SDK instead of learning a
home-made envelope; it was adopted while nothing outside this repository read the topics.

Choices, each where the spec leaves one:
- `source` is the URI-reference `/portal/<service>`. The spec allows a URI-reference; an absolute URI
  (`https://...`, `urn:portal:...`) would claim a domain or a URN namespace we do not own. A bridge that
  takes events out of the portal can resolve it against a base URI of its own.
- `type` is our event type name (`RequestSubmitted`), not a reverse-DNS name: names are unique in the
  registry, and the same name is the registry key, the schema file, the `event-type` header and the
  inbox row; a prefix would have to be added and stripped at every one of those, for no reader.
- `subject` is the Kafka key (the aggregate id the message is partitioned by); `dataversion`,
  `correlationid`, `causationid` are our extension attributes; `traceparent`/`tracestate` are the
  Distributed Tracing extension (the context the event was staged in).
- `id` is a UUID: it is the inbox key that makes a second delivery change nothing.

The Python attribute names the code uses stay (`event_id`, `version`, `occurred_at`, `key`,
`correlation_id`, `causation_id`, `producer`, `trace`); the wire names are the aliases.

Unknown attributes are ignored, not refused: a producer that adds an extension attribute must not
send every message to the dead-letter topics of consumers not yet redeployed. The schema is recorded
as `contracts/schemas/Envelope.v2.json` and held to the same compatibility check as the events
(`Envelope.v1.json` is the shape before CloudEvents, which the reader still accepts: see
`_first_shape`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_serializer, model_validator

from portal_contracts.base import Event

ENVELOPE_VERSION = 2  # the recorded schema: contracts/schemas/Envelope.v<N>.json
SOURCE_PREFIX = "/portal/"
# The Kafka `content-type` header of a structured-mode CloudEvent (CloudEvents Kafka binding, 3.2).
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
TRACE_ATTRIBUTES = ("traceparent", "tracestate")


class Envelope(BaseModel):
    """What goes on the wire: a CloudEvent whose `data` is one event payload."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True, serialize_by_alias=True
    )

    specversion: Literal["1.0"]
    event_id: uuid.UUID = Field(alias="id")
    source: str = Field(min_length=1, description="URI-reference of the producing service: /portal/<service>")
    type: str = Field(min_length=1, description="the event type name, as registered in portal_contracts")
    key: str = Field(alias="subject", min_length=1, description="the Kafka key: the aggregate id")
    occurred_at: AwareDatetime = Field(alias="time")
    datacontenttype: Literal["application/json"] = "application/json"
    version: int = Field(alias="dataversion", ge=1, description="the version of the event type `data` follows")
    correlation_id: uuid.UUID = Field(alias="correlationid", description="the request or flow this event is part of")
    causation_id: uuid.UUID | None = Field(
        default=None, alias="causationid", description="the event whose handling staged this one"
    )
    traceparent: str | None = Field(default=None, description="W3C trace context the event was staged in")
    tracestate: str | None = None
    data: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _first_shape(cls, value: Any) -> Any:
        """An envelope of the shape before CloudEvents (no `specversion`; `producer` and a `trace`
        dict; the other fields under their Python names), as outbox rows staged before the switch
        hold it, reads as the same CloudEvent."""
        if isinstance(value, dict) and "specversion" not in value and "producer" in value:
            trace = value.get("trace") or {}
            value = {
                **value,
                "specversion": "1.0",
                "source": SOURCE_PREFIX + str(value["producer"]),
                **{name: trace[name] for name in TRACE_ATTRIBUTES if name in trace},
            }
        return value

    @model_serializer(mode="wrap")
    def _without_absent(self, handler) -> dict[str, Any]:
        """Optional attributes that are not set are left out, as the CloudEvents JSON format has them."""
        return {name: value for name, value in handler(self).items() if value is not None}

    @property
    def producer(self) -> str:
        """The producing service's name (`orders` for source `/portal/orders`)."""
        return self.source.removeprefix(SOURCE_PREFIX)

    @property
    def trace(self) -> dict[str, str]:
        """The W3C trace context, as `opentelemetry.propagate.extract` takes it."""
        return {name: value for name in TRACE_ATTRIBUTES if (value := getattr(self, name)) is not None}

    @classmethod
    def wrap(
        cls,
        payload: Event,
        *,
        producer: str,
        occurred_at: datetime,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        trace: dict[str, str] | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        event_id = event_id or uuid.uuid4()
        trace = trace or {}
        return cls(
            specversion="1.0",
            event_id=event_id,
            source=SOURCE_PREFIX + producer,
            type=payload.event_type,
            key=payload.key(),
            occurred_at=occurred_at,
            version=payload.version,
            correlation_id=correlation_id or event_id,
            causation_id=causation_id,
            traceparent=trace.get("traceparent"),
            tracestate=trace.get("tracestate"),
            data=payload.model_dump(mode="json"),
        )

    def payload(self) -> Event:
        """The typed event, looked up by (type, version); raises LookupError or ValidationError."""
        from portal_contracts.registry import lookup

        return lookup(self.type, self.version).model_validate(self.data)


def structured(stored: dict[str, Any]) -> dict[str, Any]:
    """The structured-mode CloudEvent (as JSON-ready dict) of an envelope as an outbox row stores it:
    a row staged before the switch to CloudEvents is converted, any other is returned as it is."""
    if "specversion" in stored:
        return stored
    return Envelope.model_validate(stored).model_dump(mode="json")
