"""Pipeline throughput: 10,000 comments end to end, beside the bound measured in the same run.

The bound is the same per-comment work (redaction, sentiment, offline summarising, routing) run bare in a
loop, plus one executemany each of the resulting comment, story and route rows. The pipeline adds orchestration,
de-duplication, the ORM and routes; the goal is to stay within 1.5x of the bound.

    python bench/pipeline.py                       # SQLite (and PostgreSQL if --pg URL or CX_TEST_DATABASE_URL)
    python bench/pipeline.py --data ../shared/data/clothing_reviews.csv   # real review text
    python bench/pipeline.py --profile             # where the time goes (cProfile, top 15)
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from bench.report import Row, ratio_row
from bot.app import build
from bot.demo import sample_csv
from bot.settings import Settings
from handlers.csv_import import read_csv
from storage.db import make_engine, upgrade
from storage.models import Comment, Route, Story
from stories.models import IncomingComment, SummaryInput
from stories.redacted_comment import redact_comment


def load_texts(data: Path | None) -> list[str]:
    if data is not None:
        with data.open(newline="", encoding="utf-8") as handle:
            return [row["text"] for row in csv.DictReader(handle) if row.get("text")]
    return [c.text for c in read_csv(sample_csv(), name="sample").comments()]


def make_comments(texts: list[str], n: int) -> list[IncomingComment]:
    return [
        IncomingComment(text=texts[i % len(texts)], source="bench", external_id=f"b{i}", nps=i % 11) for i in range(n)
    ]


def fresh_database(kind: str, pg_url: str | None, folder: Path) -> tuple[str, callable]:  # type: ignore[valid-type]
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}"
        upgrade(make_engine(url))
        return url, lambda: None
    assert pg_url
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    upgrade(make_engine(url))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return url, drop


def bound(app, comments: list[IncomingComment]) -> float:  # type: ignore[no-untyped-def]
    """The work itself: per-comment steps bare in a loop, then one executemany of the rows."""
    p = app.pipeline
    now = datetime.now(UTC)
    start = time.perf_counter()
    steps = [redact_comment(c, redactor=p.redactor, hasher=p.hasher) for c in comments]  # every field, the key
    redacted = [r.comment.text for r in steps]
    sentiments = [p.sentiment.analyze(t) for t in redacted]
    summaries = p.summarizer.summarize(
        [
            SummaryInput(text=t, source=c.source, nps=c.nps, sentiment=s.label)
            for t, c, s in zip(redacted, comments, sentiments, strict=True)
        ]
    )
    routings = [
        p.router.route(
            text=t, nps=c.nps, csat=c.csat, sentiment=s.label, source=c.source, segment=c.segment, fields=c.fields
        )
        for t, c, s in zip(redacted, comments, sentiments, strict=True)
    ]
    comment_rows = [
        {
            "id": i + 1,
            "dedupe_key": r.dedupe_key,
            "source": c.source,
            "external_id": c.external_id,
            "received_at": now,
            "redacted_text": t,
            "nps": c.nps,
        }
        for i, (c, t, r) in enumerate(zip(comments, redacted, steps, strict=True))
    ]
    story_rows = [
        {
            "comment_id": i + 1,
            "title": s.title,
            "text": s.story,
            "sentiment": se.label,
            "sentiment_score": se.score,
            "themes": list(r.themes),
            "summarizer": s.summarizer,
            "created_at": now,
        }
        for i, (s, se, r) in enumerate(zip(summaries, sentiments, routings, strict=True))
    ]
    route_rows = [
        {
            "story_id": i + 1,
            "department_id": app.departments.id_of(m.department),
            "rule": m.rule,
            "reason": m.reason,
            "created_at": now,
        }
        for i, r in enumerate(routings)
        for m in r.routes
    ]
    with app.engine.begin() as conn:
        conn.execute(insert(Comment), comment_rows)
        conn.execute(insert(Story), [{"id": i + 1, **row} for i, row in enumerate(story_rows)])
        conn.execute(insert(Route), route_rows)
    return time.perf_counter() - start


def pipeline(app, comments: list[IncomingComment]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    report = app.pipeline.ingest(comments)
    elapsed = time.perf_counter() - start
    assert len(report.created) == len(comments), (len(report.created), report.duplicates, report.rejected[:3])
    return elapsed


def one_round(kind: str, pg: str | None, folder: Path, comments: list[IncomingComment], profiler=None):  # type: ignore[no-untyped-def]
    url_a, drop_a = fresh_database(kind, pg, folder)
    url_b, drop_b = fresh_database(kind, pg, folder)
    try:
        app_bound = build(Settings(database_url=url_a))
        app_pipe = build(Settings(database_url=url_b))
        t_bound = bound(app_bound, comments)
        t_pipe = profiler.runcall(pipeline, app_pipe, comments) if profiler else pipeline(app_pipe, comments)
        app_bound.close()
        app_pipe.close()
        return t_bound, t_pipe
    finally:
        drop_a()
        drop_b()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument(
        "--data", type=Path, help="a CSV with a 'text' column (e.g. ../shared/data/clothing_reviews.csv)"
    )
    parser.add_argument("--pg", default=os.environ.get("CX_TEST_DATABASE_URL"), help="PostgreSQL URL")
    parser.add_argument("--rounds", type=int, default=3, help="bound and pipeline alternate; medians are shown")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    comments = make_comments(load_texts(args.data), args.n)
    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    folder = Path(tempfile.mkdtemp(prefix="cxbench-"))
    source = f"from {args.data}" if args.data else "bundled sample texts"
    print(f"{args.n} comments ({source}), offline summariser, median of {args.rounds} alternating rounds")
    print("| engine | bound (steps bare + executemany) | pipeline | ratio | goal |")
    print("|---|---|---|---|---|")
    for kind in kinds:
        times = [one_round(kind, args.pg, folder, comments) for _ in range(args.rounds)]
        t_bound = statistics.median(t for t, _ in times)
        t_pipe = statistics.median(t for _, t in times)
        ratio = t_pipe / t_bound
        print(
            f"| {kind} | {args.n / t_bound:,.0f} comments/s ({t_bound:.2f} s) | {args.n / t_pipe:,.0f} comments/s "
            f"({t_pipe:.2f} s) | {ratio:.2f}x | <= 1.5x {'ok' if ratio <= 1.5 else 'MISSED'} |"
        )
    if args.profile:  # an extra, unmeasured round: the profiler's own overhead stays out of the table
        profiler = cProfile.Profile()
        one_round("sqlite", None, folder, comments, profiler)
        print("\nwhere the pipeline's time goes (SQLite, one extra round, by own time, top 15):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return 0


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench``: the pipeline beside its bound (the steps bare + one executemany per table)."""
    n, rounds = (1000, 1) if quick else (10_000, 3)
    texts = load_texts(data / "clothing_reviews.csv" if data else None)
    comments = make_comments(texts, n)
    folder = Path(tempfile.mkdtemp(prefix="cxbench-"))
    found = []
    for kind in ["sqlite"] + (["postgresql"] if pg else []):
        times = [one_round(kind, pg, folder, comments) for _ in range(rounds)]
        t_bound = statistics.median(t for t, _ in times)
        t_pipe = statistics.median(t for _, t in times)
        found.append(
            ratio_row(
                "pipeline",
                f"ingest, {n:,} comments, {kind}, median of {rounds}",
                t_pipe * 1000 / n,
                t_bound * 1000 / n,
                unit="ms/comment",
                peer_name="executemany bound",
                goal=1.5,
            )
        )
    return found


if __name__ == "__main__":
    raise SystemExit(main())
