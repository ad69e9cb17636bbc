"""Every event is defined once, registered with its topic and key, and compatible with its
recorded schema; the compatibility check itself catches what breaks readers."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal_contracts import Envelope, Money, compat
from portal_contracts.envelope import ENVELOPE_VERSION, structured
from portal_contracts.events.catalog import CatalogItemPublished
from portal_contracts.registry import READS, SERVICES, TOPICS, all_events, lookup, owner_of

EVENTS = all_events()


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: f"{c.event_type}.v{c.version}")
def test_event_matches_its_recorded_schema(cls):
    path = compat.snapshot_path(cls.event_type, cls.version)
    assert path.exists(), f"{path.name} is missing: record it with `uv run python -m portal_contracts snapshot`"
    problems = compat.breaking_changes(compat.load_snapshot(path), compat.schema_of(cls))
    assert not problems, (
        f"{cls.event_type} v{cls.version} changed in a way that breaks its readers: {problems}; "
        f"define version {cls.version + 1} instead"
    )


def _item_schema():
    return compat.schema_of(CatalogItemPublished)


def test_removed_field_is_breaking():
    old, new = _item_schema(), copy.deepcopy(_item_schema())
    del new["properties"]["sku"]
    new["required"].remove("sku")
    assert compat.breaking_changes(old, new) == ["sku: field removed"]


def test_retyped_nested_field_is_breaking():
    old, new = _item_schema(), copy.deepcopy(_item_schema())
    new["$defs"]["Money"]["properties"]["amount"] = {"type": "number"}
    assert compat.breaking_changes(old, new) == ["price.amount: type changed"]


def test_newly_required_field_is_breaking_but_optional_one_is_not():
    old, new = _item_schema(), copy.deepcopy(_item_schema())
    new["properties"]["colour"] = {"type": "string", "default": ""}
    assert compat.breaking_changes(old, new) == []
    new["required"].append("colour")
    assert compat.breaking_changes(old, new) == ["colour: field is now required"]


def test_fields_of_list_items_are_compared_field_by_field():
    old, new = _item_schema(), copy.deepcopy(_item_schema())
    new["$defs"]["CyclePrice"]["properties"]["note"] = {"type": "string", "default": ""}
    assert compat.breaking_changes(old, new) == []  # an optional field added to the items: compatible
    new["$defs"]["CyclePrice"]["required"].append("note")
    del new["$defs"]["CyclePrice"]["properties"]["price"]
    assert compat.breaking_changes(old, new) == [
        "prices[].price: field removed",
        "prices[].note: field is now required",
    ]


def test_decimals_are_declared_as_strings_and_that_declaration_is_compatible():
    recorded = [path.name for path in compat.SCHEMA_DIR.glob("*.json") if '"type": "number"' in path.read_text()]
    assert not recorded, f"{recorded} declare a JSON number: declare decimals with portal_contracts.base.DecimalString"
    new = _item_schema()
    assert new["$defs"]["Money"]["properties"]["amount"]["type"] == "string"
    old = copy.deepcopy(new)  # as pydantic declared a Decimal before
    old["$defs"]["Money"]["properties"]["amount"] = {"anyOf": [{"type": "number"}, {"type": "string"}]}
    assert compat.breaking_changes(old, new) == []
    plain = copy.deepcopy(new)  # a string that is not a decimal: new readers would refuse old values
    plain["$defs"]["Money"]["properties"]["amount"] = {"type": "string"}
    assert compat.breaking_changes(plain, new) == ["price.amount: type changed"]
    assert Money.model_validate({"amount": 0.5, "currency": "EUR"}).amount == Decimal("0.5")  # still read


def test_changed_enum_is_breaking():
    old, new = _item_schema(), copy.deepcopy(_item_schema())
    new["properties"]["billing"]["enum"] = ["one_time"]
    assert compat.breaking_changes(old, new) == ["billing: type changed"]


def test_every_event_has_a_known_topic_and_key_field():
    assert EVENTS, "no events registered"
    for cls in EVENTS:
        assert cls.topic in TOPICS
        assert cls.key_field in cls.model_fields


def test_a_topic_is_published_by_the_service_it_is_named_after_and_read_events_exist():
    for cls in EVENTS:
        assert cls.__module__ == f"portal_contracts.events.{owner_of(cls.topic)}", (cls, cls.topic)
    assert set(READS) <= set(SERVICES)
    for service, events in READS.items():
        for event_type, version in events:
            assert lookup(event_type, version).topic in TOPICS, (service, event_type)


def test_envelope_round_trip_keeps_money_exact_and_key_is_aggregate_id():
    item_id = uuid.uuid4()
    payload = CatalogItemPublished(
        item_id=item_id,
        sku="SEO-1",
        name="SEO",
        price=Money(amount=Decimal("0.10"), currency="EUR"),
        billing="one_time",
        revision=1,
        published_at=datetime.now(UTC),
    )
    env = Envelope.wrap(payload, producer="catalog", occurred_at=datetime.now(UTC))
    wire = env.model_dump_json()
    assert '"amount":"0.10"' in wire
    back = Envelope.model_validate_json(wire)
    assert back.key == str(item_id)
    assert back.correlation_id == back.event_id
    assert back.payload() == payload
    assert back.payload().price.amount == Decimal("0.10")


def test_the_envelope_is_a_structured_cloudevent_with_our_extension_attributes():
    cause, trace = uuid.uuid4(), {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    payload = lookup("CatalogItemRetired", 1)(item_id=uuid.uuid4(), revision=2, retired_at=datetime.now(UTC))
    env = Envelope.wrap(payload, producer="catalog", occurred_at=datetime.now(UTC), causation_id=cause, trace=trace)
    wire = env.model_dump(mode="json")
    assert wire == {
        "specversion": "1.0",
        "id": str(env.event_id),
        "source": "/portal/catalog",
        "type": "CatalogItemRetired",
        "subject": str(payload.item_id),
        "time": wire["time"],
        "datacontenttype": "application/json",
        "dataversion": 1,
        "correlationid": str(env.event_id),
        "causationid": str(cause),
        "traceparent": trace["traceparent"],
        "data": payload.model_dump(mode="json"),
    }  # tracestate is not set, so it is left out, not null
    assert datetime.fromisoformat(wire["time"]) == env.occurred_at
    assert (env.producer, env.trace, env.version, env.causation_id) == ("catalog", trace, 1, cause)
    # extension attribute names are lowercase letters and digits (CloudEvents 1.0, "Naming conventions")
    assert all(name.isalnum() and name.islower() for name in wire)


def test_the_cloudevents_sdk_reads_our_message_and_we_read_the_sdks():
    from cloudevents.core.bindings import kafka
    from cloudevents.core.v1.event import CloudEvent

    from portal_contracts.envelope import CONTENT_TYPE

    payload = lookup("CatalogItemRetired", 1)(item_id=uuid.uuid4(), revision=2, retired_at=datetime.now(UTC))
    ours = Envelope.wrap(payload, producer="catalog", occurred_at=datetime.now(UTC))
    message = kafka.KafkaMessage(
        headers={"content-type": CONTENT_TYPE.encode()}, key=ours.key.encode(), value=ours.model_dump_json().encode()
    )
    read = kafka.from_kafka_event(message)
    assert (read.get_id(), read.get_source(), read.get_type()) == (str(ours.event_id), "/portal/catalog", ours.type)
    assert (read.get_subject(), read.get_time(), read.get_extension("dataversion")) == (ours.key, ours.occurred_at, 1)
    assert read.get_data() == ours.data

    made = CloudEvent(
        {
            "type": "CatalogItemRetired",
            "source": "/portal/billing",
            "subject": ours.key,
            "datacontenttype": "application/json",
            "dataversion": 1,
            "correlationid": str(ours.event_id),
            "id": str(uuid.uuid4()),
        },
        ours.data,
    )
    back = Envelope.model_validate_json(kafka.to_structured_event(made).value)
    assert (back.producer, back.key, back.correlation_id, back.payload()) == (
        "billing",
        ours.key,
        ours.event_id,
        payload,
    )


def test_the_envelope_matches_its_recorded_schema():
    path = compat.snapshot_path("Envelope", ENVELOPE_VERSION)
    assert path.exists(), f"{path.name} is missing: record it with `uv run python -m portal_contracts snapshot`"
    assert not compat.breaking_changes(compat.load_snapshot(path), compat.schema_of(Envelope))
    old, new = compat.schema_of(Envelope), compat.schema_of(Envelope)
    del new["properties"]["correlationid"]
    assert compat.breaking_changes(old, new) == ["correlationid: field removed"]


def test_an_envelope_of_the_shape_before_cloudevents_reads_and_publishes_as_a_cloudevent():
    """An outbox row staged before the switch (Envelope.v1.json) is published as the same CloudEvent."""
    first = compat.load_snapshot(compat.snapshot_path("Envelope", 1))
    event_id, correlation = uuid.uuid4(), uuid.uuid4()
    stored = {
        "event_id": str(event_id),
        "type": "CatalogItemRetired",
        "version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "producer": "catalog",
        "key": "item-1",
        "correlation_id": str(correlation),
        "causation_id": None,
        "trace": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        "data": {"item_id": str(uuid.uuid4()), "revision": 2, "retired_at": "2026-01-01T00:00:00Z"},
    }
    assert set(first["properties"]) == set(stored) and set(first["required"]) <= set(stored)
    wire = structured(stored)
    assert wire["specversion"] == "1.0" and wire["source"] == "/portal/catalog" and wire["id"] == str(event_id)
    assert (wire["subject"], wire["dataversion"], wire["correlationid"]) == ("item-1", 1, str(correlation))
    assert wire["traceparent"] == stored["trace"]["traceparent"] and "causationid" not in wire
    assert structured(wire) is wire  # a CloudEvent is published as it was stored
    assert Envelope.model_validate(stored) == Envelope.model_validate(wire)


def test_envelope_ignores_unknown_fields_and_rejects_unknown_events():
    env = Envelope.wrap(
        lookup("CatalogItemRetired", 1)(item_id=uuid.uuid4(), revision=2, retired_at=datetime.now(UTC)),
        producer="catalog",
        occurred_at=datetime.now(UTC),
    ).model_dump(mode="json")
    read = Envelope.model_validate({**env, "surprise": 1})  # an extension attribute a newer producer adds
    assert read.type == "CatalogItemRetired" and not hasattr(read, "surprise")
    with pytest.raises(LookupError, match="Nope"):
        Envelope.model_validate({**env, "type": "Nope"}).payload()


def test_readers_ignore_fields_they_do_not_know():
    data = {"item_id": str(uuid.uuid4()), "revision": 1, "retired_at": "2026-01-01T00:00:00Z", "new": 1}
    assert lookup("CatalogItemRetired", 1).model_validate(data).revision == 1
