"""Read config.toml into frozen dataclasses, rejecting unknown keys, wrong types and values out of range."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config.toml"
DATABASE_URL_ENV = "EARSHOT_DATABASE_URL"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


# What a value must be beyond its type, kept in each field's metadata and checked by load().


def ranged(default: float, low: float, high: float | None = None):
    """A number field that must lie from ``low`` to ``high`` (no upper bound when None)."""
    return field(default=default, metadata={"range": (low, high)})


def text(rule: str, default=dataclasses.MISSING):
    """A text field with a rule: "nonblank", "url" (empty, or an http(s) URL with a host) or "database_url"."""
    return field(default=default, metadata={"rule": rule})


@dataclass(frozen=True)
class StorageSettings:
    path: str = text("nonblank", "instance/earshot.db")
    # "postgresql://user@host:5432/db" puts the store on PostgreSQL (EARSHOT_DATABASE_URL overrides);
    # the password comes only from EARSHOT_DATABASE_PASSWORD or PGPASSWORD, never from this file.
    url: str = text("database_url", "")


@dataclass(frozen=True)
class XBrand:
    query: str = ""
    handles: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedditBrand:
    terms: tuple[str, ...] = ()
    subreddits: tuple[str, ...] = ("all",)
    handles: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlueskyBrand:
    terms: tuple[str, ...] = ()  # searched with app.bsky.feed.searchPosts, newest first
    handles: tuple[str, ...] = ()  # the brand's own accounts, e.g. "luminamobile.bsky.social"


@dataclass(frozen=True)
class MastodonBrand:
    terms: tuple[str, ...] = ()  # full-text search, on servers whose [[sources.mastodon.servers]] allow it
    hashtags: tuple[str, ...] = ()  # hashtag timelines, without the "#"
    handles: tuple[str, ...] = ()  # the brand's own accounts as "user@server"


@dataclass(frozen=True)
class Brand:
    name: str = text("nonblank")
    competitor: bool = False
    x: XBrand = field(default_factory=XBrand)
    reddit: RedditBrand = field(default_factory=RedditBrand)
    bluesky: BlueskyBrand = field(default_factory=BlueskyBrand)
    mastodon: MastodonBrand = field(default_factory=MastodonBrand)

    def handles(self, platform: str) -> tuple[str, ...]:
        """The brand's own account handles on one platform."""
        section = getattr(self, platform, None) if platform not in ("name", "competitor") else None
        return section.handles if dataclasses.is_dataclass(section) else ()


@dataclass(frozen=True)
class XSource:
    enabled: bool = True
    poll_minutes: int = ranged(15, 1)
    page_budget: int = ranged(5, 1)
    page_size: int = ranged(100, 10, 100)  # recent search takes max_results 10 to 100
    bearer_token_env: str = "X_BEARER_TOKEN"
    api_key_env: str = "X_API_KEY"
    api_secret_env: str = "X_API_SECRET"
    access_token_env: str = "X_ACCESS_TOKEN"
    access_token_secret_env: str = "X_ACCESS_TOKEN_SECRET"
    # Base URL replacing https://api.twitter.com (a gateway, or a fake API in tests); "" = the real API.
    api_base: str = text("url", "")

    def has_read_credentials(self, env) -> bool:
        """Whether the environment holds the bearer token that collecting needs."""
        return bool(env(self.bearer_token_env))


@dataclass(frozen=True)
class RedditSource:
    enabled: bool = True
    poll_minutes: int = ranged(10, 1)
    page_budget: int = ranged(5, 1)
    page_size: int = ranged(100, 1, 100)  # Reddit listings return at most 100 items
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    user_agent_env: str = "REDDIT_USER_AGENT"
    username_env: str = "REDDIT_USERNAME"
    password_env: str = "REDDIT_PASSWORD"
    refresh_token_env: str = "REDDIT_REFRESH_TOKEN"
    # praw's oauth_url and reddit_url (API and token hosts); "" = the real Reddit.
    oauth_url: str = text("url", "")
    reddit_url: str = text("url", "")

    def has_read_credentials(self, env) -> bool:
        """Whether the environment holds the app keys that collecting needs."""
        return bool(env(self.client_id_env) and env(self.client_secret_env))


