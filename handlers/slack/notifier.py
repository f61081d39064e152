"""The core's :class:`stories.ports.Notifier` for Slack: stories, digests, notes, thread replies, DMs.

Everything is rendered by :mod:`handlers.slack.blocks` (customer text escaped there); the plain texts the
core sends (thread replies, DMs, kudos) are escaped here with :func:`handlers.slack.mrkdwn.safe`, so nothing
the core says can ping a channel. Failures become :class:`DeliveryError` (see :mod:`handlers.slack.errors`)
and the outbox decides whether to try again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.blocks import digest_blocks, fallback_text, story_blocks
from handlers.slack.channels import SLACK_ID, ChannelDirectory, Workspace, split_workspace
from handlers.slack.errors import delivery_error
from handlers.slack.mrkdwn import safe
from handlers.slack.render import render
from handlers.slack.report import report_blocks, report_fallback
from handlers.slack.workspaces import Workspaces
from stories.actors import is_slack_user
from stories.models import DigestView, StoryView
from stories.patterns import PatternReport
from stories.ports import DeliveryError, PostedMessage
from stories.views import PraiseView, SurgeView

log = logging.getLogger(__name__)

TEXT_LIMIT = 3000  # characters of a plain message the bot writes (Slack truncates text at 40,000)
METADATA_TYPE = "cxbot_delivery"  # message metadata event type carrying the outbox delivery key
LOOKUP_PAGES = 5  # pages of history read when looking for an earlier post
RESOLVE_EVERY = 60.0  # seconds between look-ups of channel names not found yet


# Its own thread, not the core's: a render must not wait behind a long comment being redacted.
_RENDER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxbot-render")


class SlackNotifier:
    platform = "slack"

    def __init__(
        self, *, client: AsyncWebClient, workspaces: Workspaces | None = None, channels: ChannelDirectory | None = None
    ) -> None:
        self._client = client
        self._workspaces = workspaces or Workspaces()
        self._channels = channels
        self._next_resolve = 0.0
        self._resolving = asyncio.Lock()  # posts that need a name while it is being looked up wait for the answer

    async def post_story(self, *, channel: str, story: StoryView, key: str | None = None) -> PostedMessage:
        blocks = await self._render(story_blocks, story)
        return await self._post(channel=channel, text=fallback_text(story), blocks=blocks, key=key)

    async def post_digest(self, *, channel: str, digest: DigestView, key: str | None = None) -> PostedMessage:
        blocks = await self._render(digest_blocks, digest)
        return await self._post(channel=channel, text=fallback_text(digest), blocks=blocks, key=key)

    async def update_story(self, *, message: PostedMessage, story: StoryView, note: str) -> None:
        blocks = await self._render(lambda s: story_blocks(s, note=note or None), story)
        await self._call(
            "chat_update", channel=message.channel, ts=message.message_id, text=fallback_text(story), blocks=blocks
        )

    async def update_digest(self, *, message: PostedMessage, digest: DigestView, note: str) -> None:
        blocks = await self._render(lambda d: digest_blocks(d, note=note or None), digest)
        await self._call(
            "chat_update", channel=message.channel, ts=message.message_id, text=fallback_text(digest), blocks=blocks
        )

    async def delete_message(self, *, message: PostedMessage) -> None:
        """chat.delete; ``message_not_found`` means an earlier attempt (or a person) already deleted it."""
        try:
            await self._call("chat_delete", channel=message.channel, ts=message.message_id)
        except DeliveryError as exc:
            if str(exc) != "slack: message_not_found":
                raise

    async def reply_in_thread(self, *, message: PostedMessage, text: str, key: str | None = None) -> PostedMessage:
        return await self._post(
            channel=message.channel, thread_ts=message.message_id, text=safe(text, TEXT_LIMIT), key=key
        )

    async def send_direct_message(self, *, user: str, text: str, key: str | None = None) -> PostedMessage:
        """Posting to a user id lands in the app's Messages tab with them (chat:write is enough)."""
        return await self._post(channel=user, text=safe(text, TEXT_LIMIT), key=key)

    async def post_text(self, *, channel: str, text: str, key: str | None = None) -> PostedMessage:
        return await self._post(channel=channel, text=safe(text, TEXT_LIMIT), key=key)

    async def post_report(
        self, *, channel: str, report: PatternReport, chart_png: bytes, key: str | None = None
    ) -> PostedMessage:
        """The weekly pattern report: the chart uploaded with files_upload_v2 (not shared on its own), then one
        message with the report and the chart as an image block, carrying the delivery key like every post."""
        workspace, _ = await self._where(channel)
        upload = await self._call(
            "files_upload_v2",
            workspace=workspace,
            file=chart_png,
            filename="patterns.png",
            title=f"Weekly patterns: {report.department}",
            alt_txt=f"Chart: patterns, NPS and CSAT for {report.department}",
            request_file_info=False,
        )
        file_id = str(upload["file"]["id"])  # uploaded with the channel's workspace's token (see _call)
        blocks = await self._render(lambda r: report_blocks(r, chart_file_id=file_id), report)
        return await self._post(channel=channel, text=safe(report_fallback(report), TEXT_LIMIT), blocks=blocks, key=key)

    async def post_surge(self, *, channel: str, surge: SurgeView, key: str | None = None) -> PostedMessage:
        message = render(surge)
        return await self._post(channel=channel, text=message["text"], blocks=message["blocks"], key=key)

    async def post_praise(self, *, channel: str, praise: PraiseView, key: str | None = None) -> PostedMessage:
        message = render(praise)
        return await self._post(channel=channel, text=message["text"], blocks=message["blocks"], key=key)

    async def find_delivered(
        self, *, key: str, channel: str, thread: PostedMessage | None, since: datetime
    ) -> PostedMessage | None:
        """A message we posted earlier carrying delivery ``key`` in its metadata, or None.

        Reads the thread (conversations.replies) or the channel (conversations.history) since ``since``; for a
        direct message (``channel`` is a user id) the app's conversation with that person, opened by
        conversations.open (im:write) and read with im:history. Only our own posts' metadata is looked at.
        """
        workspace, user = split_workspace(channel)
        if thread is None and is_slack_user(user):
            workspace, user = await self._where(channel)
            opened = await self._call("conversations_open", users=user, workspace=workspace)
            channel = str(opened["channel"]["id"])
            self._workspaces.posted(channel=channel, workspace=workspace)
        oldest = f"{since.timestamp():.6f}"
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            if thread is not None:
                where = thread.channel
                page = await self._call(
                    "conversations_replies",
                    channel=where,
                    ts=thread.message_id,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                where = channel
                page = await self._call(
                    "conversations_history",
                    channel=where,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            for message in page.get("messages") or ():
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and (metadata.get("event_payload") or {}).get("key") == key
                ):
                    return PostedMessage(channel=where, message_id=str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        return None

    @staticmethod
    async def _render(render: Callable[[Any], list[dict]], view: Any) -> list[dict]:
        """Blocks in a thread of their own: slack_sdk's Block Kit models take 2-7 ms for a digest, which on the
        event loop held up every Slack ack arriving meanwhile (bench/slack_ack.py, digests posted during a burst).
        In a thread the loop takes the interpreter back every 0.5 ms (bot/serve.py)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(_RENDER_THREAD, render, view)
        except (SlackObjectFormationError, ValueError) as exc:  # our bug or data Slack cannot show: not retried
            raise DeliveryError(f"slack: cannot render blocks: {exc}", permanent=True) from exc

    async def _post(self, *, key: str | None, **kwargs: Any) -> PostedMessage:
        if key:  # so find_delivered can tell whether a post went out before a crash
            kwargs["metadata"] = {"event_type": METADATA_TYPE, "event_payload": {"key": key}}
        workspace, kwargs["channel"] = await self._where(str(kwargs["channel"]))
        response = await self._call(
            "chat_postMessage", workspace=workspace, unfurl_links=False, unfurl_media=False, **kwargs
        )
        self._workspaces.posted(channel=str(response["channel"]), workspace=workspace)  # a DM's D… id, say
        return PostedMessage(channel=str(response["channel"]), message_id=str(response["ts"]))

    async def token(self, workspace: Workspace | None = None) -> str | None:
        """The token calls to ``workspace`` are made with (None: the client's own)."""
        return await self._workspaces.token(workspace)

    async def installed(self) -> list[Workspace]:
        """Every installed workspace under OAuth ([] with one workspace)."""
        return await self._workspaces.installed()

    async def _where(self, target: str) -> tuple[Workspace | None, str]:
        """The workspace a channel, user or conversation id is in, and the bare id. Under OAuth a target the
        configuration gives no workspace for is placed by :meth:`Workspaces.place` (never the newest install)."""
        if self._channels is not None:
            # "#cx-finance" -> C0…; "T0ACME/C0FIN" -> the ACME workspace, channel C0FIN
            workspace, bare = self._channels.locate(target)
            if not SLACK_ID.fullmatch(bare):
                async with self._resolving:
                    workspace, bare = self._channels.locate(target)  # found by a look-up it waited for?
                    if not SLACK_ID.fullmatch(bare) and time.monotonic() >= self._next_resolve:
                        # a name not found at start (created, or its workspace installed, since), or a command
                        # that posts without the server's start-up look-up: look again, at most once a minute
                        self._next_resolve = time.monotonic() + RESOLVE_EVERY
                        await self._channels.resolve(self._client, token=self.token, installed=await self.installed())
                        workspace, bare = self._channels.locate(target)
        else:
            workspace, bare = split_workspace(target)
        if workspace is None and self._workspaces.oauth:
            workspace = await self._workspaces.place(self._client, bare)
        return workspace, bare

    async def _call(self, method: str, *, workspace: Workspace | None = None, **kwargs: Any) -> Any:
        target = kwargs.get("channel") or kwargs.get("users")
        if workspace is None and target:
            workspace, bare = await self._where(str(target))
            kwargs["channel" if "channel" in kwargs else "users"] = bare
        token = await self._workspaces.token(workspace)
        if token:
            kwargs["token"] = token
        elif self._workspaces.oauth:
            raise DeliveryError(
                f"slack: no installation for workspace {workspace}; install cxbot there", permanent=True
            )
        try:
            return await getattr(self._client, method)(**kwargs)
        except Exception as exc:
            error = delivery_error(exc)
            log.warning("slack %s to %s failed: %s", method, kwargs.get("channel"), error)
            raise error from exc
