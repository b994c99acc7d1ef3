"""Earshot's command line: thin click commands over the store, collectors, classifier and console."""

from __future__ import annotations

import sys

import click

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
        return store.connect(load_settings(ctx).db_path)
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
    path = load_settings(ctx).db_path
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
    result = bulk.import_file(db, settings, path, fmt=fmt, brand=brand, batch_size=batch_size)
    click.echo(result.summary(path))
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


def _serve_options(fn):
    """Options shared by `serve` and `run`."""
    fn = click.option("--debug", is_flag=True, help="Use Flask's debug server with reloading (never in production).")(fn)
    fn = click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")(fn)
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


if __name__ == "__main__":
    cli()
