"""Model versions: promote and roll back from the CLI and the admin page, re-scoring open mentions."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from browser_helpers import add_users, csrf_from, login
from safetensors.torch import load_file, save_file

import store
from classifier import pipeline, versions
from classifier.model import BUNDLED_DIR


def _mention(n: int, text: str) -> dict:
    """A collected mention row for the store."""
    return {"platform": "x", "external_id": str(n), "brand": "Parcelo", "text": text,
            "created_at": "2026-11-18T09:00:00Z", "author_reach": 100, "language": "en"}  # fmt: skip


@pytest.fixture
def mentions(db, runner):
    """Three open mentions, then a resolved one, scored by the bundled version.

    The open ones are scored together, as re-scoring will score them: int8 activations are
    quantized per batch, so a text's last digits depend on the batch it was scored in.
    """
    with db.atomic():
        store.upsert_mentions(db, [
            _mention(1, "@ParceloHQ my parcel never arrived, I want a refund"),
            _mention(2, "Parcelo delivered on Tuesday."),
            _mention(3, "The courier was on time today"),
        ])  # fmt: skip
    assert runner(["classify"]).exit_code == 0
    with db.atomic():
        store.upsert_mentions(db, [_mention(4, "Where is my parcel?")])
    store.set_status(db, [store.mention_id(db, "x", "4")], "resolved", "sam")
    assert runner(["classify"]).exit_code == 0
    return _scores(db)


def _scores(db) -> dict[str, tuple[str, str]]:
    """external id -> (model name, sentiment scores JSON)."""
    return {
        r["external_id"]: (r["sentiment_model"], r["sentiment_scores"])
        for r in db.query("SELECT * FROM mentions")
    }


def add_version(settings, db, name: str = "v2", lean: float = 4.0) -> None:
    """A second real version: the bundled adapter with its head leaning positive, recorded as a candidate."""
    folder = versions.versions_dir(settings) / name
    folder.mkdir(parents=True)
    weights = load_file(str(BUNDLED_DIR / "adapter.safetensors"))
    (bias,) = [key for key in weights if key.endswith("head.bias")]
    weights[bias] = weights[bias] + torch.tensor([0.0, 0.0, lean], dtype=weights[bias].dtype)
    save_file(weights, str(folder / "adapter.safetensors"))
    shutil.copy(BUNDLED_DIR / "adapter_config.json", folder)
    figures = {"frozen": {"active": {"n": 10, "macro_recall": 70.0, "accuracy": 70.0},
                          "candidate": {"n": 10, "macro_recall": 70.5, "accuracy": 71.0}}}  # fmt: skip
    store.add_model_version(db, name, name, "candidate", figures, "passed the gate", "bundled", 0)


def test_promote_then_rollback_restores_scores(runner, db, settings, mentions):
    """Promotion re-scores open mentions with the new version; rollback brings back the old scores exactly."""
    add_version(settings, db)
    promoted = runner(["model", "promote", "v2"])
    assert promoted.exit_code == 0, promoted.output
    assert (
        "Active model: v2 (was bundled)" in promoted.output and "Re-scored 3 open mentions" in promoted.output
    )
    after = _scores(db)
    for key in ("1", "2", "3"):
        assert after[key][0].startswith("v2:earshot-minilm-lora@")
        assert json.loads(after[key][1])["positive"] > json.loads(mentions[key][1])["positive"]
    assert after["4"] == mentions["4"]  # resolved mentions keep their scores

    rolled = runner(["model", "rollback"])
    assert rolled.exit_code == 0, rolled.output
    assert "Active model: bundled (was v2)" in rolled.output
    assert _scores(db) == mentions
    actions = [
        r["action"] for r in db.query("SELECT action FROM audit_log WHERE action LIKE 'model_%' ORDER BY id")
    ]
    assert actions == ["model_promote", "model_rollback"]
    listing = runner(["model", "list"]).output
    assert "v2" in listing and "retired" in listing and "70.50" in listing


def test_nothing_to_roll_back_to(runner, db):
    """The bundled version has no predecessor."""
    result = runner(["model", "rollback"])
    assert result.exit_code == 1 and "nothing to roll back to" in result.output


def test_rejected_or_unknown_versions_cannot_be_promoted(runner, db):
    """A version the gate rejected, or one never recorded, stays out."""
    store.add_model_version(db, "v2", "v2", "rejected", {}, "loses 3.00 points", "bundled", 0)
    rejected = runner(["model", "promote", "v2", "--no-rescore"])
    assert rejected.exit_code == 1 and "rejected by the evaluation gate" in rejected.output
    unknown = runner(["model", "promote", "v9", "--no-rescore"])
    assert unknown.exit_code == 1 and "no model version 'v9'" in unknown.output
    assert store.active_model_version(db)["version"] == "bundled"


@pytest.fixture
def admin(client, db):
    """A client logged in as the admin."""
    add_users(db)
    assert login(client, "admin").status_code == 302
    return client


def test_admin_page_promotes_and_rolls_back(admin, db, settings, mentions):
    """The page lists versions with figures; its buttons need CSRF, promote in the background and are audited."""
    add_version(settings, db)
    page = admin.get("/models/").get_data(as_text=True)
    assert "v2" in page and "70.50 / 70.00" in page and "Promote" in page
    assert admin.post("/models/v2/promote").status_code == 400  # no CSRF token
    response = admin.post("/models/v2/promote", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    pipeline.wait_for_rescoring(60)
    assert store.active_model_version(db)["version"] == "v2"
    assert _scores(db)["1"][0].startswith("v2:")
    mention = admin.get(f"/m/{store.mention_id(db, 'x', '1')}").get_data(as_text=True)
    assert 'class="model-version">v2</strong>' in mention
    page = admin.get("/models/").get_data(as_text=True)
    assert admin.post("/models/rollback", data={"csrf_token": csrf_from(page)}).status_code == 302
    pipeline.wait_for_rescoring(60)
    assert store.active_model_version(db)["version"] == "bundled"
    assert _scores(db) == mentions
    audit = [r["actor"] for r in db.query("SELECT actor FROM audit_log WHERE action LIKE 'model_%'")]
    assert audit == ["admin", "admin"]


def test_models_page_is_for_admins(client, db):
    """Agents and viewers are refused, and the nav shows the link only to admins."""
    add_users(db)
    login(client, "sam")
    assert client.get("/models/").status_code == 403
    assert 'href="/models/"' not in client.get("/").get_data(as_text=True)
