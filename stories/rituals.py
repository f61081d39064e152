"""Rituals that keep customers in mind: the meeting opener, the monthly pulse and the department ambassadors.

One object, built once with its ports (``App.rituals``), serves the `/cx opener`, `/cx pulse` and
`/cx ambassador` commands on both platforms and plans the scheduled DMs (bot/scheduler.py, job ``rituals``):

- the pulse question, once a month to each person in the sample, from the 1st at ``nudges.hour`` in their
  department's timezone (key ``pulse:<month>:<platform>:<user>``: one DM per person per month);
- each ambassador's stories: at every slot of their department's digest schedule, a DM with the department's
  stories since the previous slot (key names the slot), whatever the department's channel delivery;
- each ambassador's monthly summary, on the 1st (caught up until the 3rd): last month's figures for the
  department and its pulse.

Ambassadors are the configuration's ``departments[].ambassadors`` plus those added with `/cx ambassador add`;
a configured one's platform is read from the id (Slack ``U...``, else Teams).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from stories.actors import Actor, is_cx_team, managed_departments
from stories.config import CxConfig, Department
from stories.digest import choose_stories
from stories.identifiers import IdentifierHasher
from stories.models import StoryView
from stories.nudges import user_platform
from stories.opener import REPEAT_DAYS as OPENER_REPEAT_DAYS
from stories.opener import OpenerStore, choose_opener, window
from stories.outbox import OutboxWriter, Outgoing
from stories.ports import StoryReader
from stories.presentation import clean_text, truncate
from stories.pulse import (
    MAX_ANSWER,
    MIN_ANSWERS,
    QUESTION,
    TREND_MONTHS,
    PulseMember,
    PulseStore,
    mentions_customers,
    month_of,
    months_back,
    trend_lines,
)
from stories.schedule import Schedule
from stories.stats import StatsReader
from stories.views import COMMAND_PREFIX, Notice, View

if TYPE_CHECKING:
    from stories.commands import CommandContext, Commands

log = logging.getLogger(__name__)

SUMMARY_CATCH_UP_DAYS = 3
STORIES_CATCH_UP = timedelta(days=1)
STORY_CHARS = 220
PULSE_HASH_KIND = "pulse"


@dataclass(frozen=True, slots=True)
class AmbassadorRow:
    department: str
    platform: str
    user_id: str
    configured: bool = False  # from the configuration file (not removable in chat)


class AmbassadorStore(Protocol):
    def add_ambassador(self, *, department: str, platform: str, user_id: str, added_by: str, now: datetime) -> bool:
        """False if already an ambassador of that department."""
        ...

    def remove_ambassador(self, *, department: str | None, platform: str, user_id: str) -> int:
        """Remove from one department (or all, ``None``); how many were removed."""
        ...

    def added_ambassadors(self) -> list[AmbassadorRow]: ...


class DeliveryStates(Protocol):
    def states(self, keys: Sequence[str]) -> dict[str, str]:
        """The state of each delivery key already queued (the outbox)."""
        ...


class RitualStore(OpenerStore, PulseStore, AmbassadorStore, Protocol):
    """What the rituals keep; storage.rituals.SqlRituals implements it."""


ChannelMap = Callable[[tuple[str, ...]], Mapping[tuple[str, str], str]]


class Rituals:
    def __init__(
        self,
        *,
        config: CxConfig,
        store: RitualStore,
        stories: StoryReader,
        stats: StatsReader,
        outbox: OutboxWriter,
        channels: ChannelMap,
        hasher: IdentifierHasher,
        deliveries: DeliveryStates | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.stories = stories
        self.stats = stats
        self.outbox = outbox
        self.channels = channels
        self.hasher = hasher
        self.deliveries = deliveries  # which pulse questions went out (a plain reply answers only an asked one)

    # --- who ----------------------------------------------------------------------------------------------------

    def ambassadors(self) -> list[AmbassadorRow]:
        """Configured and added ambassadors, config order, without repeats."""
        rows = [
            AmbassadorRow(department=d.name, platform=user_platform(user), user_id=user, configured=True)
            for d in self.config.departments
            for user in d.ambassadors
        ]
        seen = {(r.department, r.platform, r.user_id) for r in rows}
        known = set(self.config.department_names)
        for row in self.store.added_ambassadors():
            if (row.department, row.platform, row.user_id) not in seen and row.department in known:
                rows.append(row)
                seen.add((row.department, row.platform, row.user_id))
        return rows

    def channel_department(self, *, platform: str, channel: str | None) -> str | None:
        if not channel:
            return None
        for (department, where), linked in self.channels((platform,)).items():
            if where == platform and linked == channel:
                return department
        return None

    # --- planning -----------------------------------------------------------------------------------------------

    def plan(self, now: datetime) -> list[Outgoing]:
        """Every ritual DM due at ``now``; keys make planning again a no-op."""
        return [*self.plan_pulse(now), *self.plan_ambassador_stories(now), *self.plan_ambassador_summaries(now)]

    def queue(self, now: datetime) -> int:
        """Plan and queue what is due (the scheduler's ``rituals`` job); how many deliveries were new."""
        items = self.plan(now)
        return self.outbox.enqueue(items) if items else 0

    def _department(self, name: str) -> Department:
        try:
            return self.config.department(name)
        except KeyError:
            return self.config.department(self.config.default_department)

    def _pulse_month(self, member: PulseMember, now: datetime) -> str:
        """The month in the member's department's timezone: what one question and one answer are per."""
        return month_of(now.astimezone(ZoneInfo(self._department(member.department).timezone)))

    @staticmethod
    def _pulse_key(member: PulseMember, month: str) -> str:
        return f"pulse:{month}:{member.platform}:{member.user_id}"

    def plan_pulse(self, now: datetime) -> list[Outgoing]:
        result = []
        for member in self.store.pulse_members():
            local = now.astimezone(ZoneInfo(self._department(member.department).timezone))
            if local.day == 1 and local.hour < self.config.nudges.hour:
                continue
            prefix = COMMAND_PREFIX.get(member.platform, "cx")
            how = f"{prefix} pulse answer <your words>"
            how = f"a reply here (or {how})"
            text = (
                f"Once a month, one question, anonymous: {QUESTION}\n"
                f"Answer with {how}. I keep only whether your answer mentions "
                "customers, counted for your department: not your words, not who said what."
            )
            result.append(
                Outgoing(
                    key=self._pulse_key(member, month_of(local)),
                    kind="dm",
                    platform=member.platform,
                    channel=member.user_id,
                    payload={"text": text},
                )
            )
        return result

    def plan_ambassador_stories(self, now: datetime) -> list[Outgoing]:
        result = []
        by_department: dict[str, list[AmbassadorRow]] = {}
        for row in self.ambassadors():
            by_department.setdefault(row.department, []).append(row)
        for name, rows in by_department.items():
            department = self.config.department(name)
            schedule = Schedule.of(department)
            slot = schedule.latest_slot(now)
            if slot is None or now - slot.at >= STORIES_CATCH_UP:
                continue
            previous = schedule.latest_slot(slot.at - timedelta(seconds=1))
            since = previous.at if previous is not None else slot.at - timedelta(days=1)
            stories = self.stories.stories_for_department(department=name, since=since, until=slot.at)
            if not stories:
                continue
            chosen = choose_stories(stories, limit=department.digest_size)
            for row in rows:
                result.append(
                    Outgoing(
                        key=f"ambassador:{name}:{row.platform}:{row.user_id}:{slot.label}",
                        kind="dm",
                        platform=row.platform,
                        channel=row.user_id,
                        department=name,
                        payload={
                            "text": ambassador_stories_text(name, chosen, total=len(stories), platform=row.platform)
                        },
                    )
                )
        return result

    def plan_ambassador_summaries(self, now: datetime) -> list[Outgoing]:
        result = []
        for row in self.ambassadors():
            department = self.config.department(row.department)
            zone = ZoneInfo(department.timezone)
            local = now.astimezone(zone)
            if local.day > SUMMARY_CATCH_UP_DAYS or (local.day == 1 and local.hour < self.config.nudges.hour):
                continue
            start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            last_start = (start - timedelta(days=1)).replace(day=1)
            last_month = month_of(last_start)
            result.append(
                Outgoing(
                    key=f"ambassador-summary:{row.department}:{row.platform}:{row.user_id}:{last_month}",
                    kind="dm",
                    platform=row.platform,
                    channel=row.user_id,
                    department=row.department,
                    payload={"text": self.summary_text(row.department, since=last_start, until=start)},
                )
            )
        return result

    def summary_text(self, department: str, *, since: datetime, until: datetime) -> str:
        """Last month for an ambassador: what reached the department, what it did, and its pulse."""
        figures = self.stats.period_figures(department=department, since=since, until=until)
        median = statistics.median(figures.days_to_close) if figures.days_to_close else None
        month = since.strftime("%B %Y")
        lines = [
            f"{department} in {month}, for you as its customer ambassador:",
            f"• {figures.stories_delivered} stories delivered, {figures.reactions} reactions",
            f"• {figures.commitments_opened} follow-ups committed, {figures.commitments_closed} done"
            + (f" (median {median:.1f} days to close)" if median is not None else ""),
        ]
        counts = [c for c in self.store.pulse_counts(since_month=month_of(since)) if c.department == department]
        count = next((c for c in counts if c.month == month_of(since)), None)
        if count is not None and count.answers >= MIN_ANSWERS:
            share = round(100 * count.customers / count.answers)
            lines.append(f"• Pulse: {share}% of {count.answers} answers said their work is for customers")
        return "\n".join(lines)

    # --- the commands ---------------------------------------------------------------------------------------------

    def opener(self, *, actor: Actor, channel: str | None, department: str | None, key: str, now: datetime) -> View:
        """Post the most vivid recent story of the department in ``channel`` (see stories.opener)."""
        prefix = COMMAND_PREFIX.get(actor.platform, "cx")
        if not channel:
            return Notice(f"Type {prefix} opener in the meeting's channel: the story is posted there for everyone.")
        department = (
            department
            or self.channel_department(platform=actor.platform, channel=channel)
            or next(iter(managed_departments(self.config, actor)), None)
        )
        if department is None:
            return Notice(f"Which department's meeting? Say it: {prefix} opener <department>.")
        chosen = self.store.opener(key)
        if chosen is None:
            since, until = window(now)
            used = self.store.recent_openers(
                platform=actor.platform, channel=channel, since=now - timedelta(days=OPENER_REPEAT_DAYS)
            )
            story = choose_opener(
                self.stories.stories_for_department(department=department, since=since, until=until),
                exclude=used,
                now=now,
            )
            if story is None:
                return Notice(
                    f"No vivid story for {department} in the last 30 days that this channel has not seen yet "
                    "(vivid: news, at least a few sentences, strongly felt)."
                )
            chosen = self.store.record_opener(
                key=key,
                platform=actor.platform,
                channel=channel,
                story_id=story.story_id,
                department=department,
                now=now,
            )
        self.outbox.enqueue(
            [
                Outgoing(
                    key=f"opener:{chosen.id}",
                    kind="story",
                    platform=actor.platform,
                    channel=channel,
                    story_id=chosen.story_id,
                    department=chosen.department,
                )
            ]
        )
        log.info("opener: story %s for %s (%s)", chosen.story_id, chosen.department, actor.platform)
        return Notice(f"A customer story for {chosen.department}'s meeting is posted here (story #{chosen.story_id}).")

    def pulse_answer(self, *, actor: Actor, answer: str, now: datetime) -> View:
        """Count an answer (once per person and month) and forget it; only sample members are counted."""
        member = self.store.pulse_member(platform=actor.platform, user_id=actor.user_id)
        if member is None:
            return Notice("Thank you! The pulse counts answers from the people the CX team asked this month.")
        answer = clean_text(answer)[:MAX_ANSWER]
        if not answer.strip():
            return Notice("Write your answer after the command: who is your work for?")
        month = self._pulse_month(member, now)
        digest = self._pulse_digest(actor, month)
        counted = self.store.count_pulse_answer(
            digest=digest, month=month, department=member.department, customers=mentions_customers(answer)
        )
        if not counted:
            return Notice("You already answered this month's pulse; thank you. It asks again next month.")
        return Notice("Thank you. Only whether your answer mentions customers was counted; your words are not kept.")

    def _pulse_digest(self, actor: Actor, month: str) -> str:
        """The keyed hash that stands for "this person answered this month" (nothing else is kept of who)."""
        return self.hasher.digest(PULSE_HASH_KIND, f"{actor.platform}:{actor.user_id}\x00{month}")

    def pulse_reply(self, *, actor: Actor, text: str, now: datetime) -> View | None:
        """A plain message in the bot's chat is the pulse answer when this month's question went to its sender
        and they have not answered yet; otherwise None (it is not for the pulse)."""
        member = self.store.pulse_member(platform=actor.platform, user_id=actor.user_id)
        if member is None or self.deliveries is None or not text.strip():
            return None
        month = self._pulse_month(member, now)
        key = self._pulse_key(member, month)
        if self.deliveries.states([key]).get(key) != "sent":
            return None
        if self.store.pulse_answered(self._pulse_digest(actor, month)):
            return None
        return self.pulse_answer(actor=actor, answer=text, now=now)

    def pulse_trend(self, *, now: datetime) -> View:
        month = month_of(now)
        counts = self.store.pulse_counts(since_month=months_back(month, TREND_MONTHS - 1))
        if not counts:
            return Notice(f"Pulse ({QUESTION}): no answers yet.")
        lines = trend_lines(counts)
        return Notice(
            f"Pulse, “{QUESTION}”: share of answers that mention customers, by month "
            f"(shown from {MIN_ANSWERS} answers)\n" + "\n".join(lines)
        )


def ambassador_stories_text(department: str, stories: Sequence[StoryView], *, total: int, platform: str) -> str:
    """The ambassador's DM: the chosen stories, one line each (title, then the story's opening words)."""
    prefix = COMMAND_PREFIX.get(platform, "cx")
    lines = [f"New customer stories for {department} ({total}), for you as its customer ambassador:"]
    for story in stories:
        lines.append(f"• #{story.story_id} {story.title}: {truncate(' '.join(story.text.split()), STORY_CHARS)}")
    if total > len(stories):
        lines.append(f"…and {total - len(stories)} more in {department}'s channel.")
    lines.append(f"Follow one up with {prefix} commit #<story> <what you will do>.")
    return "\n".join(lines)


# --- command handlers (the table in stories/commands.py names them) ------------------------------------------


def _mentions(commands: Commands, ctx: CommandContext, args: str) -> tuple[list[tuple[str, str]], str]:
    """The @-mentions leading ``args`` as ``(user id, display)``, and the words after them."""
    from stories.commands import take_mention

    people: list[tuple[str, str]] = []
    rest = args
    while rest and (found := take_mention(ctx, rest)) is not None:
        people.append((found[0], found[1]))
        rest = found[2]
    return people, rest.strip()


def _rituals(commands: Commands) -> Rituals | None:
    return commands.rituals


def opener_command(commands: Commands, ctx: CommandContext, args: str) -> View:
    from stories.commands import resolve_department

    rituals = _rituals(commands)
    if rituals is None:
        return Notice("Meeting openers are not set up here.")
    department = resolve_department(commands.config, args) if args else None
    return rituals.opener(
        actor=ctx.actor,
        channel=ctx.channel,
        department=department,
        key=commands.key(ctx, f"opener {args}"),
        now=commands.clock(),
    )


def pulse_command(commands: Commands, ctx: CommandContext, args: str) -> View:
    from stories.commands import Usage, resolve_department

    rituals = _rituals(commands)
    if rituals is None:
        return Notice("The pulse is not set up here.")
    word, _, rest = args.partition(" ")
    word, rest = word.casefold(), rest.strip()
    if word == "answer":
        return rituals.pulse_answer(actor=ctx.actor, answer=rest, now=commands.clock())
    if not word:
        return rituals.pulse_trend(now=commands.clock())
    if not is_cx_team(commands.config, ctx.actor):
        return Notice("The pulse sample is chosen by the CX team; ask them to add you.")
    store = rituals.store
    if word == "list":
        members = [m for m in store.pulse_members() if m.platform == ctx.actor.platform]
        if not members:
            return Notice("Nobody is in the pulse sample yet.")
        by_department: dict[str, list[str]] = {}
        for m in members:
            by_department.setdefault(m.department, []).append(_person(m.user_id))
        return Notice("Pulse sample: " + "; ".join(f"{d}: {', '.join(u)}" for d, u in sorted(by_department.items())))
    if word not in ("add", "remove"):
        raise Usage(
            "use “pulse”, “pulse answer <words>”, “pulse add @person… [department]”, “pulse remove @person…”"
            " or “pulse list”"
        )
    people, rest = _mentions(commands, ctx, rest)
    if not people:
        raise Usage(f"mention the people to {word}, e.g. “pulse {word} @dana”")
    now = commands.clock()
    if word == "remove":
        removed = [d for user, d in people if store.remove_pulse_member(platform=ctx.actor.platform, user_id=user)]
        return Notice(f"Removed from the pulse sample: {', '.join(removed) or 'nobody (they were not in it)'}.")
    named = resolve_department(commands.config, rest) if rest else None
    added, unknown = [], []
    for user, display in people:
        department = named or next(iter(managed_departments(commands.config, Actor(ctx.actor.platform, user))), None)
        if department is None:
            unknown.append(display)
            continue
        store.add_pulse_member(
            PulseMember(platform=ctx.actor.platform, user_id=user, department=department),
            added_by=ctx.actor.user_id,
            now=now,
        )
        added.append(f"{display} ({department})")
    text = f"In the pulse sample: {', '.join(added)}." if added else ""
    if unknown:
        text += f" Say the department of {', '.join(unknown)}: pulse add @person <department>."
    return Notice(text.strip())


def ambassador_command(commands: Commands, ctx: CommandContext, args: str) -> View:
    from stories.commands import Usage, resolve_department

    rituals = _rituals(commands)
    if rituals is None:
        return Notice("Ambassadors are not set up here.")
    word, _, rest = args.partition(" ")
    word, rest = word.casefold(), rest.strip()
    if word in ("", "list"):
        rows = rituals.ambassadors()
        if not rows:
            return Notice("No ambassadors yet: ambassador add @person <department>.")
        by_department: dict[str, list[str]] = {}
        for row in rows:
            mark = " (configuration)" if row.configured else ""
            by_department.setdefault(row.department, []).append(_person(row.user_id) + mark)
        return Notice("Ambassadors: " + "; ".join(f"{d}: {', '.join(u)}" for d, u in by_department.items()))
    if word not in ("add", "remove"):
        raise Usage("use “ambassador list”, “ambassador add @person… <department>” or “ambassador remove @person…”")
    people, rest = _mentions(commands, ctx, rest)
    if not people:
        raise Usage(f"mention the people to {word}, e.g. “ambassador {word} @dana finance”")
    department = resolve_department(commands.config, rest) if rest else None
    store = rituals.store
    if word == "add":
        if department is None:
            raise Usage("say the department, e.g. “ambassador add @dana finance”")
        for user, _display in people:
            store.add_ambassador(
                department=department,
                platform=ctx.actor.platform,
                user_id=user,
                added_by=ctx.actor.user_id,
                now=commands.clock(),
            )
        names = ", ".join(d for _, d in people)
        return Notice(
            f"{names} now get{'s' if len(people) == 1 else ''} {department}'s stories by DM, and a monthly summary."
        )
    configured = {u for d in commands.config.departments if department in (None, d.name) for u in d.ambassadors}
    notes = []
    for user, display in people:
        removed = store.remove_ambassador(department=department, platform=ctx.actor.platform, user_id=user)
        if user in configured:
            notes.append(
                f"{display} is an ambassador in the configuration file (departments[].ambassadors): remove them there"
            )
        elif removed:
            notes.append(f"{display} is no longer an ambassador{f' of {department}' if department else ''}")
        else:
            notes.append(f"{display} was not an ambassador{f' of {department}' if department else ''}")
    return Notice("; ".join(notes) + ".")


def _person(user_id: str) -> str:
    """A user as plain text (views carry no mention markup): their id."""
    return user_id
