"""One line of ``cxbot doctor``: what was checked, what was found, and when it stops a first story, the fix.

Slack's and Teams' checks (handlers/slack/doctor.py, handlers/teams/doctor.py) and the wiring's (bot/doctor.py)
all answer in these, so the report reads the same whatever found the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "FAIL", "skip"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> Check:
        return cls(name, "ok", detail)

    @classmethod
    def fail(cls, name: str, detail: str, *, fix: str) -> Check:
        return cls(name, "FAIL", detail, fix)

    @classmethod
    def skip(cls, name: str, detail: str) -> Check:
        return cls(name, "skip", detail)

    def line(self) -> str:
        text = f"{self.status:<4} {self.name}: {self.detail}"
        return f"{text} -> fix: {self.fix}" if self.fix else text
