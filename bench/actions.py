"""`/cx actions` at scale: a department's page and a person's page of open commitments with 1,000,000
commitments on PostgreSQL, through cxbot's store (SqlFollowUps.commitments_page, as `/cx actions` calls it)
beside the same page in bare SQL through psycopg (the same two statements, count and page, written by hand), in
the same run. Also shown, once: the old way (every open commitment of the department loaded, sorted and cut in
Python), for scale. Goal: the store within 2x of bare SQL.

The data is generated inside PostgreSQL (generate_series) in a schema of its own, dropped afterwards:
20 departments of 50,000 commitments, 4 in 7 open (28,572 open in one department), 5,000 owners, due dates
spread over a year around today (a third overdue), one in ten undated.

    python bench/actions.py --pg postgresql://postgres@127.0.0.1:5432/test [--commitments N] [--repeat N]
        [--schema NAME] [--drop]

``--schema NAME`` keeps the seeded schema for the next run (seeding a million rows takes minutes on a shared
machine): a run finding it seeded reuses it; ``--drop`` drops it at the end of the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text

from bench.report import Row, ratio_row
from storage.db import make_engine, upgrade
from storage.departments import sync_departments
from storage.followup import SqlFollowUps
from stories.commands import PAGE_SIZE
from stories.config import CxConfig, Department
from stories.followup import commitment_order

DEPARTMENTS = 20
OWNERS = 5_000
TODAY = date(2026, 12, 2)
CONFIG = CxConfig(
    default_department="Dept 00",
    departments=tuple(Department(name=f"Dept {n:02d}") for n in range(DEPARTMENTS)),
)

# The page as cxbot asks for it, written by hand: count, then one page in commitment_order.
BARE_COUNT = "SELECT count(*) FROM commitments WHERE state = 'open' AND {filter}"
BARE_PAGE = """
SELECT c.*, s.title AS story_title, d.name AS department_name
FROM (SELECT id, due_date FROM commitments WHERE state = 'open' AND {filter}
      ORDER BY due_date ASC NULLS LAST, id LIMIT %(limit)s OFFSET %(offset)s) p
JOIN commitments c ON c.id = p.id
LEFT JOIN stories s ON s.id = c.story_id
LEFT JOIN departments d ON d.id = c.department_id
ORDER BY p.due_date ASC NULLS LAST, p.id
"""


def seed(conn: psycopg.Connection, commitments: int) -> None:
    stories = max(commitments // 10, 1)
    department_ids = [row[0] for row in conn.execute("SELECT id FROM departments ORDER BY name")]
    conn.execute(
        """
        INSERT INTO comments (id, dedupe_key, source, received_at, redacted_text)
        SELECT g, 'bench:' || g, 'survey', now(), 'comment ' || g FROM generate_series(1, %(n)s) g
        """,
        {"n": stories},
    )
    conn.execute(
        """
        INSERT INTO stories (id, comment_id, title, text, sentiment, sentiment_score, themes, summarizer, created_at)
        SELECT g, g, 'Story ' || g, 'text ' || g, 'negative', -0.5, '[]', 'bench', now()
        FROM generate_series(1, %(n)s) g
        """,
        {"n": stories},
    )
    conn.execute(
        """
        INSERT INTO commitments (key, story_id, department_id, owner, owner_name, created_by, platform, what,
                                 due_date, state, created_at)
        SELECT 'bench:' || g,
               1 + g %% %(stories)s,
               (%(department_ids)s::int[])[1 + g %% %(departments)s],
               'U' || lpad((g %% %(owners)s)::text, 6, '0'),
               'Person ' || g %% %(owners)s,
               'UMGR',
               'slack',
               'call the customer back about case ' || g,
               CASE WHEN g %% 10 = 0 THEN NULL ELSE %(today)s::date + ((g::bigint * 7919) %% 365 - 120)::int END,
               CASE WHEN g %% 7 < 4 THEN 'open' WHEN g %% 7 < 6 THEN 'done' ELSE 'dropped' END,
               now() - interval '1 day' * (g %% 400)
        FROM generate_series(1, %(n)s) g
        """,
        {
            "n": commitments,
            "stories": stories,
            "departments": DEPARTMENTS,
            "department_ids": department_ids,
            "owners": OWNERS,
            "today": TODAY,
        },
    )
    conn.execute("VACUUM ANALYZE")  # what autovacuum does to a live table: statistics and the visibility map


def timed(ours: Callable[[], object], theirs: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median milliseconds of ``repeat`` runs of each, after two warm-ups, taken in turns so that both see the
    same load on a shared machine."""
    for _ in range(2):
        ours(), theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, into in ((ours, times[0]), (theirs, times[1])):
            started = time.perf_counter()
            fn()
            into.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", required=True, help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--commitments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--schema", help="keep (or reuse) the seeded data in this schema instead of a throwaway one")
    parser.add_argument("--drop", action="store_true", help="with --schema: drop it at the end")
    args = parser.parse_args()
    measure(pg=args.pg, commitments=args.commitments, repeat=args.repeat, schema=args.schema, drop=args.drop)
    return 0


