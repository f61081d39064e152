"""`/cx stats all` and "did the fix work" at scale, on PostgreSQL, through cxbot's store.

A year of a large company's comments, generated inside PostgreSQL (generate_series) in a schema of its own, dropped
afterwards: 50 departments, 1,000,000 stories (about 2,700 a day) each routed to one department, 400,000 reactions
on a third of them, 100,000 commitments (half done, a tenth dropped, the rest open, a third of those overdue).

Timed (median of ``--repeat`` runs): every department's follow-through over the last 30 days (SqlFollowThrough,
five grouped queries, what `/cx stats all` and the monthly post run); one department's comments over the eight
weeks a fix is followed (SqlFixProof.followed_comments, what one verdict reads); the closed fixes of 3 days (what
every planner sweep reads). Goal: the all-departments view well under a second (people wait for it).

    python bench/followthrough.py --pg postgresql://postgres@127.0.0.1:5432/test [--stories N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text

from storage.command_store import SqlCommandStore
from storage.db import make_engine, upgrade
from storage.departments import sync_departments
from stories.config import CxConfig, Department

DEPARTMENTS = 50
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
CONFIG = CxConfig(
    default_department="Dept 00",
    departments=tuple(Department(name=f"Dept {n:02d}") for n in range(DEPARTMENTS)),
)


def seed(conn: psycopg.Connection, stories: int) -> None:
    ids = [row[0] for row in conn.execute("SELECT id FROM departments ORDER BY name")]
    params = {"n": stories, "now": NOW, "d": DEPARTMENTS, "ids": ids}
    conn.execute(
        """
        INSERT INTO comments (id, dedupe_key, source, received_at, redacted_text)
        SELECT g, 'bench:' || g, 'survey', %(now)s - interval '1 second' * (g * 31536000::bigint / %(n)s),
               'the invoice total was wrong again, case ' || g
        FROM generate_series(1, %(n)s) g
        """,
        params,
    )
    conn.execute(
        """
        INSERT INTO stories (id, comment_id, title, text, sentiment, sentiment_score, themes, summarizer, created_at)
        SELECT g, g, 'Story ' || g, 'text ' || g, 'negative', -0.5,
               (CASE WHEN g %% 3 = 0 THEN '["billing"]' ELSE '[]' END)::json, 'bench',
               %(now)s - interval '1 second' * (g * 31536000::bigint / %(n)s)
        FROM generate_series(1, %(n)s) g
        """,
        params,
    )
    conn.execute(
        """
        INSERT INTO routes (story_id, department_id, rule, reason, created_at)
        SELECT g, (%(ids)s::int[])[1 + (g * 7) %% %(d)s], 'r', 'bench', %(now)s FROM generate_series(1, %(n)s) g
        """,
        params,
    )
    conn.execute(
        """
        INSERT INTO reactions (story_id, platform, user_id, emoji, created_at)
        SELECT 1 + (g * 3) %% %(n)s, 'slack', 'U' || g, 'eyes', %(now)s FROM generate_series(1, %(n)s * 2 / 5) g
        """,
        params,
    )
    conn.execute(
        """
        INSERT INTO commitments (key, story_id, department_id, owner, owner_name, created_by, platform, what,
                                 due_date, state, created_at, closed_at)
        SELECT 'bench:' || g, 1 + (g * 10) %% %(n)s, (%(ids)s::int[])[1 + g %% %(d)s], 'U' || g %% 5000, 'P',
               'UMGR', 'slack', 'fix it ' || g,
               (%(now)s - interval '1 day' * (g %% 365) + interval '14 days')::date,
               CASE WHEN g %% 10 < 5 THEN 'done' WHEN g %% 10 = 5 THEN 'dropped' ELSE 'open' END,
               %(now)s - interval '1 day' * (g %% 365) - interval '5 days',
               CASE WHEN g %% 10 < 6 THEN %(now)s - interval '1 day' * (g %% 365) END
        FROM generate_series(1, %(n)s / 10) g
        """,
        params,
    )
    conn.execute("VACUUM ANALYZE")


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", required=True, help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    schema = f"bench_followthrough_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(scoped)
        upgrade(engine)
        store = SqlCommandStore(engine, sync_departments(engine, CONFIG))
        plain = scoped.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as bare:
            started = time.perf_counter()
            seed(bare, args.stories)
            print(f"seeded {args.stories:,} stories in {time.perf_counter() - started:.1f} s")
        month = store.follow_through(since=NOW - timedelta(days=30), until=NOW, today=NOW.date())
        received = sum(f.received for f in month)
        fixes = store.closed_fixes(department=None, since=NOW - timedelta(days=31), until=NOW - timedelta(days=28))
        comments = store.followed_comments(department="Dept 07", since=NOW - timedelta(days=56), until=NOW)
        cases = [
            (
                f"all departments, last 30 days ({len(month)} departments, {received:,} stories)",
                lambda: store.follow_through(since=NOW - timedelta(days=30), until=NOW, today=NOW.date()),
            ),
            (
                f"closed fixes due a verdict, 3 days ({len(fixes):,})",
                lambda: store.closed_fixes(
                    department=None, since=NOW - timedelta(days=31), until=NOW - timedelta(days=28)
                ),
            ),
            (
                f"one department's comments over 8 weeks ({len(comments):,})",
                lambda: store.followed_comments(department="Dept 07", since=NOW - timedelta(days=56), until=NOW),
            ),
        ]
        print(f"\n{args.stories:,} stories, PostgreSQL, median of {args.repeat} runs; shared 2-core machine")
        print("| read | ms |\n|---|---:|")
        for name, fn in cases:
            print(f"| {name} | {timed(fn, args.repeat):.1f} |")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
