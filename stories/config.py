"""The CX configuration (departments, routing rules, teams) as validated models.

The YAML file is read by :mod:`bot.config`, which maps validation errors back to file lines; the
models here hold the meaning and the checks (unknown department, bad regex, bad timezone...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, time
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from stories.crontab import crontab_trigger
from stories.places import SEPARATOR, ambiguous_slack_channels, lower_case_id, slack_place, split_places
from stories.redaction import DEFAULT_REGIONS


class ConfigError(Exception):
    """The configuration (the YAML file or the settings) cannot be used; the message says where and what to change."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def config_problem(path: tuple[str | int, ...], message: str) -> PydanticCustomError:
    """An error found by a cross-field check, carrying the key path it is about (relative to the model
    that raised it) in ``ctx["path"]``, so :mod:`bot.config` can point at the right line of the file."""
    return PydanticCustomError("config_problem", "{message}", {"message": message, "path": path})


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}; fix the pattern") from None
    return pattern


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("empty text matches nothing useful; remove it or write a word")
    return value


_Pattern = Annotated[str, AfterValidator(_compiles)]
_Text = Annotated[str, AfterValidator(_not_blank)]


def _one_of(names: Iterable[str]) -> str:
    return "use one of [" + ", ".join(repr(n) for n in names) + "]"


class Rule(_Model):
    """Sends matching comments to one department.

    Text conditions (``keywords``, ``phrases``, ``regex``) match if any of them is found; every other
    condition given must hold as well. A rule with no condition at all is rejected. ``sources``,
    ``segments`` and ``fields`` (names and values) compare case-insensitively. How text is matched is
    described in :mod:`stories.routing`.
    """

    id: _Text
    department: str
    keywords: tuple[_Text, ...] = ()  # whole words, case-insensitive, simple plurals
    phrases: tuple[_Text, ...] = ()  # substrings, case-insensitive
    regex: tuple[_Pattern, ...] = ()  # Python regular expressions, case-insensitive
    nps_max: int | None = Field(default=None, ge=0, le=10)
    nps_min: int | None = Field(default=None, ge=0, le=10)
    csat_max: int | None = Field(default=None, ge=1, le=5)
    csat_min: int | None = Field(default=None, ge=1, le=5)
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    sources: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # source field -> accepted values
    languages: tuple[str, ...] = ()  # ISO 639-1 codes (fr, de), given with the comment or detected
    theme: str | None = None  # a theme name stories matching this rule carry

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        codes = []
        for code in value:
            if not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?", code.strip()):
                raise ValueError(f"{code!r} is not a language code; write ISO 639-1 codes such as fr, de, es")
            codes.append(code.strip().replace("_", "-").split("-")[0].casefold())  # fr-CA matches every French
        return tuple(codes)

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        conditions = (
            self.keywords,
            self.phrases,
            self.regex,
            self.sources,
            self.segments,
            self.fields,
            self.languages,
        )
        scalar = (self.nps_max, self.nps_min, self.csat_max, self.csat_min, self.sentiment)
        if not any(conditions) and all(v is None for v in scalar):
            raise ValueError(
                f"rule {self.id!r} has no condition; add keywords, phrases, regex, a score, "
                "sentiment, sources, segments, fields or languages"
            )
        return self


class QuietHours(_Model):
    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError("write the time as 'HH:MM' in quotes, e.g. '22:00'")
        if isinstance(value, str) and re.fullmatch(r"\d:\d\d", value.strip()):
            return "0" + value.strip()  # "7:00" -> "07:00"
        return value

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


_TEAMS_LINK = re.compile(r"/l/channel/([^/?#]+)")


