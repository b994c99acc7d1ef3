"""Starting Earshot: demo mode, the session key, the web server and background jobs."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

import store
from background import PeriodicJob, classify_pending
from settings import Settings

log = logging.getLogger("earshot")

DEMO_PASSWORD_FILE = "demo-login.json"
SECRET_KEY_FILE = "secret_key"


class RuntimeProblem(Exception):
    """Earshot cannot start as asked (for example, no SECRET_KEY outside demo mode)."""


def is_demo(settings: Settings) -> bool:
    """Demo mode: no enabled source has its read credentials in the environment."""
    return not settings.configured_sources()


def _private_file(path: Path, make: Callable[[], str]) -> str:
    """Read a small secret file beside the database, creating it (mode 0600) if missing."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def secret_key(settings: Settings, demo: bool) -> str:
    """The session-signing key: from the environment, or kept beside the demo database."""
    key = settings.env(settings.console.secret_key_env)
    if key:
        return key
    if not demo:
        raise RuntimeProblem(
            f"{settings.console.secret_key_env} is not set: outside demo mode the console needs a "
            "secret key in the environment (e.g. export "
            f"{settings.console.secret_key_env}=$(python -c 'import secrets; print(secrets.token_hex(32))'))"
        )
    return _private_file(settings.db_path.parent / SECRET_KEY_FILE, lambda: secrets.token_hex(32))


def demo_password(settings: Settings) -> str:
    """The generated password shared by the demo accounts, kept beside the database."""
    path = settings.db_path.parent / DEMO_PASSWORD_FILE
    return json.loads(_private_file(path, lambda: json.dumps({"password": secrets.token_urlsafe(9)})))["password"]


def demo_login_line(settings: Settings) -> str:
    """How to log in to the demo, for the terminal."""
    return (
        f"Demo login: admin / {demo_password(settings)}  "
        "(same password for agents sam and alex, and viewer pat)"
    )


def ensure_demo_users(db, settings: Settings) -> None:
    """Create the demo staff accounts that don't exist yet."""
    import demo
    import users

    password = demo_password(settings)
    for username, role, display_name in demo.DEMO_USERS:
        if store.get_user(db, username) is None:
            users.create(db, username, password, role, display_name)


def load_demo(db, settings: Settings, echo: Callable[[str], None] = log.info) -> dict:
    """Load demo mentions and accounts, score them when the classifier is available, then replay the spike checks."""
    import demo

    echo("Loading demo mentions...")
    summary = demo.load_demo(db, settings)
    ensure_demo_users(db, settings)
    classify_pending(db, settings, echo)
    demo.add_outcome_stories(db, settings)  # after scoring: outcomes read the follow-ups' sentiment
    replay_demo_alerts(db, settings, echo)
    return summary


def replay_demo_alerts(db, settings: Settings, echo: Callable[[str], None] = log.info) -> list[dict]:
    """Run the spike checks over the demo's fortnight as `run` would have; alerts reach the banner only."""
    import demo
    from reputation import jobs

    if not settings.alerts.enabled:
        return []
    # The demo's outage lies days back, out of reach of the check of the last hour that `run`
    # repeats; replayed, it raises its alert. Nothing is sent (deliver=False): no webhook, no email.
    found = jobs.check_and_deliver(db, settings, since=f"{demo.DAYS}d", deliver=False)["alerts"]
    for alert in found:
        echo(f"Demo spike alert for {alert['brand']} (in the console banner only): {alert['reason']}")
    return found


def prepare(settings: Settings, demo: bool, echo: Callable[[str], None]) -> None:
    """Create the database and, in demo mode, fill it on first start."""
    db = store.connect(settings.database)
    try:
        if demo and store.get_meta(db, "demo_loaded_at") is None:
            load_demo(db, settings, echo)
        elif demo:
            ensure_demo_users(db, settings)
    finally:
        db.close()


def serve(settings: Settings, host: str, port: int, debug: bool, echo: Callable[[str], None]) -> None:
    """Serve the console with waitress (or Flask's debug server) on host:port; RuntimeProblem if it can't listen."""
    demo = is_demo(settings)
    key = secret_key(settings, demo)
    from web import create_app

    app = create_app(settings, secret_key=key, demo=demo, trusted_proxies=settings.console.trusted_proxies)
    if debug:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeProblem("--debug serves Flask's interactive debugger: use it only on 127.0.0.1")
        _probe_port(host, port)  # the debug server would print a paragraph and exit 1
        _announce(settings, host, port, demo, echo)
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    server = _listen(app, host, port)
    _announce(settings, host, port, demo, echo)
    server.run()


def _listen(app, host: str, port: int):
    """A waitress server already bound to host:port (so the address printed is the one served)."""
    import waitress

    logging.basicConfig()  # as waitress.serve does, so its own warnings are seen
    try:
        return waitress.create_server(app, host=host, port=port, threads=8, ident="earshot")
    except OSError as exc:
        raise RuntimeProblem(_cannot_listen(host, port, exc)) from None


def _probe_port(host: str, port: int) -> None:
    """Raise RuntimeProblem unless host:port can be bound right now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself does
            probe.bind(address)
    except OSError as exc:
        raise RuntimeProblem(_cannot_listen(host, port, exc)) from None


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    """One line saying why the console cannot listen, naming the options to change."""
    reason = exc.strerror or str(exc)
    return f"cannot listen on --host {host} --port {port}: {reason} (is something else using it? pick another --port)"


def _announce(settings: Settings, host: str, port: int, demo: bool, echo: Callable[[str], None]) -> None:
    """Print where the console is served and, in demo mode, the login."""
    echo(f"Earshot console on http://{_display_host(host)}:{port}/" + ("  [demo mode]" if demo else ""))
    if demo:
        echo(demo_login_line(settings))


def run(settings: Settings, host: str, port: int, debug: bool, echo: Callable[[str], None]) -> None:
    """The main job: prepare the database, start background collection, serve the console."""
    demo = is_demo(settings)
    secret_key(settings, demo)  # fail before any work if the key is missing
    prepare(settings, demo, echo)
    start_background_jobs(settings, echo, demo=demo)
    serve(settings, host, port, debug, echo)


def start_background_jobs(settings: Settings, echo: Callable[[str], None], demo: bool = False) -> list[PeriodicJob]:
    """Schedule the enabled collectors (and classification of what they bring), and the spike check; return the jobs.

    Demo mode collects nothing, and its spike alerts reach the console banner only.
    """
    from classifier import retrain
    from collectors import schedule
    from reputation import jobs

    started = [] if demo else [schedule.start_background(settings, echo=echo)]
    started.append(jobs.start_background(settings, echo=echo, demo=demo))
    started.append(retrain.start_background(settings, echo))  # None unless [classifier.retrain] enabled
    return [job for job in started if job is not None]


def _display_host(host: str) -> str:
    """A host name a browser can open."""
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
