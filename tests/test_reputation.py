"""Reputation metrics against values computed by hand, filters, terms, CSV safety and the HTML report.

The hand fixture (all times UTC; the range is 2026-11-10 and 2026-11-11):

  #  brand   platform  created           sentiment  intents           first reply (who)      assignee
  1  Lumina  x         11-10 09:00       negative   outage            09:30 sam   (30 min)   sam
  2  Lumina  x         11-10 10:00       negative   outage, billing   12:00 alex  (120 min)  alex
                                                    (sam's 11:00 reply failed; sam replied again at 13:00)
  3  Lumina  reddit    11-10 11:00       positive                     -                      sam
  4  Lumina  x         11-11 08:00       neutral                      08:10 sam   (10 min)   sam
  5  Parcelo x         11-11 09:00       negative   billing           10:00 sam   (60 min)   sam
  6  Parcelo reddit    11-11 12:00       (unscored)                   -                      -
  7  Voltel  x         11-10 15:00       negative   outage            (competitor)
  8  Voltel  x         11-11 15:00       positive                     (competitor)
  9  Lumina  x         11-09 23:59:59    negative   (before the range)
 10  Lumina  x         11-12 00:00:00    positive   (the range's end is exclusive)

By hand:
- 11-10: 3 negative (1, 2, 7), 1 positive (3); net (1 - 3) / 4 = -50.0
- 11-11: 1 negative (5), 1 neutral (4), 1 positive (8), 1 unscored (6); net (1 - 1) / 3 = 0.0
- whole range: 8 mentions, 4 negative, 2 positive, 7 scored; net (2 - 4) / 7 = -28.6
- share of voice: Lumina 4 (50.0%), Parcelo 2 (25.0%), Voltel 2 (25.0%)
- responses (Lumina + Parcelo): 6 received, 4 answered: rate 66.7%; minutes 10, 30, 60, 120:
  median (30 + 60) / 2 = 45.0; p90 at rank 0.9 * 3 = 2.7: 60 + 0.7 * 60 = 102.0; within 60 min: 3 / 4 = 75.0%
- sam: first responses 30, 10, 60: median 30.0, p90 at 1.8: 30 + 0.8 * 30 = 54.0, all within SLA;
  assigned 1, 3, 4, 5 of which 1, 4, 5 answered: 75.0%; 3 of 4 responses: 75.0%
- alex: one first response of 120 min: median = p90 = 120.0, within SLA 0.0%; assigned 1, answered 1: 100.0%
- themes among the 4 negatives: outage 3 (75.0%), billing 2 (50.0%)
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest

import clock
import store
from reputation import exports, filters, metrics, overview, svg, terms

HAND = [
    # (brand, platform, minutes after 11-10 00:00, sentiment, intents, text)
    ("Lumina Mobile", "x", 9 * 60, "negative", ["outage"], '=HYPERLINK("http://evil") outage again'),
    ("Lumina Mobile", "x", 10 * 60, "negative", ["outage", "billing"], "billing and outage"),
    ("Lumina Mobile", "reddit", 11 * 60, "positive", [], "love the new plan"),
    ("Lumina Mobile", "x", 32 * 60, "neutral", [], "neutral question"),
    ("Parcelo", "x", 33 * 60, "negative", ["billing"], "charged twice"),
    ("Parcelo", "reddit", 36 * 60, None, [], "unscored post"),
    ("Voltel", "x", 15 * 60, "negative", ["outage"], "voltel outage"),
    ("Voltel", "x", 39 * 60, "positive", [], "voltel is great"),
    ("Lumina Mobile", "x", -1 / 60, "negative", ["outage"], "just before the range"),
    ("Lumina Mobile", "x", 48 * 60, "positive", [], "just after the range"),
]
# (mention number, minutes after 11-10 00:00, author, status)
REPLIES = [(1, 9 * 60 + 30, "sam", "sent"), (2, 11 * 60, "sam", "failed"), (2, 12 * 60, "alex", "sent"),
           (2, 13 * 60, "sam", "sent"), (4, 32 * 60 + 10, "sam", "demo"), (5, 34 * 60, "sam", "manual")]  # fmt: skip
ASSIGNEES = {1: "sam", 2: "alex", 3: "sam", 4: "sam", 5: "sam"}


def _at(day1: datetime, minutes: float) -> str:
    """The stored time `minutes` after the fixture's first day starts."""
    return store.utc_text(day1 + timedelta(minutes=minutes))


