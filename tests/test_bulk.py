"""Import and export through the CLI: progress, summaries, bad lines, and re-import safety."""

from __future__ import annotations

import csv
import json

import pytest

import store


def write_jsonl(path, records) -> None:
    """Write records one JSON object per line."""
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write((record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)) + "\n")


def generated(n: int):
    """n valid import records."""
    for i in range(n):
        yield {
            "id": str(i), "platform": "x", "brand": "Parcelo" if i % 2 else "Lumina Mobile",
            "text": f"Mention number {i} about my parcel", "author": f"user{i % 977}",
            "author_followers": i % 5000, "like_count": i % 7, "created_at": "2026-11-20T10:00:00Z",
        }  # fmt: skip


def test_import_100k_twice_keeps_count_and_staff_edits(runner, tmp_path, db):
    path = tmp_path / "big.jsonl"
    write_jsonl(path, generated(100_000))
    first = runner(["import", str(path)])
    assert first.exit_code == 0, first.output
    assert "Importing" in first.output  # progress bar
    assert "100000 new, 0 updated, 0 skipped" in first.output
    db.execute("UPDATE mentions SET status='resolved', assignee='sam' WHERE external_id='42'")
    db.conn.commit()
    second = runner(["import", str(path)])
    assert second.exit_code == 0, second.output
    assert "0 new, 100000 updated, 0 skipped" in second.output
    assert store.count_mentions(db) == 100_000
    assert db.execute("SELECT status, assignee FROM mentions WHERE external_id='42'").fetchone() == ("resolved", "sam")


def test_malformed_lines_reported_by_file_and_line_and_valid_kept(runner, tmp_path, db):
    good = list(generated(3))
    path = tmp_path / "mixed.jsonl"
    write_jsonl(path, [
        good[0],
        "{not json",
        {"id": "9", "brand": "Parcelo"},
        good[1],
        {"id": "8", "brand": "Nope", "text": "hi"},
        {"id": "7", "brand": "Parcelo", "text": "x", "like_count": -1},
        ["a list"],
        good[2],
    ])  # fmt: skip
    result = runner(["import", str(path)])
    assert result.exit_code == 1
    for line, reason in [(2, "not valid JSON"), (3, "'text' is required"), (5, "'brand' 'Nope' is not configured"),
                         (6, "'like_count' must be a whole number"), (7, "expected a JSON object")]:  # fmt: skip
        assert f"{path}:{line}: {reason}" in result.output
    assert "3 new, 0 updated, 5 skipped" in result.output
    assert store.count_mentions(db) == 3


def test_csv_import_with_default_brand(runner, tmp_path, db):
    path = tmp_path / "m.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "platform", "text", "author", "author_followers", "mentions_brand_handle"])
        writer.writerow(["a1", "x", "@ParceloHQ parcel lost, again", "kim", "1500", "true"])
        writer.writerow(["a2", "reddit", "Parcelo driver was lovely", "lee", "", ""])
    result = runner(["import", str(path), "--brand", "parcelo"])
    assert result.exit_code == 0, result.output
    rows = {r["external_id"]: r for r in db.query("SELECT * FROM mentions")}
    assert rows["a1"]["brand"] == "Parcelo" and rows["a1"]["author_reach"] == 1500
    assert rows["a1"]["reply_via_api"] == 1 and rows["a2"]["reply_via_api"] == 1


def test_records_without_id_do_not_duplicate_on_reimport(runner, tmp_path, db):
    path = tmp_path / "noid.jsonl"
    write_jsonl(path, [{"brand": "Parcelo", "text": "no id here", "author": "kim", "created_at": 1763900000}])
    runner(["import", str(path)])
    runner(["import", str(path)])
    assert store.count_mentions(db) == 1


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)><script>alert('x')</script>",
        "ส่งของช้ามาก @ParceloHQ รอสามวันแล้ว",
        "😡📦 where is it",
        "הטלפון לא עובד @LuminaMobile",
        "long " * 2000,
    ],
)
def test_unusual_text_round_trips_through_export(runner, tmp_path, db, text):
    path = tmp_path / "odd.jsonl"
    write_jsonl(path, [{"id": "1", "platform": "x", "brand": "Parcelo", "text": text}])
    assert runner(["import", str(path)]).exit_code == 0
    out = tmp_path / "out.jsonl"
    result = runner(["export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert exported[0]["text"] == text


def test_export_csv_and_reimport_jsonl(runner, tmp_path, db):
    path = tmp_path / "in.jsonl"
    write_jsonl(path, generated(5))
    runner(["import", str(path)])
    csv_out = tmp_path / "out.csv"
    assert runner(["export", "--format", "csv", "-o", str(csv_out)]).exit_code == 0
    with open(csv_out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 and rows[0]["status"] == "new"
    jsonl_out = tmp_path / "out.jsonl"
    runner(["export", "-o", str(jsonl_out)])
    result = runner(["import", str(jsonl_out)])
    assert "0 new, 5 updated, 0 skipped" in result.output


def test_export_corrections_for_training(runner, tmp_path, db):
    path = tmp_path / "in.jsonl"
    write_jsonl(path, generated(2))
    runner(["import", str(path)])
    first_id = db.execute("SELECT min(id) FROM mentions").fetchone()[0]
    db.execute("INSERT INTO corrections (mention_id, field, value, author, created_at) VALUES (?, 'sentiment', 'neutral', 'sam', 't')", [first_id])
    db.execute("INSERT INTO corrections (mention_id, field, value, author, created_at) VALUES (?, 'sentiment', 'negative', 'sam', 't')", [first_id])
    db.conn.commit()
    out = tmp_path / "corr.jsonl"
    assert runner(["export", "--corrections", "-o", str(out)]).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines == [{"text": "Mention number 0 about my parcel", "label": "negative"}]
