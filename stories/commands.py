"""The one table of `/cx` commands, shared by Slack (`/cx ...`) and Teams (`cx ...`).

Connectors parse a platform request into a :class:`CommandContext` plus the text after the command word,
call :meth:`Commands.run` (sync: from async code via ``asyncio.to_thread``) and render the view it returns.
Help, the Slack manifest and the Teams manifest are generated from / checked against :data:`COMMANDS`.
``run`` never raises for anything a person types: unknown or malformed input answers with help and a notice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stories.actors import Actor, is_admin, is_cx_team, managed_departments
from stories.config import CxConfig
from stories.dates import InvalidDate, split_due
from stories.followthrough import FollowThroughReader, all_departments
from stories.followup import FollowUpStore, InvalidInput, commit
from stories.home import DepartmentStories, NoStories, home_command
from stories.kudos import KudosStore, give_kudos, praise_suggestions
from stories.kudos_board import KudosBoardReader, run_top
from stories.kudos_optout import KudosOptOuts, run_optin, run_optout
from stories.models import MAX_ID, IncomingComment, InvalidComment, Origin
from stories.outbox import OutboxWriter
from stories.pipeline import IngestReport
from stories.ports import Redactor
from stories.rituals import Rituals, ambassador_command, opener_command, pulse_command
from stories.stats import DAYS, StatsReader, build_stats
from stories.views import (
    COMMAND_PREFIX,
    ActionsView,
    CommandHelp,
    HelpView,
    Notice,
    StoryRouted,
    View,
    Who,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 10
PRAISE_DAYS = 14
PLATFORMS = ("slack", "teams")


class Usage(ValueError):
    """Input a person typed that the command cannot use; the message says what to type instead."""


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who runs a command, and where.

    ``mentions`` maps each @-mention as it appears in the text to a user id; the connector rewrites its
    platform's mention markup to a plain ``@Name`` token first (Slack ``<@U1|dana>`` -> ``@dana``, Teams
    ``<at>Dana Smith</at>`` -> ``@Dana Smith``). ``request_id`` is the platform's identity of the request
    (Slack ``trigger_id``, Teams activity id): it makes writes idempotent across retries.
    """

    actor: Actor
    channel: str | None
    thread_story_id: int | None
    mentions: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    workspace: str | None = None  # Slack team id, Teams tenant id: where a direct message back should go


CommentIntake = Callable[[Iterable[IncomingComment]], IngestReport]
"""Takes comments in: ``Pipeline.ingest``, or the app's ``take_in``, which also posts at once where due."""


class ChannelLinker(Protocol):
    def link_channel(self, *, department: str, platform: str, channel: str) -> None:
        """Make ``channel`` the department's channel on ``platform`` (Teams `cx link`)."""
        ...


class CommandStore(
    FollowUpStore, KudosStore, KudosBoardReader, KudosOptOuts, StatsReader, FollowThroughReader, ChannelLinker, Protocol
):
    """Everything the commands read and write; storage.command_store.SqlCommandStore implements it."""


Handler = Callable[["Commands", CommandContext, str], View]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str  # arguments, e.g. "[department | @user | mine | overdue] [page N]"
    summary: str
    who: Who
    run: Handler
    platforms: tuple[str, ...] = PLATFORMS

    @property
    def help(self) -> CommandHelp:
        usage = f"{self.name} {self.usage}".strip()
        return CommandHelp(name=self.name, usage=usage, summary=self.summary, who=self.who)


