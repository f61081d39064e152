"""The workspace pace shared by every replica (bot.pacing.SharedWindows), counted in the database.

A limit "at most N in any P seconds" is kept in slots of P/60 seconds (table ``pace_slots``). A post is counted in
the current slot only if the slots that a window of P seconds, plus ``margin``, can reach hold fewer than N: one
``INSERT ... SELECT ... WHERE (that sum) < N ON CONFLICT DO UPDATE SET count = count + 1 RETURNING``, one
transaction at a time per workspace (a PostgreSQL advisory lock; SQLite's write lock). Counting whole slots
costs a little pace (N in P + margin + one slot: 300 in 62 s for Slack) and never lets any window of P seconds
take more than N, whichever replica posted them. ``margin`` covers the time between counting a post and Slack
receiving it.

The time is the replicas' wall clock: their skew (NTP keeps it to milliseconds) moves a post between neighbouring
slots at most.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, text


class SqlSharedWindows:
    """Implements bot.pacing.SharedWindows on PostgreSQL (and SQLite, for one host's processes)."""

    def __init__(
        self, engine: Engine, *, margin: float = 1.0, slots: int = 60, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._margin = margin
        self._slots = slots
        self._clock = clock
        self._swept: dict[str, int] = {}  # window -> the slot whose old rows this process last deleted

    def reserve(self, *, key: str, limits: Sequence[tuple[int, float]]) -> float:
        """Count one post under ``key`` now if every ``(count, per)`` limit allows it; 0.0 when counted, else the
        seconds until the next slot, when it may be asked again."""
        now = round(self._clock() * 1000)
        wait, counted = 0, []
        with self._engine.connect() as conn, conn.begin() as transaction:
            self._one_at_a_time(conn, key)
            for count, per in limits:
                window = f"{key} {count}/{per:g}s"
                width = max(1, round(per * 1000 / self._slots))
                slot = now // width * width
                # every slot a window of per + margin seconds ending in this one can touch
                since = slot - math.ceil((per + self._margin) * 1000 / width) * width
                if conn.execute(_RESERVE, {"w": window, "s": slot, "since": since, "limit": count}).first() is None:
                    wait = max(wait, slot + width - now)
                counted.append((window, slot, since))
            if wait:
                transaction.rollback()  # every limit or none: a refused post counts nowhere
                return wait / 1000
            for window, slot, since in counted:
                if self._swept.get(window) != slot:  # once a slot per process: the rows no window reaches now
                    conn.execute(_SWEEP, {"w": window, "before": since})
                    self._swept[window] = slot
        return 0.0

    def _one_at_a_time(self, conn: Connection, key: str) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"cxbot pace {key}"})
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")


_RESERVE = text(
    """
    INSERT INTO pace_slots (workspace, slot_start, count)
    SELECT CAST(:w AS VARCHAR(200)), CAST(:s AS BIGINT), 1
    WHERE (SELECT COALESCE(SUM(count), 0) FROM pace_slots WHERE workspace = CAST(:w AS VARCHAR(200)) AND slot_start >= :since) < :limit
    ON CONFLICT (workspace, slot_start) DO UPDATE SET count = pace_slots.count + 1
    RETURNING count
    """
)
_SWEEP = text("DELETE FROM pace_slots WHERE workspace = :w AND slot_start < :before")