def _teams_channel(value: str) -> str:
    """A Teams channel as its conversation id. Teams shows the id only inside a channel's "Get link to channel"
    link (``https://teams.microsoft.com/l/channel/19%3a...%40thread.tacv2/Name?groupId=...``), so that link is
    taken too and the id read out of it."""
    value = value.strip()
    if value.startswith("https://"):
        found = _TEAMS_LINK.search(urlsplit(value).path)
        if not found or not unquote(found[1]).startswith("19:"):
            raise PydanticCustomError(
                "teams_channel",
                "a Teams channel is its id (19:...@thread.tacv2) or its “Get link to channel” link, not {value}",
                {"value": value[:80]},
            )
        return unquote(found[1])
    return value


_TeamsChannel = Annotated[str, AfterValidator(_teams_channel)]

# Slack's "Copy link" of a channel (https://acme.slack.com/archives/C0123ABCD, a message's link adds /p...) and the
# address bar of Slack in a browser (https://app.slack.com/client/T0ACME/C0123ABCD).
_SLACK_LINK = re.compile(r"^/(?:archives|client/[A-Z0-9]+)/([CG][A-Z0-9]{6,})(?:/|$)")


def _slack_channel(value: str) -> str:
    """A Slack channel as its id or name. Admins paste the channel's link (what Slack's "Copy link" gives), which
    would otherwise be taken for a name that never resolves; its id is read out of it. An id in lower case is
    refused rather than upper-cased: it could as well be a channel's name, and which one it is must not depend on
    what the workspace holds at start (the fix names both spellings)."""
    value = value.strip()
    if "://" not in value:
        for place in split_places(value):
            channel = slack_place(place).channel
            if meant := lower_case_id(channel):
                workspace = place.removesuffix(channel)  # "T0ACME/", or nothing
                raise PydanticCustomError(
                    "slack_channel",
                    "{channel} is a channel id in lower case, which Slack would take for a channel name; "
                    'write channel ids in capitals, as Slack shows them: "{meant}" (a channel named {channel}: '
                    '"{named}")',
                    {"channel": channel, "meant": workspace + meant, "named": f"{workspace}#{channel}"},
                )
        return value
    parts = urlsplit(value)
    found = _SLACK_LINK.match(parts.path) if (parts.hostname or "").endswith("slack.com") else None
    if found is None:
        raise PydanticCustomError(
            "slack_channel",
            'a Slack channel is its id (C0123ABCD), its name ("#cx-finance") or its link '
            "(channel menu > Copy link: https://your-workspace.slack.com/archives/C0123ABCD)",
        )
    return found[1]


_SlackChannel = Annotated[str, AfterValidator(_slack_channel)]


class Department(_Model):
    name: str
    description: str = ""
    # channel id (C...) or name; or a list, one channel per Slack workspace ("T0ACME/C0FIN"), kept joined by ","
    slack_channel: str | None = None
    teams_channel: _TeamsChannel | None = None  # conversation id (or its link); `cx link` in Teams sets it
    managers: tuple[str, ...] = ()  # chat user ids (Slack U..., Teams AAD object ids)
    manager_groups: tuple[str, ...] = ()  # Slack user group ids (S...)
    ambassadors: tuple[str, ...] = ()
    delivery: Literal["digest", "immediate"] = "digest"
    schedule: str = "0 9 * * mon-fri"  # crontab: minute hour day month day_of_week
    timezone: str = "UTC"
    quiet_hours: QuietHours | None = None
    digest_size: int = Field(default=5, ge=1, le=20)

    @field_validator("slack_channel", mode="before")
    @classmethod
    def _channel_list(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return _slack_channel(value) if isinstance(value, str) else value
        channels = [_slack_channel(v) for v in value if isinstance(v, str)]
        if len(channels) != len(value) or not all(channels):
            raise ValueError("write each channel as text, e.g. ['T0ACME/#billing', 'T0BETA/C0123ABCD']")
        if any(SEPARATOR in c for c in channels):
            raise ValueError(f"a channel cannot contain {SEPARATOR!r}; give each one as its own list item")
        return SEPARATOR.join(channels) or None

    @property
    def slack_places(self) -> tuple[str, ...]:
        """Each Slack channel the department posts to (one per workspace when the configuration gives a list)."""
        return tuple(split_places(self.slack_channel or ""))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as 'Europe/Berlin' or 'America/New_York'"
            ) from None
        return value

    @field_validator("schedule")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(
                f"schedule {value!r} is not a crontab line; use five fields "
                "(minute hour day month day_of_week), e.g. '0 9 * * mon-fri'"
            )
        try:
            crontab_trigger(value, timezone=UTC)
        except ValueError as exc:
            raise ValueError(
                f"schedule {value!r} is not a valid crontab line ({exc}); e.g. '0 9 * * mon-fri' is 09:00 on weekdays"
            ) from None
        return value


