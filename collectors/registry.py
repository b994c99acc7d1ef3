"""The networks Earshot listens on, by name, and the factories the CLI and the console call.

Each network is one module in ``collectors/`` and one line in ``NETWORKS`` below.
The module is imported only when it is needed (its SDK loads then), and it
imports ``collectors.base``, never this registry, so no import circle exists.

A network module provides:

- ``build(settings) -> Collector``: raise ``SourceDisabled`` (one line) when it cannot run;
- ``build_replier(settings) -> Collector | None``: None when reply credentials are missing;
- optionally ``composer_url(mention) -> str``: where staff reply by hand (default: the mention's URL);
- optionally ``reply_limit(db, mention) -> int | None``: a limit the network reported for this
  mention's server (Mastodon), else None for the fixed one in ``web/textcount.py``.

Its settings live in ``[sources.<name>]`` (a field of ``settings.Sources``) and its
brand terms in ``[brands.<name>]``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from collectors.base import Collector, CredentialsError, SourceDisabled

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger("earshot.collectors")


@dataclass(frozen=True)
class Network:
    """One network: its name, how people call it, its module, and whether a plain run lists it.

    ``listed`` False: a plain ``collect`` runs the network only when its credentials
    are set (it stays silent otherwise); ``collect --platform NAME`` always runs it.
    """

    name: str
    label: str
    module: str
    listed: bool = True


NETWORKS = (
    Network("x", "X", "collectors.x"),
    Network("reddit", "Reddit", "collectors.reddit"),
    Network("bluesky", "Bluesky", "collectors.bluesky", listed=False),
    Network("mastodon", "Mastodon", "collectors.mastodon", listed=False),
)

PLATFORMS = tuple(n.name for n in NETWORKS)
LABELS = {n.name: n.label for n in NETWORKS}


def network(name: str) -> Network:
    """The registered network called ``name``; raise SourceDisabled for an unknown one."""
    found = _known(name)
    if found is None:
        raise SourceDisabled(
            f"{name}: unknown source (expected one of: {', '.join(n.name for n in NETWORKS)})"
        )
    return found


def label(name: str) -> str:
    """The network as people call it ("Bluesky"), or the name itself for an unknown one."""
    found = _known(name)
    return found.label if found else name.title()


def _known(name: str) -> Network | None:
    """The registered network called ``name``, or None."""
    return next((n for n in NETWORKS if n.name == name), None)


def module(name: str) -> ModuleType:
    """The network's module, imported on first use."""
    return importlib.import_module(network(name).module)


def default_sources(settings: Settings) -> list[str]:
    """What a plain ``collect`` runs: every listed network, and the others whose credentials are set."""
    configured = set(settings.configured_sources())
    return [n.name for n in NETWORKS if n.listed or n.name in configured]


def collector_for(settings: Settings, platform: str) -> Collector:
    """The collector for a platform; raise SourceDisabled (one line) when it cannot run."""
    return module(platform).build(settings)


def replier_for(settings: Settings, platform: str) -> Collector | None:
    """A collector that can post replies on ``platform``, or None when reply credentials are missing or unusable."""
    if _known(platform) is None:
        return None
    try:
        return module(platform).build_replier(settings)
    except CredentialsError as exc:
        log.warning("%s replies are off: %s", platform, exc)
    return None


def composer_url(mention: dict) -> str:
    """Where staff can reply by hand on the platform itself."""
    platform = mention.get("platform") or ""
    if _known(platform) is not None:
        own = getattr(module(platform), "composer_url", None)
        if own is not None:
            return own(mention)
    return mention.get("url") or ""


def reply_limit(db, mention: dict) -> int | None:
    """The reply length limit the mention's network reported for it, or None to use the fixed one."""
    platform = mention.get("platform") or ""
    if _known(platform) is None:
        return None
    own = getattr(module(platform), "reply_limit", None)
    return own(db, mention) if own is not None else None
