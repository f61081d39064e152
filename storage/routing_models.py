"""The routing learner's store: labelled comments, readers' corrections (read, never written, here) and the
versioned models (JSON numbers, stories.learning)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, func, select

from storage.models import Comment, Correction, Department, LabelledComment, RoutingModel, Story
from storage.upsert import insert_ignore
from stories.ports import StoredModel

_CHUNK = 150  # rows per insert: six columns each, under SQLite's bound-parameter limit


def labelled_key(text: str, department: str) -> str:
    return hashlib.sha256(f"{department}\x00{text}".encode()).hexdigest()


class SqlRoutingModels:
    """Implements :class:`stories.ports.RoutingModelStore`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def add_labelled(self, rows: Sequence[tuple[str, str]], *, origin: str, now: datetime) -> int:
        unique = {labelled_key(t, d): (t, d) for t, d in rows}
        values = [
            {"key": k, "text": t, "department": d, "origin": origin[:200], "created_at": now}
            for k, (t, d) in unique.items()
        ]
        added = 0
        with self._engine.begin() as conn:
            for start in range(0, len(values), _CHUNK):
                added += len(
                    conn.execute(
                        insert_ignore(LabelledComment, self._dialect).returning(LabelledComment.id),
                        values[start : start + _CHUNK],
                    ).all()
                )
        return added

    def training_set(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        latest = (
            select(Correction.story_id, func.max(Correction.id).label("last")).group_by(Correction.story_id).subquery()
        )
        corrections = (
            select(Comment.redacted_text, Department.name)
            .join(Story, Story.comment_id == Comment.id)
            .join(latest, latest.c.story_id == Story.id)
            .join(Correction, Correction.id == latest.c.last)
            .join(Department, Department.id == Correction.to_department_id)
            .order_by(Correction.id)
        )
        with self._engine.connect() as conn:
            labelled = [(t, d) for t, d in conn.execute(select(LabelledComment.text, LabelledComment.department))]
            corrected = [(t, d) for t, d in conn.execute(corrections)]
        return labelled, corrected

    def latest(self) -> StoredModel | None:
        return self._one(active_only=False)

    def active(self) -> StoredModel | None:
        return self._one(active_only=True)

    def versions(self) -> list[StoredModel]:
        """Every version, newest first, without the model itself (for `cxbot routing status`)."""
        columns = [c for c in _COLUMNS if c is not RoutingModel.model]
        with self._engine.connect() as conn:
            rows = conn.execute(select(*columns).order_by(RoutingModel.version.desc())).mappings().all()
        return [StoredModel(**row, model="") for row in rows]

    def save(self, model: StoredModel) -> bool:
        row = {
            "version": model.version,
            "created_at": model.created_at,
            "examples": model.examples,
            "corrections": model.corrections,
            "held_out": model.held_out,
            "rules_top1": model.rules_top1,
            "learned_top1": model.learned_top1,
            "active": model.active,
            "model": model.model,
        }
        with self._engine.begin() as conn:
            return bool(
                conn.execute(insert_ignore(RoutingModel, self._dialect).returning(RoutingModel.id), [row]).all()
            )

    def _one(self, *, active_only: bool) -> StoredModel | None:
        query = select(*_COLUMNS).order_by(RoutingModel.version.desc()).limit(1)
        if active_only:
            query = query.where(RoutingModel.active.is_(True))
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else StoredModel(**row)


_COLUMNS = (
    RoutingModel.version,
    RoutingModel.created_at,
    RoutingModel.examples,
    RoutingModel.corrections,
    RoutingModel.held_out,
    RoutingModel.rules_top1,
    RoutingModel.learned_top1,
    RoutingModel.active,
    RoutingModel.model,
)
