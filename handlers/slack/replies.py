"""Answering people privately: through a ``response_url`` (commands, shortcuts, buttons) or ephemerally.

Also the links from a commitment to its story's Slack message (``chat.getPermalink``, remembered).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.ports import StoryMessages
from handlers.slack.client import TIMEOUT, retry_handlers
from handlers.slack.render import render
from stories.views import View

log = logging.getLogger(__name__)

MAX_REMEMBERED_LINKS = 5000


async def respond(
    response_url: str,
    view: View,
    *,
    replace: bool = False,
    links: Mapping[int, str] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> None:
    """Post ``view`` to a ``response_url`` as an ephemeral message (``replace``: instead of the one clicked)."""
    if not response_url:
        return
    message: dict[str, Any] = {"response_type": "ephemeral", **render(view, links=links)}
    if replace:
        message["replace_original"] = True
    webhook = AsyncWebhookClient(response_url, timeout=TIMEOUT, retry_handlers=retry_handlers(), session=session)
    answer = await webhook.send_dict(message)
    if answer.status_code != 200:
        log.warning("slack response_url answered %s", answer.status_code)


class Permalinks:
    """Links to the Slack messages that carry stories, for lists that name a story."""

    def __init__(self, outbox: StoryMessages) -> None:
        self._outbox = outbox
        self._known: dict[tuple[str, str], str] = {}

    async def for_stories(self, client: AsyncWebClient, story_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted({i for i in story_ids if i is not None})
        places = await asyncio.to_thread(self._places, ids)
        links = await asyncio.gather(*(self._link(client, place) for place in places.values()))
        return {story_id: url for story_id, url in zip(places, links, strict=True) if url}

    def _places(self, story_ids: list[int]) -> dict[int, tuple[str, str]]:
        found = {}
        for story_id in story_ids:
            places = self._outbox.story_messages(story_id=story_id, platform="slack")
            if places:
                channel, message_id, _ = places[0]
                found[story_id] = (channel, message_id)
        return found

    async def message(self, client: AsyncWebClient, *, channel: str, ts: str) -> str | None:
        """The permalink of any message, or None when Slack will not say."""
        return await self._link(client, (channel, ts))

    async def _link(self, client: AsyncWebClient, place: tuple[str, str]) -> str | None:
        if place in self._known:
            return self._known[place]
        try:
            url = str((await client.chat_getPermalink(channel=place[0], message_ts=place[1]))["permalink"])
        except Exception as exc:  # a missing link is not worth failing the list
            log.info("chat.getPermalink failed: %s", exc)
            return None
        if len(self._known) >= MAX_REMEMBERED_LINKS:
            self._known.clear()
        self._known[place] = url
        return url
