"""Read config.toml into frozen dataclasses, rejecting unknown keys and wrong types."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config.toml"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class StorageSettings:
    path: str = "instance/earshot.db"


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
class Brand:
    name: str
    competitor: bool = False
    x: XBrand = field(default_factory=XBrand)
    reddit: RedditBrand = field(default_factory=RedditBrand)

    def handles(self, platform: str) -> tuple[str, ...]:
        """The brand's own account handles on one platform."""
        return getattr(self, platform).handles if platform in ("x", "reddit") else ()


@dataclass(frozen=True)
class XSource:
    enabled: bool = True
    poll_minutes: int = 15
    page_budget: int = 5
    page_size: int = 100
    bearer_token_env: str = "X_BEARER_TOKEN"
    api_key_env: str = "X_API_KEY"
    api_secret_env: str = "X_API_SECRET"
    access_token_env: str = "X_ACCESS_TOKEN"
    access_token_secret_env: str = "X_ACCESS_TOKEN_SECRET"
    # Base URL replacing https://api.twitter.com (a gateway, or a fake API in tests); "" = the real API.
    api_base: str = ""


@dataclass(frozen=True)
class RedditSource:
    enabled: bool = True
    poll_minutes: int = 10
    page_budget: int = 5
    page_size: int = 100
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    user_agent_env: str = "REDDIT_USER_AGENT"
    username_env: str = "REDDIT_USERNAME"
    password_env: str = "REDDIT_PASSWORD"
    refresh_token_env: str = "REDDIT_REFRESH_TOKEN"
    # praw's oauth_url and reddit_url (API and token hosts); "" = the real Reddit.
    oauth_url: str = ""
    reddit_url: str = ""


@dataclass(frozen=True)
class Sources:
    x: XSource = field(default_factory=XSource)
    reddit: RedditSource = field(default_factory=RedditSource)


@dataclass(frozen=True)
class ClassifierSettings:
    model: str = "bundled"
    batch_size: int = 32
    max_length: int = 128
    int8: bool = True


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
    target_minutes: int = 60


@dataclass(frozen=True)
class AlertSettings:
    """Spike detection and alert delivery (reputation/); secrets only by env-var name."""

    enabled: bool = True
    check_minutes: int = 15
    window_minutes: int = 60
    baseline_days: int = 7
    min_mentions: int = 20
    volume_ratio: float = 3.0
    volume_z: float = 3.0
    negative_min_mentions: int = 15
    negative_rise: float = 0.2
    negative_z: float = 3.0
    cooldown_minutes: int = 180
    include_competitors: bool = False
    banner_hours: int = 24
    max_attempts: int = 5
    retry_minutes: float = 2.0
    timeout_seconds: float = 10.0
    webhook_url_env: str = "EARSHOT_ALERT_WEBHOOK_URL"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password_env: str = "EARSHOT_SMTP_PASSWORD"
    email_from: str = "earshot@localhost"
    email_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsoleSettings:
    page_size: int = 50
    refresh_seconds: int = 20
    claim_minutes: int = 10
    secret_key_env: str = "SECRET_KEY"
    max_failed_logins: int = 5
    max_failed_logins_per_address: int = 50
    trusted_proxies: int = 0


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
    config_path: str = field(default=str(DEFAULT_CONFIG), metadata={"internal": True})

    @property
    def db_path(self) -> Path:
        """The database path, resolved against the config file's folder."""
        path = Path(self.storage.path)
        return path if path.is_absolute() else Path(self.config_path).parent / path

    def brand(self, name: str) -> Brand:
        """The configured brand with this name (case-insensitive)."""
        for brand in self.brands:
            if brand.name.lower() == name.lower():
                return brand
        raise ConfigError(f"no brand named {name!r} in {self.config_path}")

    def env(self, name: str) -> str | None:
        """A secret from the environment, or None when unset or empty."""
        return os.environ.get(name) or None

    def configured_sources(self) -> list[str]:
        """Sources that are enabled and have their read credentials in the environment."""
        x, reddit = self.sources.x, self.sources.reddit
        found = []
        if x.enabled and self.env(x.bearer_token_env):
            found.append("x")
        if reddit.enabled and self.env(reddit.client_id_env) and self.env(reddit.client_secret_env):
            found.append("reddit")
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
    names = [b.name.lower() for b in settings.brands]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: brands: each brand name must be unique")
    return dataclasses.replace(settings, config_path=str(path.resolve()))


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


def _kind(value) -> str:
    """A TOML-flavoured name for a value's type, for error messages."""
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "list", dict: "table"}
    return names.get(type(value), type(value).__name__)
