"""Import and export through the CLI: progress, summaries, bad lines, and re-import safety."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import migrated_before

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


# --- Nothing lost on bad input (issue 11) -------------------------------------------


def search_texts(db, query: str) -> list[str]:
    """Texts of the mentions a console search for `query` finds."""
    rows, _, _ = store.search_inbox(db, {"q": query, "status": "all"})
    return [r["text"] for r in rows]


def assert_search_index_sound(db) -> None:
    """SQLite's own integrity checks pass for the database and its search index (PostgreSQL: the index is valid)."""
    if db.dialect == "postgresql":
        sql = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'search_text_trgm'::regclass"
        assert db.execute(sql).fetchone()[0] is True
        return
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('integrity-check')")


def test_same_id_twice_in_one_batch_keeps_the_later_line(runner, tmp_path, db):
    path = tmp_path / "twice.jsonl"
    path.write_text('{"id":"q1","brand":"Parcelo","text":"alpha parcel"}\n'
                    '{"id":"q1","brand":"Parcelo","text":"bravo parcel"}\n', encoding="utf-8")  # fmt: skip
    result = runner(["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 1 repeated an earlier line's id" in result.output
    assert f"{path}:2: id 'q1' repeats line 1; this later line wins" in result.output
    assert [r["text"] for r in db.query("SELECT text FROM mentions")] == ["bravo parcel"]
    assert search_texts(db, "bravo") == ["bravo parcel"] and search_texts(db, "alpha") == []
    assert_search_index_sound(db)


def test_repeated_ids_across_batches_are_counted_once_and_reported(runner, tmp_path, db):
    records = [{"id": f"r{i % 2}", "brand": "Parcelo", "text": f"version {i} of a parcel story"} for i in range(4)]
    path = tmp_path / "repeats.jsonl"
    write_jsonl(path, records)
    result = runner(["import", str(path), "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 mentions" in result.output
    assert "2 new, 0 updated, 2 repeated an earlier line's id (the later line wins), 0 skipped" in result.output
    assert sorted(r["text"] for r in db.query("SELECT text FROM mentions")) == [
        "version 2 of a parcel story", "version 3 of a parcel story"]  # fmt: skip
    assert_search_index_sound(db)


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ('{"id":"b","brand":"Parcelo","text":"t","created_at":NaN}', "'created_at' is outside 1990-2099"),
        ('{"id":"b","brand":"Parcelo","text":"t","created_at":1e20}', "'created_at' is outside 1990-2099"),
        ('{"id":"b","brand":"Parcelo","text":"t","created_at":-1e15}', "'created_at' is outside 1990-2099"),
        ('{"id":"b","brand":"Parcelo","text":"t","created_at":"9999-12-31T00:00:00Z"}', "'created_at' is outside"),
        ('{"id":"b","brand":"Parcelo","text":"t","like_count":1e400}', "'like_count' must be a whole number"),
        ('{"id":"b","brand":"Parcelo","text":"t","like_count":' + str(10**30) + "}", "'like_count' is too large"),
        ('{"id":"b","brand":"Parcelo","text":"lone \\ud800 surrogate"}', "'text' holds a lone surrogate"),
        ('{"id":"b","brand":"Parcelo","text":"t","extra":"\\udfff"}', "'extra' holds a lone surrogate"),
    ],
)
def test_a_bad_value_skips_its_line_and_keeps_the_batch(runner, tmp_path, db, bad_line, reason):
    good = [json.dumps(r) for r in generated(4)]
    path = tmp_path / "values.jsonl"
    path.write_text("\n".join([good[0], good[1], bad_line, good[2], good[3]]) + "\n", encoding="utf-8")
    result = runner(["import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3: {reason}" in result.output
    assert "Traceback" not in result.output
    assert "4 new, 0 updated, 1 skipped" in result.output
    assert store.count_mentions(db) == 4


def test_invalid_utf8_in_jsonl_costs_only_its_own_line(runner, tmp_path, db):
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in generated(300)]
    lines[149] = lines[149].replace(b"Mention", b"Men\xff\xfetion")
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = runner(["import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:150: not valid UTF-8" in result.output
    assert "299 new, 0 updated, 1 skipped" in result.output
    assert store.count_mentions(db) == 299
    assert db.execute("SELECT count(*) FROM mentions WHERE external_id = '149'").fetchone()[0] == 0


def test_invalid_utf8_and_huge_cells_in_csv_cost_only_their_records(runner, tmp_path, db):
    rows = [b"id,platform,brand,text", b'c1,x,Parcelo,"a quoted cell\nover two lines"', b"c2,x,Parcelo,bad \xc3( byte",
            b"c3,x,Parcelo," + b"y" * 140_000, b"c4,x,Parcelo,fine again"]  # fmt: skip
    path = tmp_path / "bytes.csv"
    path.write_bytes(b"\n".join(rows) + b"\n")
    result = runner(["import", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:4: not valid UTF-8" in result.output
    assert f"{path}:5: 'text' is longer than 40000 characters" in result.output
    assert "2 new, 0 updated, 2 skipped" in result.output
    stored = {r["external_id"]: r["text"] for r in db.query("SELECT external_id, text FROM mentions")}
    assert stored == {"c1": "a quoted cell\nover two lines", "c4": "fine again"}


def test_text_with_a_nul_is_searchable_past_it_and_never_sent_raw(runner, tmp_path, db, client):
    path = tmp_path / "nul.jsonl"
    write_jsonl(path, [{"id": "n1", "platform": "x", "brand": "Parcelo", "text": "before\u0000afterword parcel"}])
    assert runner(["import", str(path)]).exit_code == 0
    assert search_texts(db, "afterword") == ["before\ufffdafterword parcel"]
    from browser_helpers import add_users, login

    add_users(db)
    login(client, "sam")
    mention_id = db.execute("SELECT id FROM mentions").fetchone()[0]
    page = client.get(f"/m/{mention_id}").get_data()
    assert b"afterword" in page and b"\x00" not in page


def test_nul_already_stored_is_rewritten_by_its_migration(settings):
    db = migrated_before(settings.db_path, "0015")
    with db.atomic():
        db.execute("INSERT INTO mentions (platform, external_id, brand, text, created_at, collected_at, updated_at) "
                   "VALUES ('x', '1', 'Parcelo', ?, 't', 't', 't')", ["old\x00tailword text"])  # fmt: skip
        db.execute("INSERT INTO mentions_fts (rowid, text) SELECT id, text FROM mentions")
    store.apply_migrations(db)
    assert db.execute("SELECT text FROM mentions").fetchone()[0] == "old\ufffdtailword text"
    assert search_texts(db, "tailword") == ["old\ufffdtailword text"]
    assert_search_index_sound(db)


def test_csv_export_defuses_formulas_and_reimports_the_same_text(runner, tmp_path, db):
    texts = ['=HYPERLINK("http://evil.example","win")', "+1 for the driver", "@ParceloHQ -where", "'=already quoted",
             "plain words"]  # fmt: skip
    path = tmp_path / "formulas.jsonl"
    write_jsonl(path, [{"id": f"f{i}", "platform": "x", "brand": "Parcelo", "text": t} for i, t in enumerate(texts)])
    assert runner(["import", str(path)]).exit_code == 0
    out = tmp_path / "out.csv"
    assert runner(["export", "--format", "csv", "-o", str(out)]).exit_code == 0
    with open(out, encoding="utf-8", newline="") as fh:
        cells = [r["text"] for r in csv.DictReader(fh)]
    assert cells == ["'=HYPERLINK(\"http://evil.example\",\"win\")", "'+1 for the driver", "'@ParceloHQ -where",
                     "''=already quoted", "plain words"]  # fmt: skip
    db.execute("DELETE FROM mentions")
    result = runner(["import", str(out)])
    assert "5 new" in result.output, result.output
    assert sorted(r["text"] for r in db.query("SELECT text FROM mentions")) == sorted(texts)
