"""Every event is defined once, registered with its topic and key, and compatible with its
recorded schema; the compatibility check itself catches what breaks readers."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal_contracts import Envelope, Money, compat
from portal_contracts.asyncapi import system_asyncapi
from portal_contracts.events.catalog import CatalogItemPublished
from portal_contracts.registry import TOPICS, all_events, all_topics, lookup

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


def test_changed_enum_is_breaking():
    old, new = _item_schema(), copy.deepcopy(_item_schema())
    new["properties"]["billing"]["enum"] = ["one_time"]
    assert compat.breaking_changes(old, new) == ["billing: type changed"]


def test_every_event_has_a_known_topic_and_key_field():
    assert EVENTS, "no events registered"
    for cls in EVENTS:
        assert cls.topic in TOPICS
        assert cls.key_field in cls.model_fields


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


def test_the_envelope_matches_its_recorded_schema():
    path = compat.SCHEMA_DIR / "Envelope.json"
    assert path.exists(), "Envelope.json is missing: record it with `uv run python -m portal_contracts snapshot`"
    assert not compat.breaking_changes(compat.load_snapshot(path), compat.schema_of(Envelope))
    old, new = compat.schema_of(Envelope), compat.schema_of(Envelope)
    del new["properties"]["correlation_id"]
    assert compat.breaking_changes(old, new) == ["correlation_id: field removed"]


def test_envelope_ignores_unknown_fields_and_rejects_unknown_events():
    env = Envelope.wrap(
        lookup("CatalogItemRetired", 1)(item_id=uuid.uuid4(), revision=2, retired_at=datetime.now(UTC)),
        producer="catalog",
        occurred_at=datetime.now(UTC),
    ).model_dump(mode="json")
    read = Envelope.model_validate({**env, "surprise": 1})  # a field added by a newer producer
    assert read.type == "CatalogItemRetired" and not hasattr(read, "surprise")
    with pytest.raises(LookupError, match="Nope"):
        Envelope.model_validate({**env, "type": "Nope"}).payload()


def test_readers_ignore_fields_they_do_not_know():
    data = {"item_id": str(uuid.uuid4()), "revision": 1, "retired_at": "2026-01-01T00:00:00Z", "new": 1}
    assert lookup("CatalogItemRetired", 1).model_validate(data).revision == 1


def test_asyncapi_documents_every_event_and_topic():
    doc = system_asyncapi().to_jsonable()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert set(TOPICS) <= addresses
    for cls in EVENTS:
        assert f"{cls.topic}:{cls.event_type}.v{cls.version}" in doc["channels"]
    assert all(t.endswith(".dlq") for t in set(all_topics()) - set(TOPICS))
