"""Earshot's command line: thin click commands over the store, collectors, classifier and console."""

from __future__ import annotations

import sys

import click

import collectors
import settings as settings_mod
import store


class ConfigProblem(click.ClickException):
    """A configuration error, reported in one line with exit code 2."""

    exit_code = 2


def load_settings(ctx: click.Context) -> settings_mod.Settings:
    """Load the config named by --config once per invocation."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = settings_mod.load(obj.get("config_path"))
        except settings_mod.ConfigError as exc:
            raise ConfigProblem(str(exc)) from None
    return obj["settings"]


def open_db(ctx: click.Context):
    """Open (and migrate) the configured database."""
    try:
        return store.connect(load_settings(ctx).database)
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    envvar="EARSHOT_CONFIG",
    type=click.Path(dir_okay=False),
    help="Config file to use (default: config.toml beside app.py; env EARSHOT_CONFIG).",
)
@click.version_option("0.1.0", prog_name="earshot")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Earshot: listen for brand mentions, rank them, and answer them.

    Start with `python app.py run`: with no API keys it serves the console on
    demo data. Every command takes --help.
    """
    ctx.ensure_object(dict)["config_path"] = config_path


@cli.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create the database, or bring its schema up to date.

    Safe to run at any time: only migrations not yet applied are run.

    Example: python app.py init-db
    """
    from store.postgres import safe_url

    path = safe_url(str(load_settings(ctx).database))
    db = open_db(ctx)
    applied = store.applied_migrations(db)
    click.echo(f"Database {path} is at migration {applied[-1]} ({len(applied)} applied).")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), help="Input format (default: by file extension).")
@click.option("--brand", help="Brand for records that don't name one.")
@click.option("--batch-size", default=2000, show_default=True, help="Records written per transaction.")
@click.pass_context
def import_cmd(ctx: click.Context, path: str, fmt: str | None, brand: str | None, batch_size: int) -> None:
    """Import mentions from a JSONL or CSV file (format in README).

    Re-importing the same file updates counts and never duplicates a mention
    or resets staff edits. Malformed lines are reported as FILE:LINE and
    skipped; every valid line is kept. Exits 1 if any line was skipped.

    Example: python app.py import mentions.jsonl --brand "Parcelo"
    """
    import bulk

    settings = load_settings(ctx)
    db = open_db(ctx)
    try:
        result = bulk.import_file(db, settings, path, fmt=fmt, brand=brand, batch_size=batch_size)
    except store.StoreError as exc:
        raise click.ClickException(f"import stopped: {exc} (batches written before this are kept)") from exc
    click.echo(result.summary(path))
    if indexed := store.catch_up_search(db):  # PostgreSQL indexes search after the writes
        click.echo(f"Indexed {indexed:,} new or changed mentions for search.")
    if result.skipped:
        sys.exit(1)


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Output file (default: stdout).")
@click.option("--corrections", is_flag=True, help="Export staff sentiment corrections as training JSONL instead.")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, output, corrections: bool) -> None:
    """Export every mention (with scores, status and tags) as JSONL or CSV.

    The JSONL output can be imported again. With --corrections, writes the
    sentiment corrections staff made in the console as {"text", "label"}
    lines, ready for `app.py train`.

    Example: python app.py export --format csv -o mentions.csv
    """
    import bulk

    db = open_db(ctx)
    count = bulk.export(db, output, "corrections" if corrections else fmt)
    click.echo(f"Exported {count} {'corrections' if corrections else 'mentions'}.", err=True)


@cli.command("collect")
@click.option(
    "--platform", "--source", "source", type=click.Choice(collectors.PLATFORMS),
    help="Collect from this network only (default: X, Reddit, and Bluesky and Mastodon when their credentials are set).",
)  # fmt: skip
@click.option(
    "--every", type=click.FloatRange(min=1), metavar="SECONDS",
    help="Run again every SECONDS (with 10% jitter) until interrupted.",
)  # fmt: skip
@click.option("--no-classify", is_flag=True, help="Leave new mentions unscored (score later with classify).")
@click.pass_context
def collect_cmd(ctx: click.Context, source: str | None, every: float | None, no_classify: bool) -> None:
    """Collect new mentions from X, Reddit, Bluesky and Mastodon once, then score them (suits cron).

    Prints one line per source: new, updated, pages, rate-limit state and
    duration. Exits 0 only when every source succeeded; a source without
    credentials is skipped with a one-line reason, which fails the run only
    when it was asked for with --platform. After a rate limit the next run skips
    that source until the reset time. A lock keeps two runs off one database:
    the second says so and exits 1.

    Example: python app.py collect --platform bluesky
    """
    from collectors import run as collecting

    settings = load_settings(ctx)
    try:
        ok = collecting.collect_command(settings, source, every, echo=click.echo, classify=not no_classify)
    except (collecting.CollectionLocked, store.StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("Interrupted: the pages already stored are kept, and the run is recorded as interrupted.", err=True)
        sys.exit(130)
    sys.exit(0 if ok else 1)


@cli.command("demo")
@click.pass_context
def demo_cmd(ctx: click.Context) -> None:
    """Load the demo mentions and demo staff accounts into the database.

    Timestamps are placed relative to now, so the demo always looks current.
    Safe to repeat: nothing is duplicated.

    Example: python app.py demo
    """
    import runtime

    settings = load_settings(ctx)
    db = open_db(ctx)
    summary = runtime.load_demo(db, settings, echo=click.echo)
    click.echo(f"Demo data: {summary['mentions']} mentions, {summary['replies']} replies.")
    click.echo(runtime.demo_login_line(settings))


def _port_in_range(ctx: click.Context, param: click.Parameter, port: int) -> int:
    """Refuse a port outside 1-65535 in one line (the system would listen on another one)."""
    if not 1 <= port <= 65535:
        raise ConfigProblem(f"--port must be from 1 to 65535, got {port}")
    return port


def _serve_options(fn):
    """Options shared by `serve` and `run`."""
    fn = click.option("--debug", is_flag=True, help="Use Flask's debug server with reloading (never in production).")(fn)
    fn = click.option("--port", default=5000, show_default=True, type=int, callback=_port_in_range,
                      help="Port to listen on (1-65535).")(fn)  # fmt: skip
    fn = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")(fn)
    return fn


@cli.command("serve")
@_serve_options
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Serve the console only (no collection), with waitress.

    Outside demo mode SECRET_KEY must be set in the environment.

    Example: SECRET_KEY=... python app.py serve --port 8000
    """
    import runtime

    settings = load_settings(ctx)
    try:
        runtime.serve(settings, host=host, port=port, debug=debug, echo=click.echo)
    except runtime.RuntimeProblem as exc:
        raise ConfigProblem(str(exc)) from None


