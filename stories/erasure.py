"""Erasure ("delete everything about me", GDPR art. 17): which comments, and what to take back from chat.

``cxbot forget jane@example.com`` redacts the identifier with the configured redactor, so it is read in the same
canonical form as at ingestion ("07911 654321" under GB is "+447911654321"), hashes what the redactor found
plus the identifier as a customer id, and finds every comment carrying one of those keyed hashes. The store
then deletes the comments and everything hanging off them in one transaction, and in the same transaction
queues chat removals in the outbox (kind ``erase``): a message showing only erased stories is deleted; a
digest that also shows other stories is updated without them, with a note that some were removed at the
customer's request. The outbox gives removals what it gives posts: written once, retried with back-off,
never lost, whichever replica sends them.

This module decides; ``storage.erasure`` reads and deletes, the dispatcher sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from stories.identifiers import ID_KIND, IdentifierHasher
from stories.models import SummaryInput
from stories.outbox import Outgoing
from stories.ports import Redactor

ERASED_NOTE = "removed at the customer's request"
EraseAction = Literal["delete", "digest"]


def erased_note(count: int) -> str:
    """The line a digest carries once some of its stories are gone."""
    return f"{count} {'story' if count == 1 else 'stories'} {ERASED_NOTE}."


def identifier_digests(identifier: str, *, redactor: Redactor, hasher: IdentifierHasher) -> tuple[str, ...]:
    """The keyed hashes a comment carrying ``identifier`` would have: what the redactor finds in it (in its
    canonical form), and the identifier itself as a customer id (``comments.external_id``)."""
    value = identifier.strip()
    if not value:
        raise ValueError("the identifier is empty: give an e-mail address, a phone number or a customer id")
    found = [*redactor.redact(value).found, (ID_KIND, value)]
    return hasher.digests(found)


@dataclass(frozen=True, slots=True)
class PostedRecord:
    """A message the bot posted that shows (or hangs under) an erased story.

    ``kind`` is the delivery's kind (story, digest, reply, text, update, dm); ``carried`` the story ids a story
    card or digest shows (empty for thread replies); ``delivery_key`` the digest's own outbox key.
    """

    platform: str
    channel: str
    message_id: str
    kind: str
    carried: frozenset[int] = frozenset()
    delivery_key: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class ErasureTarget:
    """What the store found for some comments: their stories, and where those went in chat."""

    comment_ids: tuple[int, ...]
    story_ids: tuple[int, ...]
    posted: tuple[PostedRecord, ...] = ()
    summary_inputs: tuple[SummaryInput, ...] = ()  # to find cached model summaries of these comments
    origin_links: int = 0  # intake messages people posted (the bot cannot delete them)


@dataclass
class ErasureReport:
    comments: tuple[int, ...] = ()
    deleted: dict[str, int] = field(default_factory=dict)  # table -> rows deleted (or scrubbed)
    chat: list[Outgoing] = field(default_factory=list)  # removals queued in the outbox
    origin_links: int = 0


class ErasureStore(Protocol):
    def comments_with_identifiers(self, digests: Sequence[str]) -> list[int]: ...

    def comments_of_stories(self, story_ids: Sequence[int]) -> list[int]: ...

    def existing_comments(self, comment_ids: Sequence[int]) -> list[int]: ...

    def cached_models(self) -> list[str]:
        """The models the summary cache holds entries for."""
        ...

    def target(self, comment_ids: Sequence[int]) -> ErasureTarget: ...

    def erase(self, target: ErasureTarget, *, chat: Sequence[Outgoing], cache_hashes: Sequence[str]) -> dict[str, int]:
        """Delete the target's rows and queue ``chat`` in one transaction; rows deleted per table."""
        ...


def chat_removals(posted: Iterable[PostedRecord], *, erased: Iterable[int]) -> list[Outgoing]:
    """One outbox item per message to take back: delete it, or (a digest that also shows stories that stay)
    update it without the erased ones.

    The key names the message and, for a digest, how many stories stay in it: forgetting the same person twice
    queues nothing new, while a later erasure of another story in the same digest queues its own update.
    """
    gone = set(erased)
    result: dict[str, Outgoing] = {}
    for record in posted:
        staying = record.carried - gone
        action: EraseAction = "digest" if record.kind == "digest" and staying else "delete"
        place = f"{record.platform}:{record.channel}:{record.message_id}"
        key = f"erase:{place}" if action == "delete" else f"erase:{place}:keeps:{len(staying)}"
        payload: dict[str, object] = {"action": action, "message_id": record.message_id}
        if action == "digest":
            payload["digest_key"] = record.delivery_key
        result.setdefault(
            key,
            Outgoing(
                key=key,
                kind="erase",
                platform=record.platform,
                channel=record.channel,
                department=record.department,
                payload=payload,
            ),
        )
    # deletes first: a thread's replies and cards go before digests are redrawn
    return sorted(result.values(), key=lambda o: (o.payload["action"] != "delete", o.key))


def summary_cache_hashes(inputs: Iterable[SummaryInput], *, models: Iterable[str]) -> list[str]:
    """The summary cache's content hashes for these comments under every model the cache holds (entries made
    under an earlier prompt version cannot be found this way; retention removes them)."""
    from stories.summarize.cache import cache_key
    from stories.summarize.llm import PROMPT_VERSION

    models = list(models)
    return sorted(
        {
            cache_key(model=model, prompt_version=PROMPT_VERSION, item=item).content_hash
            for item in inputs
            for model in models
        }
    )


def erase_comments(store: ErasureStore, comment_ids: Sequence[int]) -> ErasureReport:
    """Delete these comments with everything that hangs off them and queue their chat removals."""
    if not comment_ids:
        return ErasureReport()
    target = store.target(comment_ids)
    chat = chat_removals(target.posted, erased=target.story_ids)
    hashes = summary_cache_hashes(target.summary_inputs, models=store.cached_models())
    deleted = store.erase(target, chat=chat, cache_hashes=hashes)
    return ErasureReport(comments=target.comment_ids, deleted=deleted, chat=chat, origin_links=target.origin_links)
