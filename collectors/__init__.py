"""Collectors: pull brand mentions from X and Reddit into the store, and post replies.

Importing this package loads neither tweepy nor praw; they load when a collector is built.
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
    collector_for,
    composer_url,
    replier_for,
)

__all__ = [
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
    "replier_for",
]