@cli.command("run")
@_serve_options
@click.pass_context
def run_cmd(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Run Earshot: the console, plus scheduled collection and classification.

    With no API keys in the environment this is demo mode: on first start
    the demo data and demo logins are created, and the login is printed.

    Example: python app.py run
    """
    import runtime

    settings = load_settings(ctx)
    try:
        runtime.run(settings, host=host, port=port, debug=debug, echo=click.echo)
    except runtime.RuntimeProblem as exc:
        raise ConfigProblem(str(exc)) from None


@cli.group("user")
def user_group() -> None:
    """Manage staff accounts: add, list, set-role, reset-password.

    Roles: admin (everything), agent (triage and reply), viewer (read-only).
    """


def _password_option(fn):
    """Read the password from stdin (scripts) or prompt twice (people)."""
    return click.option(
        "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
    )(fn)


def _read_password(from_stdin: bool) -> str:
    """Get a new password from stdin or an interactive prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(store.ROLES), default="agent", show_default=True)
@click.option("--name", "display_name", help="Name shown to colleagues (default: the username).")
@_password_option
@click.pass_context
def user_add(ctx, username: str, role: str, display_name: str | None, password_stdin: bool) -> None:
    """Add a staff account.

    Example: python app.py user add sam --role agent --name "Sam"
    """
    import users

    db = open_db(ctx)
    try:
        users.create(db, username, _read_password(password_stdin), role, display_name)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Added {username} ({role}).")


@user_group.command("list")
@click.pass_context
def user_list(ctx) -> None:
    """List staff accounts and their roles.

    Example: python app.py user list
    """
    for row in store.list_users(open_db(ctx)):
        state = " (disabled)" if row["disabled"] else ""
        click.echo(f"{row['username']:<20} {row['role']:<7} {row['display_name']}{state}")


@user_group.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(store.ROLES))
@click.pass_context
def user_set_role(ctx, username: str, role: str) -> None:
    """Change a staff account's role.

    Example: python app.py user set-role pat viewer
    """
    import users

    try:
        users.set_role(open_db(ctx), username, role)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{username} is now {role}.")


@user_group.command("reset-password")
@click.argument("username")
@_password_option
@click.pass_context
def user_reset_password(ctx, username: str, password_stdin: bool) -> None:
    """Set a new password for a staff account.

    Example: python app.py user reset-password sam
    """
    import users

    try:
        users.reset_password(open_db(ctx), username, _read_password(password_stdin))
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password for {username} reset.")


