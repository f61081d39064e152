"""The schema, as SQLAlchemy 2 typed ORM models. Migrations in storage/migrations follow these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Comment(Base):
    """A customer comment, stored redacted. ``dedupe_key`` makes every ingestion idempotent."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    original_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    segment: Mapped[str | None] = mapped_column(String(100))
    origin_channel: Mapped[str | None] = mapped_column(String(200))
    redacted_text: Mapped[str] = mapped_column(Text)
    raw_text: Mapped[str | None] = mapped_column(Text)  # only with CX_KEEP_RAW=true
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    language: Mapped[str | None] = mapped_column(String(20))
    origin_link: Mapped[str | None] = mapped_column(String(500))  # permalink of the original chat message

    story: Mapped[Story | None] = relationship(back_populates="comment", uselist=False)


class CommentIdentifier(Base):
    """A keyed hash of one piece of personal data a comment carried (stories.identifiers), never the value:
    how ``cxbot forget jane@example.com`` finds the comments to erase."""

    __tablename__ = "comment_identifiers"
    __table_args__ = (UniqueConstraint("comment_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), index=True)


class CommentOrigin(Base):
    """Where in chat a comment came in and who passed it on (stories.models.Origin): platform ids only, so the
    loop can be told back when its commitment closes. Absent values are '' (the unique key needs them); erased
    with the comment (cascade)."""

    __tablename__ = "comment_origins"
    __table_args__ = (
        UniqueConstraint(
            "comment_id", "platform", "via", "channel", "thread", "sender", name="uq_comment_origins_place"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(10))
    via: Mapped[str] = mapped_column(String(10))  # channel | shortcut | command
    workspace: Mapped[str] = mapped_column(String(100))  # Slack team id, Teams tenant id; '' when unknown
    channel: Mapped[str] = mapped_column(String(300))
    thread: Mapped[str] = mapped_column(String(300))  # Slack thread ts, Teams root message id; '' when none
    sender: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Story(Base):
    """One per comment: what readers see."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    sentiment: Mapped[str] = mapped_column(String(10))
    sentiment_score: Mapped[float] = mapped_column(Float)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    summarizer: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # An old comment taken in late (stories.pipeline): counted in patterns and stats, left out of digests.
    backfill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    comment: Mapped[Comment] = relationship(back_populates="story")
    routes: Mapped[list[Route]] = relationship(back_populates="story")


class Department(Base):
    """Mirrors the configuration file; chat channels linked at run time (Teams `cx link`) live here."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slack_channel: Mapped[str | None] = mapped_column(String(500))  # several, one per workspace, joined by ','
    teams_channel: Mapped[str | None] = mapped_column(String(300))
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    managers: Mapped[list[str]] = mapped_column(JSON, default=list)
    ambassadors: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery: Mapped[str] = mapped_column(String(20), default="digest")
    schedule: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))


class Route(Base):
    """Story x department, with the rule that matched."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("story_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    rule: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    story: Mapped[Story] = relationship(back_populates="routes")
    department: Mapped[Department] = relationship()


class Correction(Base):
    """A reader said "Not for us": the story moved from one department to another."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: platform action identity
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    from_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    to_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    by_user: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The outbox: one row per message we intend to post. A dispatcher claims, sends, records the id.

    ``key`` is the idempotency key (e.g. ``story:42:dept:3:slack:C123`` or ``digest:3:2026-11-27:slack``):
    planning the same delivery twice is a no-op.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_not_before", "state", "not_before"),
        # a reaction on a message the bot posted finds the delivery (✅ on a commitment's reply, stories.emoji)
        Index("ix_deliveries_platform_message_id", "platform", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # story | digest | reply | dm | kudos | report
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    platform: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending|claimed|sent|failed
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="1")  # 0 urgent: claimed and sent first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(300))
    thread_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StoryMessage(Base):
    """Where a story was posted, so reactions and actions on a platform message find their story.

    A digest message carries several stories, hence one row per (message, story).
    """

    __tablename__ = "story_messages"
    __table_args__ = (
        UniqueConstraint("platform", "channel", "message_id", "story_id"),
        Index("ix_story_messages_platform_channel_message_id", "platform", "channel", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    platform: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("story_id", "platform", "user_id", "emoji"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str] = mapped_column(String(100))
    emoji: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Commitment(Base):
    """Who will do what, by when, for which story."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_state_due", "state", "due_date"),
        # `/cx actions`: a department's or a person's open commitments in commitment_order, paged in SQL.
        Index(
            "ix_commitments_open_department",
            "department_id",
            "due_date",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index(
            "ix_commitments_open_owner",
            "owner",
            "due_date",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: platform action identity
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(100))  # as shown in notes ("Dana will follow up")
    created_by: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(10))
    what: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | done | dropped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(100))
    last_nudged_on: Mapped[date | None] = mapped_column(Date)


class Kudos(Base):
    __tablename__ = "kudos"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    giver: Mapped[str] = mapped_column(String(100))
    receiver: Mapped[str] = mapped_column(String(100), index=True)
    why: Mapped[str] = mapped_column(Text)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20), default="cx_team")  # cx_team | customer_praise
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    receiver_name: Mapped[str | None] = mapped_column(String(100))  # as the giver saw it, for leaderboards
    department: Mapped[str | None] = mapped_column(String(100))  # the story's or channel's; per-department view

    __table_args__ = (Index("ix_kudos_giver_created_at", "giver", "created_at"),)  # the monthly limit


class KudosOptOut(Base):
    """A person who asked not to receive public kudos (stories.kudos): kept until they opt back in."""

    __tablename__ = "kudos_optouts"

    platform: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))  # to leave their name out of praise suggestions
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEvent(Base):
    """Inbound de-duplication across retries, restarts and replicas (Slack event_id, Teams activity id)."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # pruned after PROCESSED_KEEP


class InboxEvent(Base):
    """A chat event acknowledged but not yet handled (storage/inbox.py): written before the ack, deleted once
    handled, replayed after a crash. Its body is encrypted (``sealed``): it holds customer text before redaction."""

    __tablename__ = "event_inbox"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # the processed_events key
    kind: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(10), server_default="pending")  # pending | failed (gave up)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # replayed once this has passed
    last_error: Mapped[str | None] = mapped_column(String(500))


class ConversationRef(Base):
    """A Teams conversation reference, stored at install so proactive posts work after a restart."""

    __tablename__ = "conversation_refs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(300), unique=True)
    scope: Mapped[str] = mapped_column(String(20))  # channel | groupChat | personal
    user_id: Mapped[str | None] = mapped_column(String(200), index=True)  # personal scope: the user
    team_id: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamsMember(Base):
    """The tenant and Bot Framework service each Teams user was last seen in: a direct message opens the chat
    in the user's own tenant, not the tenant of whichever conversation was active last."""

    __tablename__ = "teams_members"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(100))
    service_url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WeeklyFigures(Base):
    """What stats and the pattern report need from comments the retention window removed: per UTC week (Monday)
    and department (``*``: the whole programme), counts only, never a comment (storage/retention.py).

    ``nps``/``csat`` map each score to how many comments gave it, so scores are computed exactly as from rows.
    """

    __tablename__ = "weekly_figures"
    __table_args__ = (UniqueConstraint("week_start", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[date] = mapped_column(Date)
    department: Mapped[str] = mapped_column(String(100))
    stories: Mapped[int] = mapped_column(Integer, default=0)
    nps: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    csat: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    stories_delivered: Mapped[int] = mapped_column(Integer, default=0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)


class SummaryCache(Base):
    """Language-model summaries by content hash, so the same text is never paid for twice."""

    __tablename__ = "summary_cache"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    story: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LabelledComment(Base):
    """A comment someone labelled with its department (`cxbot routing learn FILE.csv`): training data for
    the routing learner, beside the readers' corrections. ``key`` (a hash of text and department) makes
    loading the same file twice a no-op."""

    __tablename__ = "labelled_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)  # redacted, like every stored comment
    department: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(200))  # the file it came from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingModel(Base):
    """One trained version of the routing learner, as JSON numbers (stories.learning; never pickled), with
    what it was trained on and how it did against the rules alone on held-out comments. Only a version that
    did at least as well as the rules is ``active``; the newest active version is the one in use."""

    __tablename__ = "routing_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    examples: Mapped[int] = mapped_column(Integer)  # labelled comments trained on
    corrections: Mapped[int] = mapped_column(Integer)  # of which readers' corrections
    held_out: Mapped[int] = mapped_column(Integer)  # comments the gate scored on
    rules_top1: Mapped[float] = mapped_column(Float)
    learned_top1: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean)
    model: Mapped[str] = mapped_column(Text)


class Opener(Base):
    """A meeting-opener story posted to a channel (`/cx opener`): not repeated there within 30 days.
    ``key`` is the request's idempotency key, so a retried command posts the story it chose the first time."""

    __tablename__ = "openers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(300))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    department: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_openers_platform_channel_created_at", "platform", "channel", "created_at"),)


