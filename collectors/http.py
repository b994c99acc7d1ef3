"""HTTP plumbing shared by the collectors: timeouts, an optional API base URL, rate-limit headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import requests
from requests.adapters import HTTPAdapter
from requests.utils import resolve_proxies

import clock
from collectors.base import RateState, utc_in

log = logging.getLogger("earshot.collectors")

DEFAULT_TIMEOUT = 30.0


class APIAdapter(HTTPAdapter):
    """Gives every request a timeout and, when ``base`` is set, sends ``origin`` URLs to ``base``.

    tweepy hard-codes https://api.twitter.com; mounting this adapter on its session
    lets a gateway (or a fake API in tests) stand in without touching tweepy.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, origin: str = "", base: str = "", trust_env: bool = True):
        super().__init__()
        self.timeout = timeout
        self.origin = origin.rstrip("/")
        self.base = base.rstrip("/")
        self.trust_env = trust_env

    def send(self, request, **kwargs):
        """Rebase the URL if configured, then send with a timeout."""
        if self.base and request.url.startswith(self.origin + "/"):
            request.url = self.base + request.url[len(self.origin) :]
            # Proxies were chosen for the original host; choose again for the real one.
            kwargs["proxies"] = resolve_proxies(request, {}, trust_env=self.trust_env)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def mount(session: requests.Session, origin: str, base: str = "", timeout: float = DEFAULT_TIMEOUT) -> None:
    """Mount an APIAdapter on the session for ``origin`` (rebased to ``base`` when given)."""
    adapter = APIAdapter(timeout=timeout, origin=origin, base=base, trust_env=session.trust_env)
    session.mount(origin.rstrip("/") + "/", adapter)


class RateTracker:
    """A response hook that keeps the latest rate-limit headers (X's or Reddit's style)."""

    def __init__(self, style: str):
        self.style = style
        self.state = RateState()

    def __call__(self, response: requests.Response, *args, **kwargs) -> None:
        """Read the rate-limit headers of one response, if it has them."""
        headers = response.headers
        try:
            if self.style == "x" and "x-rate-limit-remaining" in headers:
                self.state.remaining = int(headers["x-rate-limit-remaining"])
                reset = headers.get("x-rate-limit-reset")
                self.state.reset = datetime.fromtimestamp(int(reset), UTC) if reset else None
            elif self.style == "reddit" and "x-ratelimit-remaining" in headers:
                self.state.remaining = int(float(headers["x-ratelimit-remaining"]))
                reset = headers.get("x-ratelimit-reset")
                self.state.reset = utc_in(float(reset)) if reset else None
        except ValueError:
            # A malformed header only costs us the figure, never the response.
            log.debug("unreadable rate-limit headers from %s", response.url)

    def exhausted(self) -> bool:
        """Whether the platform said no requests remain before a reset still in the future."""
        state = self.state
        return (
            state.remaining is not None
            and state.remaining <= 0
            and state.reset is not None
            and state.reset > clock.now()
        )


def new_session(tracker: RateTracker, origins: dict[str, str], timeout: float = DEFAULT_TIMEOUT) -> requests.Session:
    """A requests session (trust_env on) with rate tracking and an adapter per origin."""
    session = requests.Session()
    session.hooks["response"].append(tracker)
    for origin, base in origins.items():
        mount(session, origin, base, timeout)
    return session
