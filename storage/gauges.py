"""What ``/metrics`` reads from the database at each scrape: two small aggregate queries, served by indexes
(``ix_commitments_state_due``, ``ix_deliveries_state_not_before``), so a scrape stays cheap at a million rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, and_, func, select

from storage.models import Commitment, Delivery


def commitment_counts(engine: Engine, *, today: date) -> tuple[int, int]:
    """``(open, overdue)``: open commitments, and those of them due before ``today``."""
    is_open = Commitment.state == "open"
    query = select(
        func.count().filter(is_open),
        func.count().filter(and_(is_open, Commitment.due_date < today)),
    ).where(is_open)
    with engine.connect() as conn:
        open_, overdue = conn.execute(query).one()
    return int(open_ or 0), int(overdue or 0)


def delivery_counts(engine: Engine) -> dict[str, int]:
    """Deliveries by state (pending, claimed, sent, failed, ...)."""
    with engine.connect() as conn:
        rows = conn.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
    return {str(state): int(n) for state, n in rows}