class Ambassador(Base):
    """An ambassador added with `/cx ambassador add` (the configuration's ``departments[].ambassadors`` count
    too and are not stored here)."""

    __tablename__ = "ambassadors"

    id: Mapped[int] = mapped_column(primary_key=True)
    department: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str] = mapped_column(String(200))
    added_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("department", "platform", "user_id"),)


class PulseMember(Base):
    """Someone the CX team chose to receive the monthly pulse question. Holds no answer, ever."""

    __tablename__ = "pulse_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("platform", "user_id"),)


class PulseAnswered(Base):
    """That someone answered this month's pulse, as a keyed hash of (person, month) only: it stops a second answer
    being counted, and holds no user id, no department, no time and nothing of the answer."""

    __tablename__ = "pulse_answered"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM, so old months can be pruned


class PulseCount(Base):
    """The pulse as kept: per month and department, how many answered and how many of them named customers."""

    __tablename__ = "pulse_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    department: Mapped[str] = mapped_column(String(100))
    answers: Mapped[int] = mapped_column(Integer, default=0)
    customers: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("month", "department"),)


class PaceSlot(Base):
    """Posts counted by every replica in one slice of a platform's shared window (storage/pace.py): the Slack
    workspace limit holds across replicas. Rows older than their window are deleted as the slots move on."""

    __tablename__ = "pace_slots"

    workspace: Mapped[str] = mapped_column(String(200), primary_key=True)  # "slack:T0ACME 300/60s"
    slot_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # milliseconds since the epoch
    count: Mapped[int] = mapped_column(Integer)


class SlackUserWorkspace(Base):
    """Which Slack workspace a user was last seen in (an event, command or click from them), so a direct message
    to them goes out with that workspace's token under OAuth. Ids only, no names or text."""

    __tablename__ = "slack_user_workspaces"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(40))
    enterprise_id: Mapped[str | None] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
