"""One settings object per service process, read from the environment."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str
    database_url: str = Field(description="SQLAlchemy async URL of this service's own database")
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    jwt_secret: SecretStr = Field(description="HMAC key that signs and checks bearer tokens")
    # Delivery
    consumer_max_attempts: int = Field(default=4, ge=1)
    consumer_backoff_seconds: float = Field(default=0.2, ge=0)
    relay_poll_seconds: float = Field(default=0.2, gt=0)
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


class KafkaSettings(BaseSettings):
    """What the `dlq` commands need, and no more."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"


class DatabaseSettings(BaseSettings):
    """What `migrate` needs, and no more."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str
