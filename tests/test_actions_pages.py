"""`/cx actions` pages come out of the database one page at a time, in the order people see them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text

from storage.models import Commitment
from stories.commands import PAGE_SIZE
from stories.followup import commitment_order
from stories.views import ActionsView
from tests.followup_world import DANA, FIONA, World, make_world

TODAY = date(2026, 12, 1)
FINANCE = "Finance & Billing"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def seed(world: World) -> None:
    """47 commitments: Finance's open ones overdue, due later and undated, some closed; Dana's across two
    departments; created out of due order so that id order alone would be wrong."""
    fin, log = world.departments.id_of(FINANCE), world.departments.id_of("Logistics & Delivery")
    created = datetime(2026, 11, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for n in range(47):
        due = None if n % 5 == 0 else TODAY + timedelta(days=(n * 7) % 23 - 11)
        rows.append(
            {
                "key": f"k{n}",
                "department_id": log if n % 4 == 0 else fin,
                "owner": "UDANA" if n % 3 == 0 else "UFINOTHER",
                "created_by": "UFINMGR",
                "platform": "slack",
                "what": f"call back {n}",
                "due_date": due,
                "state": "done" if n % 7 == 0 else "open",
                "created_at": created,
            }
        )
    with world.engine.begin() as conn:
        conn.execute(insert(Commitment), rows)


def every_page(world: World, actor: Any, args: str) -> tuple[list[int], ActionsView]:
    first = world.run(actor, f"actions {args}")
    assert isinstance(first, ActionsView), first
    ids = [i.id for i in first.items]
    for page in range(2, first.pages + 1):
        view = world.run(actor, f"actions {args} page {page}")
        assert isinstance(view, ActionsView) and view.total == first.total
        ids += [i.id for i in view.items]
    return ids, first


@pytest.mark.parametrize(
    ("args", "departments", "owner", "overdue"),
    [
        (FINANCE.lower(), [FINANCE], None, False),
        (f"{FINANCE.lower()} overdue", [FINANCE], None, True),
        ("mine", None, "UDANA", False),
        ("mine overdue", None, "UDANA", True),
    ],
)
def test_paged_in_sql_gives_the_same_list_as_sorting_everything(
    world: World, args: str, departments: list[str] | None, owner: str | None, overdue: bool
) -> None:
    seed(world)
    world.clock.now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    actor = DANA if owner else FIONA
    everything = world.store.open_commitments(today=TODAY, departments=departments, owner=owner)
    expected = [i.id for i in sorted(everything, key=commitment_order) if i.overdue or not overdue]
    assert len(expected) > (PAGE_SIZE if not overdue else 2)  # the seed spans pages and has overdue items

    ids, first = every_page(world, actor, args)

    assert ids == expected
    assert first.total == len(expected) and first.pages == max(1, -(-len(expected) // PAGE_SIZE))


def test_a_page_reads_one_page_of_rows_from_the_database(world: World) -> None:
    seed(world)
    world.clock.now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "commitments" in statement:
            statements.append((statement, parameters))

    event.listen(world.engine, "before_cursor_execute", record)
    try:
        view = world.run(FIONA, "actions finance page 2")
    finally:
        event.remove(world.engine, "before_cursor_execute", record)
    assert isinstance(view, ActionsView) and view.total > 2 * PAGE_SIZE

    with world.engine.connect() as conn:
        handed_over = [len(conn.exec_driver_sql(s, p).fetchall()) for s, p in statements]
    assert statements and max(handed_over) <= PAGE_SIZE, handed_over


def test_postgres_serves_department_and_person_pages_from_their_indexes_without_sorting(world: World) -> None:
    if world.engine.dialect.name != "postgresql":
        pytest.skip("the query plan is PostgreSQL's (production); SQLite's is not the one that matters")
    seed(world)
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "LIMIT" in statement.upper() and "commitments" in statement:
            statements.append((statement, parameters))

    event.listen(world.engine, "before_cursor_execute", record)
    try:
        world.run(FIONA, "actions finance page 2")
        world.run(DANA, "actions mine")
    finally:
        event.remove(world.engine, "before_cursor_execute", record)
    assert len(statements) == 2
    with world.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # a tiny table: make the planner show what it could use
        plans = ["\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + s, p)) for s, p in statements]
    for plan, index in zip(plans, ("ix_commitments_open_department", "ix_commitments_open_owner"), strict=True):
        assert f"using {index} on commitments" in plan, plan
        assert "Sort Key: commitments.due_date" not in plan, plan  # the index gives the order: nothing sorted


LOGISTICS = "Logistics & Delivery"


def page_ids(world: World, **query: Any) -> tuple[list[int], int, int, int]:
    found = world.store.commitments_page(today=TODAY, size=PAGE_SIZE, **query)
    return [i.id for i in found.items], found.total, found.page, found.pages


def test_no_open_commitments_is_one_empty_page_whatever_page_is_asked(world: World) -> None:
    for page in (1, 3, 0):
        assert page_ids(world, departments=[FINANCE], page=page) == ([], 0, 1, 1)
        assert page_ids(world, owner="UNOBODY", overdue=True, page=page) == ([], 0, 1, 1)


def test_the_last_page_holds_the_remainder_and_a_page_past_it_is_the_last(world: World) -> None:
    seed(world)
    everything = world.store.open_commitments(today=TODAY, owner="UDANA")
    expected = [i.id for i in sorted(everything, key=commitment_order)]
    pages = -(-len(expected) // PAGE_SIZE)
    assert len(expected) % PAGE_SIZE  # the seed leaves a part-filled last page
    last = expected[(pages - 1) * PAGE_SIZE :]
    assert page_ids(world, owner="UDANA", page=pages) == (last, len(expected), pages, pages)
    assert page_ids(world, owner="UDANA", page=pages + 5) == (last, len(expected), pages, pages)
    assert page_ids(world, owner="UDANA", page=-2)[0] == expected[:PAGE_SIZE]


def test_ties_on_a_due_date_go_oldest_first_and_undated_ones_last(world: World) -> None:
    fin = world.departments.id_of(FINANCE)
    due = [TODAY + timedelta(days=2), None, TODAY - timedelta(days=3), TODAY + timedelta(days=2), None]
    due += [TODAY - timedelta(days=3), TODAY + timedelta(days=2)]
    rows = [
        {
            "key": f"tie{n}",
            "department_id": fin,
            "owner": "UDANA",
            "created_by": "UFINMGR",
            "platform": "slack",
            "what": f"tie {n}",
            "due_date": d,
            "state": "open",
            "created_at": datetime(2026, 11, 1, tzinfo=UTC),
        }
        for n, d in enumerate(due)
    ]
    with world.engine.begin() as conn:
        ids = [conn.execute(insert(Commitment).returning(Commitment.id), [row]).scalar_one() for row in rows]
    by_due = [ids[2], ids[5], ids[0], ids[3], ids[6], ids[1], ids[4]]  # overdue, then the tie by id, undated
    assert page_ids(world, departments=[FINANCE], page=1)[0] == by_due
    assert page_ids(world, owner="UDANA", page=1)[0] == by_due
    assert page_ids(world, owner="UDANA", overdue=True, page=1)[0] == [ids[2], ids[5]]
    found = world.store.commitments_page(today=TODAY, owner="UDANA", page=1, size=PAGE_SIZE)
    assert [(i.overdue, i.due_label) for i in found.items[:3]] == [
        (True, "overdue since Sat 28 Nov"),
        (True, "overdue since Sat 28 Nov"),
        (False, "due Thu 3 Dec"),
    ]
    assert found.items[0].department == FINANCE and found.items[0].created_by == "UFINMGR"


def test_several_departments_page_together_and_each_count_of_departments_gets_its_own_statement(
    world: World,
) -> None:
    """A manager of two departments sees both in one list; asking for one again afterwards is not served by the
    statement made for two (statements are kept per shape)."""
    seed(world)

    def expected(departments: list[str]) -> list[int]:
        everything = world.store.open_commitments(today=TODAY, departments=departments)
        return [i.id for i in sorted(everything, key=commitment_order)][:PAGE_SIZE]

    for departments in ([FINANCE], [FINANCE, LOGISTICS], [LOGISTICS], [LOGISTICS, FINANCE], []):
        ids, total, _, _ = page_ids(world, departments=departments, page=1)
        assert ids == expected(departments), departments
        assert total == len(world.store.open_commitments(today=TODAY, departments=departments))