class People(_Model):
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # Slack user group ids

    def __contains__(self, user: object) -> bool:
        return user in self.users


class Intake(_Model):
    slack_channels: tuple[_SlackChannel, ...] = ()
    teams_channels: tuple[_TeamsChannel, ...] = ()
    thread_replies: bool = False
    backfill_days: int = Field(default=7, ge=0, le=36_500)  # older comments are stored but not posted as news
    link_originals: bool = False  # stories link to the unredacted original chat message

    @field_validator("slack_channels", "teams_channels", mode="before")
    @classmethod
    def _one_channel(cls, value: Any) -> Any:
        """One channel written as text, as a department's ``slack_channel`` is (``slack_channels: "#voice"``), is a
        list of one; several in one text are split at commas, as a department's are."""
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(SEPARATOR)) if part]
        return value


class Urgent(_Model):
    nps_max: int = Field(default=2, ge=0, le=10)
    keywords: tuple[str, ...] = ()


def _phone_region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        hint = " (the United Kingdom is 'GB')" if region == "UK" else ""
        raise ValueError(f"unknown region {value!r}{hint}; use a two-letter ISO 3166 country code such as 'US' or 'DE'")
    return region


_Region = Annotated[str, AfterValidator(_phone_region)]


class Redaction(_Model):
    """``regions``: whose national phone formats to read, in order of preference (numbers with a country code
    are found whatever the list); ``default_region``, the older single setting, goes first when given."""

    digit_runs: int | None = Field(default=None, ge=4, le=30)  # redact runs of at least this many digits
    regions: tuple[_Region, ...] = Field(default=DEFAULT_REGIONS, min_length=1)
    default_region: _Region | None = None


class Nudges(_Model):
    enabled: bool = True
    hour: int = Field(default=9, ge=0, le=23)
    weekends: bool = False


class Stats(_Model):
    all_departments_view: bool = False  # `/cx stats all` ranks every department's follow-through (the CX team opts in)


_EMOJI_NAME = re.compile(r"^[a-z0-9_+\-']{1,100}$")


def _emoji_name(value: str) -> str:
    """An emoji as Slack names it (``eyes``, ``white_check_mark``); ``:eyes:`` is accepted and stored bare."""
    name = value.strip().strip(":").casefold()
    if not _EMOJI_NAME.fullmatch(name):
        raise ValueError(
            f"{value!r} is not an emoji name; write it as Slack names it, e.g. eyes or white_check_mark "
            "(no spaces, no emoji characters)"
        )
    return name


_Emoji = Annotated[str, AfterValidator(_emoji_name)]


