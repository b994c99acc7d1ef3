"""The classifier commands: score, evaluate, classify and a smoke run of train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import store

FIXTURES = Path(__file__).parent / "fixtures" / "classifier"


def test_score_round_trip(runner, tmp_path):
    """Every good line comes back with its fields plus scores; bad lines are named by file:line."""
    out = tmp_path / "scored.jsonl"
    result = runner(
        ["score", "--input", str(FIXTURES / "mentions.jsonl"), "--output", str(out), "--brand", "Parcelo"]
    )
    assert result.exit_code == 1, result.output
    assert "mentions.jsonl:3: not valid JSON" in result.output
    assert "mentions.jsonl:5:" in result.output
    rows = {row["id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert list(rows) == ["m1", "m2", "m4", "m6"]
    for row in rows.values():
        assert row["sentiment"] in {"negative", "neutral", "positive"}
        assert set(row["sentiment_scores"]) == {"negative", "neutral", "positive"}
        assert 0 <= row["urgency"] <= 100
        assert set(row["urgency_parts"]) >= {"negativity", "intent", "directness", "reach", "waiting", "spam"}
    assert rows["m1"]["author"] == "kim" and rows["m1"]["sentiment"] == "negative"
    assert rows["m4"]["mentions_brand_handle"] is True
    assert rows["m4"]["sentiment_low_confidence"] is True
    assert rows["m1"]["urgency"] > rows["m2"]["urgency"]
    assert rows["m1"]["urgency"] > rows["m6"]["urgency"]


def test_score_unknown_brand(runner, tmp_path):
    """A brand that is not configured is a configuration error."""
    out = tmp_path / "scored.jsonl"
    result = runner(
        ["score", "--input", str(FIXTURES / "mentions.jsonl"), "--output", str(out), "--brand", "Nope"]
    )
    assert result.exit_code == 2
    assert "no brand named 'Nope'" in result.output


def test_evaluate_json(runner):
    """--json prints one object with the promised keys; clear examples score well."""
    result = runner(["evaluate", "--data", str(FIXTURES / "sentiment_small.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"macro_recall", "accuracy", "macro_f1", "per_class_recall", "confusion"} <= set(report)
    assert report["n"] == 18
    assert sum(sum(row.values()) for row in report["confusion"].values()) == 18
    assert report["macro_recall"] >= 80


def test_evaluate_table(runner):
    """Without --json the report is a readable table."""
    result = runner(["evaluate", "--data", str(FIXTURES / "sentiment_small.jsonl")])
    assert result.exit_code == 0, result.output
    for heading in ("Macro-recall", "Accuracy", "Macro-F1", "Recall per class", "Confusion"):
        assert heading in result.output


def test_evaluate_bad_label(runner, tmp_path):
    """A bad label is reported with its file and line."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "label": "positive"}\n{"text": "hm", "label": "angry"}\n')
    result = runner(["evaluate", "--data", str(bad)])
    assert result.exit_code == 1
    assert "bad.jsonl:2: bad label 'angry'" in result.output


def _mention(n: int, text: str, **extra) -> dict:
    """A collected mention row for the store."""
    return {
        "platform": "x", "external_id": str(n), "brand": "Parcelo", "text": text,
        "created_at": "2026-03-10T11:00:00Z", "author_reach": 100, **extra,
    }  # fmt: skip


def test_classify_is_idempotent(runner, db):
    """classify scores what is unscored, then nothing; --rescore redoes everything."""
    with db.atomic():
        store.upsert_mentions(
            db,
            [
                _mention(1, "@ParceloHQ my parcel never arrived, I want a refund", mentions_brand_handle=1),
                _mention(2, "Parcelo's new pickup points look handy"),
                _mention(3, "พัสดุยังไม่ถึงเลย ช่วยด้วย", language="th"),
            ],
        )
    first = runner(["classify"])
    assert first.exit_code == 0, first.output
    assert "Scored 3 mentions." in first.output
    rows = {r["external_id"]: r for r in db.query("SELECT * FROM mentions")}
    assert all(r["scored_at"] and r["urgency"] is not None for r in rows.values())
    assert rows["1"]["sentiment"] == "negative" and rows["1"]["sentiment_model"].startswith("bundled:")
    assert rows["1"]["urgency"] > rows["2"]["urgency"]
    assert rows["3"]["sentiment_low_confidence"] == 1
    assert "delivery" in json.loads(rows["1"]["intents"])
    assert "Scored 0 mentions." in runner(["classify"]).output
    assert "Scored 3 mentions." in runner(["classify", "--rescore"]).output


@pytest.mark.slow
def test_train_smoke(runner, tmp_path):
    """A few steps on a tiny file write a loadable adapter and a model card."""
    from classifier.model import _load_bundled

    data = str(FIXTURES / "sentiment_small.jsonl")
    out = tmp_path / "adapter"
    args = ["train", "--data", data, "--val", data, "--out", str(out), "--max-steps", "4"]
    result = runner([*args, "--eval-every", "2", "--batch-size", "8", "--rank", "4"])
    assert result.exit_code == 0, result.output
    assert "val macro-recall" in result.output
    for name in ("adapter.safetensors", "adapter_config.json", "MODEL_CARD.md", "MODEL_CARD.json"):
        assert (out / name).is_file()
    card = json.loads((out / "MODEL_CARD.json").read_text())
    assert card["settings"]["max_steps"] == 4 and card["best_checkpoint"]["step"] in (2, 4)
    assert _load_bundled(64, 8, out).score(["fine"])[0].label in {"negative", "neutral", "positive"}


@pytest.mark.slow
def test_train_resume_starts_from_an_adapter_and_keeps_it_unless_beaten(runner, tmp_path):
    """--resume measures the parent first; with a zero learning rate it stays the best checkpoint."""
    from classifier.model import BUNDLED_DIR

    data = str(FIXTURES / "sentiment_small.jsonl")
    out = tmp_path / "continued"
    args = ["train", "--data", data, "--val", data, "--out", str(out), "--max-steps", "2", "--eval-every", "1"]
    result = runner([*args, "--batch-size", "8", "--resume", str(BUNDLED_DIR), "--lr", "0"])
    assert result.exit_code == 0, result.output
    assert "starting point: step 0" in result.output
    card = json.loads((out / "MODEL_CARD.json").read_text())
    parent = json.loads((BUNDLED_DIR / "MODEL_CARD.json").read_text())
    assert card["resumed_from"]["best_checkpoint"] == parent["best_checkpoint"]
    assert [h["step"] for h in card["history"]] == [0, 1, 2]
    assert card["best_checkpoint"]["step"] == 0, "nothing learned at lr 0, so the parent is kept"
    assert "Resumed from" in (out / "MODEL_CARD.md").read_text()


def test_train_resume_refuses_a_different_rank(runner, tmp_path):
    from classifier.model import BUNDLED_DIR

    data = str(FIXTURES / "sentiment_small.jsonl")
    result = runner(["train", "--data", data, "--val", data, "--out", str(tmp_path / "x"), "--max-steps", "1",
                     "--resume", str(BUNDLED_DIR), "--rank", "4"])  # fmt: skip
    assert result.exit_code == 1 and "pass --rank 32" in result.output
