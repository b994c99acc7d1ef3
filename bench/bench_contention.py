"""Benchmark writes under contention: imports, a collection run and agents in the console, all at once.

Run by hand:  .venv/bin/python bench/bench_contention.py [--rows 10000] [--agents 10] [--actions 30] [--runs 3]

The load of tests/test_concurrency.py on one SQLite file: two `app.py import`
processes, one `app.py collect` against the loopback fake API, and `app.py
serve` answering agents who post triage actions (status, tag, assign, note)
over HTTP. It prints, as the median over the runs, the console's POST latency
(p50 and p95) while the imports run, the import rows per second under that
contention, and checks every row arrived.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_helpers import PASSWORD, add_mention, add_users  # noqa: E402
from conftest import write_config  # noqa: E402
from contention import Load, process_env, run_load  # noqa: E402
from fakeapi import FakeAPI, config_replacements  # noqa: E402

import settings as settings_mod  # noqa: E402
import store  # noqa: E402


def one_run(load: Load) -> dict:
    """Run the load once in a fresh folder; return its figures."""
    with tempfile.TemporaryDirectory() as tmp, FakeAPI() as api:
        api.seed()
        config = write_config(Path(tmp), replace=config_replacements(api))
        settings = settings_mod.load(config)
        db = store.connect(settings.db_path)
        add_users(db)
        ids = [add_mention(db, settings, f"triage me {n}", id=f"t{n}") for n in range(40)]
        db.close()
        outcome = run_load(config, Path(tmp), load, [("sam", PASSWORD), ("alex", PASSWORD)], ids,
                           process_env(api.env()))  # fmt: skip
        failed = {n: code for n, (code, _) in outcome.processes.items() if n != "serve" and code != 0}
        stored = sqlite3.connect(settings.db_path).execute(
            "SELECT count(*) FROM mentions WHERE platform = 'import'").fetchone()[0]  # fmt: skip
        imports = [s for n, s in outcome.import_seconds.items() if n.startswith("import")]
        return {
            "p50": outcome.percentile(0.50), "p95": outcome.percentile(0.95),
            "rows_per_s": load.imports * load.rows_per_import / max(imports),
            "errors": sum(s >= 500 for s in outcome.statuses), "failed": failed,
            "lost": load.imports * load.rows_per_import - stored, "posts": len(outcome.statuses),
        }  # fmt: skip


def main() -> None:
    """Parse options, run, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows per import process")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--actions", type=int, default=30, help="triage POSTs per agent")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load = Load(rows_per_import=args.rows, agents=args.agents, actions_per_agent=args.actions)
    results = []
    for n in range(args.runs):
        result = one_run(load)
        results.append(result)
        print(f"run {n + 1}: console POST p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms "
              f"({result['posts']} posts, {result['errors']} 5xx); imports {result['rows_per_s']:,.0f} rows/s; "
              f"lost {result['lost']}; failed processes {result['failed'] or 'none'}", flush=True)  # fmt: skip
    print(f"median of {args.runs}: p50 {statistics.median(r['p50'] for r in results):.0f} ms, "
          f"p95 {statistics.median(r['p95'] for r in results):.0f} ms, "
          f"imports {statistics.median(r['rows_per_s'] for r in results):,.0f} rows/s under contention")  # fmt: skip


if __name__ == "__main__":
    main()
