"""Slack's errors as the outbox understands them: give up (permanent) or try again later.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "<code>"}``; retrying those that
depend on our configuration (a channel that is gone, a token revoked, blocks Slack rejects) would only
repeat the failure, so they stop. Rate limits, server errors and network trouble are worth another attempt;
slack_sdk's retry handlers already tried a few times, so the outbox waits longer before the next one.
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers.retry_after import retry_after_header
from stories.ports import DeliveryError

PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "msg_too_long",
        "msg_blocks_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "no_text",
        "too_many_attachments",
    }
)


def delivery_error(exc: BaseException) -> DeliveryError:
    """The :class:`DeliveryError` for a failed Web API call."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        code = str(response.get("error") or f"http_{response.status_code}")
        retry_after = retry_after_header(response.headers)
        if response.status_code == 429 or code == "ratelimited":
            return DeliveryError(f"slack: ratelimited (retry after {retry_after or '?'} s)", retry_after=retry_after)
        return DeliveryError(f"slack: {code}", permanent=code in PERMANENT, retry_after=retry_after)
    if isinstance(exc, SlackClientError | aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return DeliveryError(f"slack: {type(exc).__name__}: {exc}")
    return DeliveryError(f"slack: unexpected {type(exc).__name__}: {exc}")
