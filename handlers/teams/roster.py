"""People named in the configuration by UPN or e-mail, found in a Teams roster so they can get direct messages.

Teams opens a 1:1 chat only with a user id (Entra object id or ``29:...``), never with ``dana@contoso.com``. The
configuration may name people either way (handlers/teams/people.py), so before a direct message to a UPN cxbot
reads the paged roster (``GET /v3/conversations/{id}/pagedmembers``, botbuilder's ``TeamsInfo.get_paged_members``)
of the teams and group chats it is in, newest first, and keeps every UPN and e-mail it reads (a roster is
read once per process, not once per message). It also keeps, per user id, the first conversation whose roster
listed them: a chat with someone never seen is opened in that conversation's tenant (a multi-tenant bot).
"""

from __future__ import annotations

from botframework.connector.aio import ConnectorClient

PAGE_SIZE = 500  # the most Teams returns in one page


def is_upn(user: str) -> bool:
    """A configuration's ``dana@contoso.com`` rather than an object id or ``29:`` id."""
    return "@" in user and not user.startswith(("29:", "8:"))


class RosterIds:
    """UPN/e-mail (case-folded) -> the user's Entra object id (or roster id), from the rosters read so far."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._read: set[str] = set()  # conversations whose roster was read whole
        self._where: dict[str, str] = {}  # user id (object id or 29:...) -> first conversation listing them

    def known(self, upn: str) -> str | None:
        return self._ids.get(upn.strip().casefold())

    def conversation_of(self, user_id: str) -> str | None:
        """The conversation whose roster listed ``user_id`` (by object id or roster id), if any read so far."""
        return self._where.get(user_id)

    def unread(self, conversation_id: str) -> bool:
        return conversation_id not in self._read

    def skip(self, conversation_id: str) -> None:
        """Count ``conversation_id``'s roster as read: it cannot be (cxbot was removed from that team)."""
        self._read.add(conversation_id)

    async def read(self, client: ConnectorClient, conversation_id: str) -> None:
        """Read ``conversation_id``'s whole roster page by page, keeping each member's UPN and e-mail."""
        token: str | None = None
        while True:
            page = await client.conversations.get_teams_conversation_paged_members(
                conversation_id, page_size=PAGE_SIZE, continuation_token=token
            )
            for member in page.members or ():
                user_id = getattr(member, "aad_object_id", None) or member.id
                for known_as in {user_id, member.id} - {None}:
                    self._where.setdefault(str(known_as), conversation_id)
                for alias in (getattr(member, "user_principal_name", None), getattr(member, "email", None)):
                    if alias and user_id:
                        self._ids[str(alias).strip().casefold()] = str(user_id)
            token = page.continuation_token
            if not token:
                break
        self._read.add(conversation_id)
