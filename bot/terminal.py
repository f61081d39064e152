"""A digest as it will read in chat, for `cxbot demo` and `cxbot digest --dry-run`.

Customer text is printed as typed, minus control characters (:func:`stories.presentation.clean_text`): an
escape sequence in a comment could otherwise clear the screen, retitle the window or hide text. With rich,
customer text only ever goes in as :class:`rich.text.Text`, never as a markup string, so ``[bold]`` or
``:smile:`` in a comment stays literal.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from stories.models import DigestView, StoryView
from stories.presentation import (
    FOLLOW_UP_LABEL,
    NOT_FOR_US_LABEL,
    ORIGINAL_LABEL,
    clean_text,
    context_line,
    digest_heading,
    digest_summary,
    hidden_count,
    more_stories_line,
    themes_line,
    web_link,
    why_line,
)

_INDENT = "   "
_BUTTONS = f"[{FOLLOW_UP_LABEL}]  [{NOT_FOR_US_LABEL}]"


def _story_lines(story: StoryView) -> list[tuple[str, str]]:
    """(style, text) lines of one story below its title; text already cleaned."""
    lines = [("", line) for line in clean_text(story.text).split("\n")]
    for extra in (context_line(story), why_line(story), themes_line(story)):
        if extra:
            lines.append(("dim", clean_text(extra)))
    permalink = web_link(story.permalink)
    if permalink:
        lines.append(("dim", f"{ORIGINAL_LABEL}: {clean_text(permalink)}"))
    lines.append(("cyan", _BUTTONS))
    return lines


def _title(number: int, story: StoryView) -> str:
    return f"{number}. {clean_text(story.title).replace(chr(10), ' ')}"


def digest_text(digest: DigestView) -> str:
    """The digest as plain text (no ANSI codes), one story after another with its buttons shown as [labels]."""
    out = [clean_text(digest_heading(digest)), digest_summary(digest)]
    for number, story in enumerate(digest.stories, start=1):
        out.append("")
        out.append(_title(number, story))
        out.extend(f"{_INDENT}{text}" for _, text in _story_lines(story))
    hidden = hidden_count(digest, shown=len(digest.stories))
    if hidden > 0:
        out.extend(["", more_stories_line(hidden)])
    return "\n".join(out) + "\n"


def print_digest(console: Console, digest: DigestView) -> None:
    """The digest in a panel; the same words as :func:`digest_text`, with a little colour."""
    parts: list[RenderableType] = [Text(digest_summary(digest), style="dim")]
    for number, story in enumerate(digest.stories, start=1):
        parts.append(Text("\n" + _title(number, story), style="bold"))
        lines = [Text(line, style=style) for style, line in _story_lines(story)]
        parts.append(Padding(Group(*lines), (0, 0, 0, len(_INDENT))))
    hidden = hidden_count(digest, shown=len(digest.stories))
    if hidden > 0:
        parts.append(Text("\n" + more_stories_line(hidden), style="dim"))
    title = Text(clean_text(digest_heading(digest)), style="bold")
    console.print(Panel(Group(*parts), title=title, title_align="left"))
