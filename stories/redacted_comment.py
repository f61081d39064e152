"""The one redaction step: every field of a comment, from every way in, before anything else looks at it.

:func:`redact_comment` is the first thing :class:`stories.pipeline.Pipeline` does with a valid comment. It
returns a :class:`RedactedComment` whose ``comment`` has every customer-written field redacted (text, segment,
channel, source, language, the keys and values of ``fields``, the link), so the summariser, the router and the
store only ever see redacted values: a field added to :class:`~stories.models.IncomingComment` later is redacted
here or not stored at all (a test checks every field). An external id that holds personal data (an e-mail, a
phone number) is replaced by its keyed hash, ``h:`` + the first 32 hex digits of its HMAC
(:mod:`stories.identifiers`); everything that echoes the id (``/ingest``'s answer) echoes that stored form. Ids and channels a chat
platform made (``platform_ids``: Slack message and channel ids, Teams conversation ids) are kept as they are.

Every value removed from any field is kept only as a keyed hash (``identifiers``), so erasure finds the comment
whatever field carried the value.

Long comments: the first :data:`MAX_KEPT` characters are kept and the rest is noted as cut. Only a window of
``MAX_KEPT + CUT_MARGIN`` characters is redacted, so a 1 MB comment costs the redactor no more than a 20,000
character one, and a value that straddles the cut is redacted whole before the cut is made (values up to
:data:`CUT_MARGIN` characters long; e-mail addresses are at most 254).

Employees' own free text (commitments, kudos reasons) goes through :func:`redact_free_text`, the same redactor.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

from stories.identifiers import ID_KIND, IdentifierHasher
from stories.models import IncomingComment, Redacted
from stories.ports import Redactor

MAX_KEPT = 20_000  # characters of comment text kept; the rest is cut, with a note saying how much
CUT_MARGIN = 1_000  # characters redacted beyond the cut, so no value is split by it
HASHED_ID_PREFIX = "h:"  # an external id stored as its keyed hash
_PLACEHOLDER_MAX = 10  # "[number]" and the like: a cut never splits one
# The longest metadata the comment store keeps (storage.models.Comment); validation refuses longer input.
MAX_SOURCE = 40
MAX_SEGMENT = 100
MAX_CHANNEL = 200
MAX_LANGUAGE = 20


@dataclass(frozen=True, slots=True)
class RedactedComment:
    """A comment with every field redacted, its idempotency key and the keyed hashes of what was removed.

    ``cut`` is how many characters of the text were left out (0 for most comments).
    """

    comment: IncomingComment
    dedupe_key: str
    identifiers: tuple[str, ...]
    counts: Mapping[str, int]
    cut: int = 0


def redact_comment(comment: IncomingComment, *, redactor: Redactor, hasher: IdentifierHasher) -> RedactedComment:
    """Redact every field of ``comment`` (see the module docstring); the dedupe key is computed here too.

    The key is the stored source + the stored id, or, without an id, the stored source + a SHA-256 of the text
    *as sent* and its own time. As sent, not redacted: a sender's retry, or the same export imported again after
    the redactor learns a new kind, must find the same key. The digest keeps nothing readable (the whole comment
    would have to be guessed); the id's keyed hash is stable as long as ``CX_HASH_KEY`` is.
    """
    found: list[tuple[str, str]] = []
    counts: dict[str, int] = {}

    def scrub(value: str) -> str:
        result = redactor.redact(value)
        _tally(result, found, counts)
        return result.text

    def scrub_optional(value: str | None) -> str | None:
        return scrub(value) if value else value

    text, cut = _text(comment.text, redactor=redactor, found=found, counts=counts)
    external_id = comment.external_id
    if external_id and not comment.platform_ids:
        in_id = redactor.redact(external_id)
        if in_id.found or in_id.text != external_id:
            _tally(in_id, found, counts)
            external_id = HASHED_ID_PREFIX + hasher.digest(ID_KIND, comment.external_id or "")[:32]
    if external_id:
        found.append((ID_KIND, comment.external_id or ""))
    redacted = dataclasses.replace(
        comment,
        text=text,
        source=scrub(comment.source)[:MAX_SOURCE],
        external_id=external_id,
        segment=_at_most(scrub_optional(comment.segment), MAX_SEGMENT),
        origin_channel=comment.origin_channel
        if comment.platform_ids
        else _at_most(scrub_optional(comment.origin_channel), MAX_CHANNEL),
        language=_at_most(scrub_optional(comment.language), MAX_LANGUAGE),
        fields={scrub(k): scrub(v) for k, v in comment.fields.items()},
        link=_link(comment.link, scrub=scrub),
    )
    return RedactedComment(
        comment=redacted,
        dedupe_key=_dedupe_key(redacted, raw_text=comment.text),
        identifiers=hasher.digests(found),
        counts=counts,
        cut=cut,
    )


def _at_most(value: str | None, limit: int) -> str | None:
    """A placeholder can be longer than what it replaced ("[number]" for four digits): stay within the column."""
    return value[:limit] if value else value


def _link(link: str | None, *, scrub: Callable[[str], str]) -> str | None:
    """A link is kept only if it carries no personal data: a redacted address leads nowhere, so it is dropped."""
    if not link:
        return link
    return link if scrub(link) == link else None


def redact_free_text(text: str, *, redactor: Redactor) -> str:
    """What an employee typed about a customer ("call her back on 07911 654321"), redacted like a comment."""
    return redactor.redact(text).text


def _tally(result: Redacted, found: list[tuple[str, str]], counts: dict[str, int]) -> None:
    found.extend(result.found)
    for kind, n in result.counts.items():
        counts[kind] = counts.get(kind, 0) + n


def _text(text: str, *, redactor: Redactor, found: list[tuple[str, str]], counts: dict[str, int]) -> tuple[str, int]:
    """The redacted text, cut at :data:`MAX_KEPT` characters with a note; and how many characters were cut."""
    if len(text) <= MAX_KEPT:
        result = redactor.redact(text)
        _tally(result, found, counts)
        return result.text, 0
    window = redactor.redact(text[: MAX_KEPT + CUT_MARGIN])
    kept = window.text[:MAX_KEPT]
    opened = kept.rfind("[")
    if opened > kept.rfind("]") and len(kept) - opened < _PLACEHOLDER_MAX:
        kept = kept[:opened]  # never leave half a placeholder
    # The values removed from the window's tail beyond the cut are not stored, but hashing them too is harmless.
    _tally(window, found, counts)
    cut = len(window.text) - len(kept) + max(0, len(text) - MAX_KEPT - CUT_MARGIN)
    return f"{kept.rstrip()} … [cut: {cut:,} more characters]", cut


def _dedupe_key(comment: IncomingComment, *, raw_text: str) -> str:
    """Stored source + stored id, or stored source + hash of the text as sent and its own time.

    >>> _dedupe_key(IncomingComment(text="x", source="csv", external_id="R1"), raw_text="x")
    'csv:id:R1'
    """
    if comment.external_id:
        return f"{comment.source}:id:{comment.external_id}"[:200]
    when = comment.original_at.astimezone(UTC).isoformat() if comment.original_at else ""
    digest = hashlib.sha256(f"{raw_text.strip()}\x00{when}".encode()).hexdigest()
    return f"{comment.source}:h:{digest}"
