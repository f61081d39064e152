"""Whole-programme figures: comments, stories per department, scores, themes (the demo's summary table)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select

from storage.models import Comment, Department, Route, Story


@dataclass
class Overview:
    comments: int = 0
    stories_per_department: dict[str, int] = field(default_factory=dict)
    nps: list[int] = field(default_factory=list)
    csat: list[int] = field(default_factory=list)
    themes: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)  # placeholder -> how many were stored


PLACEHOLDERS = ("[email]", "[phone]", "[card]", "[iban]", "[ip]", "[number]")


def overview(engine: Engine, *, since: datetime | None = None) -> Overview:
    result = Overview()
    with engine.connect() as conn:
        comments = select(Comment.nps, Comment.csat, Comment.redacted_text)
        story_filter = []
        if since is not None:
            comments = comments.where(Comment.received_at >= since)
            story_filter.append(Story.created_at >= since)
        rows = conn.execute(comments).all()
        result.comments = len(rows)
        result.nps = [r.nps for r in rows if r.nps is not None]
        result.csat = [r.csat for r in rows if r.csat is not None]
        for row in rows:
            for placeholder in PLACEHOLDERS:
                if placeholder in row.redacted_text:
                    result.redacted[placeholder] += row.redacted_text.count(placeholder)
        counts = conn.execute(
            select(Department.name, func.count(Route.id))
            .outerjoin(Route, Route.department_id == Department.id)
            .outerjoin(Story, Story.id == Route.story_id)
            .where(*story_filter)
            .group_by(Department.name)
            .order_by(Department.name)
        ).all()
        result.stories_per_department = {name: int(n) for name, n in counts}
        for themes in conn.scalars(select(Story.themes).where(*story_filter)):
            result.themes.update(themes or [])
    return result
