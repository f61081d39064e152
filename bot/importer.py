"""``cxbot import FILE.csv``: read, map columns, take in through the one intake (stories/intake.py) with a
progress bar on a terminal. Stories for immediate departments and urgent ones are queued as each batch is stored
(a serving replica's dispatcher posts them); comments older than the backfill window are stored, not posted."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.app import App
from handlers.csv_import import CsvError, parse_map, read_file
from stories.pipeline import IngestReport


def import_csv(
    app: App,
    path: Path,
    *,
    maps: list[str] | None = None,
    source: str = "csv",
    encoding: str = "utf-8-sig",
    post_old: bool = False,
) -> int:
    """Exit status: 0 all rows taken in (new or already known), 1 some rows refused, 2 the file was refused."""
    err = Console(stderr=True)
    try:
        parsed = read_file(path, source=source, overrides=parse_map(maps), encoding=encoding)
    except CsvError as exc:
        err.print(f"[red]cxbot import:[/red] {exc}", markup=True, highlight=False)
        return 2
    mapping = ", ".join(f"{k}={v!r}" for k, v in parsed.mapping.items())
    err.print(f"columns: {mapping}", highlight=False, markup=False)
    total = len(parsed.rows)
    if sys.stdout.isatty():
        with Progress(
            TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        ) as progress:
            task = progress.add_task("import", total=total)

            def advance(part: IngestReport) -> None:
                progress.advance(task, part.received)

            report = app.intake.take_in(parsed.comments(), on_batch=advance, post_old=post_old)
    else:
        report = app.intake.take_in(parsed.comments(), post_old=post_old)
    refused = [*parsed.errors]
    lines = [line for line, _ in parsed.rows]
    print(
        f"{path.name}: {total + len(parsed.errors)} rows, {len(report.created)} new stories, "
        f"{report.duplicates} already known, {len(refused) + len(report.rejected)} refused"
    )
    for dept, count in sorted(report.per_department.items()):
        print(f"  {dept}: {count}")
    old = sum(1 for created in report.created if created.backfill)
    if old:
        print(
            f"  {old} older than {app.config.intake.backfill_days} days: kept for patterns and stats, not posted "
            "(--post-old posts them)"
        )
    for error in refused:
        err.print(f"  line {error.line}: {error.message}", markup=False, highlight=False)
    for rejected in report.rejected:
        err.print(
            f"  line {lines[rejected.index]}: {rejected.field}: {rejected.message}",
            markup=False,
            highlight=False,
        )
    return 1 if refused or report.rejected else 0
