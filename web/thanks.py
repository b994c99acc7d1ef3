"""The "thank them" view: positive mentions from customers we have helped before."""

from __future__ import annotations

from flask import Blueprint, render_template

import store
from web.db import get_db
from web.views import settings

bp = Blueprint("thanks", __name__)


@bp.get("/thanks")
def index():
    """Unanswered positive mentions from returning customers (on any linked account), newest first."""
    brands = [b.name for b in settings().brands if not b.competitor]
    return render_template("thanks/index.html", mentions=store.thank_you_customers(get_db(), brands))