def seed_hand_fixture(db, day1: str = "2026-11-10", evil: str | None = None) -> dict[int, int]:
    """Store the hand fixture (first day `day1`); return fixture number -> mention id."""
    start = datetime.fromisoformat(day1).replace(tzinfo=UTC)
    rows = []
    for number, (brand, platform, minutes, _, _, text) in enumerate(HAND, 1):
        text = evil if evil and number == 2 else text
        rows.append({"platform": platform, "external_id": f"hand-{number}", "brand": brand, "text": text,
                     "author_id": f"a{number}", "author_handle": f"user{number}", "created_at": _at(start, minutes)})  # fmt: skip
    with db.atomic():
        store.upsert_mentions(db, rows)
    ids = {n: store.mention_id(db, HAND[n - 1][1], f"hand-{n}") for n in range(1, len(HAND) + 1)}
    store.save_scores(db, [
        {"id": ids[n], "sentiment": sentiment, "sentiment_scores": {}, "sentiment_model": "hand",
         "sentiment_low_confidence": False, "urgency": 10.0, "urgency_parts": {}, "intents": intents}
        for n, (_, _, _, sentiment, intents, _) in enumerate(HAND, 1) if sentiment
    ])  # fmt: skip
    _seed_work(db, ids, start)
    return ids


def _seed_work(db, ids: dict[int, int], start: datetime) -> None:
    """Replies, first responses and assignees, at the fixture's own times."""
    with db.atomic():
        for n, minutes, author, status in REPLIES:
            sent = _at(start, minutes) if status != "failed" else None
            db.execute(
                "INSERT INTO replies (mention_id, idempotency_key, author, body, status, created_at, sent_at) "
                "VALUES (?, ?, ?, 'reply', ?, ?, ?)",
                [ids[n], f"k{n}-{minutes}", author, status, _at(start, minutes - 1), sent],
            )
            if sent:
                db.execute("UPDATE mentions SET first_response_at = coalesce(first_response_at, ?) WHERE id = ?",
                           [sent, ids[n]])  # fmt: skip
        for n, username in ASSIGNEES.items():
            db.execute("UPDATE mentions SET assignee = ? WHERE id = ?", [username, ids[n]])


def _range(**kwargs) -> filters.Filters:
    """The fixture's two days, by day."""
    start = datetime(2026, 11, 10, tzinfo=UTC)
    return filters.Filters(start, start + timedelta(days=2), **kwargs)


def test_overview_matches_values_computed_by_hand(db, settings):
    seed_hand_fixture(db)
    data = overview.build(db, settings, _range())
    rows = data["volume"]["rows"]
    assert [(r["negative"], r["neutral"], r["positive"], r["unscored"], r["total"], r["net"]) for r in rows] == [
        (3, 0, 1, 0, 4, -50.0), (1, 1, 1, 1, 4, 0.0)]  # fmt: skip
    assert data["volume"]["totals"]["total"] == 8 and data["volume"]["totals"]["net"] == -28.6
    assert [(s["brand"], s["mentions"], s["share"]) for s in data["volume"]["share_of_voice"]] == [
        ("Lumina Mobile", 4, 50.0), ("Parcelo", 2, 25.0), ("Voltel", 2, 25.0)]  # fmt: skip
    team = data["responses"]["team"]
    assert team == {"received": 6, "answered": 4, "response_rate": 66.7, "median_minutes": 45.0,
                    "p90_minutes": 102.0, "within_sla": 75.0}  # fmt: skip
    agents = {a["agent"]: a for a in data["responses"]["agents"]}
    assert set(agents) == {"sam", "alex"}
    sam, alex = agents["sam"], agents["alex"]
    assert (sam["answered"], sam["median_minutes"], sam["p90_minutes"], sam["within_sla"]) == (3, 30.0, 54.0, 100.0)
    assert (sam["assigned"], sam["response_rate"], sam["share_of_responses"]) == (4, 75.0, 75.0)
    assert (alex["answered"], alex["median_minutes"], alex["p90_minutes"], alex["within_sla"]) == (1, 120.0, 120.0, 0.0)
    assert (alex["assigned"], alex["response_rate"], alex["share_of_responses"]) == (1, 100.0, 25.0)
    themes = [(t["intent"], t["mentions"], t["share"]) for t in data["themes"]["intents"]]
    assert themes == [("outage", 3, 75.0), ("billing", 2, 50.0)]


