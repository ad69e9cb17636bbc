"""Billing's own settings, read from the environment (BILLING_*). None of them is a secret:
the IBAN and PayPal address are printed on every invoice."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from billing.domain.instructions import Payee


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    business_name: str = "Portal Services GmbH"
    iban: str = "DE89370400440532013000"  # the standard example IBAN; set BILLING_IBAN in production
    bic: str = "COBADEFFXXX"
    paypal_payee: str = "payments@portal.example"

    def payee(self) -> Payee:
        return Payee(name=self.business_name, iban=self.iban, bic=self.bic, paypal=self.paypal_payee)
