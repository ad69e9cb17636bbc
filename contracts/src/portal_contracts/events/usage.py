"""What the internal systems that meter usage publish: the units accounts used (`usage.units`).
Billing, which keeps every account's unit wallet, reads it.

One unit is one user of the service for one day."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from portal_contracts.base import Event, event


@event(topic="usage.units", version=1, key="account_id")
class UnitsConsumed(Event):
    """Units an account's users used (published by the systems that meter them; billing reads it).

    `usage_id` names the report: the same id counts once however often it arrives, on this topic
    or over HTTP (`POST /v1/admin/units/usage`). Usage is always recorded, since it already
    happened: the balance may go below zero (an automatic plan covers the deficit)."""

    usage_id: str = Field(min_length=1, max_length=200)
    account_id: str = Field(min_length=1)
    units: int = Field(ge=1)
    used_on: date = Field(description="the day the units were used")