@dataclass(frozen=True)
class BlueskySource:
    enabled: bool = True
    poll_minutes: int = ranged(10, 1)
    page_budget: int = ranged(5, 1)
    page_size: int = ranged(100, 1, 100)  # searchPosts and listNotifications take a limit of 1 to 100
    handle_env: str = "BLUESKY_HANDLE"
    app_password_env: str = "BLUESKY_APP_PASSWORD"
    # The account's PDS (or a gateway, or a fake API in tests); "" = https://bsky.social.
    api_base: str = text("url", "")

    def has_read_credentials(self, env) -> bool:
        """Whether the environment holds the handle and app password that log in."""
        return bool(env(self.handle_env) and env(self.app_password_env))


@dataclass(frozen=True)
class MastodonServer:
    name: str = text("nonblank")  # the server's host, e.g. "mastodon.social"
    api_base: str = text("url", "")  # "" = https://<name>
    access_token_env: str = text("nonblank", "MASTODON_ACCESS_TOKEN")
    search: bool = False  # full-text search of statuses (only servers with search enabled answer it)


@dataclass(frozen=True)
class MastodonSource:
    enabled: bool = True
    poll_minutes: int = ranged(10, 1)
    page_budget: int = ranged(5, 1)
    page_size: int = ranged(40, 1, 40)  # Mastodon returns at most 40 statuses a page
    servers: tuple[MastodonServer, ...] = ()

    def has_read_credentials(self, env) -> bool:
        """Whether any server's access token is in the environment."""
        return any(env(server.access_token_env) for server in self.servers)


@dataclass(frozen=True)
class Sources:
    x: XSource = field(default_factory=XSource)
    reddit: RedditSource = field(default_factory=RedditSource)
    bluesky: BlueskySource = field(default_factory=BlueskySource)
    mastodon: MastodonSource = field(default_factory=MastodonSource)


@dataclass(frozen=True)
class RetrainSettings:
    # `run` retrains weekly when on, once enough corrections are new since the last candidate.
    enabled: bool = False
    every_days: float = ranged(7.0, 0.01)
    min_new_corrections: int = ranged(50, 1)
    margin: float = ranged(0.5, 0.0, 100.0)  # most frozen-set macro-recall points a candidate may lose
    max_minutes: float = ranged(30.0, 0.1)
    max_steps: int = ranged(600, 1)


@dataclass(frozen=True)
class ClassifierSettings:
    model: str = text("nonblank", "bundled")
    batch_size: int = ranged(32, 1)
    max_length: int = ranged(128, 8, 512)  # tokens; the bundled MiniLM reads at most 512
    int8: bool = True
    # With int8: "onnx" runs an int8 ONNX graph exported on first use; "torch" quantizes in torch.
    runtime: str = field(default="onnx", metadata={"choices": ("onnx", "torch")})
    # Language tag -> Hugging Face model id or local folder for mentions in that language.
    languages: dict[str, str] = field(default_factory=dict)
    retrain: RetrainSettings = field(default_factory=RetrainSettings)


@dataclass(frozen=True)
class UrgencyWeights:
    negativity: float = 30.0
    intent: float = 30.0
    directness: float = 12.0
    reach: float = 12.0
    engagement: float = 6.0
    waiting: float = 10.0
    spam_penalty: float = 40.0


@dataclass(frozen=True)
class SlaSettings:
    target_minutes: int = ranged(60, 1)


