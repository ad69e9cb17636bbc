"""Billing's own settings, read from the environment (BILLING_*). None of them is a secret:
the IBAN and PayPal address are printed on every invoice."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing.domain.instructions import Payee


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    business_name: str = "Portal Services GmbH"
    iban: str = "DE89370400440532013000"  # the standard example IBAN; set BILLING_IBAN in production
    bic: str = "COBADEFFXXX"
    paypal_payee: str = "payments@portal.example"
    # Prepaid units: what a new wallet is granted (0: nothing), and the balance at or below which
    # it is low (UnitsBalanceLow; each account may set its own: PATCH /v1/units).
    units_initial_grant: int = Field(default=2000, ge=0)
    units_low_balance_at: int = Field(default=100, ge=0)
    # The automatic plan: how long a declined top-up waits before the next try, how many declines
    # in a row pause the plan, and how often the charger looks for a pending top-up when idle.
    units_retry_seconds: float = Field(default=3600, gt=0)
    units_max_declines: int = Field(default=3, ge=1)
    units_charge_poll_seconds: float = Field(default=0.2, gt=0)

    def payee(self) -> Payee:
        return Payee(name=self.business_name, iban=self.iban, bic=self.bic, paypal=self.paypal_payee)