@pytest.mark.parametrize(
    ("kwargs", "volume", "received", "answered"),
    [
        ({"brand": "Parcelo"}, [(0, 0, 0, 0), (1, 0, 0, 1)], 2, 1),
        ({"platform": "reddit"}, [(0, 0, 1, 0), (0, 0, 0, 1)], 2, 0),
        ({"brand": "Voltel"}, [(1, 0, 0, 0), (0, 0, 1, 0)], 0, 0),
    ],
)  # fmt: skip
def test_brand_and_platform_filters(db, settings, kwargs, volume, received, answered):
    seed_hand_fixture(db)
    data = overview.build(db, settings, _range(**kwargs))
    assert [(r["negative"], r["neutral"], r["positive"], r["unscored"]) for r in data["volume"]["rows"]] == volume
    assert (data["responses"]["team"]["received"], data["responses"]["team"]["answered"]) == (received, answered)
    assert sum(s["mentions"] for s in data["volume"]["share_of_voice"]) == (4 if kwargs.get("platform") else 8) - (
        2 if kwargs.get("platform") else 0)  # share of voice ignores the brand filter


def test_hourly_buckets_place_each_mention(db, settings):
    seed_hand_fixture(db)
    data = overview.build(db, settings, _range(bucket="hour"))
    rows = data["volume"]["rows"]
    assert len(rows) == 48 and rows[9]["negative"] == 1 and rows[36]["unscored"] == 1
    assert sum(r["total"] for r in rows) == 8


def test_the_page_reads_its_sections_side_by_side_and_gets_the_same_figures(db, settings):
    seed_hand_fixture(db)
    connect = partial(store.connect, settings.database, migrate=False)
    assert overview.build(db, settings, _range(), connect) == overview.build(db, settings, _range())
    both = threading.Barrier(2, timeout=20)

    def meet(d):
        """A section that finishes only once another runs at the same time, on its own connection."""
        both.wait()
        return d is db

    assert sorted(overview.side_by_side(db, connect, [meet, meet])) == [False, True]


def test_helpers_that_cannot_connect_leave_every_section_to_the_page(db, settings):
    seed_hand_fixture(db)

    def refused():
        """A pool with nothing to lend."""
        raise store.StoreError("no connection free")

    assert overview.build(db, settings, _range(), refused) == overview.build(db, settings, _range())


def test_a_section_that_fails_fails_the_page_with_its_own_error(db, settings):
    def broken(_db):
        """A section whose query fails."""
        raise ValueError("section 2 broke")

    jobs = [lambda d: 1, broken, lambda d: 3, lambda d: 4]
    connect = partial(store.connect, settings.database, migrate=False)
    with pytest.raises(ValueError, match="section 2 broke"):
        overview.side_by_side(db, connect, jobs)
    assert overview.side_by_side(db, connect, [lambda d: 1, lambda d: 2, lambda d: 3]) == [1, 2, 3]


