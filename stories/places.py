"""Where a Slack channel in the configuration lives: ``T0ACME/C0FIN`` names its workspace (team id), a Grid
workspace ``E0ORG/T0ACME/C0FIN``, an org-wide install ``E0ORG/C0FIN``; a bare ``C0FIN`` or ``#name`` names none.

Platform-neutral text handling only, so the configuration can refuse a channel whose workspace cannot be told
apart (several workspaces named, this one bare) before anything is posted with the wrong workspace's token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SlackPlace:
    enterprise_id: str | None
    team_id: str | None
    channel: str

    @property
    def prefixed(self) -> bool:
        return self.enterprise_id is not None or self.team_id is not None


def slack_place(value: str) -> SlackPlace:
    """``"E0ORG/T0ACME/C0FIN"`` -> SlackPlace("E0ORG", "T0ACME", "C0FIN"); a bare value has neither id."""
    *prefix, channel = value.strip().split("/")
    enterprise = next((p for p in prefix if p.startswith("E")), None)
    team = next((p for p in prefix if p.startswith("T")), None)
    return SlackPlace(enterprise_id=enterprise, team_id=team, channel=channel if prefix else value)


# A channel id's shape (C public, G private, D direct; Slack's ids are capitals and digits), given in lower case: a
# digit is required, so words such as "customers" or "dashboard" stay names.
_LOWER_CASE_ID = re.compile(r"[cgd](?=[a-z]*[0-9])[a-z0-9]{6,}", flags=re.IGNORECASE)


def lower_case_id(channel: str) -> str | None:
    """The id meant by a bare channel written as an id but not in capitals (``"c0123abcd"`` -> ``"C0123ABCD"``), or
    None. Slack reads it as a channel name, which never resolves; a channel really named so is written
    ``"#c0123abcd"``.

    >>> lower_case_id("c0123abcd"), lower_case_id("C0123ABCD"), lower_case_id("#c0123abcd"), lower_case_id("billing")
    ('C0123ABCD', None, None, None)
    """
    if channel == channel.upper() or not _LOWER_CASE_ID.fullmatch(channel):
        return None
    return channel.upper()


SEPARATOR = ","  # a department's Slack channels in one workspace each, as stored: "T0ACME/C0FIN,T0BETA/C0FIN2"


def split_places(value: str) -> list[str]:
    """The channels one configured value stands for (a department may post to a channel in each workspace).

    >>> split_places("T0ACME/C0FIN,T0BETA/#finance"), split_places("C0FIN")
    (['T0ACME/C0FIN', 'T0BETA/#finance'], ['C0FIN'])
    """
    return [part.strip() for part in value.split(SEPARATOR) if part.strip()]


def ambiguous_slack_channels(named: list[tuple[tuple[str | int, ...], str]]) -> list[tuple[tuple[str | int, ...], str]]:
    """The bare channels among ``named`` (``(config path, value)``) when the others name two or more workspaces:
    with several workspaces a bare channel could be in any of them."""
    places = [(path, value, slack_place(value)) for path, value in named]
    workspaces = {(p.enterprise_id, p.team_id) for _, _, p in places if p.prefixed}
    if len(workspaces) < 2:
        return []
    return [(path, value) for path, value, place in places if not place.prefixed]
