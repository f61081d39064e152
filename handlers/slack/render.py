"""Block Kit for what ``/cx`` commands and follow-up actions answer (``stories.views``), and the App Home.

Every text from a view is escaped with :func:`handlers.slack.mrkdwn.safe`; the only markup added here is
ours: bold, a ``<@U…>`` mention for user ids the core hands over (checked to be Slack user ids) and links to
story messages. Buttons carry what their click needs: a commitment id and the list to show again, or the
``/cx`` text of the next page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import singledispatch
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from handlers.slack.mrkdwn import link, safe, text_object
from stories.actors import is_slack_user
from stories.followthrough import row_line
from stories.presentation import clean_text, context_line, stats_facts, stats_heading, truncate
from stories.views import (
    ActionsView,
    CommitmentItem,
    FollowThroughView,
    HelpView,
    HomeView,
    KudosBoardView,
    KudosView,
    Notice,
    PraiseView,
    StatsView,
    StoryRouted,
    SurgeView,
)

COMMAND = "/cx"
DONE_ACTION = "commitment_done"
DROP_ACTION = "commitment_drop"
PAGE_ACTION = "actions_page"
GIVE_KUDOS_ACTION = "praise_give_kudos"
KUDOS_PICK_ACTION = "praise_pick_person"  # the person picker beside the button; its value rides on the click
PRAISE_BLOCK = "praise:"  # + story id: the actions block of one suggestion
MAX_PRAISE = 12  # four blocks each, a header, under 50
MAX_BLOCKS = 50
HEADER_LIMIT = 150
LINE_LIMIT = 600
FALLBACK_LIMIT = 300
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,20}$")

Message = dict[str, Any]  # {"text": ..., "blocks": [...]}: keyword arguments for chat.postEphemeral/response_url


def mention(user_id: str, fallback: str | None = None) -> str:
    """A mention for a Slack user id; anything else (a Teams id, a name) as escaped text."""
    if is_slack_user(user_id):
        return f"<@{user_id}>"
    return safe(fallback or "a colleague", 100)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=text_object(text))


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[text_object(t) for t in texts if t])


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(clean_text(text), HEADER_LIMIT)))


def _message(blocks: Sequence[Block], fallback: str) -> Message:
    if len(blocks) > MAX_BLOCKS:  # the views are paged (10 items), so this is a bug, not input
        raise ValueError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS}")
    return {"text": safe(fallback.replace("\n", " "), FALLBACK_LIMIT), "blocks": [b.to_dict() for b in blocks]}


@singledispatch
def render(view: object, *, links: Mapping[int, str] | None = None) -> Message:
    """``{"text", "blocks"}`` for a view from ``stories.commands`` or ``stories.followup``.

    ``links`` maps story ids to permalinks of their Slack messages, where known.
    """
    raise TypeError(f"no Slack rendering for {type(view).__name__}")


@render.register
def _notice(view: Notice, *, links: Mapping[int, str] | None = None) -> Message:
    return _message([_section(safe(view.text, LINE_LIMIT))], view.text)


@render.register
def _help(view: HelpView, *, links: Mapping[int, str] | None = None) -> Message:
    blocks: list[Block] = []
    if view.notice:
        blocks.append(_section(safe(view.notice, LINE_LIMIT)))
    lines = []
    for command in view.commands:
        who = {"cx_team": " _(CX team)_", "admin": " _(admins)_"}.get(command.who, "")
        lines.append(f"*{safe(f'{COMMAND} {command.usage}', 200)}*{who}\n{safe(command.summary, 300)}")
    blocks.append(_section("\n".join(lines)))
    return _message(blocks, view.notice or f"{COMMAND} commands")


def _story_ref(item: CommitmentItem, links: Mapping[int, str]) -> str:
    if item.story_id is None:
        return ""
    title = item.story_title or f"story #{item.story_id}"
    linked = link(links.get(item.story_id), truncate(clean_text(title), 80))
    return linked or safe(title, 120)


def commitment_line(item: CommitmentItem, links: Mapping[int, str] | None = None) -> tuple[str, str]:
    """The line and its context: "*what* — @owner, due Fri 4 Dec" / "Finance · story · 3 days old"."""
    owner = mention(item.owner, item.owner_name) if item.platform == "slack" else safe(item.owner_name or "a colleague")
    due = f"*{safe(item.due_label, 80)}*" if item.overdue else safe(item.due_label, 80)
    line = f"{safe(item.what, LINE_LIMIT)}\n{owner} · {due}"
    age = "today" if item.age_days == 0 else f"{item.age_days} day{'s' if item.age_days != 1 else ''} old"
    details = [safe(item.department, 100) if item.department else "", _story_ref(item, links or {}), age]
    return line, " · ".join(d for d in details if d)


def _close_buttons(commitment_id: int, listing: str) -> ActionsBlock:
    """Mark done / Drop for one commitment; ``listing`` is the ``/cx`` text of the list to show afterwards."""
    value = json.dumps({"id": commitment_id, "list": listing[:1500]})
    return ActionsBlock(
        block_id=f"commitment:{commitment_id}",
        elements=[
            ButtonElement(text="Mark done", action_id=DONE_ACTION, value=value, style="primary"),
            ButtonElement(text="Drop", action_id=DROP_ACTION, value=value),
        ],
    )


@render.register
def _actions(view: ActionsView, *, links: Mapping[int, str] | None = None) -> Message:
    listing = view.page_command(view.page)
    blocks: list[Block] = [_header(view.heading)]
    if not view.items:
        blocks.append(_section("Nothing open. :tada:"))
    for item in view.items:
        line, details = commitment_line(item, links)
        blocks.append(_section(line))
        blocks.append(_context(details))
        if item.state == "open":
            blocks.append(_close_buttons(item.id, listing))
    if view.pages > 1:
        blocks.append(_context(f"Page {view.page} of {view.pages} · {view.total} open"))
        pages = []
        if view.page > 1:
            pages.append(ButtonElement(text="Previous", action_id=f"{PAGE_ACTION}_previous", value=_page(view, -1)))
        if view.page < view.pages:
            pages.append(ButtonElement(text="Next", action_id=PAGE_ACTION, value=_page(view, +1)))
        blocks.append(ActionsBlock(block_id="pages", elements=pages))
    return _message(blocks, f"{view.heading}: {view.total} open")


def _page(view: ActionsView, step: int) -> str:
    return view.page_command(view.page + step)[:2000]


@render.register
def _stats(view: StatsView, *, links: Mapping[int, str] | None = None) -> Message:
    heading = stats_heading(view)
    fields = [text_object(f"*{name}*\n{value}") for name, value in stats_facts(view)]
    return _message([_header(heading), SectionBlock(fields=fields)], heading)


@render.register
def _follow_through(view: FollowThroughView, *, links: Mapping[int, str] | None = None) -> Message:
    """One section per few departments (3,000 characters a section, 50 blocks a message)."""
    blocks: list[Block] = [_header(view.heading)]
    chunk: list[str] = []
    for row in view.rows:
        line = safe(row_line(row), 500)
        if chunk and len("\n".join([*chunk, line])) > 2900:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    blocks.append(_context(safe(view.rule, 300)))
    return _message(blocks[: MAX_BLOCKS - 1] + blocks[-1:] if len(blocks) > MAX_BLOCKS else blocks, view.heading)


@render.register
def _kudos(view: KudosView, *, links: Mapping[int, str] | None = None) -> Message:
    where = f" Posted in <#{view.posted_to}>." if view.posted_to and _CHANNEL_ID.match(view.posted_to) else ""
    text = f":tada: Kudos to {mention(view.receiver)}: {safe(view.why, LINE_LIMIT)}\nThanks for passing it on.{where}"
    blocks: list[Block] = [_section(text)]
    if view.story_id is not None:
        title = f"story #{view.story_id}" + (
            f" “{truncate(clean_text(view.story_title), 80)}”" if view.story_title else ""
        )
        blocks.append(_context("From " + (link((links or {}).get(view.story_id), title) or safe(title, 120))))
    return _message(blocks, f"Kudos: {view.why}")


@render.register
def _board(view: KudosBoardView, *, links: Mapping[int, str] | None = None) -> Message:
    where = f" in {view.department}" if view.department else ""
    blocks: list[Block] = [_header(f"Kudos{where}, {view.month}")]
    if not view.rows:
        blocks.append(_section("Nobody thanked yet this month."))
    lines = [
        f"{rank}. {mention(row.receiver, row.name)}: thanked by {row.thanked_by} "
        f"{'person' if row.thanked_by == 1 else 'people'}"
        for rank, row in enumerate(view.rows, start=1)
    ]
    if lines:
        blocks.append(_section("\n".join(lines)))
    if view.departments:
        depts = [
            f"{safe(d.department, 100)}: {d.people} {'person' if d.people == 1 else 'people'} thanked"
            for d in view.departments
        ]
        blocks.append(_section("*Per department*\n" + "\n".join(depts)))
    blocks.append(
        _context("Counted by different people who said thank you, not by points. Opted-out people are not listed.")
    )
    return _message(blocks, f"Kudos{where}, {view.month}")


@render.register
def _praise(view: PraiseView, *, links: Mapping[int, str] | None = None) -> Message:
    """Each suggestion with a person picker and a "Give kudos" button: pick who the customer meant, click once."""
    blocks: list[Block] = [_header(f"Praise from customers in the last {view.days} days")]
    if not view.items:
        blocks.append(_section("None found."))
    for item in view.items[:MAX_PRAISE]:
        names = ", ".join(item.names)
        blocks.append(DividerBlock())
        title = link((links or {}).get(item.story_id), truncate(clean_text(item.story_title), 150))
        blocks.append(_section(f"*{title or safe(item.story_title, 150)}*\n“{safe(item.quote, 500)}”"))
        blocks.append(_context(f"Story #{item.story_id} · names: {safe(names, 200)}"))
        first = item.names[0] if item.names else "them"
        blocks.append(
            ActionsBlock(
                block_id=f"{PRAISE_BLOCK}{item.story_id}",
                elements=[
                    UserSelectElement(
                        action_id=KUDOS_PICK_ACTION, placeholder=truncate(clean_text(f"Who is {first}?"), 150)
                    ),
                    ButtonElement(
                        text="Give kudos", action_id=GIVE_KUDOS_ACTION, value=item.button_value(), style="primary"
                    ),
                ],
            )
        )
    return _message(blocks, f"Praise from customers: {len(view.items)}")


@render.register
def _routed(view: StoryRouted, *, links: Mapping[int, str] | None = None) -> Message:
    where = ", ".join(f"*{safe(d, 100)}*" for d in view.departments) or "no department yet"
    blocks: list[Block] = [
        _section(f"Thanks, this is now story #{view.story_id}: {safe(view.title, 200)}\nSent to {where}.")
    ]
    if view.reasons:
        blocks.append(_context("Why: " + safe("; ".join(view.reasons), 1000)))
    return _message(blocks, f"Story #{view.story_id} sent to {', '.join(view.departments) or 'no department yet'}")


@render.register
def _surge(view: SurgeView, *, links: Mapping[int, str] | None = None) -> Message:
    """A header, today's figures, and each quote as a block quote of escaped text."""
    blocks: list[Block] = [_header(view.heading), _section(safe(view.figures, LINE_LIMIT))]
    blocks.extend(_section("> " + safe(quote, LINE_LIMIT)) for quote in view.quotes)
    blocks.append(_context("Quotes are from today's stories, personal data removed."))
    return _message(blocks, f"{view.heading}: {view.figures}")


