"""Model versions (admins): their gate figures, which one is active, promote and roll back."""

from __future__ import annotations

from flask import Blueprint, g, render_template, url_for

import store
from classifier import pipeline, versions
from web.auth import admin_required
from web.db import get_db
from web.views import done, settings

bp = Blueprint("models", __name__, url_prefix="/models")


@bp.get("/")
@admin_required
def index():
    """Every version with its figures, status and promotion time."""
    db = get_db()
    return render_template(
        "models/index.html",
        rows=store.model_versions(db),
        active=store.active_model_version(db)["version"],
    )


def _changed(change, verb: str):
    """Apply a promotion or rollback, start re-scoring open mentions, and say so."""
    try:
        result = change(get_db())
    except store.StoreError as exc:
        return done(str(exc), url_for(".index"), "error")
    pipeline.rescore_in_background(settings())
    message = f"{result['version']} {verb} (was {result['previous']}); open mentions are being re-scored."
    return done(message, url_for(".index"), "success")


@bp.post("/<version>/promote")
@admin_required
def promote(version: str):
    """Make a version active."""
    return _changed(lambda db: versions.promote(db, version, g.user["username"]), "is now active")


@bp.post("/rollback")
@admin_required
def rollback():
    """Go back to the version that was active before."""
    return _changed(lambda db: versions.rollback(db, g.user["username"]), "is active again")
