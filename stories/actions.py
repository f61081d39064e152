"""What people do to a story in chat, as one neutral action the core handles once.

A Slack reaction, button click or modal submission and a Teams reaction, card button or form submission are
all translated by their connector into one :class:`Action` (the way Rasa's ``InputChannel`` turns a webhook into
one ``UserMessage``); :meth:`Actions.handle` checks who may do it, does it, and answers with a neutral result
the connector renders: a form to show, a commitment, a notice, or the count of reactions changed. Neither
connector decides anything; if Slack and Teams ever need the same ``if``, it belongs here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from stories.actors import Actor, may_name_owner, may_reroute
from stories.config import CxConfig
from stories.followup import (
    FollowUpStore,
    InvalidInput,
    close,
    commit,
    note_updates,
    record_reaction,
    reroute,
    reroute_choice,
    reroute_refusal,
)
from stories.kudos import KudosStore, give_kudos
from stories.outbox import OutboxWriter
from stories.ports import Redactor
from stories.views import CommitmentItem, KudosView, Notice

log = logging.getLogger(__name__)

ActionKind = Literal["react", "unreact", "follow_up", "not_for_us", "commit", "reroute", "done", "drop", "give_kudos"]
KINDS: tuple[ActionKind, ...] = (
    "react",
    "unreact",
    "follow_up",
    "not_for_us",
    "commit",
    "reroute",
    "done",
    "drop",
    "give_kudos",
)
PRAISE_REASON = "for what a customer wrote about them"
GONE = Notice("That story no longer exists.")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A chat message an action was taken on (a story card or a digest): which stories it carries is the core's
    to look up, so a reaction or click is kept by story, never by platform message."""

    channel: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a person did. ``key`` is the platform's identity of it (Slack action or view id, Teams
    activity or form id): a re-route is recorded under it, so the same key twice moves the story once. A
    commitment's key is the core's own (:func:`commitment_key`), the same on both platforms; reactions and
    closing are idempotent on their rows.

    ``department`` is the department a form was opened for (carried in the form); ``values`` are the form's
    fields as typed: ``what``, ``due`` (ISO date), ``owner`` (a user id), ``owner_name``, ``to`` (a department),
    a reaction's ``emoji``, or for ``give_kudos`` the ``receiver`` picked (a user id) and the praised ``name``.
    """

    kind: ActionKind
    actor: Actor
    key: str
    story_id: int | None = None
    commitment_id: int | None = None
    message: MessageRef | None = None
    department: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        return self.actor.platform


@dataclass(frozen=True, slots=True)
class FollowUpForm:
    """Show the follow-up form: what, who (``owner`` preselected), by when."""

    story_id: int
    department: str | None
    owner: str
    owner_name: str | None


@dataclass(frozen=True, slots=True)
class RerouteForm:
    """Show the choice of department for a story that reached the wrong one."""

    story_id: int
    source: str
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reacted:
    changed: int  # reaction rows added or removed (0: a repeat, or a message carrying no story)


ActionResult = FollowUpForm | RerouteForm | CommitmentItem | KudosView | Notice | Reacted


class MessageStories(Protocol):
    def story_for_message(self, *, platform: str, channel: str, message_id: str) -> list[tuple[int, str | None]]:
        """``(story id, department)`` of each story a platform message carries (a digest carries several)."""
        ...

    def commitment_for_message(self, *, platform: str, channel: str, message_id: str) -> int | None:
        """The commitment whose thread reply ("… will follow up: …") this platform message is, if it is one."""
        ...


def commitment_key(*, platform: str, story_id: int, owner: str, what: str, due: date | None) -> str:
    """The same person committed to the same thing for the same story is one commitment, however it was
    submitted (a double-clicked button opens two forms; both may be sent)."""
    digest = hashlib.sha256(f"{' '.join(what.casefold().split())}\x00{due}".encode()).hexdigest()[:24]
    return f"{platform}:commit:{story_id}:{owner}:{digest}"


class Actions:
    """Handles every :class:`Action`, with its permission check; built once by the wiring."""

    def __init__(
        self,
        *,
        config: CxConfig,
        store: FollowUpStore,
        outbox: OutboxWriter,
        messages: MessageStories,
        today: Callable[[Actor], date],
        clock: Callable[[], datetime],
        redactor: Redactor,
        kudos: KudosStore | None = None,
    ) -> None:
        self.kudos = kudos  # the "Give kudos" button of customer praise; None: the button answers it is off
        self.redactor = redactor  # what employees type about customers is redacted like any comment
        self.config = config
        self.store = store
        self.outbox = outbox
        self.messages = messages
        self.today = today
        self.clock = clock

    def handle(self, action: Action) -> ActionResult:
        """Sync (it reads and writes the database): call it from a thread in async code."""
        try:
            match action.kind:
                case "react" | "unreact":
                    return self._react(action)
                case "follow_up":
                    return self._follow_up_form(action)
                case "not_for_us":
                    return self._reroute_form(action)
                case "commit":
                    return self._commit(action)
                case "reroute":
                    return self._reroute(action)
                case "done" | "drop":
                    return self._close(action)
                case "give_kudos":
                    return self._give_kudos(action)
        except InvalidInput as exc:
            return Notice(f"Not saved: {exc.message}. Fix it in the form and send it again.")
        raise ValueError(f"unknown action kind {action.kind!r}")

    # --- reactions --------------------------------------------------------------------------------------------

    def _react(self, action: Action) -> Reacted:
        emoji = action.values.get("emoji", "")
        acts = self.config.emoji_actions.action_for(emoji)
        if acts == "done" and action.kind == "react" and action.message is not None:
            commitment_id = self.messages.commitment_for_message(
                platform=action.platform, channel=action.message.channel, message_id=action.message.message_id
            )
            if commitment_id is not None:  # ✅ on a commitment's reply: done, as the Done button
                return self._done_by_emoji(action, commitment_id)
        changed: list[int] = []
        for story_id in self._carried(action):  # a digest carries several stories: the reaction is to each
            try:
                if record_reaction(
                    store=self.store,
                    story_id=story_id,
                    platform=action.platform,
                    user_id=action.actor.user_id,
                    emoji=emoji,
                    added=action.kind == "react",
                    now=self.clock(),
                ):
                    changed.append(story_id)
            except InvalidInput:
                log.info("%s reaction of an unusable type ignored", action.platform)
                break
        if acts == "looking":  # 👀: the story's cards show how many are looking into it
            self._show_looking(action, changed)
        return Reacted(len(changed))

    def _show_looking(self, action: Action, story_ids: list[int]) -> None:
        updates = []
        for story_id in story_ids:
            brief = self.store.story(story_id)
            if brief is not None:
                updates += note_updates(
                    self.store,
                    brief,
                    key=f"looking:{action.key}:{action.kind}:{story_id}",
                    today=self.today(action.actor),
                    looking=self.config.emoji_actions.looking,
                )
        if updates:
            self.outbox.enqueue(updates)

    def _done_by_emoji(self, action: Action, commitment_id: int) -> Reacted:
        """The Done button's rule (``may_close``) and effect; someone else's ✅ changes nothing."""
        result = close(
            store=self.store,
            outbox=self.outbox,
            config=self.config,
            commitment_id=commitment_id,
            by=action.actor,
            state="done",
            now=self.clock(),
            today=self.today(action.actor),
        )
        if isinstance(result, Notice):
            log.info("%s emoji on commitment %s changed nothing: %s", action.platform, commitment_id, result.text)
            return Reacted(0)
        return Reacted(1)

    def _carried(self, action: Action) -> list[int]:
        if action.message is None:
            return [action.story_id] if action.story_id is not None else []
        found = self.messages.story_for_message(
            platform=action.platform, channel=action.message.channel, message_id=action.message.message_id
        )
        return sorted({story_id for story_id, _ in found})

    def _clicked_department(self, action: Action, story_id: int) -> str | None:
        """The department named by the form, else by the message clicked (a story card or a digest)."""
        if action.department:
            return action.department
        if action.message is None:
            return None
        found = self.messages.story_for_message(
            platform=action.platform, channel=action.message.channel, message_id=action.message.message_id
        )
        return next((department for sid, department in found if sid == story_id), None)

    # --- follow up --------------------------------------------------------------------------------------------

    def _follow_up_form(self, action: Action) -> FollowUpForm | Notice:
        brief = self.store.story(action.story_id) if action.story_id is not None else None
        if brief is None or action.story_id is None:
            return GONE
        department = self._clicked_department(action, action.story_id)
        return FollowUpForm(
            story_id=action.story_id, department=department, owner=action.actor.user_id, owner_name=action.actor.name
        )

    def _commit(self, action: Action) -> CommitmentItem | Notice:
        brief = self.store.story(action.story_id) if action.story_id is not None else None
        if brief is None or action.story_id is None:
            return GONE
        actor, values = action.actor, action.values
        owner = values.get("owner", "").strip() or actor.user_id
        department = action.department or (brief.departments[0] if brief.departments else None)
        if owner != actor.user_id and not may_name_owner(self.config, actor, department):
            return Notice(
                "Only the department's managers or the CX team can name someone else to follow up; "
                "pick yourself, or ask them."
            )
        due_text = values.get("due", "").strip()
        try:
            due = date.fromisoformat(due_text) if due_text else None
        except ValueError:
            raise InvalidInput("due", "pick the due date from the calendar") from None
        what = values.get("what", "")
        owner_name = values.get("owner_name", "").strip()[:100] or (actor.name if owner == actor.user_id else None)
        return commit(
            store=self.store,
            outbox=self.outbox,
            key=commitment_key(platform=action.platform, story_id=action.story_id, owner=owner, what=what, due=due),
            story_id=action.story_id,
            department=action.department,
            owner=owner,
            owner_name=owner_name,
            created_by=actor.user_id,
            platform=action.platform,
            what=what,
            due=due,
            now=self.clock(),
            redactor=self.redactor,
            today=self.today(actor),
            looking=self.config.emoji_actions.looking,
        )

    # --- not for us -------------------------------------------------------------------------------------------

    def _reroute_form(self, action: Action) -> RerouteForm | Notice:
        brief = self.store.story(action.story_id) if action.story_id is not None else None
        if brief is None or action.story_id is None:
            return GONE
        choice = reroute_choice(self.config, brief, clicked=self._clicked_department(action, action.story_id))
        if choice.source is None:
            return Notice("That story is with no department, so there is nothing to move.")
        if not may_reroute(self.config, action.actor, choice.source):
            return reroute_refusal(choice.source)
        if not choice.targets:
            return Notice("Sorry, there is no other department to send this story to.")
        return RerouteForm(story_id=action.story_id, source=choice.source, targets=choice.targets)

    def _reroute(self, action: Action) -> Notice:
        brief = self.store.story(action.story_id) if action.story_id is not None else None
        if brief is None or action.story_id is None:
            return GONE
        source = reroute_choice(self.config, brief, clicked=action.department).source
        if source is None:
            return Notice("That story is with no department, so there is nothing to move.")
        target = action.values.get("to", "").strip()
        if not target:
            raise InvalidInput("department", "pick a department")
        return reroute(
            store=self.store,
            outbox=self.outbox,
            config=self.config,
            key=action.key,
            story_id=action.story_id,
            from_department=source,
            to_department=target,
            by=action.actor,
            now=self.clock(),
        )

    # --- done, drop -------------------------------------------------------------------------------------------

    def _close(self, action: Action) -> CommitmentItem | Notice:
        if action.commitment_id is None:
            return Notice("That button is out of date; list the commitments again.")
        return close(
            store=self.store,
            outbox=self.outbox,
            config=self.config,
            commitment_id=action.commitment_id,
            by=action.actor,
            state="done" if action.kind == "done" else "dropped",
            now=self.clock(),
            today=self.today(action.actor),
        )

    # --- give kudos (customer praise) -------------------------------------------------------------------------

    def _give_kudos(self, action: Action) -> KudosView | Notice:
        """The "Give kudos" button of customer praise: kudos to the person picked, linked to the praise story.

        Keyed by story and receiver, so clicking twice, or two CX team members clicking, thanks them once.
        """
        brief = self.store.story(action.story_id) if action.story_id is not None else None
        if brief is None or action.story_id is None:
            return GONE
        if self.kudos is None:
            return Notice("Kudos are not switched on here.")
        receiver = action.values.get("receiver", "").strip()
        name = action.values.get("name", "").strip()[:100]
        if not receiver:
            return Notice(f"First pick who {name or 'the customer meant'} is, then click “Give kudos”.")
        return give_kudos(
            store=self.kudos,
            outbox=self.outbox,
            config=self.config,
            key=f"{action.platform}:praise-kudos:{action.story_id}:{receiver}",
            giver=action.actor,
            receiver=receiver,
            receiver_name=action.values.get("receiver_name", "").strip()[:100] or name or None,
            why=PRAISE_REASON,
            story_id=action.story_id,
            department=brief.departments[0] if brief.departments else None,
            now=self.clock(),
            redactor=self.redactor,
        )
