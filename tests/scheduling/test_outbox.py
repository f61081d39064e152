"""The outbox's claim rules, on SQLite and PostgreSQL: fairness between lanes, leases, claim tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from storage.departments import sync_departments
from storage.outbox import SqlOutbox
from stories.config import CxConfig, Department
from stories.outbox import Outgoing

NOW = datetime(2026, 6, 3, 12, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
def outbox(engine: Engine) -> SqlOutbox:
    config = CxConfig(default_department="Ops", departments=(Department(name="Ops"), Department(name="Sales")))
    return SqlOutbox(engine, sync_departments(engine, config))


def queue(outbox: SqlOutbox, lanes: dict[str, int]) -> None:
    items = [
        Outgoing(key=f"{channel}:{n}", kind="text", platform="slack", channel=channel, payload={"text": "hi"})
        for channel, count in lanes.items()
        for n in range(count)
    ]
    outbox.enqueue(items, now=NOW)


def test_a_busy_channel_does_not_starve_the_others(outbox: SqlOutbox) -> None:
    queue(outbox, {"CBUSY": 50, "CQUIET": 1})
    claimed = outbox.claim(instance="a", now=NOW, lease=LEASE, limit=10, per_lane=3)
    assert sorted(c.key for c in claimed) == ["CBUSY:0", "CBUSY:1", "CBUSY:2", "CQUIET:0"]


def test_urgent_deliveries_are_claimed_first_across_lanes_and_within_one(outbox: SqlOutbox) -> None:
    queue(outbox, {"CBUSY": 5, "CQUIET": 2})
    late = [
        Outgoing(key=f"urgent:{c}", kind="story", platform="slack", channel=c, urgent=True) for c in ("CBUSY", "CELSE")
    ]
    outbox.enqueue(late, now=NOW + timedelta(seconds=1))
    first = outbox.claim(instance="a", now=NOW + LEASE, lease=LEASE, limit=2, per_lane=1)
    assert sorted(c.key for c in first) == ["urgent:CBUSY", "urgent:CELSE"] and all(c.urgent for c in first)
    rest = outbox.claim(instance="a", now=NOW + LEASE, lease=LEASE, limit=10)
    assert not any(c.urgent for c in rest) and len(rest) == 7


def test_lanes_still_queued_here_are_skipped(outbox: SqlOutbox) -> None:
    queue(outbox, {"C1": 5, "C2": 5})
    claimed = outbox.claim(instance="a", now=NOW, lease=LEASE, per_lane=2, exclude=[("slack", "C1")])
    assert [c.key for c in claimed] == ["C2:0", "C2:1"]


def test_a_lane_another_instance_works_on_is_left_to_it_until_its_lease_ends(outbox: SqlOutbox) -> None:
    queue(outbox, {"C1": 4, "C2": 1})
    outbox.claim(instance="a", now=NOW, lease=LEASE, per_lane=1)
    assert [c.key for c in outbox.claim(instance="b", now=NOW, lease=LEASE, per_lane=3)] == []
    later = NOW + LEASE + timedelta(seconds=1)  # "a" died: its claims expire, "b" takes over the lane
    assert sorted(c.key for c in outbox.claim(instance="b", now=later, lease=LEASE, per_lane=2)) == [
        "C1:0",
        "C1:1",
        "C2:0",
    ]


def test_an_expired_claim_is_claimed_again_and_the_first_claimer_can_no_longer_use_it(outbox: SqlOutbox) -> None:
    queue(outbox, {"C1": 1})
    (first,) = outbox.claim(instance="a", now=NOW, lease=LEASE)
    (second,) = outbox.claim(instance="a", now=NOW + LEASE + timedelta(seconds=1), lease=LEASE)  # same name, restarted
    assert (first.attempts, second.attempts) == (1, 2)
    assert not outbox.hold(first, instance="a", now=NOW, lease=LEASE)  # so it will not post
    assert not outbox.mark_failed(first, instance="a", error="x", now=NOW, retry_at=NOW)
    assert outbox.hold(second, instance="a", now=NOW, lease=LEASE)


def test_a_post_is_recorded_once_whoever_recorded_it_first(outbox: SqlOutbox) -> None:
    queue(outbox, {"C1": 1})
    (first,) = outbox.claim(instance="a", now=NOW, lease=LEASE)
    (second,) = outbox.claim(instance="b", now=NOW + LEASE + timedelta(seconds=1), lease=LEASE)
    assert outbox.mark_sent(first, instance="a", message_id="1.1", now=NOW)  # late, but it did post: recorded
    assert not outbox.hold(second, instance="b", now=NOW, lease=LEASE)  # the second claimer sees it is sent
    assert not outbox.mark_sent(second, instance="b", message_id="1.2", now=NOW)  # a second post is reported
    assert outbox.counts() == {"sent": 1}


def test_a_rate_limited_claim_is_given_back_without_counting_an_attempt(outbox: SqlOutbox) -> None:
    queue(outbox, {"C1": 1})
    (claim,) = outbox.claim(instance="a", now=NOW, lease=LEASE)
    assert outbox.release(claim, instance="a", not_before=NOW + timedelta(seconds=40), reason="rate limited")
    assert outbox.claim(instance="a", now=NOW + timedelta(seconds=39), lease=LEASE) == []
    (again,) = outbox.claim(instance="a", now=NOW + timedelta(seconds=40), lease=LEASE)
    assert again.attempts == 1  # no look-up for an earlier post needed: nothing was posted


def test_the_last_digest_period_end_is_read_back_per_department_and_platform(outbox: SqlOutbox) -> None:
    def digest(key: str, department: str, platform: str, until: datetime) -> Outgoing:
        payload = {"story_ids": [], "since": (until - timedelta(days=1)).isoformat(), "until": until.isoformat()}
        return Outgoing(key=key, kind="digest", platform=platform, channel="C", department=department, payload=payload)

    outbox.enqueue(
        [
            digest("d1", "Ops", "slack", NOW),
            digest("d2", "Ops", "slack", NOW + timedelta(days=1)),
            digest("d3", "Ops", "teams", NOW - timedelta(days=3)),
            digest("d4", "Sales", "slack", NOW + timedelta(days=5)),
        ]
    )
    assert outbox.last_digest_until(department="Ops", platform="slack") == NOW + timedelta(days=1)
    assert outbox.last_digest_until(department="Ops", platform="teams") == NOW - timedelta(days=3)
    assert outbox.last_digest_until(department="Sales", platform="teams") is None
