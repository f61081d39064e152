"""``cxbot import FILE.csv``: read, map columns, ingest with a progress bar on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.app import App
from handlers.csv_import import CsvError, parse_map, read_file
from stories.pipeline import IngestReport


def import_csv(
    app: App, path: Path, *, maps: list[str] | None = None, source: str = "csv", encoding: str = "utf-8-sig"
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

            report = app.pipeline.ingest(parsed.comments(), on_batch=advance)
    else:
        report = app.pipeline.ingest(parsed.comments())
    refused = [*parsed.errors]
    lines = [line for line, _ in parsed.rows]
    print(
        f"{path.name}: {total + len(parsed.errors)} rows, {len(report.created)} new stories, "
        f"{report.duplicates} already known, {len(refused) + len(report.rejected)} refused"
    )
    for dept, count in sorted(report.per_department.items()):
        print(f"  {dept}: {count}")
    for error in refused:
        err.print(f"  line {error.line}: {error.message}", markup=False, highlight=False)
    for rejected in report.rejected:
        err.print(
            f"  line {lines[rejected.index]}: {rejected.field}: {rejected.message}",
            markup=False,
            highlight=False,
        )
    return 1 if refused or report.rejected else 0
