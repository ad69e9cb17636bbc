"""Shared event definitions: one typed, versioned model per event, with its topic and key."""

from portal_contracts.base import Event, Money, event
from portal_contracts.envelope import Envelope
from portal_contracts.registry import all_topics, lookup

__all__ = ["Envelope", "Event", "Money", "all_topics", "event", "lookup"]
