"""One settings object per service process, read from the environment."""

from __future__ import annotations

from pydantic import Field, SecretStr
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
    purge_every_seconds: float = Field(default=600, gt=0)
    kafka_topic_wait_seconds: float = Field(
        default=60, ge=0, description="how long a worker waits for its topics to be created before it stops"
    )
    # Telemetry: OTLP export is on when OTEL_EXPORTER_OTLP_ENDPOINT is set (read by the exporter).
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"


class KafkaSettings(BaseSettings):
    """What the `dlq` commands need, and no more."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"


class DatabaseSettings(BaseSettings):
    """What `migrate` needs, and no more."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str
