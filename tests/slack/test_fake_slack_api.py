"""The fake Slack Web API behaves as Slack documents, as seen through slack_sdk's own client."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi, manifest_bot_scopes


def client(fake: FakeSlackApi, *, token: str = DEFAULT_TOKEN, **kw) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.base_url, **kw)


async def test_post_message_gets_a_unique_ts_and_is_recorded(slack_api: FakeSlackApi) -> None:
    web = client(slack_api)
    first = await web.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    second = await web.chat_postMessage(channel="C1", text="again")
    assert first["ok"] and first["channel"] == "C1"
    assert first["ts"] != second["ts"]
    call = slack_api.calls_to("chat.postMessage")[0]
    assert call.headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"
    assert call.params["text"] == "hello"
    assert call.blocks == [{"type": "divider"}]


async def test_only_a_posted_message_can_be_updated(slack_api: FakeSlackApi) -> None:
    web = client(slack_api)
    posted = await web.chat_postMessage(channel="C1", text="hello")
    updated = await web.chat_update(channel="C1", ts=posted["ts"], text="hello again")
    assert updated["ok"] and slack_api.messages[("C1", posted["ts"])]["text"] == "hello again"
    for channel, ts in (("C1", "1.000999"), ("C2", posted["ts"])):
        with pytest.raises(SlackApiError) as caught:
            await web.chat_update(channel=channel, ts=ts, text="nobody posted this")
        assert caught.value.response["error"] == "message_not_found"


async def test_wrong_token_is_invalid_auth(slack_api: FakeSlackApi) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client(slack_api, token="xoxb-wrong").auth_test()
    assert caught.value.response["error"] == "invalid_auth"


async def test_form_encoded_and_get_parameters_are_parsed(slack_api: FakeSlackApi) -> None:
    web = client(slack_api)
    slack_api.token_scopes[DEFAULT_TOKEN] = slack_api.scopes | {"im:write"}  # conversations.open: cxbot never calls it
    slack_api.usergroups["S1"] = ["U1", "U2"]
    assert (await web.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    dm = await web.conversations_open(users="U9")
    assert dm["channel"]["id"].startswith("D")
    assert (await web.users_info(user="U9"))["user"]["id"] == "U9"
    link = await web.chat_getPermalink(channel="C1", message_ts="1.000001")
    assert link["permalink"].endswith("/archives/C1/p1000001")


async def test_queued_errors_are_answered_in_order(slack_api: FakeSlackApi) -> None:
    slack_api.queue("chat.postMessage", error="channel_not_found")
    slack_api.queue("chat.postMessage", status=500)
    web = client(slack_api)
    with pytest.raises(SlackApiError) as first:
        await web.chat_postMessage(channel="C1", text="x")
    assert first.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as second:
        await web.chat_postMessage(channel="C1", text="x")
    assert second.value.response.status_code == 500
    assert (await web.chat_postMessage(channel="C1", text="x"))["ok"]


async def test_429_carries_retry_after_and_sdk_handler_waits_for_it(slack_api: FakeSlackApi) -> None:
    slack_api.queue("chat.postMessage", status=429, retry_after=1)
    web = client(slack_api, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    assert (await web.chat_postMessage(channel="C1", text="x"))["ok"]
    first, second = slack_api.calls_to("chat.postMessage")
    assert first.status == 429
    assert second.at - first.at >= 0.95


async def test_per_channel_rate_limit(slack_api: FakeSlackApi) -> None:
    slack_api.rate_limit(2)
    web = client(slack_api)
    await web.chat_postMessage(channel="C1", text="1")
    await web.chat_postMessage(channel="C1", text="2")
    await web.chat_postMessage(channel="C2", text="other channel")
    with pytest.raises(SlackApiError) as caught:
        await web.chat_postMessage(channel="C1", text="3")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"


async def test_views_and_file_upload_v2(slack_api: FakeSlackApi) -> None:
    web = client(slack_api)
    opened = await web.views_open(
        trigger_id="1.2.abc", view={"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    )
    assert opened["view"]["id"].startswith("V")
    uploaded = await web.files_upload_v2(channel="C1", content="a,b\n1,2\n", filename="stats.csv", title="Stats")
    assert uploaded["file"]["size"] == len(b"a,b\n1,2\n")
    assert [c.method for c in slack_api.calls][-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_response_url_posts_are_recorded(slack_api: FakeSlackApi) -> None:
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    url = slack_api.response_url()
    answer = await AsyncWebhookClient(url).send(text="hi", response_type="ephemeral")
    assert answer.status_code == 200 and answer.body == "ok"
    call = slack_api.calls_to("response_url")[0]
    assert call.params["text"] == "hi" and call.params["url"] == url


async def test_views_open_refuses_a_missing_or_malformed_trigger_id(slack_api: FakeSlackApi) -> None:
    web = client(slack_api)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    for trigger in ("None", ""):
        with pytest.raises(SlackApiError) as error:
            await web.views_open(trigger_id=trigger, view=view)
        assert error.value.response["error"] == "invalid_trigger_id"


async def test_a_call_without_its_scope_is_refused_as_slack_refuses_it(slack_api: FakeSlackApi) -> None:
    slack_api.tokens.add("xoxb-no-files")
    slack_api.token_scopes["xoxb-no-files"] = frozenset({"chat:write", "channels:history"})
    web = AsyncWebClient(token="xoxb-no-files", base_url=slack_api.base_url)
    with pytest.raises(SlackApiError) as error:
        await web.files_upload_v2(channel="C1", content="a,b\n", filename="stats.csv")
    answer = error.value.response
    assert (answer["error"], answer["needed"]) == ("missing_scope", "files:write")
    assert answer["provided"] == "channels:history,chat:write"
    with pytest.raises(SlackApiError) as error:  # a private channel's history needs groups:history
        await web.conversations_history(channel="G0PRIVATE")
    assert (error.value.response["error"], error.value.response["needed"]) == ("missing_scope", "groups:history")
    assert (await web.chat_postMessage(channel="C1", text="hi"))["ok"]


async def test_bot_tokens_are_granted_the_manifests_scopes(slack_api: FakeSlackApi) -> None:
    assert slack_api.scopes == manifest_bot_scopes() and "files:write" in slack_api.scopes
