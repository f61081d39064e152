"""``cxbot``: the command line. Each sub-command builds what it needs from Settings and exits with a clear
message (never a traceback) on configuration errors."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.config import ConfigError
from bot.settings import Settings
from storage.db import SchemaBehind

Command = Callable[[argparse.Namespace, Settings], int]


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            lines.append(f"  {variable}: {error['msg']}")
        raise SystemExit("cxbot: invalid environment settings:\n" + "\n".join(lines)) from None


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import current_revision, head_revision, make_engine, upgrade

    engine = make_engine(settings.database_url)
    if args.action == "upgrade":
        upgrade(engine)
    print(f"database revision {current_revision(engine)} (code needs {head_revision(engine)})")
    engine.dispose()
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build
    from bot.importer import import_csv

    app = build(settings)
    try:
        return import_csv(app, Path(args.file), maps=args.map, source=args.source, encoding=args.encoding)
    finally:
        app.close()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    return run_demo(keep=args.keep)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import serve

    return serve(settings, port=args.port or settings.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxbot", description="Bring the customer's voice to every department.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="import the bundled sample comments into a temporary database and show digests")
    demo.add_argument("--keep", action="store_true", help="keep the temporary database and print where it is")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database schema: `cxbot db upgrade` migrates to the newest revision")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db)

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
    imp.set_defaults(func=cmd_import)

    serve = sub.add_parser("serve", help="run the bot: Slack, Teams, POST /ingest, /healthz, /metrics")
    serve.add_argument("--port", type=int, default=None, help="port (default PORT or 3000)")
    serve.set_defaults(func=cmd_serve)
    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


# Other modules add sub-commands here (digest, schedule, teams-package): each a function taking the subparsers.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return int(args.func(args, settings))
    except (ConfigError, SchemaBehind) as exc:
        print(f"cxbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
