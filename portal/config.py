"""Settings parsed from the environment, refusing bad values at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_TOKEN_DAYS = 90


class ConfigError(ValueError):
    """A setting in the environment has a value the portal cannot use."""


def _text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _whole_number(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be {'greater than 0' if minimum == 1 else f'{minimum} or more'}, "
                          f"got {value}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _whole_number(env, name, default, minimum=1)


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _whole_number(env, name, default, minimum=0)


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _text(env, name)
    if raw is None:
        return default
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of {', '.join(TRUE_WORDS + FALSE_WORDS)}, got {raw!r}")
def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name} must be 0 or more seconds, got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (_text(env, name) or default).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    secret_key: str
    database_url: str
    storage_backend: str
    s3_bucket: str | None
    s3_endpoint_url: str | None
    s3_prefix: str
    redis_url: str | None
    max_upload_mb: int
    # "embedded": SQLite-backed queue consumed by a thread inside the web process;
    # "redis": Redis-backed queue consumed by `flask --app portal worker`;
    # "immediate": run tasks inline (tests only).
    queue_mode: str
    expiry_warning_days: int = 14
    smtp_host: str | None = None  # expiry warnings go by email too when set
    smtp_port: int = 25
    smtp_from: str = "collateral@localhost"
    # Session and remember-me cookies carry `Secure` (sent over HTTPS only). On by
    # default except on the embedded default (SQLite), which scripts/start.sh serves
    # over plain http on 127.0.0.1; SESSION_COOKIE_SECURE overrides either way.
    cookie_secure: bool = False
    # Sign-in throttling: failed sign-ins within the window, per account and per
    # client address, after which sign-in answers 429 with a growing wait.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 50
    login_window_minutes: int = 15
    api_token_days: int = DEFAULT_API_TOKEN_DAYS  # API tokens expire this many days after they are issued
    searches_per_minute: int = 60  # per user and web process (portal/ratelimit.py)
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted
    # (0: none; the client address is the socket's peer).
    trusted_proxies: int = 0
    # Background work (processing an upload, assembling a deck) runs in a child process
    # bounded in time and memory; a job still unfinished after its deadline (the time
    # limit plus a grace period) was cut off by a dead process and is picked up again,
    # at most job_max_attempts times.
    processing_timeout_seconds: int = 300
    job_max_attempts: int = 3
    deck_max_mb: int = 256          # the assembled deck's size (all its parts, uncompressed)
    deck_memory_mb: int = 1536      # the assembling child's address space
    deck_timeout_seconds: int = 180
    deck_wait_seconds: float = 20.0  # how long a download request waits for a build
    # Share links (portal/sharing): default lifetime; gate failures (wrong passcode or email)
    # within the window after which a link, or a client address at a link, is locked out;
    # a visit after this many quiet days tells the rep the buyer came back.
    share_days: int = 30
    share_failures_per_address: int = 5
    share_failures_per_link: int = 20
    share_window_minutes: int = 15
    share_revisit_days: int = 3

    @property
    def processing_deadline_seconds(self) -> int:
        return _deadline(self.processing_timeout_seconds)

    @property
    def deck_deadline_seconds(self) -> int:
        return _deadline(self.deck_timeout_seconds)

    @property
    def deck_max_bytes(self) -> int:
        return self.deck_max_mb * 1024 * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def is_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")


def _deadline(timeout: int) -> int:
    """A job's time limit plus a grace period for saving what it made."""
    return timeout + min(60, timeout)


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    configured = _text(env, "SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(_text(env, "PORTAL_DATA_DIR", "instance")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)

    database_url = _text(env, "DATABASE_URL", f"sqlite:///{data_dir / 'portal.db'}")
    if "://" not in database_url:
        raise ConfigError(f"DATABASE_URL must be an SQLAlchemy URL, got {database_url!r}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    storage_backend = _choice(env, "STORAGE_BACKEND", ("local", "s3"), "local")
    s3_bucket = _text(env, "S3_BUCKET")
    if storage_backend == "s3" and not s3_bucket:
        raise ConfigError("STORAGE_BACKEND=s3 needs S3_BUCKET")
    endpoint = _text(env, "S3_ENDPOINT_URL")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"S3_ENDPOINT_URL must start with http:// or https://, got {endpoint!r}")

    redis_url = _text(env, "REDIS_URL")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL must be a redis:// URL, got {redis_url!r}")
    default_queue = "redis" if redis_url else "embedded"
    queue_mode = _choice(env, "PORTAL_QUEUE", ("embedded", "redis", "immediate"), default_queue)
    if queue_mode == "redis" and not redis_url:
        raise ConfigError("PORTAL_QUEUE=redis needs REDIS_URL")

    return Settings(
        data_dir=data_dir,
        secret_key=_secret_key(env, data_dir),
        database_url=database_url,
        storage_backend=storage_backend,
        s3_bucket=s3_bucket,
        s3_endpoint_url=endpoint,
        s3_prefix=(_text(env, "S3_PREFIX", "") or "").strip("/"),
        redis_url=redis_url,
        max_upload_mb=_positive_int(env, "MAX_UPLOAD_MB", 512),
        queue_mode=queue_mode,
        expiry_warning_days=_positive_int(env, "EXPIRY_WARNING_DAYS", 14),
        smtp_host=_text(env, "SMTP_HOST"),
        smtp_port=_positive_int(env, "SMTP_PORT", 25),
        smtp_from=_text(env, "SMTP_FROM", "collateral@localhost") or "collateral@localhost",
        cookie_secure=_flag(env, "SESSION_COOKIE_SECURE", not database_url.startswith("sqlite")),
        login_failures_per_account=_positive_int(env, "LOGIN_FAILURES_PER_ACCOUNT", 5),
        login_failures_per_address=_positive_int(env, "LOGIN_FAILURES_PER_ADDRESS", 50),
        login_window_minutes=_positive_int(env, "LOGIN_WINDOW_MINUTES", 15),
        api_token_days=_positive_int(env, "API_TOKEN_DAYS", DEFAULT_API_TOKEN_DAYS),
        searches_per_minute=_positive_int(env, "SEARCHES_PER_MINUTE", 60),
        trusted_proxies=_non_negative_int(env, "TRUSTED_PROXIES", 0),
        processing_timeout_seconds=_positive_int(env, "PROCESSING_TIMEOUT_SECONDS", 300),
        job_max_attempts=_positive_int(env, "JOB_MAX_ATTEMPTS", 3),
        deck_max_mb=_positive_int(env, "DECK_MAX_MB", 256),
        deck_memory_mb=_positive_int(env, "DECK_MEMORY_MB", 1536),
        deck_timeout_seconds=_positive_int(env, "DECK_TIMEOUT_SECONDS", 180),
        deck_wait_seconds=_seconds(env, "DECK_WAIT_SECONDS", 20.0),
        share_days=_positive_int(env, "SHARE_DAYS", 30),
        share_failures_per_address=_positive_int(env, "SHARE_FAILURES_PER_ADDRESS", 5),
        share_failures_per_link=_positive_int(env, "SHARE_FAILURES_PER_LINK", 20),
        share_window_minutes=_positive_int(env, "SHARE_WINDOW_MINUTES", 15),
        share_revisit_days=_positive_int(env, "SHARE_REVISIT_DAYS", 3),
    )