@render.register
def _commitment(view: CommitmentItem, *, links: Mapping[int, str] | None = None) -> Message:
    line, details = commitment_line(view, links)
    verb = {"done": "Marked done", "dropped": "Dropped", "open": "Noted"}[view.state]
    return _message([_section(f"{verb}: {line}"), _context(details)], f"{verb}: {view.what}")


# --- App Home ---------------------------------------------------------------------------------------------------


def _home_blocks(view: HomeView, links: Mapping[int, str] | None) -> list[Block]:
    blocks: list[Block] = [_header("Your open commitments")]
    if not view.commitments:
        blocks.append(_context("Nothing open. Use “I'll follow up” on a story to commit to something."))
    for item in view.commitments[:8]:
        line, details = commitment_line(item, links)
        blocks.append(_section(line))
        blocks.append(_context(details))
        blocks.append(_close_buttons(item.id, "actions mine"))
    blocks.append(DividerBlock())
    blocks.append(_header("Kudos you received"))
    if not view.kudos:
        blocks.append(_context("None yet."))
    for given in view.kudos[:5]:
        blocks.append(_section(f"{mention(given.giver)}: {safe(given.why, LINE_LIMIT)}"))
    blocks.append(DividerBlock())
    heading = f"Latest stories for {', '.join(view.departments)}" if view.departments else "Latest stories"
    blocks.append(_header(heading))
    if not view.departments:
        blocks.append(
            _context("Ask the CX team to add you to a department (manager or ambassador) to see its stories here.")
        )
    elif not view.stories:
        blocks.append(_context(f"No stories in the last {view.story_days} days."))
    for story in view.stories[:8]:
        blocks.append(_section(f"*{safe(story.title, 150)}*\n{safe(story.text, 600)}"))
        blocks.append(_context(safe(context_line(story), 300)))
    return blocks[:MAX_BLOCKS]


def home_view(view: HomeView, *, links: Mapping[int, str] | None = None) -> dict[str, Any]:
    """The App Home tab: my open commitments, kudos I received, my departments' latest stories."""
    return {"type": "home", "blocks": [b.to_dict() for b in _home_blocks(view, links)]}


@render.register
def _home(view: HomeView, *, links: Mapping[int, str] | None = None) -> Message:
    """``/cx home``: the App Home's content as a message, for wherever the person asks."""
    return _message(_home_blocks(view, links), "Your open commitments, kudos and latest stories")