@cli.command("train")
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False), help="Labeled JSONL: text, label.")
@click.option("--val", type=click.Path(exists=True, dir_okay=False), help="Validation JSONL (default: 10% of --data).")
@click.option("--out", default="classifier/runs/latest", show_default=True, type=click.Path(file_okay=False))
@click.option("--epochs", default=3.0, show_default=True, help="Passes over the training data.")
@click.option("--max-steps", default=0, show_default=True, help="Stop after this many batches (0: use --epochs).")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--lr", "learning_rate", default=5e-4, show_default=True, help="Peak learning rate.")
@click.option("--rank", default=32, show_default=True, help="LoRA rank.")
@click.option("--max-length", default=96, show_default=True, help="Tokens kept per text.")
@click.option("--eval-every", default=400, show_default=True, help="Validate every N steps.")
@click.option("--max-minutes", default=0.0, show_default=True, help="Stop after this long (0: no limit).")
@click.option("--seed", default=13, show_default=True)
@click.option("--calibrate", is_flag=True, help="Fold validation-chosen logit offsets into the head.")
@click.option("--resume", default="", type=click.Path(file_okay=False),
              help="Continue from the adapter in this folder (its validation score is the one to beat).")
@click.option("--warmup", default=0.06, show_default=True, help="Share of the run spent warming up the learning rate.")
def train_cmd(data: str, val: str | None, out: str, **options) -> None:
    """Fine-tune the bundled sentiment adapter on labeled JSONL.

    Each line has `text` and `label` (negative/neutral/positive or 0/1/2).
    Validates every few steps, keeps the best checkpoint, and writes the
    adapter plus MODEL_CARD.md/.json to --out. Staff corrections exported
    with `app.py export --corrections` can be added to the training file.

    Example: python app.py train --data train.jsonl --val val.jsonl --out classifier/bundled
    """
    from pathlib import Path

    from classifier import data as data_mod
    from classifier import train as train_mod

    settings = train_mod.TrainSettings(alpha=2.0 * options["rank"], **options)
    try:
        card = train_mod.train(Path(data), Path(val) if val else None, Path(out), settings, click.echo)
    except (data_mod.DataError, train_mod.TrainingError) as exc:
        raise click.ClickException(str(exc)) from None
    best = card["best_checkpoint"]
    click.echo(f"Best validation macro-recall {best['macro_recall']:.2f} at step {best['step']}; saved to {out}")


@cli.command("evaluate")
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False), help="Labeled JSONL: text, label.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.pass_context
def evaluate_cmd(ctx: click.Context, data: str, as_json: bool) -> None:
    """Measure the configured sentiment model on labeled JSONL.

    Prints macro-recall, accuracy, macro-F1 (all percentages), recall per
    class and the confusion matrix. With --json, one object with the keys
    macro_recall, accuracy, macro_f1, per_class_recall and confusion.

    Example: python app.py evaluate --data ../shared/data/tweeteval/sentiment/test.jsonl
    """
    import json
    from pathlib import Path

    from classifier import data as data_mod
    from classifier import evaluation
    from classifier.model import ModelUnavailable

    try:
        result = evaluation.evaluate_file(Path(data), load_settings(ctx))
    except (data_mod.DataError, ModelUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result) if as_json else evaluation.format_report(result))


@cli.command("retrain")
@click.option("--max-steps", type=int, help="Batches to train (default: [classifier.retrain] max_steps).")
@click.option("--max-minutes", type=float, help="Stop after this long (default: [classifier.retrain] max_minutes).")
@click.option("--lr", "learning_rate", type=float, help="Peak learning rate (default 2e-4).")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), help="Labeled JSONL to replay instead of the shipped slice.")
@click.option("--no-rescore", is_flag=True, help="After a promotion, leave open mentions with their old scores.")
@click.pass_context
def retrain_cmd(ctx: click.Context, no_rescore: bool, **options) -> None:
    """Train a candidate model on staff corrections and promote it only if it passes the gate.

    Starts from the active version, trains on the shipped replay data plus the
    latest sentiment correction of each mention, then measures both versions on
    the frozen evaluation set and on held-back corrections. The candidate becomes
    active only if it loses at most [classifier.retrain] margin points of frozen
    macro-recall and is more accurate on the held-back corrections; otherwise it
    is kept as rejected, with its figures. See `app.py model list`.

    Example: python app.py retrain --max-steps 200
    """
    from classifier import data as data_mod
    from classifier import pipeline, retrain
    from classifier.model import ModelUnavailable

    db, settings = open_db(ctx), load_settings(ctx)
    bar = lambda total: click.progressbar(length=total, label="Training", file=sys.stderr)  # noqa: E731
    try:
        result = retrain.retrain(db, settings, retrain.options_from(settings, options), "cli", click.echo, bar)
        click.echo(retrain.describe(result))
        if result["promoted"] and not no_rescore:
            pipeline.rescore_open(db, settings, click.echo)
    except (retrain.RetrainError, data_mod.DataError, ModelUnavailable, store.StoreError) as exc:
        raise click.ClickException(str(exc)) from None


