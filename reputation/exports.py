"""CSV exports: the dashboard's metric tables and its mentions, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import formats
from reputation import outcome_metrics, retention
from reputation import themes as improvements

SECTIONS = ("volume", "share_of_voice", "themes", "terms", "responses", "outcomes", "retention", "improvements")


def cell(value) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (text starting = + - @ gets a ')."""
    return "" if value is None else formats.defuse_formula(value)


def tables(data: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Each metric section of an overview as (header, rows)."""
    volume, themes, responses = data["volume"], data["themes"], data["responses"]
    return {
        "volume": (["start", "end", "negative", "neutral", "positive", "unscored", "total", "net_sentiment"],
                   [[r["start"], r["end"], r["negative"], r["neutral"], r["positive"], r["unscored"], r["total"],
                     r["net"]] for r in volume["rows"]]),
        "share_of_voice": (["brand", "competitor", "mentions", "share_percent"],
                           [[s["brand"], s["competitor"], s["mentions"], s["share"]]
                            for s in volume["share_of_voice"]]),
        "themes": (["intent", "negative_mentions", "share_percent"],
                   [[t["intent"], t["mentions"], t["share"]] for t in themes["intents"]]),
        "terms": (["term", "negative_mentions", "other_mentions", "negative_share_percent",
                   "other_share_percent", "z"],
                  [[t["term"], t["negative"], t["other"], t["negative_share"], t["other_share"], t["z"]]
                   for t in themes["terms"]]),
        "responses": (["who", "received_or_assigned", "first_responses", "response_rate_percent",
                       "median_minutes", "p90_minutes", "within_sla_percent"], _response_rows(responses)),
        "outcomes": (outcome_metrics.CSV_HEADER, outcome_metrics.table_rows(data["outcomes"])),
        "retention": (retention.CSV_HEADER, retention.table_rows(data["retention"])),
        "improvements": (improvements.CSV_HEADER, improvements.table_rows(data["improvements"])),
    }  # fmt: skip


def _response_rows(responses: dict) -> list[list]:
    """The team's row, then one per agent."""
    team = responses["team"]
    rows = [["team", team["received"], team["answered"], team["response_rate"], team["median_minutes"],
             team["p90_minutes"], team["within_sla"]]]  # fmt: skip
    for a in responses["agents"]:
        rows.append([a["name"], a["assigned"], a["answered"], a["response_rate"], a["median_minutes"],
                     a["p90_minutes"], a["within_sla"]])  # fmt: skip
    return rows


def write_rows(header: list[str], rows: Iterable[list]) -> str:
    """A whole CSV document."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()


def section_csv(data: dict, section: str) -> str:
    """One metric section as CSV."""
    header, rows = tables(data)[section]
    return write_rows(header, rows)


def all_metrics_csv(data: dict) -> str:
    """Every metric section in one long CSV: section, row, column, value."""
    long_rows = []
    for section, (header, rows) in tables(data).items():
        for number, row in enumerate(rows, 1):
            long_rows += [[section, number, name, value] for name, value in zip(header, row, strict=True)]
    return write_rows(["section", "row", "column", "value"], long_rows)


def stream_rows(columns: tuple[str, ...], rows: Iterable[dict], chunk: int = 500) -> Iterator[str]:
    """CSV text for a large export, header first, then `chunk` rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for number, row in enumerate(rows, 1):
        writer.writerow([cell(row[c]) for c in columns])
        if number % chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
