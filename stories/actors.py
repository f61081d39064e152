"""Who is asking: a chat user as both platforms describe them, and what the configuration lets them do.

Authorisation lives here, not in the connectors, so Slack and Teams can never disagree about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from stories.config import CxConfig

# Slack user ids: ``U0123ABCD``, ``W...`` on Enterprise Grid. One pattern for the core (which platform a person
# is on, for reminders) and the Slack connector (DM channels, mentions); Teams ids (``29:...``, AAD GUIDs) never
# match it.
SLACK_USER_ID = r"[UW][A-Z0-9]{2,20}"
_SLACK_USER = re.compile(SLACK_USER_ID)


def is_slack_user(value: str) -> bool:
    """Whether ``value`` is a Slack user id.

    >>> is_slack_user("U0123ABCD"), is_slack_user("29:1a2b"), is_slack_user("C0123ABCD")
    (True, False, False)
    """
    return _SLACK_USER.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Actor:
    """A chat user. ``groups`` are the Slack user groups they belong to (the connector looks them up);
    ``timezone`` is their IANA zone when the platform says (Teams ``localTimezone``, Slack ``users.info``);
    ``admin`` is set by the connector for workspace/team admins; ``aliases`` are other names the platform
    confirmed for the person (Teams: user principal name and e-mail, lower case), which the configuration may
    use instead of the user id."""

    platform: str
    user_id: str
    name: str | None = None
    groups: frozenset[str] = frozenset()
    timezone: str | None = None
    admin: bool = False
    aliases: frozenset[str] = frozenset()

    def named_in(self, people: Iterable[str]) -> bool:
        """Whether ``people`` (configured user ids, or Teams UPNs/e-mails in any case) names this actor."""
        return any(p == self.user_id or p.casefold() in self.aliases for p in people)

    @property
    def display(self) -> str:
        """A plain-text name for messages others read."""
        return self.name or "A colleague"


def is_cx_team(config: CxConfig, actor: Actor) -> bool:
    """A CX team member by user id or by one of their user groups."""
    return actor.named_in(config.cx_team.users) or bool(actor.groups & set(config.cx_team.groups))


def is_admin(config: CxConfig, actor: Actor) -> bool:
    """May change wiring (``link``): platform admins and the CX team, who own the configuration."""
    return actor.admin or is_cx_team(config, actor)


def managed_departments(config: CxConfig, actor: Actor) -> tuple[str, ...]:
    """Departments the actor manages or champions (managers, manager groups, ambassadors), config order."""
    return tuple(
        d.name
        for d in config.departments
        if actor.named_in(d.managers) or actor.named_in(d.ambassadors) or actor.groups & set(d.manager_groups)
    )


def may_reroute(config: CxConfig, actor: Actor, department: str) -> bool:
    """ "Not for us": a story leaves ``department`` only by its managers (and manager groups), its ambassadors
    or the CX team, who own routing (the configuration's ``cx_team`` and ``departments[].managers``)."""
    return department in managed_departments(config, actor) or is_cx_team(config, actor)


def may_name_owner(config: CxConfig, actor: Actor, department: str | None) -> bool:
    """Anyone may commit to follow up themselves; naming someone else as the owner is for the department's
    managers and ambassadors and the CX team (nobody is volunteered by a colleague)."""
    if department is not None and department in managed_departments(config, actor):
        return True
    return is_cx_team(config, actor)
