"""``cxbot demo``: the embedded default, end to end, with nothing configured.

A SQLite database in a temporary folder, the bundled configuration and sample comments, the offline
summariser; prints each department's digest as it will read in chat, then a summary table.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.app import build
from bot.config import load_config
from bot.settings import Settings
from bot.terminal import digest_text
from handlers.csv_import import read_csv
from storage.db import make_engine, upgrade
from storage.overview import overview
from stories.digest import build_digest
from stories.scores import csat_percent, net_promoter_score


def sample_csv() -> bytes:
    return resources.files("bot").joinpath("data/sample_comments.csv").read_bytes()


def run_demo(*, keep: bool = False, console: Console | None = None) -> int:
    console = console or Console()
    started = time.perf_counter()
    settings = Settings()
    config = load_config(settings.cx_config)  # a bad configuration stops the demo before it makes anything
    folder = Path(tempfile.mkdtemp(prefix="cxbot-demo-"))
    url = f"sqlite:///{folder / 'cxbot-demo.db'}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = build(settings.model_copy(update={"database_url": url}), config=config)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        parsed = read_csv(sample_csv(), name="sample_comments.csv", source="survey")
        # The samples are dated weeks ago: shown as news anyway, as a fresh export would be.
        report = app.intake.take_in(parsed.comments(), post_old=True)
        until = datetime.now(UTC) + timedelta(minutes=1)
        since = until - timedelta(days=1)
        console.rule(f"cxbot demo: {len(report.created)} stories from {report.received} sample comments")
        for dept in app.config.departments:
            digest = build_digest(
                reader=app.stories, department=dept.name, since=since, until=until, limit=dept.digest_size
            )
            if digest.total_in_period:
                console.print(digest_text(digest), markup=False, highlight=False)
        facts = overview(app.engine)
        table = Table(title="Summary")
        table.add_column("Department")
        table.add_column("Stories", justify="right")
        for name, count in facts.stories_per_department.items():
            table.add_row(name, str(count))
        console.print(table)
        nps = net_promoter_score(facts.nps)
        csat = csat_percent(facts.csat)
        console.print(
            f"comments: {facts.comments}   NPS: {nps if nps is not None else 'n/a'} ({len(facts.nps)} scores)   "
            f"CSAT: {csat if csat is not None else 'n/a'}% satisfied ({len(facts.csat)} ratings)",
            markup=False,
            highlight=False,
        )
        hidden = ", ".join(f"{n} {placeholder}" for placeholder, n in facts.redacted.most_common())
        console.print(f"personal data redacted before storing: {hidden or 'none'}", markup=False, highlight=False)
        top = ", ".join(f"{theme} ({n})" for theme, n in facts.themes.most_common(8))
        console.print(f"top themes: {top or 'none'}", markup=False, highlight=False)
        console.print(f"done in {time.perf_counter() - started:.1f} s", markup=False, highlight=False)
        if keep:
            console.print(f"database kept: {url}", markup=False, highlight=False)
    finally:
        app.close()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0