@dataclass(frozen=True)
class AlertSettings:
    """Spike detection and alert delivery (reputation/); secrets only by env-var name."""

    enabled: bool = True
    check_minutes: int = ranged(15, 1)
    window_minutes: int = ranged(60, 1)
    baseline_days: int = ranged(7, 1)
    min_mentions: int = ranged(20, 1)
    volume_ratio: float = 3.0
    volume_z: float = 3.0
    negative_min_mentions: int = ranged(15, 1)
    negative_rise: float = ranged(0.2, 0.0, 1.0)  # a share of all mentions
    negative_z: float = 3.0
    cooldown_minutes: int = 180
    include_competitors: bool = False
    banner_hours: int = 24
    max_attempts: int = ranged(5, 1)
    retry_minutes: float = 2.0
    timeout_seconds: float = ranged(10.0, 0.1)
    webhook_url_env: str = "EARSHOT_ALERT_WEBHOOK_URL"
    smtp_host: str = ""
    smtp_port: int = ranged(587, 1, 65535)
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password_env: str = "EARSHOT_SMTP_PASSWORD"
    email_from: str = "earshot@localhost"
    email_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsoleSettings:
    page_size: int = ranged(50, 1, 500)
    refresh_seconds: int = ranged(20, 1, 3600)  # the inbox polls at most once a second
    claim_minutes: int = ranged(10, 1)
    secret_key_env: str = "SECRET_KEY"
    max_failed_logins: int = ranged(5, 1)
    max_failed_logins_per_address: int = ranged(50, 1)
    trusted_proxies: int = 0


@dataclass(frozen=True)
class OutcomeSettings:
    """How Earshot judges whether answering worked (reputation/outcomes.py)."""

    silent_hours: int = ranged(72, 1)  # no customer follow-up this long after our reply: silent
    follow_days: int = ranged(7, 1, 30)  # follow-ups are fetched for replies this recent
    survey_days: int = ranged(14, 1, 365)  # a CSAT link works this long after it was issued
    survey_posts_per_hour: int = ranged(20, 1)  # survey submissions allowed per address per hour
    public_url: str = text("url", "")  # the console's public address, for survey links


