"""Model versions on disk and in the store: which adapter scores, promotion, rollback and re-scoring."""

from __future__ import annotations

import logging
from pathlib import Path

import store
from classifier.model import BUNDLED, BUNDLED_DIR, models_dir

log = logging.getLogger(__name__)


def versions_dir(settings) -> Path:
    """Where trained versions live: models/versions/ next to the database, never in the repository."""
    return models_dir(settings) / "versions"


def folder_of(settings, row: dict) -> Path:
    """The adapter folder of a version row (the bundled version lives in the package)."""
    return versions_dir(settings) / row["folder"] if row["folder"] else BUNDLED_DIR


def active_version(db, settings) -> tuple[str, Path]:
    """(version name, adapter folder) of the active version."""
    row = store.active_model_version(db)
    return row["version"], folder_of(settings, row)


def configured_version(settings) -> tuple[str, Path]:
    """The active version for commands without a database at hand; the bundled one if there is no store yet."""
    if isinstance(settings.database, Path) and not settings.database.exists():
        return BUNDLED, BUNDLED_DIR
    db = store.connect(settings.database)
    try:
        return active_version(db, settings)
    finally:
        db.close()


def promote(db, version: str, actor: str) -> dict:
    """Make `version` active (audited); the caller re-scores open mentions."""
    return store.activate_model_version(db, version, actor, "promote")


def rollback(db, actor: str) -> dict:
    """Make the version that was active before the current one active again (audited)."""
    return store.activate_model_version(db, store.rollback_target(db), actor, "rollback")


def format_versions(rows: list[dict]) -> str:
    """`model list`: one line per version with its status, gate figures and promotion time."""
    lines = [f"{'version':<10} {'status':<10} {'frozen':>7} {'held-back':>9}  {'promoted at':<21} parent"]
    for row in rows:
        lines.append(
            f"{row['version']:<10} {row['status']:<10} {_figure(row, 'frozen', 'macro_recall'):>7} "
            f"{_figure(row, 'held_back', 'accuracy'):>9}  {row['promoted_at'] or '-':<21} {row['parent'] or '-'}"
        )
    return "\n".join(lines)


def _figure(row: dict, part: str, key: str) -> str:
    """A version's own gate figure as text ('-' when it has none, as the bundled version)."""
    value = (row["figures"].get(part) or {}).get("candidate", {}).get(key)
    return "-" if value is None else f"{value:.2f}"
