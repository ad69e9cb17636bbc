"""In-memory repositories of the client area (carts, orders, invoices, services, the catalog
copy) on a fake unit of work, so that the use cases run in milliseconds with the real domain and
the real event mapping."""

from __future__ import annotations

import copy
from dataclasses import replace

from orders.adapters.events import to_contract
from orders.adapters.repository import PeriodOrdered
from orders.domain.carts import Cart
from orders.domain.orders import Status as OrderStatus
from orders.domain.subscriptions import Status
from portal_runtime.idempotency import MemoryIdempotencyKeys
from portal_runtime.paging import Slice
from portal_runtime.testing import FakeRepository, FakeUnitOfWork


def _slice(found: list, page) -> Slice:
    return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


def _scoped(rows, scope):
    return [r for r in rows if scope.account_id in (None, r.account_id)]


class FakeOffers:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict = {}

    async def many(self, item_ids):
        return {i: self.rows[i] for i in set(item_ids) if i in self.rows}

    async def by_skus(self, skus):
        wanted = set(skus)
        return {o.sku: o for o in self.rows.values() if o.sku in wanted}

    async def add_ons_for(self, item_id):
        found = [o for o in self.rows.values() if o.kind == "add_on" and o.is_offered and item_id in o.parents]
        return sorted(found, key=lambda o: o.name)

    async def featured(self):
        found = [o for o in self.rows.values() if o.featured and o.is_offered and o.kind in ("service", "add_on")]
        return sorted(found, key=lambda o: o.name)


class FakeProfiles(FakeRepository):
    key = "account_id"


class FakeSubscriptions(FakeRepository):
    def _track(self, found):
        return [self.uow.track(copy.deepcopy(s), self) for s in found]

    async def family(self, subscription_id, *, for_update=False):
        head = self.rows.get(subscription_id)
        if head is None:
            return []
        add_ons = sorted((s for s in self.rows.values() if s.parent_id == head.id), key=lambda s: s.created_at)
        return self._track([head, *add_ons])

    async def of_account(self, account_id, *, for_update=False):
        return {s.id: s for s in self._track([s for s in self.rows.values() if s.account_id == account_id])}

    async def page(self, scope, page, *, status=None, parents_only=False):
        found = [
            copy.deepcopy(s)
            for s in _scoped(self.rows.values(), scope)
            if status in (None, s.status) and not (parents_only and s.parent_id)
        ]
        return _slice(sorted(found, key=lambda s: (s.activated_on, s.name, s.id)), page)

    async def add_ons_of(self, parent_ids):
        ids = set(parent_ids)
        return {i: [copy.deepcopy(s) for s in self.rows.values() if s.parent_id == i] for i in ids}

    async def counts(self, scope):
        parents = [s for s in _scoped(self.rows.values(), scope) if s.parent_id is None]
        return {str(st): sum(1 for s in parents if s.status == st) for st in Status}

    async def history(self, subscription_id):
        return list(self.rows[subscription_id].history)


class FakeCarts(FakeRepository):
    key = "account_id"

    async def open(self, account_id, *, now):
        if account_id not in self.rows:
            self.rows[account_id] = Cart.open(account_id, now=now)
        return await self.get(account_id, for_update=True)


class FakeOrders(FakeRepository):
    def __init__(self, uow: FakeUnitOfWork) -> None:
        super().__init__(uow)
        self.last_number = 0

    async def next_number(self, year):
        self.last_number += 1
        return f"ORD-{year}-{self.last_number:06d}"

    async def save(self, order):
        claimed = {
            p for o in self.rows.values() if o.id != order.id and o.status != OrderStatus.CANCELLED for p in o.renewals
        }
        if order.status != OrderStatus.CANCELLED and order.renewals & claimed:  # uq_order_lines_renewal_claim
            raise PeriodOrdered()
        await super().save(order)

    async def page(self, scope, page, *, status=None):
        found = [copy.deepcopy(o) for o in _scoped(self.rows.values(), scope) if status in (None, o.status)]
        return _slice(sorted(found, key=lambda o: o.placed_at, reverse=True), page)

    async def ordered_periods(self, subscription_ids):
        ids = set(subscription_ids)
        return {p for o in self.rows.values() if o.status != OrderStatus.CANCELLED for p in o.renewals if p[0] in ids}

    async def add_channel_order(self, make, year):
        order = make(await self.next_number(year))
        if any((o.channel, o.channel_order_id) == (order.channel, order.channel_order_id) for o in self.rows.values()):
            self.last_number -= 1  # uq_orders_channel_order: the savepoint gives the number back
            return None
        return self.add(order)

    async def of_channel(self, channel, channel_order_id):
        found = [o for o in self.rows.values() if (o.channel, o.channel_order_id) == (channel, channel_order_id)]
        return await self.get(found[0].id) if found else None

    async def of_service(self, subscription_id):
        found = [o for o in self.rows.values() if any(line.subscription_id == subscription_id for line in o.lines)]
        return [o.id for o in sorted(found, key=lambda o: o.placed_at)]


class FakeInvoices:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.rows: dict = {}

    async def link(self, link):
        if link.invoice_id in self.rows:
            return False
        self.rows[link.invoice_id] = link
        return True

    async def get(self, invoice_id):
        return self.rows.get(invoice_id)

    async def set_status(self, invoice_id, status):
        if invoice_id in self.rows:
            self.rows[invoice_id] = replace(self.rows[invoice_id], status=status)

    async def of_orders(self, order_ids):
        ids = set(order_ids)
        return {i: [link for link in self.rows.values() if link.order_id == i] for i in ids}


class FakeVisibility:
    """Orders' visibility check: `hidden[account_id]` the items that account may not see."""

    def __init__(self, uow: FakeUnitOfWork | None = None) -> None:
        self.hidden_items: dict[str, set] = {}

    async def hidden(self, account_id, item_ids):
        return set(item_ids) & self.hidden_items.get(account_id, set())


class FakeTerms:
    """Accounts' payment terms (`days[account_id]`)."""

    def __init__(self, uow: FakeUnitOfWork | None = None) -> None:
        self.rows: dict[str, int | None] = {}

    async def days(self, account_id):
        return self.rows.get(account_id)

    async def put(self, account_id, days, *, by, at):
        self.rows[account_id] = days


class FakeShipments(FakeRepository):
    async def of_order(self, order_id):
        found = sorted((s for s in self.rows.values() if s.order_id == order_id), key=lambda s: s.seq)
        return [self.uow.track(copy.deepcopy(s), self) for s in found]

    async def of_orders(self, order_ids):
        return {i: await self.of_order(i) for i in set(order_ids)}


class FakeClientAreaUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__(to_contract)
        self.offers = FakeOffers(self)
        self.profiles = FakeProfiles(self)
        self.subscriptions = FakeSubscriptions(self)
        self.carts = FakeCarts(self)
        self.orders = FakeOrders(self)
        self.invoices = FakeInvoices(self)
        self.visibility = FakeVisibility(self)
        self.idempotency = MemoryIdempotencyKeys()
        self.terms = FakeTerms(self)
        self.shipments = FakeShipments(self)
