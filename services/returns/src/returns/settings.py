"""Returns' own settings, read from the environment (RETURNS_EXPECTED_DAYS). Apart from the runtime's
ServiceSettings, as orders' and billing's are: they are business rules, not wiring."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReturnsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    returns_expected_days: int = Field(
        default=14, ge=0, description="an approval without expected_on expects completion this many days after today"
    )
