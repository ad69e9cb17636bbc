"""Every registered event by (type, version), and the topics they travel on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal_contracts.base import Event

_EVENTS: dict[tuple[str, int], type[Event]] = {}

# Topic → partition count. One topic per aggregate type: a key (aggregate id) keeps order.
TOPICS: dict[str, int] = {
    "catalog.items": 3,
    "catalog.access": 3,
    "orders.requests": 3,
    "orders.accounts": 3,
    "orders.orders": 3,
    "orders.services": 3,
    "orders.users": 3,
    "orders.support": 3,
    "orders.quotes": 3,
    "orders.messages": 3,
    "billing.invoices": 3,
    "billing.units": 3,
    "billing.statements": 3,
    "returns.rma": 3,
    "notify.deliveries": 3,
    "usage.units": 3,
    "channels.orders": 3,
}
SERVICES = ("catalog", "orders", "returns", "billing", "notify")
# Topics that systems outside the portal publish on (none of its services has them in an outbox):
# the owner named in the topic, and who that is.
EXTERNAL_PUBLISHERS: dict[str, str] = {
    "usage.units": "the internal systems that meter the units accounts use",
    "channels.orders": "the other sales channels (marketplaces, EDI, shops) that take orders for portal accounts",
}

# The events each service's consumer group (named after the service) applies; it ignores the other
# events of those topics. The AsyncAPI document's receive operations come from here, and
# tests/test_event_readers.py holds it to what each service's bootstrap registers.
READS: dict[str, tuple[tuple[str, int], ...]] = {
    "catalog": (("UserAccessChanged", 1),),
    "orders": (
        ("AccessGroupChanged", 1),
        ("AccessGroupDeleted", 1),
        ("CatalogItemPublished", 1),
        ("CatalogItemRetired", 1),
        ("ChannelOrderReceived", 1),
        ("CreditNoteIssued", 1),
        ("GoodsReceived", 1),
        ("InvoiceIssued", 2),
        ("InvoiceVoided", 1),
        ("PaymentConfirmed", 1),
        ("PaymentFailed", 1),
        ("PaymentReceived", 1),
        ("StatementIssued", 1),
        ("UserAccessChanged", 1),
    ),
    "returns": (("InvoiceIssued", 1), ("InvoiceIssued", 2), ("OrderShipped", 1), ("UserAccessChanged", 1)),
    "billing": (
        ("CatalogItemPublished", 1),
        ("CatalogItemRetired", 1),
        ("GoodsReceived", 1),
        ("OrderCancelled", 1),
        ("OrderPlaced", 1),
        ("OrderPlaced", 2),
        ("RequestApproved", 1),
        ("UnitsConsumed", 1),
        ("UserAccessChanged", 1),
    ),
    "notify": (
        ("AccountProfileChanged", 1),
        ("CreditNoteIssued", 1),
        ("GoodsReceived", 1),
        ("InformationRequested", 1),
        ("InvoiceIssued", 1),
        ("InvoiceIssued", 2),
        ("OrderCancelled", 1),
        ("OrderMessagePosted", 1),
        ("OrderPlaced", 1),
        ("OrderPlaced", 2),
        ("OrderShipped", 1),
        ("PaymentReceived", 1),
        ("QuoteExpiring", 1),
        ("QuoteSent", 1),
        ("RequestRejected", 1),
        ("RequestSubmitted", 1),
        ("ReturnApproved", 1),
        ("ReturnExpectedDateChanged", 1),
        ("ReturnRejected", 1),
        ("ReturnRequested", 1),
        ("ServiceActivated", 1),
        ("ServiceCancellationScheduled", 1),
        ("ServiceCancelled", 1),
        ("ServiceOverdue", 1),
        ("ServiceReactivated", 1),
        ("ServiceRenewed", 1),
        ("ServiceSuspended", 1),
        ("ServiceTerminated", 1),
        ("ServicesActivated", 1),
        ("StatementIssued", 1),
        ("SupportRequestAnswered", 1),
        ("SupportRequestReceived", 1),
        ("UnitsBalanceLow", 1),
        ("UnitsCapReached", 1),
        ("UnitsCredited", 1),
        ("UnitsPlanPaused", 1),
        ("UnitsPurchaseFailed", 1),
        ("UnitsPurchased", 1),
        ("UnitsTopUpFailed", 1),
        ("UserAccessChanged", 1),
        ("UserActivated", 1),
        ("UserContactChanged", 1),
        ("UserInvited", 1),
    ),
}


def owner_of(topic: str) -> str:
    """The one service that publishes on a topic: topics are named `<service>.<aggregate>`."""
    return topic.split(".", 1)[0]


def dead_letter_topic(service: str) -> str:
    """Where a service's consumer puts what it cannot handle."""
    return f"{service}.dlq"


def register(cls: type[Event]) -> None:
    ident = (cls.event_type, cls.version)
    if ident in _EVENTS and _EVENTS[ident] is not cls:
        raise ValueError(f"event {ident} is defined twice")
    if cls.topic not in TOPICS:
        raise ValueError(f"{cls.__name__}: unknown topic {cls.topic!r}")
    _EVENTS[ident] = cls


def lookup(event_type: str, version: int) -> type[Event]:
    _load()
    try:
        return _EVENTS[(event_type, version)]
    except KeyError:
        raise LookupError(f"no event {event_type!r} version {version}") from None


def all_events() -> list[type[Event]]:
    _load()
    return sorted(_EVENTS.values(), key=lambda c: (c.topic, c.event_type, c.version))


def all_topics() -> dict[str, int]:
    """Every topic with its partition count, dead-letter topics included."""
    topics = dict(TOPICS)
    topics.update({dead_letter_topic(s): 1 for s in SERVICES})
    return topics


def _load() -> None:
    import portal_contracts.events  # noqa: F401  (registers every event)