class EmojiActions(_Model):
    """Reactions that act (stories.emoji). ``looking``: on a story's message, "I'm looking into it", shown on
    its card; ``done``: on a commitment's thread reply, closes the commitment as done (the Done button's
    permission rule). Names as Slack spells them; Teams reactions arrive under the same names (README:
    Emoji to act). Empty lists (the default) turn the feature off."""

    looking: tuple[_Emoji, ...] = ()
    done: tuple[_Emoji, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> EmojiActions:
        for index, name in enumerate(self.done):
            if name in self.looking:
                raise config_problem(
                    ("done", index),
                    f"{name!r} is also under looking; an emoji can do one thing: remove it from one of the lists",
                )
        return self

    def action_for(self, emoji: str) -> Literal["looking", "done"] | None:
        name = emoji.strip().strip(":").split("::", 1)[0].casefold()  # "+1::skin-tone-2" is "+1"
        if name in self.done:
            return "done"
        if name in self.looking:
            return "looking"
        return None


class KudosSettings(_Model):
    """``monthly_limit``: kudos one person may give a calendar month (UTC), so each one still means something;
    ``praise_*_channel``: where the CX team gets the week's customer praise with "Give kudos" buttons (Monday at
    ``praise_hour`` in the default department's timezone); no channel, no weekly push on that platform."""

    monthly_limit: int = Field(default=10, ge=1, le=1000)
    praise_slack_channel: _SlackChannel | None = None
    praise_teams_channel: _TeamsChannel | None = None
    praise_hour: int = Field(default=9, ge=0, le=23)


class CxConfig(_Model):
    default_department: str
    departments: tuple[Department, ...]
    rules: tuple[Rule, ...] = ()
    cx_team: People = People()
    intake: Intake = Intake()
    kudos_slack_channel: _SlackChannel | None = None
    kudos_teams_channel: _TeamsChannel | None = None
    kudos: KudosSettings = KudosSettings()
    urgent: Urgent = Urgent()
    redaction: Redaction = Redaction()
    nudges: Nudges = Nudges()
    stats: Stats = Stats()
    emoji_actions: EmojiActions = EmojiActions()

    @model_validator(mode="after")
    def _departments_exist(self) -> CxConfig:
        names = [d.name for d in self.departments]
        seen: dict[str, int] = {}
        for index, name in enumerate(names):
            if name.casefold() in seen:
                raise config_problem(
                    ("departments", index, "name"),
                    f"department {name!r} appears twice (also departments[{seen[name.casefold()]}]); "
                    "give each department a unique name",
                )
            seen[name.casefold()] = index
        known = set(names)
        if self.default_department not in known:
            raise config_problem(
                ("default_department",),
                f"unknown department {self.default_department!r}; {_one_of(names)}",
            )
        for index, rule in enumerate(self.rules):
            if rule.department not in known:
                raise config_problem(
                    ("rules", index, "department"),
                    f"unknown department {rule.department!r}; {_one_of(names)}",
                )
        ids: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.id in ids:
                raise config_problem(
                    ("rules", index, "id"),
                    f"rule id {rule.id!r} is already used by rules[{ids[rule.id]}]; give each rule a unique id",
                )
            ids[rule.id] = index
        for path, value in ambiguous_slack_channels(self.slack_channel_paths()):
            raise config_problem(
                path,
                f"channel {value!r} names no workspace, and the configuration names several; prefix it with "
                f"its workspace's team id, e.g. 'T0ACME/{value.strip()}' (README: Several workspaces)",
            )
        return self

    def slack_channel_paths(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every Slack channel the configuration names, with its key path."""
        named: list[tuple[tuple[str | int, ...], str]] = []
        for index, d in enumerate(self.departments):
            places = d.slack_places
            for position, place in enumerate(places):
                path: tuple[str | int, ...] = ("departments", index, "slack_channel")
                named.append(((*path, position) if len(places) > 1 else path, place))
        named += [(("intake", "slack_channels", index), c) for index, c in enumerate(self.intake.slack_channels)]
        if self.kudos_slack_channel:
            named.append((("kudos_slack_channel",), self.kudos_slack_channel))
        if self.kudos.praise_slack_channel:
            named.append((("kudos", "praise_slack_channel"), self.kudos.praise_slack_channel))
        return named

    def department(self, name: str) -> Department:
        for dept in self.departments:
            if dept.name.casefold() == name.casefold():
                return dept
        raise KeyError(name)

    @property
    def department_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.departments)