def test_the_newest_mentions_are_the_same_read_in_several_statements(db, settings, monkeypatch):
    seed_hand_fixture(db)
    args = (db, "2026-11-09T00:00:00Z", "2026-11-13T00:00:00Z", ["Lumina Mobile", "Parcelo", "Voltel"],
            ["x", "reddit"], ("negative", "neutral", "positive"), 5)  # fmt: skip
    together = store.reputation_latest(*args)
    assert [m["id"] for m in together] == [m["id"] for m in sorted(together, key=lambda m: m["created_at"],
                                                                  reverse=True)]  # fmt: skip
    assert len(together) == 5 and together[0]["text"]
    monkeypatch.setattr(store.reputation, "_BRANCHES", 4)  # 18 (brand, platform, sentiment) reads, in 5 statements
    assert store.reputation_latest(*args) == together


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 0.5, None), ([7], 0.9, 7), ([10, 30, 60, 120], 0.5, 45), ([10, 30, 60, 120], 0.9, 102), ([3, 1, 2], 0.5, 2)],
)  # fmt: skip
def test_percentile_interpolates_between_ranks(values, q, expected):
    result = metrics.percentile(values, q)
    assert result == pytest.approx(expected) if expected is not None else result is None


def test_net_sentiment_and_empty_views():
    assert metrics.net_sentiment(2, 4, 7) == -28.6
    assert metrics.net_sentiment(0, 0, 0) is None
    empty = metrics.response_metrics(metrics.response_times([], 60), [], 0, 60, {})
    assert empty["team"] == {"received": 0, "answered": 0, "response_rate": None, "median_minutes": None,
                             "p90_minutes": None, "within_sla": None}  # fmt: skip


def test_filters_from_the_query_string(settings):
    known = ["reddit", "x"]
    default = filters.from_request({}, settings, known, today=date(2026, 11, 22))
    assert (default.start_iso, default.end_iso, default.bucket) == ("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z", "day")
    one_day = filters.from_request({"from": "2026-11-20", "to": "2026-11-20", "brand": "voltel"}, settings, known)
    assert one_day.bucket == "hour" and one_day.brand == "Voltel" and one_day.own_brands(settings) == []
    assert one_day.query_args()["to"] == "2026-11-20"
    for args, message in (({"from": "tomorrow"}, "must be a date"), ({"platform": "myspace"}, "no mentions from"),
                          ({"from": "2026-01-01", "to": "2026-03-01", "bucket": "hour"}, "at most 14 days"),
                          ({"bucket": "week"}, "day or hour")):  # fmt: skip
        with pytest.raises(filters.FilterError, match=message):
            filters.from_request(args, settings, known)


@pytest.mark.parametrize(("text", "hours"), [("7d", 168), ("24h", 24), ("2w", 336), (" 3D ", 72)])
def test_spans(text, hours):
    assert filters.parse_span(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "7", "0d", "7x", "-1d", "999w"])
def test_bad_spans_are_refused(text):
    with pytest.raises(filters.FilterError):
        filters.parse_span(text)


def test_buckets_are_clipped_to_the_range():
    start = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    spans = filters.buckets(filters.Filters(start, start + timedelta(days=2), bucket="day"))
    assert spans == [("2026-11-20T13:30:00Z", "2026-11-21T00:00:00Z"), ("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"),
                     ("2026-11-22T00:00:00Z", "2026-11-22T13:30:00Z")]  # fmt: skip


def test_distinctive_terms_find_the_complaint_and_skip_noise(settings):
    ignore = terms.ignored_words(settings)
    negative = [f"@LuminaHelp no signal in Leeds since {h}am, Lumina Mobile https://x.co/{h}" for h in range(8)]
    negative += ["the app is slow", "billing is wrong"]
    other = [f"Lumina Mobile shop in Leeds was lovely, signal fine {h}" for h in range(10)]
    found = terms.distinctive_terms(terms.feature_sets(negative, ignore), terms.feature_sets(other, ignore))
    assert found[0]["term"] == "no signal" and found[0]["negative"] == 8 and found[0]["other"] == 0
    words = {w for t in found for w in t["term"].split()}
    assert not words & {"lumina", "mobile", "luminahelp", "leeds", "in", "https", "x.co"}
    assert "signal" not in [t["term"] for t in found]  # overlaps "no signal", which ranks higher


def test_terms_handle_thai_and_negations():
    assert terms.tokens("เน็ตใช้ไม่ได้ can’t connect") == ["เน็ตใช้ไม่ได้", "can't", "connect"]
    assert "can't connect" in terms.features("I can't connect. Not today") and "can't" not in terms.features("can't")


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(value):
    assert exports.cell(value) == "'" + value
    assert exports.cell("fine =1") == "fine =1" and exports.cell(None) == "" and exports.cell(-3) == -3


