"""Loading and storing automatic unit plans inside a unit of work (`BillingUnitOfWork.plans`):
what it loads or adds is tracked and saved on commit, with the history rows of its moves. Every
change of a plan is made with its account's wallet row locked first (`billing.service.top_ups`),
so the plan's own row lock never waits on a wallet the other way round."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from billing.adapters.plan_tables import UnitPlanHistoryRow, UnitPlanRow
from billing.adapters.units_tables import UnitWalletRow
from billing.domain.plans import BillingAddress, BillingContact, PausedReason, Plan, PlanCard, PlanStatus
from portal_runtime.uow import SqlRepository

_STATE = (
    "package_item_id",
    "threshold",
    "monthly_cap",
    "declines_in_a_row",
    "next_attempt_at",
    "capped_month",
    "created_at",
    "updated_at",
)


def _plan(row: UnitPlanRow) -> Plan:
    return Plan(
        account_id=row.account_id,
        card=PlanCard(token=row.card_token, brand=row.card_brand, last4=row.card_last4),
        billing_address=BillingAddress(**row.billing_address),
        billing_contact=BillingContact(**row.billing_contact),
        status=PlanStatus(row.status),
        paused_reason=PausedReason(row.paused_reason) if row.paused_reason else None,
        **{f: getattr(row, f) for f in _STATE},
    )


def _values(plan: Plan) -> dict:
    return {
        **{f: getattr(plan, f) for f in _STATE},
        "card_token": plan.card.token,
        "card_brand": plan.card.brand,
        "card_last4": plan.card.last4,
        "billing_address": asdict(plan.billing_address),
        "billing_contact": asdict(plan.billing_contact),
        "status": plan.status.value,
        "paused_reason": plan.paused_reason.value if plan.paused_reason else None,
    }


class PlanRepository(SqlRepository):
    async def get(self, account_id: str, *, for_update: bool = False) -> Plan | None:
        row = await self.one(select(UnitPlanRow).where(UnitPlanRow.account_id == account_id), for_update=for_update)
        return None if row is None else self.uow.track(_plan(row), self)

    def add(self, plan: Plan) -> Plan:
        return self.uow.track(plan, self)

    async def save(self, plan: Plan) -> None:
        row = await self.session.get(UnitPlanRow, plan.account_id)
        if row is None:
            self.session.add(UnitPlanRow(account_id=plan.account_id, **_values(plan)))
            await self.session.flush()  # the plan's row before its history rows
        else:
            for name, value in _values(plan).items():
                setattr(row, name, value)
        for step in plan.history:
            self.session.add(
                UnitPlanHistoryRow(
                    account_id=plan.account_id,
                    at=step.at,
                    by=step.by,
                    from_status=step.from_status.value if step.from_status else None,
                    to_status=step.to_status.value,
                    note=step.note,
                )
            )
        plan.history.clear()  # stored: saved again (a second commit) they would be rows twice

    async def card(self, account_id: str) -> PlanCard | None:
        """The plan's card as it is now, read without loading (or locking) the plan: what the
        charger charges while it holds only the purchase's row."""
        row = (
            await self.session.execute(
                select(UnitPlanRow.card_token, UnitPlanRow.card_brand, UnitPlanRow.card_last4).where(
                    UnitPlanRow.account_id == account_id
                )
            )
        ).first()
        return None if row is None else PlanCard(token=row.card_token, brand=row.card_brand, last4=row.card_last4)

    async def due(self) -> list[str]:
        """The accounts whose plan is active and whose balance is at or below its threshold."""
        rows = await self.session.scalars(
            select(UnitPlanRow.account_id)
            .join(UnitWalletRow, UnitWalletRow.account_id == UnitPlanRow.account_id)
            .where(UnitPlanRow.status == PlanStatus.ACTIVE.value, UnitWalletRow.balance <= UnitPlanRow.threshold)
            .order_by(UnitPlanRow.account_id)
        )
        return list(rows)
