"""What commands and follow-up actions answer, as plain values the Slack and Teams renderers lay out.

Everything is plain text: no markup, no mentions syntax. Renderers escape it for their markup and may turn
user ids (``owner``, ``giver``, ``receiver``) into mentions, since they know the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from stories.models import StoryView

CommitmentState = Literal["open", "done", "dropped"]
Who = Literal["anyone", "cx_team", "admin"]

COMMAND_PREFIX = {"slack": "/cx", "teams": "cx"}  # how people type the command on each platform


@dataclass(frozen=True, slots=True)
class Notice:
    """A short answer: a confirmation, a refusal, or what was wrong with the input."""

    text: str


@dataclass(frozen=True, slots=True)
class CommandHelp:
    name: str
    usage: str  # the whole line after the prefix, name included: "actions [department | ...] [page N]"
    summary: str
    who: Who = "anyone"


@dataclass(frozen=True, slots=True)
class HelpView:
    """The command list; ``notice`` says why help is shown when the input was not understood."""

    commands: tuple[CommandHelp, ...]
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class CommitmentItem:
    """One commitment as lists and nudges show it. ``owner`` is a user id on ``platform``."""

    id: int
    story_id: int | None
    story_title: str | None
    department: str | None
    owner: str
    what: str
    due: date | None
    age_days: int
    overdue: bool
    state: CommitmentState
    platform: str
    due_label: str  # "due Fri 4 Dec", "overdue since Mon 30 Nov", "no due date", "done"
    owner_name: str | None = None
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class LoopClosed:
    """A commitment closed, as the people who raised its story and the CX team hear it (stories.loop).
    ``threads`` and ``direct``: how many intake threads and people it was told to."""

    story_id: int
    story_title: str
    department: str | None
    owner_name: str | None
    what: str
    state: CommitmentState
    threads: int = 0
    direct: int = 0


@dataclass(frozen=True, slots=True)
class ActionsView:
    """One page of open commitments. ``owner`` is set when the list is one person's (renderers mention them)."""

    heading: str
    items: tuple[CommitmentItem, ...]
    page: int  # 1-based
    pages: int  # at least 1
    filter: str  # the arguments that reproduce this list, e.g. "finance overdue" (for "next page" buttons)
    total: int = 0
    owner: str | None = None

    def page_command(self, page: int) -> str:
        """The command line (after `/cx` or `cx`) that shows ``page`` of this list: what paging buttons run."""
        return " ".join(part for part in ("actions", self.filter, f"page {page}") if part)


@dataclass(frozen=True, slots=True)
class StatsView:
    department: str | None  # None: every department
    days: int
    nps: float | None
    csat: float | None  # % satisfied (4-5 of 5)
    stories_delivered: int
    reactions: int
    commitments_opened: int
    commitments_closed: int
    median_days_to_close: float | None
    nps_responses: int = 0  # how many scores each figure rests on
    csat_responses: int = 0


@dataclass(frozen=True, slots=True)
class KudosView:
    """Kudos given; ``posted_to`` is the kudos channel it went to, ``None`` when the platform has none."""

    giver: str
    receiver: str
    why: str
    posted_to: str | None = None
    story_id: int | None = None  # the story the kudos came from (customer praise), shown as a reference
    story_title: str | None = None


@dataclass(frozen=True, slots=True)
class KudosBoardRow:
    """One person on the month's kudos board: ``thanked_by`` counts different people who thanked them."""

    receiver: str
    name: str | None
    thanked_by: int
    kudos: int


@dataclass(frozen=True, slots=True)
class DepartmentThanks:
    department: str
    people: int  # different people thanked in the department this month


@dataclass(frozen=True, slots=True)
class KudosBoardView:
    """The month's kudos: people by how many different colleagues thanked them (not by a score), and each
    department by how many of its people were thanked. Opted-out people are never listed."""

    month: str  # "December 2026"
    department: str | None
    rows: tuple[KudosBoardRow, ...]
    departments: tuple[DepartmentThanks, ...] = ()


@dataclass(frozen=True, slots=True)
class PraiseSuggestion:
    """A positive comment that names someone: the CX team may want to pass the praise on."""

    story_id: int
    story_title: str
    names: tuple[str, ...]
    quote: str  # the sentence with the praise, redacted text

    def button_value(self) -> str:
        """What a "Give kudos" button carries: the story and the first praised name (a reason is made from it)."""
        return f"{self.story_id}:{self.names[0] if self.names else ''}"[:150]


@dataclass(frozen=True, slots=True)
class PraiseView:
    items: tuple[PraiseSuggestion, ...]
    days: int


@dataclass(frozen=True, slots=True)
class StoryRouted:
    """Intake confirmation: where a comment went and why."""

    story_id: int
    title: str
    departments: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FollowThroughRow:
    """One department in the all-departments follow-through view (stories.followthrough); ``rank`` None: it
    received no story in the period."""

    rank: int | None
    department: str
    received: int
    read: int
    commitments_per_10: float | None
    closed_per_10: float | None
    median_days_to_close: float | None
    overdue: int


@dataclass(frozen=True, slots=True)
class FollowThroughView:
    heading: str
    rows: tuple[FollowThroughRow, ...]
    rule: str  # how the rows are ranked, said with them


@dataclass(frozen=True, slots=True)
class HomeView:
    """A person's own page (Slack's App Home, Teams' home card): their open commitments, kudos they received,
    and the latest stories of the departments they manage or champion (``departments``, empty for others)."""

    commitments: tuple[CommitmentItem, ...]
    kudos: tuple[KudosView, ...]
    stories: tuple[StoryView, ...]
    departments: tuple[str, ...]
    story_days: int


View = (
    Notice
    | HelpView
    | ActionsView
    | StatsView
    | KudosView
    | KudosBoardView
    | PraiseView
    | StoryRouted
    | CommitmentItem
    | FollowThroughView
    | HomeView
)


@dataclass(frozen=True, slots=True)
class SurgeView:
    """A surge alert (stories.surge): what is surging where, today's count against the usual, and a few quotes
    (redacted story text)."""

    heading: str
    figures: str
    quotes: tuple[str, ...]
