"""The AsyncAPI document of the whole system, generated from the registered events."""

from __future__ import annotations

from functools import cache

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.base import Specification

from portal_contracts.envelope import Envelope
from portal_contracts.registry import all_events


@cache
def system_asyncapi() -> Specification:
    broker = KafkaBroker("kafka:9092")  # never connected: it only describes channels
    for cls in all_events():
        publish = broker.publisher(
            cls.topic,
            title=f"{cls.topic}:{cls.event_type}.v{cls.version}",
            description=f"{(cls.__doc__ or '').strip()} Key: {cls.key_field}. "
            f"Travels as an Envelope whose `data` is this payload.",
            schema=cls,
        )
        publish(lambda: None)
    broker.publisher("envelope", title="Envelope", schema=Envelope, description="Every event's wrapper")
    return AsyncAPI(
        broker, title="Portal events", version="1", description="Every event on the portal's bus"
    ).to_specification()
