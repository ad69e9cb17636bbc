"""One settings object per service process, read from the environment."""

from __future__ import annotations

import os
from datetime import time
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Claims a token has anyway, which cannot also name the account.
REGISTERED_CLAIMS = ("sub", "role", "iss", "aud", "exp", "iat", "nbf", "jti")

# Settings may also come from files, one per setting, named as its variable in lower case: a
# Kubernetes Secret mounted as a volume (SECRETS_DIR=/var/run/secrets/portal holding `jwt_secret`,
# `database_url`, `kafka_sasl_password`). A variable in the environment wins over a file.
SECRETS_DIR = os.environ.get("SECRETS_DIR") or None


class KafkaSecuritySettings(BaseSettings):
    """How every Kafka client of the process connects (portal_runtime.kafka): TLS with
    KAFKA_SECURITY_PROTOCOL=SSL, SASL (SCRAM or PLAIN) over TLS with SASL_SSL."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", secrets_dir=SECRETS_DIR)

    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle for the brokers' certificates")
    kafka_ssl_certfile: str | None = Field(default=None, description="client certificate (mutual TLS)")
    kafka_ssl_keyfile: str | None = Field(default=None, description="its private key")

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSecuritySettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD"
            )
        return self


class ServiceSettings(KafkaSecuritySettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", secrets_dir=SECRETS_DIR)

    service_name: str
    database_url: str = Field(description="SQLAlchemy async URL of this service's own database")
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Bearer tokens (portal_runtime.auth): HS256 with JWT_SECRET for local use, or, when
    # JWT_JWKS_URL is set, only the RS256/ES256 keys an OIDC issuer publishes there, with `iss`
    # (JWT_ISSUER) and `aud` (JWT_AUDIENCE) checked.
    jwt_secret: SecretStr | None = Field(default=None, description="HMAC key that signs and checks local tokens")
    jwt_jwks_url: str | None = Field(default=None, description="an OIDC issuer's JWKS URL (its public keys)")
    jwt_issuer: str | None = Field(default=None, description="the `iss` every token must name")
    jwt_audience: str | None = Field(default=None, description="the `aud` every token must hold (the client id)")
    jwt_account_claim: str = Field(default="account", min_length=1, description="the claim naming the account")
    jwt_jwks_cache_seconds: float = Field(default=300, gt=0, description="how long the issuer's keys are kept")
    jwt_jwks_refetch_seconds: float = Field(
        default=10, ge=0, description="an unknown key id fetches the keys again at most this often"
    )
    # Delivery
    consumer_max_attempts: int = Field(default=4, ge=1)
    consumer_backoff_seconds: float = Field(default=0.2, ge=0)
    # The relay wakes when a transaction that staged outbox rows commits; this poll is only a safety net.
    relay_poll_seconds: float = Field(default=1.0, gt=0)
    relay_batch_size: int = Field(default=100, ge=1)
    outbox_retention_hours: float = Field(default=72, gt=0)
    inbox_retention_hours: float = Field(default=24 * 14, gt=0)
    # Scheduled jobs (portal_runtime.jobs): the worker's scheduler wakes every JOB_POLL_SECONDS; the
    # outbox/inbox purge runs daily at PURGE_AT (time of day in BUSINESS_TIMEZONE).
    job_poll_seconds: float = Field(default=1.0, gt=0)
    purge_at: time = time(3, 0)
    # Dates are calendar dates in the business's time zone (an IANA name, e.g. Europe/Berlin).
    business_timezone: str = "UTC"
    # The test clock (portal_runtime.testclock): PORTAL_TEST_CLOCK=1 lets an admin move this
    # service's time; refused when PORTAL_ENV=production.
    portal_env: str = Field(default="development", description="`production` refuses the test clock")
    portal_test_clock: bool = False
    test_clock_refresh_seconds: float = Field(default=1.0, gt=0)
    kafka_topic_wait_seconds: float = Field(
        default=60, ge=0, description="how long a worker waits for its topics to be created before it stops"
    )
    # Telemetry: OTLP export is on when OTEL_EXPORTER_OTLP_ENDPOINT is set (read by the exporter).
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"
    # json: one JSON object a line (the image's default); console: for people (`./portal up`).
    log_format: Literal["json", "console"] = "console"
    # Origins of portal front-ends allowed to call this API from a browser (CORS), e.g.
    # CORS_ALLOW_ORIGINS='["https://portal.example"]'; none by default.
    cors_allow_origins: list[str] = Field(default_factory=list)

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"BUSINESS_TIMEZONE {value!r} is not a time zone name (e.g. UTC, Europe/Berlin)") from None
        return value

    @field_validator("jwt_secret", "jwt_jwks_url", "jwt_issuer", "jwt_audience", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("jwt_jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"JWT_JWKS_URL {value!r} is not an http(s) URL")
        return value

    @field_validator("jwt_account_claim")
    @classmethod
    def _not_a_registered_claim(cls, value: str) -> str:
        if value in REGISTERED_CLAIMS:
            raise ValueError(f"JWT_ACCOUNT_CLAIM {value!r} is a registered claim; name the claim holding the account")
        return value

    @model_validator(mode="after")
    def _one_way_to_check_tokens(self) -> ServiceSettings:
        if self.jwt_jwks_url is None and self.jwt_secret is None:
            raise ValueError(
                "no way to check bearer tokens: set JWT_SECRET (HS256, local use), or JWT_JWKS_URL with JWT_ISSUER "
                "and JWT_AUDIENCE (an OIDC issuer's keys)"
            )
        if self.jwt_jwks_url is not None and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError(
                "JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: tokens of an identity provider are taken only "
                "when they name this issuer and this audience"
            )
        return self

    @model_validator(mode="after")
    def _no_test_clock_in_production(self) -> ServiceSettings:
        if self.portal_test_clock and self.production:
            raise ValueError(
                "PORTAL_TEST_CLOCK=1 is refused when PORTAL_ENV=production: a test clock lets an admin move "
                "the time the service reads; unset PORTAL_TEST_CLOCK"
            )
        return self

    @property
    def production(self) -> bool:
        return self.portal_env.strip().lower() in ("production", "prod")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)


class KafkaSettings(KafkaSecuritySettings):
    """What the `dlq` commands need, and no more."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"


class DatabaseSettings(BaseSettings):
    """What `migrate` needs, and no more."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", secrets_dir=SECRETS_DIR)

    database_url: str
    database_wait_seconds: float = Field(default=120.0, ge=0)
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "console"
