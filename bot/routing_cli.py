"""``cxbot routing``: teach the routing learner and see how it does.

- ``cxbot routing learn FILE.csv``: labelled comments (columns ``text,department``) are redacted, stored and the
  learner retrained at once; the new version is used only if it passed its gate (stories.retraining).
- ``cxbot routing eval FILE.csv``: top-1, gold among routes, departments per story and the default-only share,
  rules alone beside rules + the active learned version, on a labelled file (it is not stored).
- ``cxbot routing status``: every stored version, its scores against the rules, and which one is in use.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings
from stories.blended_routing import compare
from stories.learning import Example, LearnedModel
from stories.redaction import PiiRedactor
from stories.retraining import active_model, retrain

if TYPE_CHECKING:
    from bot.app import App

COLUMNS = ("text", "department")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    routing = sub.add_parser("routing", help="the routing learner: learn from a labelled CSV, eval, status")
    actions = routing.add_subparsers(dest="action", required=True)
    learn = actions.add_parser("learn", help="store labelled comments (CSV: text,department) and retrain")
    learn.add_argument("file")
    learn.set_defaults(func=cmd_learn)
    evaluate = actions.add_parser("eval", help="rules alone vs rules + learner on a labelled CSV (text,department)")
    evaluate.add_argument("file")
    evaluate.set_defaults(func=cmd_eval)
    status = actions.add_parser("status", help="the stored learner versions and the one in use")
    status.set_defaults(func=cmd_status)


class LabelledFileError(ValueError):
    """A labelled file cxbot cannot use; the message names the line or column and the fix."""


@dataclass(frozen=True, slots=True)
class LabelledFile:
    examples: list[Example]  # redacted text, department as configured


def read_labelled(path: Path, *, departments: tuple[str, ...], redactor: PiiRedactor) -> LabelledFile:
    """Rows of ``text,department``; department names compare case-insensitively with the configuration."""
    known = {d.casefold(): d for d in departments}
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise LabelledFileError(f"{path}: cannot read it ({exc.strerror}); check the path") from None
    examples: list[Example] = []
    with handle:
        reader = csv.DictReader(handle)
        header = [c.strip().casefold() for c in reader.fieldnames or []]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise LabelledFileError(
                f"{path}: no column {', '.join(repr(c) for c in missing)}; the first line must name the columns "
                "text,department"
            )
        for row in reader:
            values = {(k or "").strip().casefold(): (v or "") for k, v in row.items() if isinstance(v, str)}
            text, department = values["text"].strip(), values["department"].strip()
            where = f"{path.name}:{reader.line_num}"
            if not text:
                raise LabelledFileError(f"{where}: text is empty; write the comment or remove the line")
            if department.casefold() not in known:
                raise LabelledFileError(
                    f"{where}: department {department!r} is not configured; use one of "
                    + ", ".join(repr(d) for d in departments)
                )
            examples.append(Example(text=redactor.redact(text).text, department=known[department.casefold()]))
    if not examples:
        raise LabelledFileError(f"{path}: no rows below the header; add lines of text,department")
    return LabelledFile(examples=examples)


def _app(settings: Settings) -> App:
    from bot.app import build

    return build(settings)


def _read(app: App, path: Path) -> LabelledFile:
    redactor = PiiRedactor(
        default_region=app.config.redaction.default_region, digit_runs=app.config.redaction.digit_runs
    )
    return read_labelled(path, departments=app.config.department_names, redactor=redactor)


def cmd_learn(args: argparse.Namespace, settings: Settings) -> int:
    app = _app(settings)
    try:
        try:
            labelled = _read(app, Path(args.file))
        except LabelledFileError as exc:
            print(f"cxbot routing learn: {exc}")
            return 2
        now = datetime.now(UTC)
        rows = [(e.text, e.department) for e in labelled.examples]
        added = app.routing_models.add_labelled(rows, origin=Path(args.file).name, now=now)
        print(f"{args.file}: {len(rows)} labelled comments, {added} new, {len(rows) - added} already known")
        outcome = retrain(app.routing_models, app.router, now=now, why=f"cxbot routing learn {Path(args.file).name}")
        if outcome is None:
            print("not retrained: too few labelled comments yet (at least 10, in at least 2 departments)")
            return 0
        state = "in use" if outcome.active else "NOT used: it did worse than the rules alone"
        print(f"learner version {outcome.version}: {outcome.verdict}; {state}")
        return 0
    finally:
        app.close()


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    app = _app(settings)
    try:
        try:
            labelled = _read(app, Path(args.file))
        except LabelledFileError as exc:
            print(f"cxbot routing eval: {exc}")
            return 2
        model, version = active_model(app.routing_models)
        alone, blended = compare(app.router, model, labelled.examples)
        print(f"{args.file}: {alone.examples} labelled comments")
        print(f"rules alone        {alone.line()}")
        if blended is None:
            print("rules + learner    no learned version in use yet (cxbot routing learn FILE.csv)")
        else:
            print(f"rules + learner v{version:<2} {blended.line()}")
        return 0
    finally:
        app.close()


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    app = _app(settings)
    try:
        versions = app.routing_models.versions()
        if not versions:
            print("no learned version yet: routing uses the rules alone (cxbot routing learn FILE.csv)")
            return 0
        in_use = next((v.version for v in versions if v.active), None)
        for v in versions:
            mark = "in use" if v.version == in_use else "active" if v.active else "not used (worse than rules)"
            print(
                f"v{v.version} {v.created_at:%Y-%m-%d %H:%M} UTC: {v.examples} examples ({v.corrections} corrections); "
                f"held out {v.held_out}: rules {v.rules_top1:.3f}, rules + learner {v.learned_top1:.3f}; {mark}"
            )
        stored = app.routing_models.active()
        if stored is not None:  # what cross-validation on its training labels chose (stories.learning.choose)
            model = LearnedModel.from_json(stored.model)
            strength = "" if model.strength is None else f"C = {model.strength:g}; "
            print(
                f"v{stored.version}'s settings: {strength}its department goes before the rules' when it is "
                f"{model.override_ratio:g}x as likely as each of theirs"
            )
        return 0
    finally:
        app.close()
