"""`app.py run` on its embedded default: a fresh database fills with demo data and the console answers."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import pytest
from contention import free_port, wait_until_serving

from tests.conftest import ROOT


@pytest.fixture
def running(settings_path):
    """`python app.py run` in demo mode on a free port, stopped afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("X_", "REDDIT_", "SECRET_KEY"))}
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--config", str(settings_path), "run", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_run_fills_demo_database_and_serves_console(running, settings):
    proc, port = running
    assert wait_until_serving(f"http://127.0.0.1:{port}/login", proc, seconds=180) == 200
    proc.terminate()
    output = proc.communicate(timeout=20)[0]
    assert "[demo mode]" in output
    login = re.search(r"Demo login: admin / (\S+)", output)
    assert login, output
    db = sqlite3.connect(settings.db_path)
    assert db.execute("SELECT count(*) FROM mentions").fetchone()[0] >= 300
    assert db.execute("SELECT count(DISTINCT brand) FROM mentions").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 4
    scored = db.execute("SELECT count(*) FROM mentions WHERE urgency IS NOT NULL").fetchone()[0]
    assert scored >= 300, "the bundled model scores the demo on first start"
    assert "SECRET" not in output and "secret_key" not in output