def test_svg_labels_are_escaped():
    chart = svg.hbars([('<img src=x onerror="alert(1)">', 3, "#000")], 'a "label"')
    assert "<img" not in chart and "&lt;img" in chart and 'aria-label="a &#34;label&#34;"' in chart


def test_report_command_writes_a_standalone_escaped_file(runner, db, tmp_path):
    today = clock.now().date()
    seed_hand_fixture(db, day1=(today - timedelta(days=3)).isoformat(), evil='<script>alert("x")</script> outage')
    alert = {"brand": "Lumina Mobile", "kinds": "volume", "window_start": store.utc_text(clock.now() - timedelta(hours=2)),
             "window_end": store.utc_text(clock.now() - timedelta(hours=1)), "mentions": 40, "baseline": 4.0,
             "reason": "Volume up 10x <now>"}  # fmt: skip
    store.add_alert(db, alert, [])
    out = tmp_path / "out" / "report.html"
    result = runner(["report", "--since", "7d", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "All brands" in result.output
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "Reputation report" in html
    assert "<script" not in html and "&lt;script&gt;" in html and "Volume up 10x &lt;now&gt;" in html
    assert "src=" not in html and "<link" not in html  # nothing to fetch: it works offline, as an attachment
    assert "50%" in html and "45m" in html  # 4 of 8 answered (mentions 9 and 10 are inside 7 days), median 45


def test_report_command_explains_bad_input(runner, tmp_path):
    assert "cannot read" in runner(["report", "--since", "soon", "--out", str(tmp_path / "r.html")]).output
    assert "no brand named" in runner(["report", "--brand", "Nope", "--out", str(tmp_path / "r.html")]).output
    blocked = runner(["report", "--out", str(tmp_path)])
    assert blocked.exit_code != 0


@pytest.mark.sqlite_only  # SQLite's planner; tests/test_postgres.py checks PostgreSQL's
def test_dashboard_queries_use_covering_indexes(db):
    """The range counts read index entries only: the 1M-mention benchmark depends on it."""
    sql = ("EXPLAIN QUERY PLAN SELECT count(*) FROM mentions INDEXED BY mentions_reputation WHERE brand = ? "
           "AND platform IN (?, ?) AND sentiment = ? AND sentiment IS NOT NULL AND created_at >= ? AND created_at < ?")  # fmt: skip
    plan = " ".join(str(row) for row in db.execute(sql, ["b", "x", "r", "negative", "a", "z"]).fetchall())
    assert "COVERING INDEX mentions_reputation" in plan
    assert "0010_reputation" in store.applied_migrations(db)


def test_stored_detail_round_trips(db):
    alert_id = store.add_alert(db, {"brand": "Parcelo", "kinds": "volume", "window_start": "a", "window_end": "b",
                                    "mentions": 1, "baseline": 0.0, "reason": "r",
                                    "detail": {"terms": [{"term": "ü", "mentions": 1}]}}, ["webhook", "email"])  # fmt: skip
    assert json.loads(store.get_alert(db, alert_id)["detail"])["terms"][0]["term"] == "ü"
    assert [d["channel"] for d in store.alert_deliveries(db, alert_id)] == ["webhook", "email"]


def test_mention_export_pages_through_ties_without_repeats(db):
    ids = seed_hand_fixture(db)
    db.execute("UPDATE mentions SET created_at = '2026-11-10T12:00:00Z' WHERE id IN (?, ?, ?)", [ids[1], ids[2], ids[3]])
    brands, platforms = ["Lumina Mobile", "Parcelo", "Voltel"], ["reddit", "x"]
    rows = list(store.reputation_mentions(db, "2026-11-10T00:00:00Z", "2026-11-12T00:00:00Z", brands, platforms, batch=2))
    assert sorted(r["id"] for r in rows) == sorted(ids[n] for n in range(1, 9))
    assert [(r["created_at"], r["id"]) for r in rows] == sorted((r["created_at"], r["id"]) for r in rows)