class Commands:
    """The `/cx` commands, built once with their ports."""

    def __init__(
        self,
        *,
        config: CxConfig,
        store: CommandStore,
        outbox: OutboxWriter,
        intake: CommentIntake,
        redactor: Redactor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone: str | None = None,
        rituals: Rituals | None = None,
        stories: DepartmentStories | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.stories = stories or NoStories()  # departments' recent stories (the home); none in unit tests
        self.outbox = outbox
        self.intake = intake
        self.redactor = redactor  # what employees type about customers (commitments, kudos) is redacted too
        self.clock = clock
        self.rituals = rituals  # the meeting opener, the pulse and ambassadors (stories/rituals.py)
        default = timezone or config.department(config.default_department).timezone
        self.timezone = ZoneInfo(default)

    def run(self, ctx: CommandContext, text: str) -> View:
        """Run one command line (the text after `/cx` or `cx`)."""
        words = text.strip().split(maxsplit=1)
        if words and words[0].casefold() in ("cx", "/cx"):
            words = words[1].split(maxsplit=1) if len(words) > 1 else []
        if not words:
            return self.help(ctx.actor.platform)
        name, args = words[0].casefold(), (words[1] if len(words) > 1 else "")
        spec = self.spec(name, ctx.actor.platform)
        sub = args.split(maxsplit=1)
        if sub and (two_words := self.spec(f"{name} {sub[0].casefold()}", ctx.actor.platform)):
            spec, args = two_words, (sub[1] if len(sub) > 1 else "")  # "kudos top": a command of its own
        if spec is None:
            return self.help(ctx.actor.platform, notice=f"There is no “{truncate_word(name)}” command.")
        if spec.who == "cx_team" and not is_cx_team(self.config, ctx.actor):
            return Notice(
                f"Sorry, {self.prefix(ctx)} {spec.name} is for the CX team only. "
                "Ask them: they will be glad to pass it on."
            )
        if spec.who == "admin" and not is_admin(self.config, ctx.actor):
            return Notice(f"Only an admin or the CX team can use {self.prefix(ctx)} {spec.name}.")
        try:
            return spec.run(self, ctx, args.strip())
        except (Usage, InvalidInput, InvalidDate, InvalidComment) as exc:
            message = exc.message if isinstance(exc, InvalidInput | InvalidComment) else str(exc)
            log.info("command %s refused input (%s)", spec.name, type(exc).__name__)
            return HelpView(commands=(spec.help,), notice=_sentence(message))

    def direct_reply(self, actor: Actor, text: str) -> View | None:
        """A message someone typed in their chat with the bot that is not a command: the answer to this month's
        pulse question if one is awaited from them (stories/rituals.py), else None (the connector shows help).
        Both platforms call it: Teams for any message in its chat, Slack for ``message.im`` (handlers/slack/direct.py)."""
        if self.rituals is None:
            return None
        return self.rituals.pulse_reply(actor=actor, text=text, now=self.clock())

    def spec(self, name: str, platform: str) -> CommandSpec | None:
        for spec in COMMANDS:
            if spec.name == name and platform in spec.platforms:
                return spec
        return None

    def help(self, platform: str, *, notice: str | None = None) -> HelpView:
        return HelpView(commands=tuple(s.help for s in COMMANDS if platform in s.platforms), notice=notice)

    def today(self, actor: Actor) -> date:
        """The actor's local date (their timezone if the platform said, else the default department's)."""
        zone = self.timezone
        if actor.timezone:
            try:
                zone = ZoneInfo(actor.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.clock().astimezone(zone).date()

    def key(self, ctx: CommandContext, text: str) -> str:
        """The idempotency key of a write: the platform's request identity, or lacking one the same person
        typing the same thing in the same minute (a double submit)."""
        if ctx.request_id:
            return f"cmd:{ctx.actor.platform}:{ctx.request_id}"[:200]
        minute = self.clock().astimezone(UTC).strftime("%Y%m%d%H%M")
        digest = hashlib.sha256(f"{ctx.actor.user_id}\x00{text}\x00{minute}".encode()).hexdigest()[:32]
        return f"cmd:{ctx.actor.platform}:h:{digest}"

    def prefix(self, ctx: CommandContext) -> str:
        return COMMAND_PREFIX.get(ctx.actor.platform, "cx")


# --- argument helpers ----------------------------------------------------------------------------------------


def truncate_word(word: str, limit: int = 30) -> str:
    return word if len(word) <= limit else word[: limit - 1] + "…"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


_NAME_QUOTES = "\"'“”‘’«»<>[]"


def resolve_department(config: CxConfig, query: str) -> str:
    """A department by name, case-insensitively: exact, else a unique prefix of its name or of one of its words.
    Quotes or brackets around the name (``"Finance & Billing"``, ``<finance>`` copied from the help) are ignored."""
    wanted = " ".join(query.strip().strip(_NAME_QUOTES).split()).casefold()
    names = config.department_names
    for name in names:
        if name.casefold() == wanted:
            return name
    for matches in (
        [n for n in names if n.casefold().startswith(wanted)],
        [n for n in names if any(w.startswith(wanted) for w in re.split(r"[\s&/,-]+", n.casefold()))],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Usage(f"“{truncate_word(query)}” could be {_or(matches)}; type more of the name")
    raise Usage(f"there is no department “{truncate_word(query)}”; try {_or(names)}")


def _or(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else (names[0] if names else "nothing")


def take_mention(ctx: CommandContext, text: str) -> tuple[str, str, str] | None:
    """``(user_id, display, rest)`` when ``text`` starts with a mention the connector resolved."""
    for token in sorted(ctx.mentions, key=len, reverse=True):
        if token and text.startswith(token) and (len(text) == len(token) or not text[len(token)].isalnum()):
            return ctx.mentions[token], token.lstrip("@").strip(), text[len(token) :].strip()
    return None


_PAGE = re.compile(r"(?:^|\s)page\s+(-?\d+)\s*$", re.I)
_OWNER_TOKEN = re.compile(r"^user:(\S+)(?:\s+|$)")  # how ActionsView.filter names a person (buttons)


@dataclass(frozen=True, slots=True)
class ActionsQuery:
    departments: tuple[str, ...] | None
    owner: str | None
    owner_display: str | None
    overdue: bool
    page: int
    filter: str


def parse_actions(commands: Commands, ctx: CommandContext, args: str) -> ActionsQuery:
    """``[department | @user | mine | overdue] [page N]``; no scope: a manager's departments, else mine."""
    page = 1
    if match := _PAGE.search(args):
        if len(match[1]) > 9:  # more pages than any list has (and int() refuses thousands of digits)
            raise Usage("that page number is too large")
        page = int(match[1])
        if page < 1:
            raise Usage("pages start at 1")
        args = args[: match.start()].strip()
    overdue = False
    owner: str | None = None
    display: str | None = None
    words: list[str] = []
    rest = args
    while rest:
        if mention := take_mention(ctx, rest):
            owner, display, rest = mention
            continue
        if token := _OWNER_TOKEN.match(rest):
            owner, display, rest = token[1], None, rest[token.end() :]
            continue
        word, _, rest = rest.partition(" ")
        rest = rest.strip()
        folded = word.casefold()
        if folded == "overdue":
            overdue = True
        elif folded in ("mine", "me", "my"):
            owner, display = ctx.actor.user_id, "you"
        elif word.startswith("@"):
            raise Usage(f"I can't tell who {truncate_word(word)} is; pick them from the @-mention list")
        else:
            words.append(word)
    departments: tuple[str, ...] | None = None
    if words:
        if owner is not None:
            raise Usage("list one person's or one department's commitments, not both")
        departments = (resolve_department(commands.config, " ".join(words)),)
    elif owner is None:
        managed = managed_departments(commands.config, ctx.actor)
        if managed:
            departments = managed
        else:
            owner, display = ctx.actor.user_id, "you"
    scope = f"user:{owner}" if owner is not None else " ".join(departments or ())
    return ActionsQuery(
        departments=departments,
        owner=owner,
        owner_display=display,
        overdue=overdue,
        page=page,
        filter=" ".join(p for p in (scope, "overdue" if overdue else "") if p),
    )


# --- the commands ---------------------------------------------------------------------------------------------


def _help(commands: Commands, ctx: CommandContext, args: str) -> View:
    return commands.help(ctx.actor.platform)


def _actions(commands: Commands, ctx: CommandContext, args: str) -> View:
    query = parse_actions(commands, ctx, args)
    today = commands.today(ctx.actor)
    found = commands.store.commitments_page(
        today=today,
        departments=query.departments,
        owner=query.owner,
        overdue=query.overdue,
        page=query.page,
        size=PAGE_SIZE,
    )
    if query.owner is not None:
        whose = (
            "Your"
            if query.owner == ctx.actor.user_id
            else (f"{query.owner_display}’s" if query.owner_display else "Their")
        )
        heading = f"{whose} open commitments"
    else:
        heading = f"Open commitments: {', '.join(query.departments or ())}"
    if query.overdue:
        heading += " (overdue)"
    return ActionsView(
        heading=heading,
        items=found.items,
        page=found.page,
        pages=found.pages,
        filter=query.filter,
        total=found.total,
        owner=query.owner,
    )


_STORY_REF = re.compile(r"^#(\d{1,12})\s+")


def _commit(commands: Commands, ctx: CommandContext, args: str) -> View:
    """In a story's thread the story is known; anywhere else (Slack runs no slash command in a thread) the
    story's number comes first: ``commit #42 call her back by Friday``."""
    story_id = ctx.thread_story_id
    if (ref := _STORY_REF.match(args)) is not None:
        story_id, args = int(ref.group(1)), args[ref.end() :]
        if story_id > MAX_ID:
            raise Usage(f"there is no story #{story_id}")
    if story_id is None:
        return Notice(
            f"Say which story: {commands.prefix(ctx)} commit #<story number> <what you will do> [by <date>] "
            "(the number is on the story card), or use the story's “I'll follow up” button."
        )
    today = commands.today(ctx.actor)
    what, due = split_due(args, today=today)
    if not what:
        raise Usage("say what you will do, e.g. “commit #42 call the customer back by Friday”")
    item = commit(
        store=commands.store,
        outbox=commands.outbox,
        key=commands.key(ctx, f"commit {story_id} {args}"),
        story_id=story_id,
        department=_thread_department(commands, ctx, story_id),
        owner=ctx.actor.user_id,
        owner_name=ctx.actor.name,
        created_by=ctx.actor.user_id,
        platform=ctx.actor.platform,
        what=what,
        due=due,
        now=commands.clock(),
        redactor=commands.redactor,
        today=today,
        looking=commands.config.emoji_actions.looking,
    )
    return Notice(f"Noted: you will follow up: {item.what} ({item.due_label}). I told the story's thread.")


def _thread_department(commands: Commands, ctx: CommandContext, story_id: int) -> str | None:
    """The department whose message the thread is under; else one the actor manages; else the story's first."""
    brief = commands.store.story(story_id)
    if brief is None:
        raise Usage("that story no longer exists")
    for place in commands.store.story_places(story_id):
        if place.platform == ctx.actor.platform and place.channel == ctx.channel and place.department:
            if place.department in brief.departments:
                return place.department
    for department in managed_departments(commands.config, ctx.actor):
        if department in brief.departments:
            return department
    return brief.departments[0] if brief.departments else None


def _kudos_department(commands: Commands, ctx: CommandContext) -> str | None:
    """Kudos count for the department of the thread's story, else of the channel they were given in."""
    if ctx.thread_story_id is not None:
        return _thread_department(commands, ctx, ctx.thread_story_id)
    for department in commands.config.departments:
        if ctx.channel and ctx.channel in (*department.slack_places, department.teams_channel):
            return department.name
    return None


def _kudos(commands: Commands, ctx: CommandContext, args: str) -> View:
    now = commands.clock()
    if not args or args.casefold() in ("suggestions", "suggest", "ideas"):
        return praise_suggestions(
            store=commands.store, since=now - timedelta(days=PRAISE_DAYS), until=now, days=PRAISE_DAYS
        )
    mention = take_mention(ctx, args)
    if mention is None:
        raise Usage("mention the person first, e.g. “kudos @dana for calling the customer back the same day”")
    receiver, display, why = mention
    return give_kudos(
        store=commands.store,
        outbox=commands.outbox,
        config=commands.config,
        key=commands.key(ctx, f"kudos {args}"),
        giver=ctx.actor,
        receiver=receiver,
        receiver_name=display or None,
        why=why,
        story_id=ctx.thread_story_id,
        department=_kudos_department(commands, ctx),
        now=now,
        redactor=commands.redactor,
    )


def _stats(commands: Commands, ctx: CommandContext, args: str) -> View:
    if args.casefold() == "all":  # a department named "All…" is reached by more of its name
        return all_departments(
            config=commands.config, reader=commands.store, now=commands.clock(), today=commands.today(ctx.actor)
        )
    department = resolve_department(commands.config, args) if args else None
    return build_stats(reader=commands.store, department=department, now=commands.clock(), days=DAYS)


def _story(commands: Commands, ctx: CommandContext, args: str) -> View:
    if not args:
        raise Usage("paste the customer's comment after “story”")
    comment = IncomingComment(
        text=args,
        source=f"{ctx.actor.platform}:manual",
        external_id=ctx.request_id[:150] if ctx.request_id else None,
        origin_channel=ctx.channel,
        platform_ids=True,  # the request's and channel's ids, made by Slack or Teams
        # who typed it hears by direct message when a commitment on its story is done (stories.loop)
        origin=Origin(
            platform=ctx.actor.platform,
            via="command",
            channel=ctx.channel or "",
            sender=ctx.actor.user_id,
            workspace=ctx.workspace,
        ),
    )
    report = commands.intake([comment])
    if report.rejected:
        raise Usage(f"{report.rejected[0].field} {report.rejected[0].message}")
    if not report.created:
        return Notice("I already have that comment; it was not added twice.")
    created = report.created[0]
    brief = commands.store.story(created.story_id)
    return StoryRouted(
        story_id=created.story_id,
        title=brief.title if brief else "",
        departments=created.departments,
        reasons=created.reasons,
    )


def _link(commands: Commands, ctx: CommandContext, args: str) -> View:
    if not args:
        raise Usage("name the department, e.g. “link finance”")
    if not ctx.channel:
        return Notice("Type this in the channel that should receive the department's stories.")
    department = resolve_department(commands.config, args)
    commands.store.link_channel(department=department, platform=ctx.actor.platform, channel=ctx.channel)
    log.info("linked a %s channel to %s", ctx.actor.platform, department)
    return Notice(f"This channel now receives {department}'s stories and digests.")


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("help", "", "What you can ask me.", "anyone", _help),
    CommandSpec(
        "actions",
        "[department | @user | mine | overdue] [page N]",
        "Open follow-up commitments, overdue first (managers see their departments').",
        "anyone",
        _actions,
    ),
    CommandSpec(
        "commit",
        "[#story] <what you will do> [by <date>]",
        "Commit to a follow-up: “commit #42 call her back by Friday” (in a story's thread, #42 may be left out).",
        "anyone",
        _commit,
    ),
    CommandSpec(
        "kudos",
        "@person <why>",
        "Thank someone publicly (CX team). With nothing after it: customer praise that names people.",
        "cx_team",
        _kudos,
    ),
    CommandSpec(
        "kudos top",
        "[department]",
        "This month's kudos: who was thanked by the most different people, and per department.",
        "anyone",
        run_top,
    ),
    CommandSpec("kudos optout", "", "Receive no public kudos; stay off the kudos board.", "anyone", run_optout),
    CommandSpec("kudos optin", "", "Receive public kudos again.", "anyone", run_optin),
    CommandSpec(
        "stats",
        "[department | all]",
        f"NPS, CSAT, stories, reactions, commitments (last {DAYS} days); “all”: departments ranked by follow-through.",
        "anyone",
        _stats,
    ),
    CommandSpec(
        "story", "<customer comment>", "Add a customer comment by hand; I say where it went.", "anyone", _story
    ),
    CommandSpec(
        "opener",
        "[department]",
        "Post one vivid recent customer story here to open a meeting (not repeated in this channel for 30 days).",
        "anyone",
        opener_command,
    ),
    CommandSpec(
        "pulse",
        "[answer <words> | add @person… [department] | remove @person… | list]",
        "The monthly anonymous pulse “Who is your work for?”: the trend, or answer it (sample: CX team).",
        "anyone",
        pulse_command,
    ),
    CommandSpec(
        "ambassador",
        "[list | add @person… <department> | remove @person… [department]]",
        "Department ambassadors: their department's stories by DM and a monthly summary (CX team).",
        "cx_team",
        ambassador_command,
    ),
    CommandSpec(
        "home",
        "",
        "Your open commitments, kudos you received and your departments' latest stories.",
        "anyone",
        home_command,
    ),
    CommandSpec(
        "link",
        "<department>",
        "Make this channel the department's channel for stories and digests (admins).",
        "admin",
        _link,
        platforms=("teams",),
    ),
)
