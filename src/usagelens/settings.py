"""Every setting of the service, read from the environment (prefix ``USAGELENS_``)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="USAGELENS_", extra="ignore")

    db: Path = Field(
        default=Path("usagelens.duckdb"), description="Path of the embedded DuckDB database file."
    )
    host: str = Field(default="127.0.0.1", description="Address `usagelens serve` listens on.")
    port: int = Field(
        default=8000, ge=1, le=65535, description="Port `usagelens serve` listens on."
    )
    key_prefix: str = Field(
        default="ul",
        pattern=r"^[a-z][a-z0-9]{0,15}$",
        description="Visible prefix of API keys: keys look like `<prefix>_sk_<env>_<secret>`.",
    )
    max_batch_events: int = Field(
        default=10_000, ge=1, description="Most events one ingest request may carry (413 beyond)."
    )
    max_batch_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="Largest ingest request body in bytes (413 beyond).",
    )
    max_future_seconds: int = Field(
        default=300, ge=0, description="How far in the future an event's `time` may lie."
    )
