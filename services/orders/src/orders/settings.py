"""Orders' own settings, read from the environment under the names the client area documents
(RENEWAL_DAYS_BEFORE, RENEWAL_WINDOW_DAYS, OVERDUE_*, UNPAID_ORDER_CANCEL_DAYS) and the time of
day each daily job runs (RENEWALS_AT, OVERDUE_AT, UNPAID_ORDERS_AT, in BUSINESS_TIMEZONE). Apart
from the runtime's ServiceSettings, as billing's and notify's are: they are business rules, not
wiring."""

from __future__ import annotations

from datetime import time

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orders.domain.overdue import OverdueSettings
from orders.domain.shipments import DEFAULT_TRACKING_URLS


class OrdersSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    renewal_days_before: int = Field(default=14, ge=0, description="a renewal order is made this many days ahead")
    renewal_window_days: int = Field(default=30, ge=0, description="early renewal opens this many days ahead")
    overdue_reminder_days: int = Field(default=1, ge=0, description="days after the due date: the reminder")
    overdue_suspend_after_days: int = Field(default=7, ge=0, description="days after the due date: suspended")
    overdue_terminate_after_days: int = Field(default=30, ge=0, description="days after the due date: terminated")
    unpaid_order_cancel_days: int = Field(default=14, ge=1, description="a cart order unpaid this long is cancelled")
    # Users of customer accounts (local sign-in, when no identity provider is configured).
    users_invitation_hours: int = Field(default=72, ge=1, description="a set-password link works this long")
    users_lock_after_failures: int = Field(default=5, ge=1, description="failed logins that lock a login")
    users_lock_minutes: int = Field(default=15, ge=1, description="the failures' window, and how long a lock lasts")
    users_token_minutes: int = Field(default=480, ge=1, description="the lifetime of a token of POST /v1/auth/token")
    quote_expiring_days: int = Field(default=3, ge=0, description="QuoteExpiring this many days before valid_until")
    # The carriers' tracking pages a shipment links to when no tracking_url is given ({tracking}: the number).
    carrier_tracking_urls: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TRACKING_URLS),
        description="carrier (any case) → its tracking page, {tracking} the number (JSON object in the environment)",
    )
    # Who the printed invoices name as their issuer (orders.printing).
    invoice_issuer_name: str = Field(default="Portal Commerce Ltd", min_length=1, description="the invoices' issuer")
    invoice_issuer_address: list[str] = Field(
        default=["1 Market Street", "London EC1A 1AA", "United Kingdom"],
        description="the issuer's address lines on printed invoices (JSON list in the environment)",
    )
    # The daily jobs run in this order: renewals first, then overdue, then unpaid orders.
    renewals_at: time = time(1, 0)
    overdue_at: time = time(1, 30)
    unpaid_orders_at: time = time(2, 0)
    quotes_at: time = time(2, 30)

    @model_validator(mode="after")
    def _overdue_in_order(self) -> OrdersSettings:
        self.overdue()  # reminder <= suspension <= termination, or a ValueError naming the rule
        return self

    def overdue(self) -> OverdueSettings:
        return OverdueSettings(
            reminder_days=self.overdue_reminder_days,
            suspend_after_days=self.overdue_suspend_after_days,
            terminate_after_days=self.overdue_terminate_after_days,
        )
