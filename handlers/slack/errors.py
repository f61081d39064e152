"""Slack's errors as the outbox understands them: give up (permanent) or try again later.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "<code>"}``; retrying those that
depend on our configuration (a channel that is gone, a token revoked, blocks Slack rejects) would only
repeat the failure, so they stop. Rate limits, server errors and network trouble are worth another attempt;
slack_sdk's retry handlers already tried a few times, so the outbox waits longer before the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers.retry_after import retry_after_header
from stories.ports import DeliveryError

# Slack not reached at all: slack_sdk's async client raises aiohttp's errors as they are, its sync client urllib's.
UNREACHABLE = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, OSError)

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
        status, data, headers = _answer(exc.response)
        retry_after = retry_after_header(headers)
        if not isinstance(data, Mapping) or "ok" not in data:
            # Not Slack's JSON: a proxy or load balancer answered (an HTML 502, a plain-text 503). Whatever it
            # was, Slack did not refuse the call, so it is worth another attempt later.
            label = f"http_{status}" if status else "no status"
            if status == 429:
                return DeliveryError(
                    f"slack: ratelimited, {label} (retry after {retry_after or '?'} s)", retry_after=retry_after
                )
            return DeliveryError(f"slack: {label}, the answer was not Slack's JSON", retry_after=retry_after)
        code = str(data.get("error") or f"http_{status}")
        if status == 429 or code == "ratelimited":
            return DeliveryError(f"slack: ratelimited (retry after {retry_after or '?'} s)", retry_after=retry_after)
        return DeliveryError(f"slack: {code}", permanent=code in PERMANENT, retry_after=retry_after)
    if isinstance(exc, UNREACHABLE):
        return DeliveryError(f"slack: {type(exc).__name__}: {exc}")
    return DeliveryError(f"slack: unexpected {type(exc).__name__}: {exc}")


def _answer(response: Any) -> tuple[int | None, Any, Mapping[str, Any]]:
    """Status, decoded body and headers of what a SlackApiError carries: usually a SlackResponse, but
    slack_sdk hands over aiohttp's raw ClientResponse when the body claimed JSON and was not."""
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    data = getattr(response, "data", None)
    headers = getattr(response, "headers", None) or {}
    return (status if isinstance(status, int) else None), data, headers
