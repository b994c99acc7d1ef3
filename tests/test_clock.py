"""No test depends on the wall clock or on the hour of the day it runs at.

Earshot reads the time only through `clock.now()`, and conftest starts that clock at
TEST_NOW (env EARSHOT_TEST_NOW) for every test. Each case below runs the time-sensitive
test files in a fresh pytest:

- with the injected clock at several instants: just after midnight on the first of a month
  (the hour at which the demo once faked a spike for every brand, so the dashboard's first
  banner named Parcelo), the hour of the demo's outage, midday, and a minute before midnight
  on New Year's Eve (each of these fortnights crosses a month end);
- under Debian's faketime (make chromium installs it), with the wall clock itself moved to
  such hours while the injected clock stays at the default TEST_NOW: the results cannot
  change, because nothing reads the wall clock.

Covered: the demo data and its loading (test_demo), the dashboard, its downloads and the
alert banner (test_dashboard, test_dashboard_browser in Chromium, less its screenshot guard,
which runs browser tests of its own), spike detection and delivery (test_alerts) and the
reputation figures and report (test_reputation). Not covered: the inbox and composer screens
(test_browser, test_web). About 25 s a case, under 3 minutes in all, on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ROOT, TEST_NOW

import clock

SUBSET = ["tests/test_demo.py", "tests/test_dashboard.py", "tests/test_dashboard_browser.py",
          "tests/test_alerts.py", "tests/test_reputation.py",
          "tests/test_clock.py::test_every_test_starts_at_test_now"]  # fmt: skip
# The clock does not depend on the database, so the reruns use SQLite alone.
SKIP = ["--deselect", "tests/test_dashboard_browser.py::test_screenshots_leave_the_readme_pictures_alone",
        "-k", "not postgresql"]  # fmt: skip
INSTANTS = ["2026-12-01T00:55:00Z", "2026-11-18T06:00:00Z", "2026-11-18T12:30:00Z", "2026-12-31T23:59:00Z"]
WALL_CLOCKS = ["2026-12-01 00:55:00", "2027-01-31 23:59:00"]  # faketime's own format, UTC
FAKETIME = shutil.which("faketime")


def test_every_test_starts_at_test_now():
    """The clock of a test (and of the processes it starts) begins at TEST_NOW, not at the wall clock."""
    expected = datetime.fromisoformat(os.environ.get("EARSHOT_TEST_NOW") or TEST_NOW)
    assert timedelta(0) <= clock.now() - expected < timedelta(minutes=1)
    assert os.environ[clock.ENV] == TEST_NOW


def _pytest(tmp_path, env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    """The subset in a fresh pytest, its screenshots kept in tmp_path."""
    env = {k: v for k, v in os.environ.items() if k != clock.ENV} | {"EARSHOT_SCREENSHOTS": str(tmp_path), **env}
    command = [*(prefix or []), sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SKIP, *SUBSET]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _assert_passed(run: subprocess.CompletedProcess) -> None:
    """Every test passed (a browser module may skip where Chromium is missing)."""
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0 and "failed" not in summary and "error" not in summary, run.stdout[-6000:]


@pytest.mark.parametrize("instant", INSTANTS)
def test_time_sensitive_tests_pass_at_any_instant(tmp_path, instant):
    _assert_passed(_pytest(tmp_path, {"EARSHOT_TEST_NOW": instant}))


@pytest.mark.skipif(FAKETIME is None, reason="Debian's faketime is not installed (make chromium)")
@pytest.mark.parametrize("wall", WALL_CLOCKS)
def test_time_sensitive_tests_ignore_the_wall_clock(tmp_path, wall):
    prefix = [FAKETIME, "-f", f"@{wall}"]  # '@': the faked clock starts there and runs on
    env = {"TZ": "UTC", "EARSHOT_TEST_NOW": TEST_NOW}
    probe = subprocess.run([*prefix, sys.executable, "-c", "import time; print(time.time())"], env=os.environ | env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    shifted = datetime.fromtimestamp(float(probe.stdout), UTC)
    assert abs(shifted - datetime.fromisoformat(wall).replace(tzinfo=UTC)) < timedelta(minutes=1), probe
    _assert_passed(_pytest(tmp_path, env, prefix))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_chromium_installs_the_emoji_font_and_faketime_when_missing():
    """`make chromium` installs the browser packages when any of their files is missing, and only then."""
    def chromium(files: str) -> str:
        args = ["make", "-s", "chromium", f"BROWSER_FILES={files}", "APT_GET=echo apt-get", "SUDO="]
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout

    font = "/nonexistent/NotoColorEmoji.ttf"
    missing = chromium(f"{sys.executable} {font}")
    assert f"missing: {font}" in missing and "apt-get update" in missing
    assert "install -y -qq chromium chromium-driver fonts-thai-tlwg fonts-noto-color-emoji faketime" in missing
    assert chromium(sys.executable) == ""  # everything there: nothing to install
