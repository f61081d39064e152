"""How a story and a digest read, in words every surface shares.

The Slack, Teams and terminal renderers only lay these strings out and escape them for their markup, so a
story reads the same everywhere and no renderer grows its own ``if``. Everything here returns plain text:
escaping belongs to the renderer that knows the markup.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from stories.models import DigestView, StoryView
from stories.scores import score_band
from stories.views import StatsView

FOLLOW_UP_LABEL = "I'll follow up"
NOT_FOR_US_LABEL = "Not for us"
ORIGINAL_LABEL = "Original message"
ELLIPSIS = "…"
SEPARATOR = " · "
URL_LIMIT = 500

# Bidirectional embeddings, overrides and isolates: invisible, and able to make text read in another order
# than it is stored ("Trojan Source"). Ordinary Arabic and Hebrew text needs none of them to display right.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_ZWJ = "\u200d"
_ATOMIC_MAX = 16  # the longest escape sequence ``truncate`` keeps whole


def clean_text(text: str) -> str:
    """Customer text without control characters: what is stored is what every surface shows.

    Drops C0/C1 controls (escape sequences for terminals, NUL...) except newline and tab, and bidi overrides;
    turns CR LF, lone CR and the Unicode line/paragraph separators into newlines.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = text.translate(_BIDI_CONTROLS)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def _joins_previous(ch: str) -> bool:
    """True for a character that belongs to the grapheme before it (accents, harakat, emoji modifiers)."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences (subdivision flags)
        or 0xE0100 <= code <= 0xE01EF
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _safe_cut(text: str, cut: int, atomic: re.Pattern[str] | None) -> int:
    """Move ``cut`` left until it splits neither a grapheme nor a match of ``atomic``."""
    while cut > 0:
        moved = cut
        if _joins_previous(text[cut]) or text[cut - 1] == _ZWJ:
            moved = cut - 1
        elif _is_regional_indicator(text[cut]) and _is_regional_indicator(text[cut - 1]):
            run = 0
            while cut - run > 0 and _is_regional_indicator(text[cut - run - 1]):
                run += 1
            if run % 2:  # an odd run before the cut: the flag's second half would be cut off
                moved = cut - 1
        if atomic is not None and moved == cut:
            window = text[max(0, cut - _ATOMIC_MAX) : cut + _ATOMIC_MAX]
            offset = max(0, cut - _ATOMIC_MAX)
            for match in atomic.finditer(window):
                if offset + match.start() < cut < offset + match.end():
                    moved = offset + match.start()
                    break
        if moved == cut:
            return cut
        cut = moved
    return 0


def truncate(text: str, limit: int, *, atomic: re.Pattern[str] | None = None) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when it was cut.

    Cuts on a grapheme boundary (an accent, a skin tone or half a flag is never left dangling) and never
    inside a match of ``atomic`` (a renderer passes its escape sequences, e.g. ``&amp;``).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - len(ELLIPSIS), atomic)
    return text[:cut].rstrip() + ELLIPSIS


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address a reader may open; None for ``javascript:``, ``file:``, spaces...

    Addresses longer than :data:`URL_LIMIT` are not links either: no permalink is that long, and a message
    has no room for one.
    """
    if url and len(url) <= URL_LIMIT and re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]+", url, flags=re.IGNORECASE):
        return url
    return None


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def period_label(start: datetime, end: datetime) -> str:
    """'3–9 Mar 2025' for a period whose end is exclusive; one day reads '3 Mar 2025'."""
    last = end - timedelta(microseconds=1) if end > start else end
    if (start.year, start.month, start.day) == (last.year, last.month, last.day):
        return _day(start)
    if (start.year, start.month) == (last.year, last.month):
        return f"{start.day}–{_day(last)}"
    if start.year == last.year:
        return f"{start.day} {start:%b} – {_day(last)}"
    return f"{_day(start)} – {_day(last)}"


def context_line(story: StoryView) -> str:
    """The story's number (for `/cx commit #N ...`), scores, sentiment, source, segment, date and departments."""
    parts = [
        f"Story #{story.story_id}",
        score_band(nps=story.nps, csat=story.csat),
        f"Sentiment: {story.sentiment}",
        f"Source: {story.source}",
        f"Segment: {story.segment}" if story.segment else None,
        *_dates(story),
        f"Sent to: {', '.join(story.departments)}" if story.departments else None,
    ]
    return SEPARATOR.join(p for p in parts if p)


def _dates(story: StoryView) -> list[str]:
    """'Received 2 Dec 2026', or with the customer's own date first when it is another day: an old survey answer
    imported today reads 'Written 14 Mar 2019 · Received 2 Dec 2026'."""
    received = _day(story.received_at)
    written = _day(story.original_at) if story.original_at is not None else received
    return [f"Received {received}"] if written == received else [f"Written {written}", f"Received {received}"]


def why_line(story: StoryView) -> str | None:
    """Why the story reached the department being shown, when the core said."""
    return f"Why here: {'; '.join(story.reasons)}" if story.reasons else None


def themes_line(story: StoryView) -> str | None:
    return f"Themes: {', '.join(story.themes)}" if story.themes else None


def _stories(count: int) -> str:
    return f"{count} new {'story' if count == 1 else 'stories'}"


def digest_heading(digest: DigestView) -> str:
    return f"{digest.department}: customer stories, {period_label(digest.period_start, digest.period_end)}"


def digest_summary(digest: DigestView) -> str:
    """'12 new stories · 2 open commitments'."""
    new = _stories(digest.total_in_period) if digest.total_in_period else "No new stories"
    commitments = digest.open_commitments
    open_part = {0: "no open commitments", 1: "1 open commitment"}.get(commitments, f"{commitments} open commitments")
    return f"{new}{SEPARATOR}{open_part}"


def hidden_count(digest: DigestView, *, shown: int) -> int:
    """Stories of the period a reader does not see: those the digest left out and those a surface cut."""
    return max(digest.total_in_period, len(digest.stories)) - shown


def more_stories_line(count: int) -> str:
    """The note closing a digest that does not show every story of its period."""
    return f"and {count} more {'story' if count == 1 else 'stories'}"


def story_fallback(story: StoryView) -> str:
    """A notification's one line for a story."""
    return f"Customer story: {story.title}"


def digest_fallback(digest: DigestView) -> str:
    return f"{digest.department} digest: {digest_summary(digest)}"


def stats_heading(view: StatsView) -> str:
    return f"{view.department or 'All departments'}: last {view.days} days"


def stats_facts(view: StatsView) -> list[tuple[str, str]]:
    """The figures of `/cx stats`, labelled, in the order every surface shows them."""

    def number(value: float | None, suffix: str = "") -> str:
        return "–" if value is None else f"{value:.1f}".removesuffix(".0") + suffix

    def responses(count: int) -> str:
        return f"{count} response{'' if count == 1 else 's'}"

    return [
        ("NPS", f"{number(view.nps)} ({responses(view.nps_responses)})"),
        ("CSAT", f"{number(view.csat, '%')} ({responses(view.csat_responses)})"),
        ("Stories delivered", str(view.stories_delivered)),
        ("Reactions", str(view.reactions)),
        ("Follow-ups opened", str(view.commitments_opened)),
        ("Follow-ups closed", str(view.commitments_closed)),
        ("Median days to close", number(view.median_days_to_close)),
    ]
