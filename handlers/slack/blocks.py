"""Block Kit for the core's story and digest views.

Built with ``slack_sdk.models.blocks`` so ``to_dict()`` checks Slack's limits a second time (it raises
``SlackObjectFormationError``); the first guard is here: every customer string goes through
:func:`handlers.slack.mrkdwn.safe` with a budget, and a digest never exceeds :data:`MAX_BLOCKS`.

Only the digest header is ``plain_text`` (Slack requires it there); plain text is never parsed for mentions
or links, so the department name is cleaned and cut but not escaped (escaping would show ``&amp;``).
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from handlers.slack.mrkdwn import SECTION_LIMIT, link, safe, text_object
from stories.models import DigestView, StoryView
from stories.presentation import (
    FOLLOW_UP_LABEL,
    NOT_FOR_US_LABEL,
    ORIGINAL_LABEL,
    SEPARATOR,
    clean_text,
    context_line,
    digest_fallback,
    digest_heading,
    digest_summary,
    hidden_count,
    more_stories_line,
    story_fallback,
    themes_line,
    truncate,
    why_line,
)

MAX_BLOCKS = 50  # blocks in one message
HEADER_LIMIT = 150  # characters in a header block
TITLE_LIMIT = 150  # a story title (the core keeps them under 80; this only bounds bad data)
DIGEST_TEXT_LIMIT = 300  # a story's text inside a digest: the core's stories are <= 280 characters
FALLBACK_LIMIT = 300  # the notification text; Slack shows the first line or so
FOLLOW_UP_ACTION = "story_follow_up"
NOT_FOR_US_ACTION = "story_not_for_us"
_BLOCKS_PER_DIGEST_STORY = 3  # divider, section, actions
_CLOSING_BLOCKS = 2  # divider and "and N more stories"


def _actions(story_id: int) -> ActionsBlock:
    value = str(story_id)
    return ActionsBlock(
        elements=[
            ButtonElement(text=FOLLOW_UP_LABEL, action_id=FOLLOW_UP_ACTION, value=value, style="primary"),
            ButtonElement(text=NOT_FOR_US_LABEL, action_id=NOT_FOR_US_ACTION, value=value),
        ]
    )


def _title_and_text(story: StoryView, *, text_limit: int, reserve: int = 0) -> str:
    title = f"*{safe(story.title, TITLE_LIMIT)}*"
    budget = min(text_limit, SECTION_LIMIT - len(title) - 1 - reserve)
    return f"{title}\n{safe(story.text, budget)}"


def _permalink(story: StoryView) -> str | None:
    return link(story.permalink, ORIGINAL_LABEL)


def _render(blocks: list[Block]) -> list[dict]:
    if len(blocks) > MAX_BLOCKS:  # a bug here, not bad input: the budgets above should prevent it
        raise ValueError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS}")
    return [block.to_dict() for block in blocks]


def story_blocks(story: StoryView, *, with_actions: bool = True, note: str | None = None) -> list[dict]:
    """One story as its own message: text, context, why it is here, themes, link, note and the two buttons."""
    blocks: list[Block] = [SectionBlock(text=text_object(_title_and_text(story, text_limit=SECTION_LIMIT)))]
    facts = [text_object(safe(context_line(story)))]
    permalink = _permalink(story)
    if permalink:
        facts.append(text_object(permalink))
    blocks.append(ContextBlock(elements=facts))
    extra = [text_object(safe(line)) for line in (why_line(story), themes_line(story)) if line]
    if extra:
        blocks.append(ContextBlock(elements=extra))
    if note:
        blocks.append(ContextBlock(elements=[text_object(safe(note))]))
    if with_actions:
        blocks.append(_actions(story.story_id))
    return _render(blocks)


def _digest_story(story: StoryView) -> list[Block]:
    details = [context_line(story), why_line(story), themes_line(story)]
    detail_text = safe(SEPARATOR.join(d for d in details if d), SECTION_LIMIT // 3)
    permalink = _permalink(story)
    if permalink:
        detail_text = f"{detail_text}{SEPARATOR}{permalink}"
    body = _title_and_text(story, text_limit=DIGEST_TEXT_LIMIT, reserve=len(detail_text) + 1)
    return [DividerBlock(), SectionBlock(text=text_object(f"{body}\n{detail_text}")), _actions(story.story_id)]


def digest_blocks(digest: DigestView, *, note: str | None = None) -> list[dict]:
    """A department's digest: header, summary (and ``note``: stories removed at the customer's request), then
    each story compactly with its buttons.

    Stories that would take the message past :data:`MAX_BLOCKS` are left out; a closing "and N more stories"
    line counts them with the period's stories the digest did not pick.
    """
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(clean_text(digest_heading(digest)), HEADER_LIMIT))),
        ContextBlock(elements=[text_object(safe(digest_summary(digest)))]),
    ]
    if note:
        blocks.append(ContextBlock(elements=[text_object(safe(truncate(note, SECTION_LIMIT)))]))
    stories = digest.stories
    room = MAX_BLOCKS - len(blocks)  # header, summary and the note, if any
    if len(stories) * _BLOCKS_PER_DIGEST_STORY > room:
        stories = stories[: (room - _CLOSING_BLOCKS) // _BLOCKS_PER_DIGEST_STORY]
    for story in stories:
        blocks.extend(_digest_story(story))
    hidden = hidden_count(digest, shown=len(stories))
    if hidden > 0:
        more = more_stories_line(hidden)
        blocks.extend([DividerBlock(), ContextBlock(elements=[text_object(safe(more))])])
    return _render(blocks)


def fallback_text(view: StoryView | DigestView) -> str:
    """The ``text`` of chat.postMessage: what notifications and screen readers show; escaped like the blocks."""
    line = story_fallback(view) if isinstance(view, StoryView) else digest_fallback(view)
    return safe(line.replace("\n", " "), FALLBACK_LIMIT)