@cli.group("model")
def model_group() -> None:
    """List sentiment model versions, promote one, or roll back to the previous one."""


@model_group.command("list")
@click.pass_context
def model_list(ctx: click.Context) -> None:
    """List model versions: status, frozen-set macro-recall, held-back accuracy, promotion time.

    Example: python app.py model list
    """
    from classifier import versions

    click.echo(versions.format_versions(store.model_versions(open_db(ctx))))


@model_group.command("promote")
@click.argument("version")
@click.option("--no-rescore", is_flag=True, help="Leave open mentions with their old scores.")
@click.pass_context
def model_promote(ctx: click.Context, version: str, no_rescore: bool) -> None:
    """Make VERSION the active sentiment model and re-score open mentions with it (audited).

    Example: python app.py model promote v3
    """
    from classifier import versions

    _change_model(ctx, lambda db: versions.promote(db, version, "cli"), no_rescore)


@model_group.command("rollback")
@click.option("--no-rescore", is_flag=True, help="Leave open mentions with their old scores.")
@click.pass_context
def model_rollback(ctx: click.Context, no_rescore: bool) -> None:
    """Make the version that was active before the current one active again, and re-score (audited).

    Example: python app.py model rollback
    """
    from classifier import versions

    _change_model(ctx, lambda db: versions.rollback(db, "cli"), no_rescore)


def _change_model(ctx: click.Context, change, no_rescore: bool) -> None:
    """Run a promotion or rollback, report it, then re-score open mentions unless told not to."""
    from classifier import pipeline
    from classifier.model import ModelUnavailable

    db, settings = open_db(ctx), load_settings(ctx)
    try:
        done = change(db)
        click.echo(f"Active model: {done['version']} (was {done['previous']}).")
        if not no_rescore:
            pipeline.rescore_open(db, settings, click.echo)
    except (store.StoreError, ModelUnavailable) as exc:
        raise click.ClickException(str(exc)) from None