@dataclass(frozen=True)
class Settings:
    storage: StorageSettings = field(default_factory=StorageSettings)
    brands: tuple[Brand, ...] = ()
    sources: Sources = field(default_factory=Sources)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    urgency: UrgencyWeights = field(default_factory=UrgencyWeights)
    sla: SlaSettings = field(default_factory=SlaSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    outcomes: OutcomeSettings = field(default_factory=OutcomeSettings)
    config_path: str = field(default=str(DEFAULT_CONFIG), metadata={"internal": True})

    @property
    def db_path(self) -> Path:
        """The database path, resolved against the config file's folder."""
        path = Path(self.storage.path)
        return path if path.is_absolute() else Path(self.config_path).parent / path

    @property
    def database(self) -> str | Path:
        """Where the store lives: the PostgreSQL URL when one is set, else the SQLite file."""
        return os.environ.get(DATABASE_URL_ENV) or self.storage.url or self.db_path

    def brand(self, name: str) -> Brand:
        """The configured brand with this name (case-insensitive)."""
        for brand in self.brands:
            if brand.name.lower() == name.lower():
                return brand
        raise ConfigError(f"no brand named {name!r} in {self.config_path}")

    def env(self, name: str) -> str | None:
        """A secret from the environment, or None when unset, empty or only whitespace."""
        value = os.environ.get(name)
        return value if value and value.strip() else None

    def configured_sources(self) -> list[str]:
        """Sources that are enabled and have their read credentials in the environment."""
        found = []
        for f in dataclasses.fields(self.sources):
            source = getattr(self.sources, f.name)
            if source.enabled and source.has_read_credentials(self.env):
                found.append(f.name)
        return found


def load(path: str | os.PathLike | None = None) -> Settings:
    """Load and validate a config file; raise ConfigError naming the bad key."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    settings = _build(Settings, data, str(path), "")
    if not settings.brands:
        raise ConfigError(f"{path}: 'brands' is empty: add a [[brands]] table for each brand to listen for")
    names = [b.name.strip().lower() for b in settings.brands]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: brands: each brand name must be unique")
    _check_environment(settings, str(path))
    return dataclasses.replace(settings, config_path=str(path.resolve()))


def _check_environment(settings: Settings, path: str) -> None:
    """Refuse a variable named by a ``*_env`` key that is set to nothing but whitespace (a mistake, never a key)."""
    for key, name in _env_keys(settings, ""):
        value = os.environ.get(name)
        if value and not value.strip():
            raise ConfigError(
                f"{path}: environment variable {name} (named by '{key}') holds only whitespace: "
                "unset it or give it its value"
            )


def _env_keys(section: object, prefix: str) -> list[tuple[str, str]]:
    """(key, variable name) for every ``*_env`` setting in a settings section and its subsections."""
    found = []
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            found += _env_keys(value, f"{prefix}{f.name}.")
        elif f.name.endswith("_env") and isinstance(value, str):
            found.append((f"{prefix}{f.name}", value))
    return found


def _build(cls: type, data: object, path: str, prefix: str):
    """Build dataclass `cls` from a TOML table, checking keys and types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {prefix.rstrip('.') or 'top level'}: expected a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{path}: unknown key '{prefix}{key}' (expected one of: {known})")
        kwargs[key] = _convert(hints[key], value, path, f"{prefix}{key}")
        _check(fields[key], kwargs[key], path, f"{prefix}{key}")
    missing = [
        name
        for name, f in fields.items()
        if name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{path}: missing key '{prefix}{missing[0]}'")
    return cls(**kwargs)


def _convert(hint, value, path: str, key: str):
    """Check one value against its type hint and convert lists to tuples."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path, key + ".")
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: '{key}' expected a table, got {_kind(value)}")
        item = typing.get_args(hint)[1]
        return {str(k): _convert(item, v, path, f"{key}.{k}") for k, v in value.items()}
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(f"{path}: '{key}' expected a list, got {_kind(value)}")
        return tuple(_convert(item, v, path, f"{key}[{i}]") for i, v in enumerate(value))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise ConfigError(f"{path}: '{key}' expected {hint.__name__}, got {_kind(value)}")
    if hint in (int, float) and value < 0:
        raise ConfigError(f"{path}: '{key}' expected a number >= 0, got {value}")
    return value


def _check(f: dataclasses.Field, value, path: str, key: str) -> None:
    """Apply a field's range or text rule, if it has one."""
    if "range" in f.metadata:
        low, high = f.metadata["range"]
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f">= {low}"
            raise ConfigError(f"{path}: '{key}' expected a number {span}, got {value}")
    if "choices" in f.metadata and value not in f.metadata["choices"]:
        raise ConfigError(f"{path}: '{key}' expected one of {', '.join(f.metadata['choices'])}, got {value!r}")
    rule = f.metadata.get("rule")
    if rule == "nonblank" and not value.strip():
        raise ConfigError(f"{path}: '{key}' must not be empty")
    if rule == "database_url" and value:
        _check_database_url(value, path, key)
    if rule == "url" and value and not _is_http_url(value):
        raise ConfigError(
            f"{path}: '{key}' expected an http(s) URL such as https://gateway.example.com "
            f'(or "" for the real API), got {value!r}'
        )


def _check_database_url(value: str, path: str, key: str) -> None:
    """Refuse a database URL that is not postgresql:// or that carries a password."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{path}: '{key}' is not a valid URL") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"{path}: '{key}' expected a URL such as postgresql://earshot@db.example.com/earshot")
    if parts.password is not None:
        raise ConfigError(
            f"{path}: '{key}' must not hold a password: set EARSHOT_DATABASE_PASSWORD in the environment instead"
        )


def _is_http_url(value: str) -> bool:
    """Whether text is an absolute http(s) URL with a host and a valid port, and no spaces."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


def _kind(value) -> str:
    """A TOML-flavoured name for a value's type, for error messages."""
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "list", dict: "table"}
    return names.get(type(value), type(value).__name__)
