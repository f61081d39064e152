"""What people do with a story once they have read it: react, commit to follow up, close the loop, re-route.

Every action is idempotent on ``key``, the platform's identity of the action (Slack action/view id, Teams
activity id), so a retried event or a double click changes nothing the second time. Each function first
writes through :class:`FollowUpStore`, then queues what others should see through the outbox; the outbox
keys derive from the stored row, so a retry after a crash between the two re-queues what was lost and
nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from stories.actors import Actor, is_cx_team, managed_departments, may_reroute
from stories.config import CxConfig, Nudges
from stories.dates import format_due
from stories.loop import loop_deliveries
from stories.models import Origin
from stories.outbox import OutboxWriter, Outgoing, story_deliveries
from stories.ports import Redactor
from stories.presentation import clean_text, truncate
from stories.redacted_comment import redact_free_text
from stories.views import COMMAND_PREFIX, CommitmentItem, CommitmentState, LoopClosed, Notice

log = logging.getLogger(__name__)

MAX_WHAT = 1000  # characters of a commitment's "what"
MAX_EMOJI = 100
NOTE_WHAT = 120  # characters of each commitment shown in a story card's note


class InvalidInput(ValueError):
    """Input a person can fix; ``field`` names it (a modal shows the message beside that field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class StoryBrief:
    story_id: int
    title: str
    departments: tuple[str, ...]  # where it is routed now


@dataclass(frozen=True, slots=True)
class StoryPlace:
    """A message that shows the story (its own card or a digest)."""

    platform: str
    channel: str
    department: str | None


@dataclass(frozen=True, slots=True)
class NewCommitment:
    key: str
    story_id: int
    department: str
    owner: str
    owner_name: str | None
    created_by: str
    platform: str
    what: str
    due: date | None
    created_at: datetime


@dataclass(frozen=True)
class CommitmentPage:
    """One page of a list of open commitments in ``commitment_order``; ``page`` is clamped to 1..pages."""

    items: tuple[CommitmentItem, ...]
    total: int
    page: int
    pages: int


class FollowUpStore(Protocol):
    """Commitments, reactions and corrections; implemented by storage.followup.SqlFollowUps."""

    def story(self, story_id: int) -> StoryBrief | None: ...

    def story_places(self, story_id: int) -> list[StoryPlace]: ...

    def department_channels(self, department: str) -> dict[str, str]:
        """``platform -> channel`` of the department, as linked now (Teams links change at run time)."""
        ...

    def set_reaction(
        self, *, story_id: int, platform: str, user_id: str, emoji: str, added: bool, now: datetime
    ) -> bool:
        """Add (``added``) or delete the reaction row; True if anything changed."""
        ...

    def add_commitment(self, new: NewCommitment, *, today: date) -> CommitmentItem:
        """Insert unless ``new.key`` exists; either way the stored commitment."""
        ...

    def commitment(self, commitment_id: int, *, today: date) -> CommitmentItem | None: ...

    def close_commitment(self, *, commitment_id: int, state: CommitmentState, by: str, now: datetime) -> bool:
        """Move an open commitment to ``state``; False if it was not open."""
        ...

    def story_commitments(self, story_id: int, *, today: date) -> list[CommitmentItem]: ...

    def story_origins(self, story_id: int) -> list[Origin]:
        """Where in chat the story's comment came in and who passed it on (stories.loop), oldest first."""
        ...

    def lookers(self, story_id: int, *, emoji: Sequence[str]) -> int:
        """How many people have reacted to the story with one of ``emoji`` ("I'm looking", stories.emoji)."""
        ...

    def open_commitments(
        self, *, today: date, departments: Sequence[str] | None = None, owner: str | None = None
    ) -> list[CommitmentItem]: ...

    def commitments_page(
        self,
        *,
        today: date,
        departments: Sequence[str] | None = None,
        owner: str | None = None,
        overdue: bool = False,
        page: int,
        size: int,
    ) -> CommitmentPage:
        """Page ``page`` (clamped to the last) of ``size`` open commitments in ``commitment_order``, with the
        total: filtered, sorted and cut by the store, so a department with 30,000 open items costs one page."""
        ...

    def add_correction(
        self,
        *,
        key: str,
        story_id: int,
        from_department: str,
        to_department: str,
        by: str,
        platform: str,
        now: datetime,
    ) -> bool:
        """Record the correction and move the route, in one transaction; False if ``key`` was recorded."""
        ...


def describe_due(*, due: date | None, state: CommitmentState, today: date) -> str:
    """The due part of a commitment line, the same on every surface."""
    if state != "open":
        return state
    if due is None:
        return "no due date"
    if due < today:
        return f"overdue since {format_due(due, today=today)}"
    if due == today:
        return "due today"
    return f"due {format_due(due, today=today)}"


def commitment_item(
    *,
    id: int,
    story_id: int | None,
    story_title: str | None,
    department: str | None,
    owner: str,
    owner_name: str | None,
    created_by: str | None,
    platform: str,
    what: str,
    due: date | None,
    state: str,
    created_at: datetime,
    today: date,
) -> CommitmentItem:
    """A stored commitment as people see it on ``today`` (age, overdue, due label)."""
    status: CommitmentState = "done" if state == "done" else "dropped" if state == "dropped" else "open"
    return CommitmentItem(
        id=id,
        story_id=story_id,
        story_title=story_title,
        department=department,
        owner=owner,
        what=what,
        due=due,
        age_days=max((today - created_at.date()).days, 0),
        overdue=status == "open" and due is not None and due < today,
        state=status,
        platform=platform,
        due_label=describe_due(due=due, state=status, today=today),
        owner_name=owner_name,
        created_by=created_by,
    )


def record_reaction(
    *, store: FollowUpStore, story_id: int, platform: str, user_id: str, emoji: str, added: bool, now: datetime
) -> bool:
    """A reaction on a story message, added or removed (a removal deletes the row). True if it changed."""
    emoji = emoji.strip()
    if not emoji or len(emoji) > MAX_EMOJI:
        raise InvalidInput("emoji", f"must be 1-{MAX_EMOJI} characters")
    return store.set_reaction(story_id=story_id, platform=platform, user_id=user_id, emoji=emoji, added=added, now=now)


def clean_what(what: str) -> str:
    """What someone will do, as stored: no control characters, single-spaced, checked for length."""
    text = " ".join(clean_text(what).split())
    if not text:
        raise InvalidInput("what", "say what you will do, e.g. 'call the customer back'")
    if len(text) > MAX_WHAT:
        raise InvalidInput("what", f"is {len(text)} characters; keep it under {MAX_WHAT}")
    return text


def commit(
    *,
    store: FollowUpStore,
    outbox: OutboxWriter,
    key: str,
    story_id: int,
    department: str | None,
    owner: str,
    owner_name: str | None,
    created_by: str,
    platform: str,
    what: str,
    due: date | None,
    now: datetime,
    redactor: Redactor,
    today: date | None = None,
    looking: Sequence[str] = (),
) -> CommitmentItem:
    """Record that ``owner`` will do ``what`` for the story, tell its thread(s) and note it on its card(s).

    ``department`` defaults to the story's first; ``today`` (the person's local date) defaults to ``now``'s;
    ``looking`` are the "I'm looking" emoji, counted on the card's note (config ``emoji_actions.looking``).
    ``what`` is redacted like a customer comment ("call her back on 07911 ..." is stored and posted as "call her
    back on [phone]"). Raises :class:`InvalidInput` for input a person can fix.
    """
    today = today or now.date()
    what = redact_free_text(clean_what(what), redactor=redactor)
    if due is not None and due < today:
        raise InvalidInput("due", f"{format_due(due, today=today)} has passed; pick today or a later day")
    brief = store.story(story_id)
    if brief is None:
        raise InvalidInput("story", "that story no longer exists")
    department = department or (brief.departments[0] if brief.departments else None)
    if department is None or department not in brief.departments:
        raise InvalidInput("department", f"the story is with {', '.join(brief.departments) or 'no department'}")
    item = store.add_commitment(
        NewCommitment(
            key=key,
            story_id=story_id,
            department=department,
            owner=owner,
            owner_name=owner_name,
            created_by=created_by,
            platform=platform,
            what=what,
            due=due,
            created_at=now,
        ),
        today=today,
    )
    log.info("commitment %s on story %s (%s)", item.id, story_id, platform)
    text = f"{_name(item)} will follow up: {item.what} ({item.due_label})."
    outbox.enqueue(
        _thread_replies(store, brief, item, key=f"commitment:{item.id}:reply", text=text)
        + note_updates(store, brief, key=f"commitment:{item.id}:update", today=today, looking=looking)
    )
    return item


def may_close(config: CxConfig, actor: Actor, item: CommitmentItem) -> bool:
    """The owner, whoever made it, the department's managers and the CX team may close a commitment."""
    if actor.platform == item.platform and actor.user_id in (item.owner, item.created_by):
        return True
    if item.department is not None and item.department in managed_departments(config, actor):
        return True
    return is_cx_team(config, actor)


def close(
    *,
    store: FollowUpStore,
    outbox: OutboxWriter,
    config: CxConfig,
    commitment_id: int,
    by: Actor,
    state: CommitmentState,
    now: datetime,
    today: date | None = None,
) -> CommitmentItem | Notice:
    """Mark a commitment done (a "closed the loop" reply in the story's threads) or dropped (quietly).

    Idempotent on the commitment itself: closing it again the same way re-queues nothing new; a refusal or
    a contradiction (done, then dropped) answers with a :class:`Notice`.
    """
    if state == "open":
        raise InvalidInput("state", "close as 'done' or 'dropped'")
    today = today or now.date()
    item = store.commitment(commitment_id, today=today)
    if item is None:
        return Notice("That commitment no longer exists.")
    if not may_close(config, by, item):
        return Notice("Only its owner, whoever made it, the department's managers or the CX team can close it.")
    if item.state == "open":
        store.close_commitment(commitment_id=commitment_id, state=state, by=by.user_id, now=now)
        item = store.commitment(commitment_id, today=today) or item
    if item.state != state:
        return Notice(f"That commitment is already {item.state}.")
    log.info("commitment %s %s", item.id, state)
    brief = store.story(item.story_id) if item.story_id is not None else None
    if brief is None:
        return item
    items: list[Outgoing] = []
    if state == "done":
        text = f"Closed the loop: {_name(item)} followed up — {item.what}."
        items += _thread_replies(store, brief, item, key=f"commitment:{item.id}:closed", text=text)
    looking = config.emoji_actions.looking
    items += note_updates(store, brief, key=f"commitment:{item.id}:{state}:update", today=today, looking=looking)
    items += _told_back(store, config, brief, item, state=state, today=today)
    outbox.enqueue(items)
    return item


def _told_back(
    store: FollowUpStore, config: CxConfig, brief: StoryBrief, item: CommitmentItem, *, state: str, today: date
) -> list[Outgoing]:
    """The loop told to the people who raised the story and to the CX team (stories.loop)."""
    others = [c for c in store.story_commitments(brief.story_id, today=today) if c.id != item.id]
    return loop_deliveries(
        view=LoopClosed(
            story_id=brief.story_id,
            story_title=brief.title,
            department=item.department,
            owner_name=item.owner_name,
            what=item.what,
            state="done" if state == "done" else "dropped",
        ),
        origins=store.story_origins(brief.story_id),
        cx_channels=store.department_channels(config.default_department),
        commitment_id=item.id,
        story_id=brief.story_id,
        others_open_or_done=any(c.state != "dropped" for c in others),
    )


@dataclass(frozen=True, slots=True)
class RerouteChoice:
    source: str | None  # the department the story leaves (None: it is with no department)
    targets: tuple[str, ...]  # where it may go: every department it is not with yet, in configuration order


def reroute_choice(config: CxConfig, brief: StoryBrief, *, clicked: str | None) -> RerouteChoice:
    """ "Not for us" on a story: it leaves the department whose message was clicked (a button on a digest or a
    card names it), else the first it is with; it may go to any department that does not have it yet."""
    source = clicked or (brief.departments[0] if brief.departments else None)
    targets = tuple(name for name in config.department_names if name not in brief.departments)
    return RerouteChoice(source=source, targets=targets)


def reroute(
    *,
    store: FollowUpStore,
    outbox: OutboxWriter,
    config: CxConfig,
    key: str,
    story_id: int,
    from_department: str,
    to_department: str,
    by: Actor,
    now: datetime,
) -> Notice:
    """ "Not for us": record the correction, move the route and post the story to the right department."""
    try:
        target = config.department(to_department).name
        source = config.department(from_department).name
    except KeyError as exc:
        raise InvalidInput("department", f"unknown department {exc.args[0]!r}") from None
    if not may_reroute(config, by, source):
        return reroute_refusal(source)
    if target == source:
        return Notice(f"The story is already with {target}; pick another department.")
    brief = store.story(story_id)
    if brief is None:
        return Notice("That story no longer exists.")
    store.add_correction(
        key=key,
        story_id=story_id,
        from_department=source,
        to_department=target,
        by=by.user_id,
        platform=by.platform,
        now=now,
    )
    log.info("story %s moved from %s to %s", story_id, source, target)
    channels = {(target, platform): channel for platform, channel in store.department_channels(target).items()}
    items = story_deliveries(story_id=story_id, departments=[target], channels=channels)
    text = f"{by.display} sent this story to {target}."
    for place in store.story_places(story_id):
        if place.department == source:
            items.append(
                Outgoing(
                    key=f"reroute:{key}:reply:{place.platform}:{place.channel}",
                    kind="reply",
                    platform=place.platform,
                    channel=place.channel,
                    story_id=story_id,
                    department=source,
                    payload={"text": text},
                )
            )
    outbox.enqueue(items)
    where = " and posted it there" if channels else f"; {target} has no chat channel yet, so it waits for them"
    return Notice(f"Thanks: I moved the story to {target}{where}. The correction is recorded.")


def reroute_refusal(department: str) -> Notice:
    return Notice(
        f"Only {department}'s managers and ambassadors or the CX team can send its stories elsewhere. "
        "Ask one of them, or tell the CX team where it belongs."
    )


def nudge_messages(items: Sequence[CommitmentItem], *, today: date, settings: Nudges) -> list[Outgoing]:
    """One reminder DM per commitment per day (the key holds the date), none on weekends unless configured.

    The scheduler passes ``store.due_for_nudge(today)`` and then calls ``store.mark_nudged``; the key alone
    already keeps a second run on the same day from nudging twice.
    """
    if not settings.enabled or (today.weekday() >= 5 and not settings.weekends):
        return []
    result = []
    for item in items:
        if item.state != "open":
            continue
        story = f" for the story “{item.story_title}”" if item.story_title else ""
        prefix = COMMAND_PREFIX.get(item.platform, "cx")
        result.append(
            Outgoing(
                key=f"nudge:{item.id}:{today.isoformat()}",
                kind="dm",
                platform=item.platform,
                channel=item.owner,
                story_id=item.story_id,
                department=item.department,
                payload={
                    "text": f"Reminder: you said you would {item.what}{story} ({item.due_label}). "
                    f"Mark it done or drop it from {prefix} actions."
                },
            )
        )
    return result


def commitment_order(item: CommitmentItem) -> tuple[bool, date, int]:
    """Overdue first, then by due date (undated last), then oldest first."""
    return (not item.overdue, item.due or date.max, item.id)


def weekly_summary(*, department: str, items: Sequence[CommitmentItem], limit: int = 10) -> str:
    """The weekly note to a department's managers and ambassadors: its open and overdue commitments.

    The scheduler picks the recipients (config managers/ambassadors) and sends it as a "dm".
    """
    open_items = sorted((i for i in items if i.state == "open"), key=commitment_order)
    if not open_items:
        return f"{department}: no open follow-up commitments this week."
    overdue = sum(1 for i in open_items if i.overdue)
    lines = [f"{department}: {_count(len(open_items), 'open commitment')}, {overdue} overdue."]
    for item in open_items[:limit]:
        lines.append(f"- {_name(item)}: {truncate(item.what, NOTE_WHAT)} ({item.due_label})")
    if len(open_items) > limit:
        lines.append(f"…and {len(open_items) - limit} more.")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def story_note(items: Sequence[CommitmentItem], *, looking: int = 0) -> str:
    """The line under a story card: how many are looking into it (the "I'm looking" emoji); who follows up,
    what, by when; what was done. Dropped ones are left out.

    >>> story_note([]), story_note([], looking=2)
    ('', '👀 2 people are looking into it')
    """
    parts = []
    if looking:
        parts.append("👀 1 person is looking into it" if looking == 1 else f"👀 {looking} people are looking into it")
    for item in sorted(items, key=lambda i: (i.state != "open", i.id)):
        what = truncate(item.what, NOTE_WHAT)
        if item.state == "open":
            parts.append(f"{_name(item)} will follow up: {what} ({item.due_label})")
        elif item.state == "done":
            parts.append(f"{_name(item)} followed up: {what} (done)")
    return " · ".join(parts)


def _name(item: CommitmentItem) -> str:
    return item.owner_name or "A colleague"


def _thread_replies(
    store: FollowUpStore, brief: StoryBrief, item: CommitmentItem, *, key: str, text: str
) -> list[Outgoing]:
    """A reply in the thread of every message showing the story; with none yet, a post in the department's
    channel on the commitment's platform, naming the story."""
    places = {(p.platform, p.channel): p for p in store.story_places(brief.story_id)}
    if not places and item.department is not None:
        channel = store.department_channels(item.department).get(item.platform)
        if channel:
            places[(item.platform, channel)] = StoryPlace(item.platform, channel, item.department)
            text = f"{text} (Story: {brief.title})"
    return [
        Outgoing(
            key=f"{key}:{platform}:{channel}",
            kind="reply",
            platform=platform,
            channel=channel,
            story_id=brief.story_id,
            department=place.department,
            payload={"text": text},
        )
        for (platform, channel), place in places.items()
    ]


def note_updates(
    store: FollowUpStore, brief: StoryBrief, *, key: str, today: date, looking: Sequence[str] = ()
) -> list[Outgoing]:
    """Re-render the story's cards on each platform with the current note (the dispatcher finds the cards)."""
    note = story_note(
        store.story_commitments(brief.story_id, today=today),
        looking=store.lookers(brief.story_id, emoji=looking) if looking else 0,
    )
    first_channel: dict[str, StoryPlace] = {}
    for place in store.story_places(brief.story_id):
        first_channel.setdefault(place.platform, place)
    return [
        Outgoing(
            key=f"{key}:{platform}",
            kind="update",
            platform=platform,
            channel=place.channel,
            story_id=brief.story_id,
            department=place.department,
            payload={"note": note},
        )
        for platform, place in first_channel.items()
    ]
