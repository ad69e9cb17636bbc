"""The base of every event payload and the decorator that registers it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

# A decimal number as it travels: a JSON string (pydantic writes a Decimal as `str(value)`, so exact
# digits, sometimes with an exponent: "0.10", "-5", "1E-7"), never a float. Readers still accept a
# JSON number (pydantic's Decimal does), but the schema says what producers write.
DECIMAL_JSON_SCHEMA = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$"}
DecimalString = Annotated[Decimal, WithJsonSchema(DECIMAL_JSON_SCHEMA)]


class Money(BaseModel):
    """An amount with its currency. Serialised as a decimal string, never a float."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    amount: DecimalString
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Event(BaseModel):
    """Payload of an event. Readers ignore fields they do not know (adding an optional field
    is compatible); removing or retyping a field needs a new version."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    event_type: ClassVar[str]
    version: ClassVar[int]
    key_field: ClassVar[str]

    def key(self) -> str:
        """The Kafka key: the aggregate id, so one aggregate's events stay in order."""
        return str(getattr(self, self.key_field))


E = TypeVar("E", bound=type[Event])


def event(*, topic: str, version: int, key: str, name: str | None = None):
    """Register an event class under (type, version) with its topic and key field.

    The type defaults to the class name less a version suffix: `InvoiceIssuedV2` is version 2
    of `InvoiceIssued`."""
    from portal_contracts import registry

    def wrap(cls: E) -> E:
        if key not in cls.model_fields:
            raise TypeError(f"{cls.__name__}: key field {key!r} is not a field")
        cls.topic = topic
        cls.event_type = name or re.sub(r"V\d+$", "", cls.__name__)
        cls.version = version
        cls.key_field = key
        registry.register(cls)
        return cls

    return wrap
