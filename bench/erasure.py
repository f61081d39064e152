"""Erasure and retention cost on a database of N comments, beside the bare deletes measured in the same run.

- forget: find one person's comments by keyed hash (1 in 100 of N carries their e-mail), read what hangs off
  them, delete in one transaction and queue chat removals (none here: nothing was posted). Peer: a bare
  ``DELETE FROM comments WHERE id IN (...)`` of the same number of comments (the cascades do the rest).
- retention: the nightly job on half of N (read the counts, delete, add to weekly_figures). Peer: the bare
  delete of the same comments.

    python bench/erasure.py [--n 10000]       # SQLite in a temporary folder
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, update

from bot.app import App, build
from bot.demo import sample_csv
from bot.settings import Settings
from handlers.csv_import import read_csv
from storage.db import make_engine, upgrade
from storage.erasure import SqlErasure
from storage.models import Comment, Story
from storage.retention import SqlRetention
from stories.erasure import erase_comments, identifier_digests
from stories.models import IncomingComment

EMAIL = "jane.doe@example.com"


def filled(folder: Path, n: int, name: str) -> App:
    url = f"sqlite:///{folder / name}.db"
    upgrade(make_engine(url))
    app = build(Settings(database_url=url, cx_hash_key="bench-key-of-some-length"))
    texts = [c.text for c in read_csv(sample_csv(), name="sample").comments()]
    app.pipeline.ingest(
        IncomingComment(
            text=texts[i % len(texts)] + (f" write to {EMAIL}" if i % 100 == 0 else ""),
            source="bench",
            external_id=f"b{i}",
            nps=i % 11,
        )
        for i in range(n)
    )
    return app


def timed(call):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measured, peer = filled(Path(folder), args.n, "measured"), filled(Path(folder), args.n, "peer")
        store = SqlErasure(measured.engine, outbox=measured.outbox, departments=measured.departments)
        pipeline = measured.pipeline
        assert pipeline.hasher is not None

        def forget() -> int:
            digests = identifier_digests(EMAIL, redactor=pipeline.redactor, hasher=pipeline.hasher)  # type: ignore[arg-type]
            return len(erase_comments(store, store.comments_with_identifiers(digests)).comments)

        forget_s, erased = timed(forget)
        peer_store = SqlErasure(peer.engine, outbox=peer.outbox, departments=peer.departments)
        ids = peer_store.comments_with_identifiers(  # the same comments (both databases were filled alike)
            identifier_digests(EMAIL, redactor=pipeline.redactor, hasher=pipeline.hasher)  # type: ignore[arg-type]
        )

        def bare_delete() -> int:
            with peer.engine.begin() as conn:
                return conn.execute(delete(Comment).where(Comment.id.in_(ids))).rowcount

        bare_s, bare_n = timed(bare_delete)
        print(
            f"forget: {erased} of {args.n} comments in {forget_s * 1000:.0f} ms; bare delete of {bare_n}: "
            f"{bare_s * 1000:.0f} ms ({forget_s / bare_s:.1f}x)"
        )

        old = datetime.now(UTC) - timedelta(days=400)
        for app in (measured, peer):
            with app.engine.begin() as conn:
                conn.execute(update(Comment).where(Comment.id % 2 == 0).values(received_at=old))
                conn.execute(update(Story).where(Story.comment_id % 2 == 0).values(created_at=old))
        cutoff = datetime.now(UTC) - timedelta(days=365)
        retention_s, removed = timed(lambda: SqlRetention(measured.engine, measured.departments).apply(before=cutoff))

        def bare_old() -> int:
            with peer.engine.begin() as conn:
                return conn.execute(delete(Comment).where(Comment.received_at < cutoff)).rowcount

        bare_old_s, bare_old_n = timed(bare_old)
        print(
            f"retention: {removed.get('comments', 0)} comments in {retention_s * 1000:.0f} ms; bare delete of "
            f"{bare_old_n}: {bare_old_s * 1000:.0f} ms ({retention_s / bare_old_s:.1f}x)"
        )
        print("(one run on a shared 2-core machine: other engineers' work was running)")
        measured.close()
        peer.close()


if __name__ == "__main__":
    main()