@cli.command("worker")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1), help="Mentions claimed per batch.")
@click.option("--once", is_flag=True, help="Stop when no unscored mention is left (default: keep waiting for more).")
@click.option("--idle-seconds", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Wait this long when the queue is empty.")
@click.option("--lease-seconds", default=300.0, show_default=True, type=click.FloatRange(min=1),
              help="A batch held longer than this goes back to the other workers.")
@click.pass_context
def worker_cmd(ctx: click.Context, batch_size: int, once: bool, idle_seconds: float, lease_seconds: float) -> None:
    """Score unscored mentions in batches, alongside any number of other workers.

    On PostgreSQL each batch is claimed with FOR UPDATE SKIP LOCKED, so workers on
    many machines never score a mention twice, and the batch of a worker that is
    killed goes back to the others. Collect with --no-classify and let workers score.
    Between batches a worker also indexes new and edited mentions for search.

    Example: python app.py worker --batch-size 128
    """
    import worker

    settings = load_settings(ctx)
    try:
        tally = worker.run_worker(settings, batch_size, once, idle_seconds, lease_seconds, echo=click.echo)
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("Stopped: the batch in hand goes back to the queue.", err=True)
        sys.exit(130)
    indexed = f"; indexed {tally.indexed} for search" if tally.indexed else ""
    click.echo(f"Scored {tally.scored} mentions in {tally.batches} batches{indexed}; none left.")


@cli.command("migrate-db")
@click.option("--to", "target", required=True, metavar="URL", help="The PostgreSQL database: postgresql://user@host/db.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(min=1), help="Rows copied per transaction.")
@click.pass_context
def migrate_db_cmd(ctx: click.Context, target: str, batch_size: int) -> None:
    """Copy the configured SQLite database into PostgreSQL, resumably, then check it.

    Each table is copied in id order; progress is kept in the target, so a run
    that is interrupted continues where it stopped. At the end the row counts and
    a sample of rows are compared. The password comes from EARSHOT_DATABASE_PASSWORD
    (or PGPASSWORD). Afterwards set [storage] url to the same URL.

    Example: EARSHOT_DATABASE_PASSWORD=... python app.py migrate-db --to postgresql://earshot@db/earshot
    """
    from store import migrate

    settings = load_settings(ctx)
    try:
        report = migrate.migrate_database(settings.db_path, target, batch_size, echo=click.echo,
                                          progressbar=lambda **kw: click.progressbar(file=sys.stderr, **kw))
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


@cli.command("classify")
@click.option("--rescore", is_flag=True, help="Score every mention again (after changing the model).")
@click.pass_context
def classify_cmd(ctx: click.Context, rescore: bool) -> None:
    """Score sentiment and urgency of every unscored mention in the database.

    Safe to repeat: mentions already scored are skipped unless --rescore.
    Also refreshes the urgency of mentions still waiting for a response.

    Example: python app.py classify --rescore
    """
    from classifier import pipeline
    from classifier.model import ModelUnavailable

    db = open_db(ctx)
    try:
        count = pipeline.classify_pending(db, load_settings(ctx), rescore=rescore, echo=click.echo)
    except ModelUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Scored {count} mentions.")


@cli.command("score")
@click.option("--input", "source", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "target", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--brand", help="Configured brand the mentions are about (its handles mark direct mentions).")
@click.pass_context
def score_cmd(ctx: click.Context, source: str, target: str, brand: str | None) -> None:
    """Score an import-format JSONL file without a database.

    Each output line is the input line plus sentiment, sentiment_scores,
    urgency (0-100), urgency_parts and intents. Malformed lines are reported
    as FILE:LINE and skipped; exits 1 if any line was skipped.

    Example: python app.py score --input mentions.jsonl --output scored.jsonl --brand Parcelo
    """
    from pathlib import Path

    from classifier import pipeline
    from classifier.model import ModelUnavailable

    settings = load_settings(ctx)
    try:
        result = pipeline.score_file(Path(source), Path(target), settings, brand, lambda m: click.echo(m, err=True))
    except (ModelUnavailable, pipeline.ScoreInputError) as exc:
        raise click.ClickException(str(exc)) from None
    except settings_mod.ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(f"Scored {result.written} mentions into {target}; skipped {len(result.problems)} lines.", err=True)
    if result.problems:
        sys.exit(1)


@cli.command("report")
@click.option("--since", default="7d", show_default=True, help="How far back from now: a number and h, d or w.")
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--brand", help="One configured brand (default: all).")
@click.option("--platform", help="One platform, x or reddit (default: all).")
@click.pass_context
def report_cmd(ctx: click.Context, since: str, out: str, brand: str | None, platform: str | None) -> None:
    """Write a standalone HTML reputation report with inline SVG charts.

    The file needs no login, server or internet, so it can be emailed as it
    is: volume and net sentiment, share of voice, complaint themes, response
    times per agent and the spike alerts of the last --since (UTC).

    Example: python app.py report --since 7d --out report.html
    """
    from pathlib import Path

    from reputation import filters, report

    settings = load_settings(ctx)
    try:
        chosen = filters.for_since(since, settings, brand=brand, platform=platform)
        size = report.write(open_db(ctx), settings, chosen, Path(out))
    except (filters.FilterError, report.ReportError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {out} ({size / 1024:.0f} KB): {chosen.describe()}.")


@cli.command("alerts")
@click.option("--since", help="Replay the checks over this past span (e.g. 7d); alerts found are stored, not sent.")
@click.option("--no-deliver", is_flag=True, help="Store new alerts for the console banner but send nothing.")
@click.pass_context
def alerts_cmd(ctx: click.Context, since: str | None, no_deliver: bool) -> None:
    """Check every brand once for volume and negative-share spikes, then deliver alerts.

    `app.py run` does this every [alerts] check_minutes; this command suits
    cron or a first look. Deliveries of earlier alerts that are due a retry
    are sent too. With --since the checks are replayed over the past span,
    cooldown included, to see what the thresholds would have caught.

    Example: python app.py alerts --since 7d
    """
    from reputation import filters, jobs

    settings = load_settings(ctx)
    try:
        result = jobs.check_and_deliver(open_db(ctx), settings, since=since, deliver=not no_deliver)
    except filters.FilterError as exc:
        raise click.ClickException(str(exc)) from None
    for alert in result["alerts"]:
        click.echo(f"Alert {alert['id']} for {alert['brand']} ({alert['window_end']}): {alert['reason']}")
    click.echo(f"{len(result['alerts'])} new alerts; deliveries: {result['sent']} sent, "
               f"{result['retrying']} to retry, {result['failed']} failed.")  # fmt: skip


if __name__ == "__main__":
    cli()
