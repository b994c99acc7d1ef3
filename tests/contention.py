"""A mixed write load on one SQLite file: imports, a collection run and staff in the console, all at once.

Used by tests/test_concurrency.py (which checks that nothing is lost) and by
bench/bench_contention.py (which times it). Every writer is a real process or a
real HTTP client: `app.py import`, `app.py collect` against the fake API, and
`app.py serve` answering agents who triage over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET = "contention-test-secret-key-0123456789"


@dataclass
class Load:
    """The shape of one run."""

    imports: int = 2  # concurrent `app.py import` processes
    rows_per_import: int = 10_000
    agents: int = 10  # concurrent console clients
    actions_per_agent: int = 30
    collect: bool = True


@dataclass
class Outcome:
    """What happened: exit codes and output of each process, and every console answer."""

    processes: dict[str, tuple[int, str]] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds per console POST
    notes_posted: int = 0
    seconds: float = 0.0
    import_seconds: dict[str, float] = field(default_factory=dict)

    def percentile(self, share: float) -> float:
        """A latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def median_ms(self) -> float:
        """Median console POST latency in milliseconds."""
        return 1000 * statistics.median(self.latencies) if self.latencies else 0.0


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_import_file(path: Path, prefix: str, rows: int) -> list[str]:
    """A JSONL file of `rows` distinct mentions; return their ids."""
    ids = [f"{prefix}-{i}" for i in range(rows)]
    with open(path, "w", encoding="utf-8") as fh:
        for i, external_id in enumerate(ids):
            fh.write(json.dumps({
                "id": external_id, "platform": "import", "brand": "Parcelo" if i % 2 else "Lumina Mobile",
                "text": f"{prefix} mention {i}: my parcel is late again", "author": f"{prefix}{i % 311}",
                "created_at": 1763900000 + i,
            }) + "\n")  # fmt: skip
    return ids


def process_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment plus `extra`, for a child `app.py`."""
    return {**os.environ, "SECRET_KEY": SECRET, "PYTHONUNBUFFERED": "1", **extra}


def start(config: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start `python app.py --config CONFIG ARGS...`, output captured."""
    return subprocess.Popen(
        [sys.executable, "app.py", "--config", str(config), *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_until_serving(url: str, proc: subprocess.Popen, seconds: float = 60) -> int:
    """Poll until the console answers; return its status code, or fail with its output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited early:\n{proc.stdout.read()}")
        try:
            return requests.get(url, timeout=2).status_code
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _token(html: str) -> str:
    """The CSRF token from a console page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def agent_session(base: str, username: str, password: str) -> requests.Session:
    """A logged-in console client."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    answer = session.post(f"{base}/login", timeout=30, allow_redirects=False,
                          data={"username": username, "password": password, "csrf_token": _token(page.text)})  # fmt: skip
    if answer.status_code != 302:
        raise RuntimeError(f"login as {username} answered {answer.status_code}")
    return session


def _triage(base: str, session: requests.Session, agent: int, mention_ids: list[int], actions: int,
            outcome: Outcome, lock: threading.Lock) -> None:  # fmt: skip
    """One agent's run of status changes, tags, assignments and notes."""
    token = _token(session.get(f"{base}/m/{mention_ids[0]}", timeout=60).text)
    for step in range(actions):
        mention_id = mention_ids[(agent * 7 + step) % len(mention_ids)]
        kind, data = [
            ("status", {"status": ("open", "waiting", "resolved")[step % 3]}),
            ("tags", {"tag": f"load{agent}"}),
            ("assign", {"assignee": "me"}),
            ("notes", {"body": f"agent {agent} note {step}"}),
        ][step % 4]
        started = time.monotonic()
        answer = session.post(f"{base}/m/{mention_id}/{kind}", data={**data, "csrf_token": token},
                              allow_redirects=False, timeout=120)  # fmt: skip
        with lock:
            outcome.latencies.append(time.monotonic() - started)
            outcome.statuses.append(answer.status_code)
            outcome.notes_posted += kind == "notes" and answer.status_code == 302


def run_load(config: Path, tmp: Path, load: Load, users: list[tuple[str, str]], mention_ids: list[int],
             env: dict[str, str]) -> Outcome:  # fmt: skip
    """Run every writer at once and wait for all of them."""
    outcome = Outcome()
    files = {f"import{n}": tmp / f"import{n}.jsonl" for n in range(load.imports)}
    for name, path in files.items():
        write_import_file(path, name, load.rows_per_import)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(config, ["serve", "--port", str(port)], env)
    try:
        wait_until_serving(f"{base}/login", server)
        sessions = [agent_session(base, *users[n % len(users)]) for n in range(load.agents)]
        started = time.monotonic()
        procs = {name: start(config, ["import", str(path)], env) for name, path in files.items()}
        if load.collect:
            procs["collect"] = start(config, ["collect", "--no-classify"], env)
        lock = threading.Lock()
        agents = [threading.Thread(target=_triage, args=(base, s, n, mention_ids, load.actions_per_agent, outcome, lock))
                  for n, s in enumerate(sessions)]  # fmt: skip
        for thread in agents:
            thread.start()
        for name, proc in procs.items():
            output = proc.communicate(timeout=600)[0]
            outcome.processes[name] = (proc.returncode, output)
            outcome.import_seconds[name] = time.monotonic() - started
        for thread in agents:
            thread.join(timeout=600)
        outcome.seconds = time.monotonic() - started
    finally:
        server.terminate()
        outcome.processes["serve"] = (server.wait(timeout=30), server.communicate()[0])
    return outcome
