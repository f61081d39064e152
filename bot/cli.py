"""``cxbot``: the command line. Each sub-command builds what it needs from Settings and exits with a clear
message (never a traceback) on configuration errors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.config import ConfigError
from bot.logs import configure
from bot.settings import Settings
from storage.db import SchemaBehind

Command = Callable[[argparse.Namespace, Settings], int]


ENV_FILE: str | None = ".env"  # README's Getting started puts the secrets there; the environment still wins


def _settings() -> Settings:
    try:
        return Settings(_env_file=ENV_FILE)  # a missing file is no error
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own words
            variable = ".".join(str(p) for p in error["loc"]).upper()
            lines.append(
                f"  {variable}: {message}" if variable else f"  {message}"
            )  # a check of several: it names them
        raise SystemExit("cxbot: invalid environment settings:\n" + "\n".join(lines)) from None


def _score(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (a score outside it would route as no comment can)."""

    def score(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from {low} to {high}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not from {low} to {high}")
        return number

    return score


def require_hash_key(settings: Settings) -> None:
    """Commands that hash personal data or look it up stop without CX_HASH_KEY on PostgreSQL, and warn on SQLite
    (Settings.hash_key_problem says why)."""
    problem = settings.hash_key_problem()
    if problem is None:
        return
    level, message = problem
    if level == "error":
        raise SystemExit(f"cxbot: {message}")
    logging.getLogger("cxbot").warning("%s", message)


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import current_revision, head_revision, make_engine, upgrade

    engine = make_engine(settings.database_url, pool=settings.pool)
    if args.action == "upgrade":
        upgrade(engine)
    print(f"database revision {current_revision(engine)} (code needs {head_revision(engine)})")
    engine.dispose()
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build
    from bot.importer import import_csv

    require_hash_key(settings)
    app = build(settings)
    try:
        return import_csv(
            app, Path(args.file), maps=args.map, source=args.source, encoding=args.encoding, post_old=args.post_old
        )
    finally:
        app.close()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    return run_demo(keep=args.keep)


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the CX configuration, or show where a comment would go and why."""
    from bot.config import example_path, load_config, refuse_bare_slack_channels
    from stories.routing import Router

    path = Path(args.file) if args.file else settings.cx_config
    config = load_config(path)
    if args.action == "check":
        refuse_bare_slack_channels(config, path=path, installed=_installed_workspaces(settings))
        print(f"{path or example_path()}: OK, {len(config.departments)} departments, {len(config.rules)} rules")
        return 0
    text = " ".join(args.text).strip()
    if not text:
        print(
            'cxbot config route: give the comment\'s text, e.g. cxbot config route "I was charged twice" --nps 3',
            file=sys.stderr,
        )
        return 2
    router = Router(config)
    routing = router.route(
        text=text, nps=args.nps, csat=args.csat, sentiment=None, source=args.source, segment=args.segment, fields={}
    )
    print("rules alone:")
    for match in routing.routes:
        print(f"  {match.department}: rule {match.rule} ({match.reason})")
    print(f"themes: {', '.join(routing.themes) or '-'}")
    print(f"urgent: {router.urgent_reason(text=text, nps=args.nps) or 'no'}")
    _learned_view(settings, router=router, routing=routing, text=text)
    return 0


def _installed_workspaces(settings: Settings) -> list[str]:
    """Team (or enterprise) ids of the Slack workspaces installed under OAuth; [] without OAuth or a database."""
    if not settings.slack_client_id:
        return []
    from sqlalchemy.exc import SQLAlchemyError

    from handlers.slack.oauth import SqlInstallationStore
    from storage.db import make_engine

    try:
        engine = make_engine(settings.database_url)
        try:
            rows = SqlInstallationStore(client_id=settings.slack_client_id, engine=engine).installed()
        finally:
            engine.dispose()
    except SQLAlchemyError:
        return []
    return [str(team or enterprise) for enterprise, team, _org in rows]


def _learned_view(settings: Settings, *, router: object, routing: object, text: str) -> None:
    """The second view of `cxbot config route`: rules + the learner version in use (read from the database)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import make_engine
    from storage.routing_models import SqlRoutingModels
    from stories.blended_routing import blend
    from stories.retraining import active_model
    from stories.routing import Router, Routing

    assert isinstance(router, Router) and isinstance(routing, Routing)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        print(f"rules + learner: no database at {url.database} (DATABASE_URL), so no learned version")
        return
    engine = make_engine(settings.database_url, pool=settings.pool)
    try:
        model, version = active_model(SqlRoutingModels(engine))
    except SQLAlchemyError as exc:
        print(f"rules + learner: no learned version readable ({type(exc).__name__}; try `cxbot db upgrade`)")
        return
    finally:
        engine.dispose()
    if model is None:
        print("rules + learner: no learned version in use yet (cxbot routing learn FILE.csv)")
        return
    prediction = model.predict(text)
    print(f"rules + learner (v{version}):")
    for match in blend(routing, prediction, known=frozenset(router.departments)).routes:
        print(f"  {match.department}: rule {match.rule} ({match.reason})")
    ranked = ", ".join(f"{d} {p:.2f}" for d, p in prediction.ranked[:3])
    print(f"learner's view: {ranked}; {prediction.reason()}")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import serve

    require_hash_key(settings)
    return serve(settings, port=args.port or settings.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxbot", description="Bring the customer's voice to every department.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="import the bundled sample comments into a temporary database and show digests")
    demo.add_argument("--keep", action="store_true", help="keep the temporary database and print where it is")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database schema: `cxbot db upgrade` migrates to the newest revision")
    db_actions = db.add_subparsers(dest="action", required=True, metavar="{upgrade,current}")
    db_actions.add_parser(
        "upgrade",
        help="migrate DATABASE_URL to the newest revision (idempotent)",
        description="Migrate "
        "the database at DATABASE_URL to the newest schema revision (Alembic); running it again changes nothing.",
    ).set_defaults(func=cmd_db)
    db_actions.add_parser(
        "current",
        help="print the database's revision and the one the code needs",
        description="Print the schema revision of the database at DATABASE_URL and the one this cxbot needs.",
    ).set_defaults(func=cmd_db)

    imp = sub.add_parser("import", help="import a survey export (CSV)")
    imp.add_argument("file")
    imp.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="name a column, e.g. --map text=Verbatim --map nps=Q1 (fields: text, nps, csat, date, id, "
        "segment, channel, language)",
    )
    imp.add_argument("--source", default="csv", help="source name stored with each comment (default csv)")
    imp.add_argument("--encoding", default="utf-8-sig", help="file encoding (default UTF-8)")
    imp.add_argument(
        "--post-old",
        action="store_true",
        help="post comments older than intake.backfill_days as news too (default: stored for patterns and "
        "stats, not posted, not in digests)",
    )
    imp.set_defaults(func=cmd_import)

    cfg = sub.add_parser(
        "config", help="`cxbot config check` validates CX_CONFIG; `cxbot config route TEXT` shows where TEXT goes"
    )
    cfg.add_argument("action", choices=["check", "route"])
    cfg.add_argument("text", nargs="*", help="route: the comment text")
    cfg.add_argument("--file", help="configuration file (default CX_CONFIG, else the bundled example)")
    cfg.add_argument("--nps", type=_score(0, 10), default=None, help="route: the comment's NPS, 0-10")
    cfg.add_argument("--csat", type=_score(1, 5), default=None, help="route: the comment's CSAT, 1-5")
    cfg.add_argument("--segment", default=None)
    cfg.add_argument("--source", default="cli")
    cfg.set_defaults(func=cmd_config)

    serve = sub.add_parser("serve", help="run the bot: Slack, Teams, POST /ingest, /healthz, /metrics")
    serve.add_argument("--port", type=int, default=None, help="port (default PORT or 3000)")
    serve.set_defaults(func=cmd_serve)
    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


# Other modules add sub-commands here (digest, schedule, teams-package): each a function taking the subparsers.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def _teams_package(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from handlers.teams.package import register

    register(sub)


EXTRA_COMMANDS.append(_teams_package)


def _scheduling(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from bot.schedule_cli import register

    register(sub)


EXTRA_COMMANDS.append(_scheduling)


def _routing(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from bot.routing_cli import register

    register(sub)


EXTRA_COMMANDS.append(_routing)


def _forget(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from bot.forget import register

    register(sub)


EXTRA_COMMANDS.append(_forget)


def _install(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from bot.doctor import register as doctor
    from handlers.slack.app_manifest import register as slack_app

    slack_app(sub)
    doctor(sub)


EXTRA_COMMANDS.append(_install)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings()
    quiet = args.command == "demo" and settings.log_level == "INFO"  # the demo's output is the point
    configure("WARNING" if quiet else settings.log_level, fmt=settings.log_format)
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.func(args, settings))
    except (ConfigError, SchemaBehind) as exc:
        print(f"cxbot: {exc}", file=sys.stderr)
        return 2
    except (OperationalError, InterfaceError) as exc:  # unreachable, refused, wrong password: one line, no trace
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else type(exc).__name__
        print(f"cxbot: cannot use the database at DATABASE_URL={where}: {reason}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `cxbot ... | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
