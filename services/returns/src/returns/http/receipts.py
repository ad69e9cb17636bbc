"""HTTP: goods receipts, as the customer (its own) and admins (all, or one account's) read them."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from portal_runtime.auth import Principal
from portal_runtime.paging import Page, PageRequest
from returns.http.returns import ReceiptOut
from returns.service.returns import ReturnsService


class GoodsReceiptController(Controller):
    path = "/v1/goods-receipts"
    tags = ["returns"]

    @get("/", summary="List goods receipts, newest first: customers see their own; admins all, or by account_id")
    async def list_goods_receipts(
        self,
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
        page: NamedDependency[PageRequest],
        account_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[ReceiptOut]:
        found = await rmas.list_receipts(request.user, account_id=account_id, page=page)
        return found.map(ReceiptOut.of)

    @get("/{receipt_id:uuid}", summary="Read one goods receipt")
    async def get_goods_receipt(
        self,
        receipt_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReceiptOut:
        return ReceiptOut.of(await rmas.get_receipt(receipt_id, request.user))
