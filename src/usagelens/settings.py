"""Every setting of the service, read from the environment (prefix ``USAGELENS_``)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from usagelens.storage.duckdb.database import MEMORY_SIZE


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
    duckdb_memory_limit: str | None = Field(
        default=None,
        pattern=MEMORY_SIZE,
        description=(
            "Most memory DuckDB may hold, e.g. `1GB` or `512MiB`: its cache of the file's "
            "blocks and the queries' working memory (unset: DuckDB's default, 80% of the "
            "machine's). It bounds the server's RSS, but a query that needs more than is left "
            "fails: too low a limit turns heavy concurrent queries into errors."
        ),
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
    decode_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description=(
            "Worker processes that decode ingest requests beside the server (0: decode in "
            "the server's threads, which then wait for each other and for the writer on "
            "Python's GIL)."
        ),
    )
    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "Issuer that dashboard users' access tokens must carry; `{tid}` stands for the "
            "token's tenant, e.g. `https://login.microsoftonline.com/{tid}/v2.0`. "
            "Tokens are accepted only when issuer, audience and JWKS URL are all set."
        ),
    )
    oidc_audience: str | None = Field(
        default=None, description="Audience (`aud`) tokens must carry: the API's client id or URI."
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description="Where the issuer publishes its signing keys (JWKS); may contain `{tid}`.",
    )
    oidc_tenant_claim: str = Field(
        default="tid", description="Token claim naming the tenant (`--entra-tenant-id`)."
    )
    oidc_leeway_seconds: int = Field(
        default=60, ge=0, le=600, description="Clock skew allowed on `exp` and `nbf`."
    )
    oidc_jwks_refresh_seconds: int = Field(
        default=300,
        ge=1,
        description="Least time between two fetches of the JWKS for an unknown key id.",
    )
    cursor_secret: str | None = Field(
        default=None,
        description=(
            "Secret that signs pagination cursors; when unset, one is generated and kept in the "
            "database file, so cursors stay valid across restarts."
        ),
    )