def measure(
    *, pg: str, commitments: int, repeat: int, schema: str | None = None, drop: bool = True
) -> list[tuple[str, float, float]]:
    """Prints the table; returns ``(page, store ms, bare SQL ms)`` per case. ``schema``: reuse (or keep) the
    seeded data there, dropped only if ``drop``."""
    measured: list[tuple[str, float, float]] = []
    drop = drop or schema is None
    schema = schema or f"bench_actions_{uuid.uuid4().hex[:8]}"
    admin = make_engine(pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    scoped = f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(scoped)
        upgrade(engine)
        store = SqlFollowUps(engine, sync_departments(engine, CONFIG))
        plain = scoped.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as bare:
            seeded = bare.execute("SELECT count(*) FROM commitments").fetchone()[0]  # type: ignore[index]
            if seeded == 0:
                started = time.perf_counter()
                seed(bare, commitments)
                print(f"seeded {commitments:,} commitments in {time.perf_counter() - started:.1f} s")
            else:
                print(f"reusing {seeded:,} commitments in schema {schema}")
            dept = bare.execute("SELECT id FROM departments WHERE name = 'Dept 07'").fetchone()[0]  # type: ignore[index]
            owner = "U000042"
            dept_open = bare.execute(BARE_COUNT.format(filter="department_id = %(d)s"), {"d": dept}).fetchone()[0]  # type: ignore[index]
            owner_open = bare.execute(BARE_COUNT.format(filter="owner = %(o)s"), {"o": owner}).fetchone()[0]  # type: ignore[index]

            def bare_page(filter_sql: str, params: dict[str, object], page: int) -> list[tuple[object, ...]]:
                total = bare.execute(BARE_COUNT.format(filter=filter_sql), params).fetchone()[0]  # type: ignore[index]
                pages = max(1, -(-total // PAGE_SIZE))
                page = min(page, pages)
                return bare.execute(
                    BARE_PAGE.format(filter=filter_sql),
                    {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
                ).fetchall()

            def old_way() -> object:
                items = store.open_commitments(today=TODAY, departments=["Dept 07"])
                items.sort(key=commitment_order)
                return items[:PAGE_SIZE]

            cases = [
                (
                    f"department page 1 ({dept_open:,} open)",
                    lambda: store.commitments_page(today=TODAY, departments=["Dept 07"], page=1, size=PAGE_SIZE),
                    lambda: bare_page("department_id = %(d)s", {"d": dept}, 1),
                ),
                (
                    "department page 100",
                    lambda: store.commitments_page(today=TODAY, departments=["Dept 07"], page=100, size=PAGE_SIZE),
                    lambda: bare_page("department_id = %(d)s", {"d": dept}, 100),
                ),
                (
                    "department overdue, page 1",
                    lambda: store.commitments_page(
                        today=TODAY, departments=["Dept 07"], overdue=True, page=1, size=PAGE_SIZE
                    ),
                    lambda: bare_page("department_id = %(d)s AND due_date < %(t)s", {"d": dept, "t": TODAY}, 1),
                ),
                (
                    f"person page 1 ({owner_open:,} open)",
                    lambda: store.commitments_page(today=TODAY, owner=owner, page=1, size=PAGE_SIZE),
                    lambda: bare_page("owner = %(o)s", {"o": owner}, 1),
                ),
            ]
            # Same rows both ways, or the comparison means nothing.
            for _name, ours, theirs in cases:
                got = [i.id for i in ours().items]  # type: ignore[attr-defined]
                want = [row[0] for row in theirs()]  # type: ignore[index]
                assert got == want, (_name, got, want)

            print(
                f"\n{commitments:,} commitments, PostgreSQL, page of {PAGE_SIZE}, median of "
                f"{repeat} runs taken in turns; shared 2-core machine, other work running"
            )
            print("| page | cxbot store ms | bare SQL (psycopg) ms | ratio |\n|---|---:|---:|---:|")
            worst_ratio = 0.0
            for name, ours, theirs in cases:
                ours_ms, bare_ms = timed(ours, theirs, repeat)
                ratio = ours_ms / bare_ms
                worst_ratio = max(worst_ratio, ratio)
                measured.append((name, ours_ms, bare_ms))
                print(f"| {name} | {ours_ms:.2f} | {bare_ms:.2f} | {ratio:.2f}x |")
            old_ms, _ = timed(old_way, lambda: None, max(3, repeat // 10))
            print(f"| before (issue 13): department page 1 loaded whole, paged in Python | {old_ms:.1f} | | |")
            print(
                f"\ngoal: within 2x of bare SQL: {'met' if worst_ratio <= 2 else 'NOT met'} (worst {worst_ratio:.2f}x)"
            )
        engine.dispose()
    finally:
        if drop:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return measured


def rows(*, quick: bool, data: Path | None, pg: str | None) -> list[Row]:
    """For ``python -m bench``: each page beside bare SQL (PostgreSQL only: skipped without ``--pg``)."""
    if not pg:
        return [Row("actions", "`/cx actions` pages", "skipped", "needs --pg (PostgreSQL)", "<= 2x", None)]
    commitments = 50_000 if quick else 1_000_000
    size = f"{commitments:,} commitments"
    return [
        ratio_row("actions", f"{name}, {size}", ours, theirs, unit="ms", peer_name="bare SQL", goal=2)
        for name, ours, theirs in measure(pg=pg, commitments=commitments, repeat=10 if quick else 30)
    ]


if __name__ == "__main__":
    raise SystemExit(main())
