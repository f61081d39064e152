"""``cxbot forget IDENTIFIER`` / ``--comment ID`` / ``--story ID``: erase a customer's comments (GDPR art. 17).

The decisions are in :mod:`stories.erasure`, the deletes in :mod:`storage.erasure`. Chat removals are queued in
the outbox in the same transaction as the deletes, then sent at once by this process when it can reach the
platform (the notifiers configured in the environment); whatever cannot be sent now stays queued, and the
serving bot's dispatcher retries it like any post. The report names what was deleted per table and what
happened to each chat message. Running it again finds nothing and changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.settings import Settings
from storage.erasure import SqlErasure
from stories.erasure import ErasureReport, erase_comments, identifier_digests
from stories.outbox import Outgoing

if TYPE_CHECKING:
    from bot.app import App


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    forget = sub.add_parser(
        "forget",
        help="erase every comment carrying an e-mail address, phone number or customer id, and take its "
        "stories back from Slack and Teams",
    )
    which = forget.add_mutually_exclusive_group(required=True)
    which.add_argument("identifier", nargs="?", help="an e-mail address, a phone number or a customer id")
    which.add_argument("--comment", type=int, metavar="ID", help="erase one comment by its id")
    which.add_argument("--story", type=int, metavar="ID", help="erase the comment behind one story (its #number)")
    forget.add_argument(
        "--no-send", action="store_true", help="only queue the chat removals; the serving bot's dispatcher sends them"
    )
    forget.set_defaults(func=cmd_forget)


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build
    from bot.cli import require_hash_key

    require_hash_key(settings)
    app = build(settings)
    try:
        return forget(app, identifier=args.identifier, comment=args.comment, story=args.story, send=not args.no_send)
    finally:
        app.close()


def store_for(app: App) -> SqlErasure:
    return SqlErasure(app.engine, outbox=app.outbox, departments=app.departments)


def find_comments(app: App, *, identifier: str | None, comment: int | None, story: int | None) -> list[int]:
    store = store_for(app)
    if comment is not None:
        return store.existing_comments([comment])
    if story is not None:
        return store.comments_of_stories([story])
    assert identifier is not None
    pipeline = app.pipeline  # the configured redactor and key, as at ingestion
    assert pipeline.hasher is not None
    return store.comments_with_identifiers(
        identifier_digests(identifier, redactor=pipeline.redactor, hasher=pipeline.hasher)
    )


def forget(
    app: App, *, identifier: str | None, comment: int | None = None, story: int | None = None, send: bool
) -> int:
    """Erase, send the removals this process can, print the report; 1 if a removal failed for good."""
    return asyncio.run(forget_async(app, identifier=identifier, comment=comment, story=story, send=send))


async def forget_async(
    app: App, *, identifier: str | None, comment: int | None = None, story: int | None = None, send: bool
) -> int:
    try:
        comment_ids = await asyncio.to_thread(find_comments, app, identifier=identifier, comment=comment, story=story)
    except ValueError as exc:
        print(f"cxbot: {exc}", file=sys.stderr)
        return 2
    report = await asyncio.to_thread(erase_comments, store_for(app), comment_ids)
    outcomes = await send_removals(app, report.chat) if send and report.chat else {}
    print_report(report, outcomes=outcomes, sent=send)
    return 1 if any(state == "failed" for state, _, _ in outcomes.values()) else 0


async def send_removals(app: App, chat: Sequence[Outgoing]) -> dict[str, tuple[str, str | None, str | None]]:
    """One dispatcher pass over these removals only; ``key -> (state, message id, last error)`` afterwards."""
    from bot.dispatch import connect_notifiers, dispatcher_for

    keys = [item.key for item in chat]
    connect_notifiers(app)
    await dispatcher_for(app).run_once(limit=len(keys), keys=keys)
    return await asyncio.to_thread(app.outbox.outcomes, keys)


def print_report(report: ErasureReport, *, outcomes: dict[str, tuple[str, str | None, str | None]], sent: bool) -> None:
    if not report.comments:
        print("no comment carries that; nothing to erase (an erasure already done finds nothing)")
        return
    print(f"erased {len(report.comments)} comment(s): {', '.join(str(i) for i in report.comments)}")
    for table, count in sorted(report.deleted.items()):
        print(f"  {table}: {count}")
    tally: Counter[str] = Counter()
    failures = []
    for item in report.chat:
        state, message_id, error = outcomes.get(item.key, ("pending", None, None))
        if state == "sent":
            tally["updated" if message_id else "deleted"] += 1
        elif state == "failed":
            tally["failed"] += 1
            failures.append(f"  {item.platform} {item.channel} {item.payload.get('message_id')}: {error}")
        else:
            tally["queued"] += 1
            if error:
                failures.append(f"  {item.platform} {item.channel} {item.payload.get('message_id')}: {error} (retried)")
    print(
        f"chat: {len(report.chat)} message(s) to take back: {tally['deleted']} deleted, {tally['updated']} "
        f"digests updated, {tally['queued']} queued for the serving bot, {tally['failed']} failed"
        + ("" if sent else " (--no-send)")
    )
    for line in failures:
        print(line)
    if report.origin_links:
        print(
            f"note: {report.origin_links} comment(s) came from a chat intake message a person posted; the bot cannot "
            "delete those, ask the channel's admin"
        )
