"""The shared command layer's views (stories.views) as Adaptive Cards 1.5, and short texts as cards.

Same conventions as :mod:`handlers.teams.cards`: anything that may hold text a person typed (commitments,
story titles, kudos, notices that quote input) goes into a plain ``TextRun`` through
:func:`handlers.teams.text.plain`; ``TextBlock`` (Markdown) carries only our own labels and numbers. Texts
the bot posts (thread replies, direct messages, kudos) are sent as a one-line card for the same reason: a
message's ``text`` is read as Markdown/HTML by Teams.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from handlers.teams.cards import SCHEMA, VERSION, home_card
from handlers.teams.text import plain
from stories.followthrough import row_line
from stories.presentation import stats_facts, stats_heading
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

Json = dict[str, Any]
LINE_LIMIT = 500
TEXT_LIMIT = 2000
SUMMARY_LIMIT = 120
COMMAND_PREFIX = "cx"


def _card(body: list[Json], actions: list[Json] | None = None) -> Json:
    card: Json = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def _rich(text: str, *, limit: int = LINE_LIMIT, **style: Any) -> Json:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": plain(text, limit), **style}]}


def _ours(text: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def summary_of(text: str) -> str:
    """A notification preview: plain, one line, short."""
    return plain(" ".join(text.split()), SUMMARY_LIMIT)


def text_card(text: str) -> Json:
    """A message of plain text."""
    return _card([_rich(text, limit=TEXT_LIMIT, wrap=True)])


@singledispatch
def render(view: object) -> Json:
    """An Adaptive Card for a view returned by ``stories.commands.Commands.run`` or stories.followup."""
    raise TypeError(f"no Teams rendering for {type(view).__name__}")


@render.register
def _notice(view: Notice) -> Json:
    return text_card(view.text)


@render.register
def _help(view: HelpView) -> Json:
    body: list[Json] = [_ours("cxbot commands", weight="Bolder", size="Medium")]
    if view.notice:
        body.append(_rich(view.notice))
    for command in view.commands:
        who = {"cx_team": " (CX team)", "admin": " (admins)"}.get(command.who, "")
        body.append(
            {
                "type": "Container",
                "spacing": "Small",
                "items": [
                    _rich(f"{COMMAND_PREFIX} {command.usage}", weight="Bolder", fontType="Monospace"),
                    _rich(f"{command.summary}{who}", isSubtle=True, spacing="None"),
                ],
            }
        )
    body.append(_ours("In a channel, @mention cxbot first.", isSubtle=True, size="Small"))
    return _card(body)


def _item_line(item: CommitmentItem) -> str:
    who = item.owner_name or "A colleague"
    return f"{who}: {item.what} ({item.due_label})"


def close_buttons(item: CommitmentItem) -> list[Json]:
    data = {"cx_action": "close", "commitment_id": item.id}
    return [
        {"type": "Action.Submit", "title": "Done", "data": {**data, "state": "done"}, "style": "positive"},
        {"type": "Action.Submit", "title": "Drop", "data": {**data, "state": "dropped"}},
    ]


@render.register
def _actions(view: ActionsView) -> Json:
    body: list[Json] = [_rich(view.heading, weight="Bolder", size="Medium")]
    if not view.items:
        body.append(_ours("Nothing open. 🎉"))
    for item in view.items:
        lines = [_rich(_item_line(item), color="Attention" if item.overdue else "Default")]
        if item.story_title:
            lines.append(_rich(f"Story: {item.story_title}", isSubtle=True, size="Small", spacing="None"))
        if item.department:
            lines.append(_rich(item.department, isSubtle=True, size="Small", spacing="None"))
        if item.state == "open":
            lines.append({"type": "ActionSet", "actions": close_buttons(item)})
        body.append({"type": "Container", "separator": True, "items": lines})
    actions = []
    if view.pages > 1:
        body.append(_ours(f"Page {view.page} of {view.pages}", isSubtle=True, size="Small"))
        if view.page < view.pages:
            text = view.page_command(view.page + 1)
            actions.append(
                {"type": "Action.Submit", "title": "Next page", "data": {"cx_action": "command", "text": text}}
            )
    return _card(body, actions)


@render.register
def _stats(view: StatsView) -> Json:
    return _card(
        [
            _rich(stats_heading(view), weight="Bolder", size="Medium"),
            {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in stats_facts(view)]},
        ]
    )


@render.register
def _follow_through(view: FollowThroughView) -> Json:
    body: list[Json] = [_rich(view.heading, weight="Bolder", size="Medium")]
    body.extend(_rich(row_line(row), spacing="Small") for row in view.rows)
    body.append(_rich(view.rule, isSubtle=True, size="Small"))
    return _card(body)


@render.register
def _kudos(view: KudosView) -> Json:
    where = " Posted to the kudos channel." if view.posted_to else ""
    body = [_ours("🎉 Kudos", weight="Bolder", size="Medium"), _rich(view.why)]
    if view.story_id is not None:
        title = f" “{view.story_title}”" if view.story_title else ""
        body.append(_rich(f"From story #{view.story_id}{title}", isSubtle=True, size="Small"))
    body.append(_ours(f"Thanks for passing it on.{where}", isSubtle=True))
    return _card(body)


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


@render.register
def _board(view: KudosBoardView) -> Json:
    where = f" in {view.department}" if view.department else ""
    body: list[Json] = [_rich(f"Kudos{where}, {view.month}", weight="Bolder", size="Medium")]
    if not view.rows:
        body.append(_ours("Nobody thanked yet this month."))
    for rank, row in enumerate(view.rows, start=1):
        body.append(_rich(f"{rank}. {row.name or 'A colleague'}: thanked by {_people(row.thanked_by)}"))
    if view.departments:
        body.append(_ours("Per department", weight="Bolder", separator=True))
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": plain(d.department, 100), "value": f"{_people(d.people)} thanked"}
                    for d in view.departments
                ],
            }
        )
    body.append(
        _ours(
            "Counted by different people who said thank you, not by points. Opted-out people are not listed.",
            isSubtle=True,
            size="Small",
        )
    )
    return _card(body)


GIVE_KUDOS = "give_kudos"
RECEIVER_INPUT = "receiver_"  # + story id: the person picker of one suggestion


@render.register
def _praise(view: PraiseView) -> Json:
    """Each suggestion with a people picker and a "Give kudos" button (``give_kudos``, handled by
    handlers.teams.actions): pick who the customer meant, click once."""
    body: list[Json] = [_ours(f"Praise from customers in the last {view.days} days", weight="Bolder", size="Medium")]
    if not view.items:
        body.append(_ours("None found."))
    for item in view.items:
        first = item.names[0] if item.names else ""
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    _rich(item.story_title, weight="Bolder"),
                    _rich(f"“{item.quote}”", italic=True),
                    _rich(f"Story #{item.story_id} · names: " + ", ".join(item.names), isSubtle=True, size="Small"),
                    {
                        "type": "Input.ChoiceSet",
                        "id": f"{RECEIVER_INPUT}{item.story_id}",
                        "label": plain(f"Who is {first or 'it'}?", 100),
                        "placeholder": "Search for a person",
                        "choices": [],
                        "choices.data": {"type": "Data.Query", "dataset": "graph.users"},
                    },
                    {
                        "type": "ActionSet",
                        "actions": [
                            {
                                "type": "Action.Submit",
                                "title": "Give kudos",
                                "style": "positive",
                                "data": {"cx_action": GIVE_KUDOS, "story_id": item.story_id, "name": plain(first, 100)},
                            }
                        ],
                    },
                ],
            }
        )
    return _card(body)


@render.register
def _routed(view: StoryRouted) -> Json:
    where = ", ".join(view.departments) or "no department yet"
    body = [_rich(f"Thanks, this is now story #{view.story_id}: {view.title}"), _rich(f"Sent to {where}.")]
    if view.reasons:
        body.append(_rich("Why: " + "; ".join(view.reasons), isSubtle=True, size="Small"))
    return _card(body)


@render.register
def _surge(view: SurgeView) -> Json:
    """Quotes are customer text: plain text runs, like everything else a person wrote."""
    body = [_rich(view.heading, weight="Bolder", size="Medium", wrap=True), _rich(view.figures, wrap=True)]
    body.extend(_rich(f"“{quote}”", isSubtle=True, italic=True, wrap=True) for quote in view.quotes)
    return _card(body)


@render.register
def _commitment(view: CommitmentItem) -> Json:
    body = [_rich(_item_line(view))]
    if view.story_title:
        body.append(_rich(f"Story: {view.story_title}", isSubtle=True, size="Small"))
    return _card(body)


@render.register
def _home(view: HomeView) -> Json:
    return home_card(view)
