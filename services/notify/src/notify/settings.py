"""Notify's own settings, read from the environment (SMTP_HOST, SMTP_PORT, ...)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notify.domain.deliveries import RetryPolicy
from notify.domain.recipients import Confirming, usable_address
from portal_runtime.kernel import LANGUAGES


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = Field(default=False, description="implicit TLS (usually port 465)")
    smtp_starttls: bool = Field(default=False, description="require STARTTLS (usually port 587)")
    smtp_timeout_seconds: float = Field(default=15, gt=0)
    smtp_from: str = "Customer portal <no-reply@portal.invalid>"
    # Sending and retrying
    send_max_attempts: int = Field(default=6, ge=1)
    send_backoff_seconds: float = Field(default=30, ge=0, description="wait after the first failed attempt")
    send_backoff_max_seconds: float = Field(default=3600, ge=0)
    send_poll_seconds: float = Field(default=1.0, gt=0)
    send_concurrency: int = Field(default=2, ge=1, description="deliveries sent in parallel per process")
    # Confirming a new address
    email_confirmation_hours: int = Field(default=Confirming().hours, ge=1, le=24 * 30, description="a token's life")
    email_confirmation_url: str = Field(
        default=Confirming().link,
        description="the link in the confirmation email: the portal front-end's page that posts the token "
        "to POST /v1/email-confirmations; {token} stands for the token",
    )

    portal_url: str = Field(
        default="http://127.0.0.1:3000",
        description="the customer portal front-end: the invitation's link is {PORTAL_URL}/set-password?token=...",
    )

    # The business's own mailbox: a customer's message in an order's thread is emailed there.
    business_email: str = Field(
        default="orders@portal.invalid",
        description="where a customer's message in an order's thread is emailed (the business's order desk)",
    )
    business_language: str = Field(default="en", description="the language of the emails to BUSINESS_EMAIL")

    @field_validator("business_email")
    @classmethod
    def _usable_business_email(cls, address: str) -> str:
        if not usable_address(address.strip()):
            raise ValueError("BUSINESS_EMAIL must be an email address")
        return address.strip()

    @field_validator("business_language")
    @classmethod
    def _known_language(cls, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(f"BUSINESS_LANGUAGE must be one of {', '.join(LANGUAGES)}")
        return language

    @field_validator("email_confirmation_url")
    @classmethod
    def _has_token(cls, url: str) -> str:
        if "{token}" not in url:
            raise ValueError("EMAIL_CONFIRMATION_URL must hold {token}")
        return url

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.send_max_attempts,
            base=timedelta(seconds=self.send_backoff_seconds),
            cap=timedelta(seconds=self.send_backoff_max_seconds),
        )

    def confirming(self) -> Confirming:
        return Confirming(valid_for=timedelta(hours=self.email_confirmation_hours), link=self.email_confirmation_url)
