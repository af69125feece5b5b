"""`movescreen serve` and `movescreen workspace import|export-verdicts|add-user|backup`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

DATA_HELP = "Data folder (database when --db is not given, videos, analysis outputs)."
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _need_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        click.echo('movescreen: error: the workspace needs its extra: pip install "movescreen[workspace]"',
                   err=True)
        sys.exit(2)


@click.command(short_help="Start the review workspace (web pages and JSON API).",
               epilog="Example: movescreen serve --data clinic-workspace --port 8765")
@click.option("--db", default=None, help="Database URL (default: SQLite in the data folder); "
                                         "e.g. postgresql://user@host/dbname.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=Path("movescreen-workspace"),
              show_default=True, help=DATA_HELP)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Any non-loopback address needs an account (add-user) and a login.")
@click.option("--port", default=8765, show_default=True, type=int, help="TCP port to listen on.")
@click.option("--dask", default=None, metavar="ADDRESS", help="Run analysis jobs on this Dask scheduler.")
@click.option("--max-upload-mb", default=500, show_default=True, type=int, help="Upload size limit.")
def serve(db: str | None, data_dir: Path, host: str, port: int, dask: str | None,
          max_upload_mb: int) -> None:
    """Start the review workspace (web pages and JSON API)."""
    _need_extra()
    import uvicorn

    from movescreen.workspace.app import create_app
    from movescreen.workspace.db import open_db, user_count

    exposed = host not in LOOPBACK
    if exposed:
        _, maker = open_db(db, data_dir.resolve())
        if user_count(maker) == 0:
            click.echo(f"movescreen: error: refusing to listen on {host} without an account: create "
                       "one first with `movescreen workspace add-user NAME` (same --db/--data); on "
                       "127.0.0.1 no login is needed.", err=True)
            sys.exit(2)
    app = create_app(db, data_dir, exposed=exposed, dask=dask,
                     max_upload_bytes=max_upload_mb * 1024 * 1024)
    click.echo(f"movescreen workspace on http://{host}:{port}/ ({'login required' if exposed else 'local, no login'})",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.group(short_help="Manage the review workspace (import, export, users, backup).",
             epilog="Example: movescreen workspace import results/anna --client anna")
def workspace() -> None:
    """Manage the review workspace's database (import, export verdicts, users, backup)."""


def _db_opts(f):  # type: ignore[no-untyped-def]
    f = click.option("--data", "data_dir", type=click.Path(path_type=Path),
                     default=Path("movescreen-workspace"), show_default=True, help=DATA_HELP)(f)
    return click.option("--db", default=None, help="Database URL (default: SQLite in the data folder).")(f)


@workspace.command("import", short_help="Add analysis folders to a client's sessions.",
                   epilog="Example: movescreen workspace import results/anna --client anna")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--client", "client_name", required=True, help="Client name or code (created if new).")
@click.option("--date", "date_s", default=None, help="Session date YYYY-MM-DD (default: the video's "
                                                     "creation_time, else today).")
@_db_opts
def import_cmd(folders: tuple[Path, ...], client_name: str, date_s: str | None, db: str | None,
               data_dir: Path) -> None:
    """Import analysis folders (or batch outputs: every video in them) as sessions of a client."""
    _need_extra()
    import datetime as dt

    from movescreen.workspace.db import open_db
    from movescreen.workspace.store import (
        ImportError_,
        analysis_folders,
        get_or_create_client,
        import_folder,
        stage_folder,
    )

    data = data_dir.resolve()
    (data / "outputs").mkdir(parents=True, exist_ok=True)
    _, maker = open_db(db, data)
    date = dt.date.fromisoformat(date_s) if date_s else None
    try:
        # copy first, then one short transaction for all the sessions
        staged = [(one, stage_folder(data, one)) for folder in folders
                  for one in analysis_folders(folder)]
        with maker.begin() as s:
            import getpass

            client = get_or_create_client(s, client_name, by=f"{getpass.getuser()} (command line)")
            n = 0
            for one, st in staged:
                sess = import_folder(s, data, one, client, date=date, staged=st)
                n += 1
                click.echo(f"imported {one} as session {sess.id} ({sess.date}, {sess.movement}, "
                           f"{len(sess.findings)} finding(s))")
    except ImportError_ as e:
        click.echo(f"movescreen: error: {e} Nothing was imported.", err=True)
        sys.exit(2)
    click.echo(f"{n} session(s) added to client {client_name}")


@workspace.command("export-verdicts", short_help="Write the clinicians' verdicts to CSV or JSON.",
                   epilog="Example: movescreen workspace export-verdicts --out verdicts.csv")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="FILE.csv or FILE.json")
@_db_opts
def export_cmd(out: Path, db: str | None, data_dir: Path) -> None:
    """One row per finding (and per added missed finding) with the clinician's verdict."""
    _need_extra()
    from movescreen.workspace.db import open_db
    from movescreen.workspace.verdicts import export_rows, write_export

    if out.suffix.lower() not in (".csv", ".json"):
        click.echo("movescreen: error: --out must end in .csv or .json", err=True)
        sys.exit(2)
    _, maker = open_db(db, data_dir.resolve())
    rows = export_rows(maker)
    write_export(rows, out)
    click.echo(f"wrote {len(rows)} row(s) to {out}")


@workspace.command("add-user", short_help="Create a login account.",
                   epilog="Example: movescreen workspace add-user physio1")
@click.argument("name")
@click.option("--password", default=None, help="Default: asked twice (hidden).")
@_db_opts
def add_user(name: str, password: str | None, db: str | None, data_dir: Path) -> None:
    """Create a login account (needed before serving on a non-loopback --host)."""
    _need_extra()
    from sqlalchemy import select

    from movescreen.workspace.db import User, open_db
    from movescreen.workspace.security import hash_password

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        click.echo("movescreen: error: use a password of at least 10 characters", err=True)
        sys.exit(2)
    _, maker = open_db(db, data_dir.resolve())
    with maker.begin() as s:
        if s.scalars(select(User).where(User.name == name)).first():
            click.echo(f"movescreen: error: user {name} exists already", err=True)
            sys.exit(2)
        s.add(User(name=name, password_hash=hash_password(password)))
    click.echo(f"user {name} created")


@workspace.command("backup", short_help="Copy the database while the server runs.",
                   epilog="Example: movescreen workspace backup --out backup-2026-12-07.sqlite")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="File to write the copy of the database to.")
@_db_opts
def backup(out: Path, db: str | None, data_dir: Path) -> None:
    """Copy the database while the server runs (SQLite online backup)."""
    _need_extra()
    import sqlite3

    from sqlalchemy.engine import make_url

    from movescreen.workspace.db import normalise_url

    url = make_url(normalise_url(db, data_dir.resolve()))
    if url.get_backend_name() != "sqlite":
        click.echo("movescreen: this database is PostgreSQL: back it up with its own tool, e.g. "
                   f"`pg_dump --format=custom --file {out} '{db}'` (restore with pg_restore); "
                   "also copy the data folder (videos and analysis outputs).", err=True)
        sys.exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(url.database))
    dst = sqlite3.connect(str(out))
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    click.echo(f"backed up {url.database} to {out} (copy the data folder's videos/ and outputs/ too)")


COMMANDS = (serve, workspace)
