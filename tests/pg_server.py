"""A real PostgreSQL server for the tests: started on a free loopback port in a temporary folder, stopped after.

If no server can be started the tests that need one fail with the reason;
they are never skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SEARCH_DIRS = ("/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))
USER = "earshot"


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server could be started for the tests."""


def find_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres (on PATH, /usr/local/bin or Debian's)."""
    on_path = shutil.which("pg_ctl")
    for folder in ([str(Path(on_path).parent)] if on_path else []) + list(SEARCH_DIRS):
        if all(Path(folder, name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    raise ServerUnavailable(
        "PostgreSQL 15+ (initdb, pg_ctl, postgres) was not found on PATH, in /usr/local/bin or in "
        "/usr/lib/postgresql/*/bin: install Debian's postgresql and postgresql-contrib (make test does)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One throwaway PostgreSQL cluster with a superuser, a password and a template database."""

    # Tests trade durability for speed; a benchmark passes production-like settings instead.
    TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                     "max_connections": "400", "shared_buffers": "256MB"}  # fmt: skip

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = {**self.TEST_SETTINGS, **(settings or {})}
        self.bin = find_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="earshot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.run_as = _unprivileged_user()
        self._count = 0

    def url(self, dbname: str) -> str:
        """A connection URL without the password (it comes from the environment)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> PgServer:
        """initdb and start the server; raise ServerUnavailable with the log on failure."""
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if self.run_as:
            shutil.chown(self.root, self.run_as)
            shutil.chown(pwfile, self.run_as)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} " + " ".join(
            f"-c {name}={value}" for name, value in self.settings.items()
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")
        return self

    def _run(self, program: str, *args: str) -> None:
        """Run one server program (as an unprivileged user when we are root)."""
        command = [str(self.bin / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerUnavailable(f"{program} could not run: {exc}") from None
        if done.returncode:
            log = self.root / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServerUnavailable(f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}")

    def stop(self) -> None:
        """Stop the server (killing it if pg_ctl cannot) and remove its folder."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            finally:
                _kill_if_running(pid)
        shutil.rmtree(self.root, ignore_errors=True)

    def admin(self):
        """A psycopg autocommit connection to the `postgres` database."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=self.password,
                               dbname="postgres", autocommit=True)  # fmt: skip

    def create_database(self, template: str | None = None) -> str:
        """A new, empty (or template-copied) database; return its name."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test database, ending its connections."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _kill_if_running(pid: int, wait_seconds: float = 10.0) -> None:
    """Make sure the server process has gone: wait a little, then SIGKILL it."""
    import signal
    import time

    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _unprivileged_user() -> str | None:
    """The account the server runs under when the tests run as root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ServerUnavailable("running as root and there is no 'postgres' or 'nobody' user to start PostgreSQL as")
