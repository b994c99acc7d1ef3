"""Collectors: pull brand mentions from X, Reddit, Bluesky and Mastodon into the store, and post replies.

Importing this package loads no network SDK; each loads when its collector is built.
See ``collectors/base.py`` for the contract the console relies on.
"""

from collectors.base import (
    Collector,
    CollectorError,
    CredentialsError,
    PlatformError,
    RateLimited,
    ReplyRestricted,
    ReplyResult,
    SourceDisabled,
)
from collectors.registry import PLATFORMS, collector_for, composer_url, label, replier_for, reply_limit

__all__ = [
    "PLATFORMS",
    "Collector",
    "CollectorError",
    "CredentialsError",
    "PlatformError",
    "RateLimited",
    "ReplyRestricted",
    "ReplyResult",
    "SourceDisabled",
    "collector_for",
    "composer_url",
    "label",
    "replier_for",
    "reply_limit",
]
