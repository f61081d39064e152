"""App Home: my open commitments, kudos I received, my department's latest stories."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.command_store import SqlCommandStore
from stories.actors import Actor
from stories.followup import commit
from stories.kudos import give_kudos
from stories.outbox import RecordingOutbox
from tests.slack.conftest import CONFIG, SlackServer, command_fields, fresh_event, payload


async def test_home_shows_commitments_kudos_and_department_stories(slack: SlackServer) -> None:
    await slack.event(payload("event_message_channels.json"))
    await slack.settle()
    post = slack.api.calls_to("chat.postMessage", ok_only=True)[0]
    story_id = int(post.blocks[-1]["elements"][0]["value"])
    store = SqlCommandStore(slack.app.engine, slack.app.departments)
    now = datetime.now(UTC)
    commit(
        store=store,
        outbox=RecordingOutbox(),
        key="home:1",
        story_id=story_id,
        department="Finance",
        owner="U0MANAGER1",
        owner_name="Maria",
        created_by="U0MANAGER1",
        platform="slack",
        what="Call the customer <!here>",
        due=None,
        now=now,
        redactor=slack.app.pipeline.redactor,
    )
    give_kudos(
        store=store,
        outbox=RecordingOutbox(),
        config=slack.app.config,
        key="home:kudos",
        giver=Actor(platform="slack", user_id="U0CXAGENT1", groups=frozenset({"S0CXTEAM01"})),
        receiver="U0MANAGER1",
        receiver_name="Maria",
        why="for the same-day call back",
        now=now,
        redactor=slack.app.pipeline.redactor,
    )

    status, _, seconds = await slack.event(fresh_event("event_app_home_opened.json"))
    assert status == 200 and seconds < 1.0
    await slack.settle()
    published = slack.api.calls_to("views.publish", ok_only=True)
    assert len(published) == 1 and published[0].params["user_id"] == "U0MANAGER1"
    view = published[0].view
    assert view["type"] == "home"
    text = published[0].payload_text()
    assert "Call the customer &lt;!here&gt;" in text and "<!here>" not in text
    assert "same-day call back" in text and "<@U0CXAGENT1>" in text
    assert "Latest stories for Finance" in text
    assert "charged twice" in text.lower()


async def test_home_for_someone_without_a_department_says_how_to_get_one(slack: SlackServer) -> None:
    assert "U0DANA0001" not in str(CONFIG)
    await slack.event(fresh_event("event_app_home_opened.json", user="U0DANA0001"))
    await slack.settle()
    text = slack.api.calls_to("views.publish", ok_only=True)[0].payload_text()
    assert "Nothing open" in text and "Ask the CX team" in text


async def test_mark_done_from_the_home_tab_closes_it_and_refreshes_home(slack: SlackServer) -> None:
    await slack.event(payload("event_message_channels.json"))
    await slack.settle()
    story_id = int(slack.api.calls_to("chat.postMessage", ok_only=True)[0].blocks[-1]["elements"][0]["value"])
    store = SqlCommandStore(slack.app.engine, slack.app.departments)
    commit(
        store=store,
        outbox=RecordingOutbox(),
        key="home:2",
        story_id=story_id,
        department="Finance",
        owner="U0MANAGER1",
        owner_name="Maria",
        created_by="U0MANAGER1",
        platform="slack",
        what="Call the customer",
        due=None,
        now=datetime.now(UTC),
        redactor=slack.app.pipeline.redactor,
    )
    await slack.event(fresh_event("event_app_home_opened.json"))
    await slack.settle()
    home = slack.api.calls_to("views.publish", ok_only=True)[-1].view
    done = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "commitment_done"
    )
    click = payload("block_actions_commitment_done.json")
    click["user"]["id"] = "U0MANAGER1"
    click["container"] = {"type": "view", "view_id": "V0HOME0001"}
    del click["response_url"], click["channel"]
    click["actions"][0].update(value=done["value"])
    await slack.interact(click)
    await slack.settle()
    assert store.commitment(1, today=datetime.now(UTC).date()).state == "done"
    refreshed = slack.api.calls_to("views.publish", ok_only=True)[-1]
    assert "Nothing open" in refreshed.payload_text()


async def test_cx_home_answers_privately_with_what_the_app_home_shows(slack: SlackServer) -> None:
    """`/cx home`: the App Home's neutral view as an ephemeral message (the Teams home card renders the same)."""
    await slack.event(payload("event_message_channels.json"))
    await slack.settle()
    post = slack.api.calls_to("chat.postMessage", ok_only=True)[0]
    story_id = int(post.blocks[-1]["elements"][0]["value"])
    commit(
        store=SqlCommandStore(slack.app.engine, slack.app.departments),
        outbox=RecordingOutbox(),
        key="home:command",
        story_id=story_id,
        department="Finance",
        owner="U0MANAGER1",
        owner_name="Maria",
        created_by="U0MANAGER1",
        platform="slack",
        what="Call the customer back",
        due=None,
        now=datetime.now(UTC),
        redactor=slack.app.pipeline.redactor,
    )
    status, answer, _ = await slack.command(command_fields(text="home", user_id="U0MANAGER1"))
    assert status == 200 and answer == b""
    await slack.settle()
    [reply] = slack.api.calls_to("response_url")
    assert reply.params["response_type"] == "ephemeral"
    text = reply.payload_text()
    assert "Your open commitments" in text and "Call the customer back" in text
    assert "Latest stories for Finance" in text and "charged twice" in text.lower()
