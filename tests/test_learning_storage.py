"""Issue 14.2 on a real database: labelled comments and corrections feed the learner, versions are stored once,
the sweep retrains after a batch of corrections and the pipeline then routes with the learner; the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage.routing_models import SqlRoutingModels
from stories.models import IncomingComment
from stories.ports import StoredModel
from stories.retraining import RETRAIN_AFTER
from tests.test_learning import labelled

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)

CONFIG = """
default_department: CX Team
departments:
  - name: CX Team
  - name: Metering
  - name: Billing
  - name: Field Service
rules:
  - id: visits
    department: Field Service
    keywords: [engineer, late]
  - id: bills
    department: Billing
    phrases: [my bill]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "cx.yaml"
    path.write_text(CONFIG)
    return path


def version(number: int, *, active: bool) -> StoredModel:
    return StoredModel(
        version=number,
        created_at=NOW,
        examples=20,
        corrections=4,
        held_out=5,
        rules_top1=0.4,
        learned_top1=0.6 if active else 0.2,
        active=active,
        model='{"format": 1}',
    )


def test_labelled_comments_are_stored_once_and_versions_are_unique(engine) -> None:  # type: ignore[no-untyped-def]
    models = SqlRoutingModels(engine)
    rows = [("the meter reading is wrong", "Metering"), ("the tariff went up", "Billing")]
    assert models.add_labelled([*rows, rows[0]], origin="a.csv", now=NOW) == 2
    assert models.add_labelled(rows, origin="a.csv", now=NOW) == 0  # the same file again
    assert models.add_labelled([("the meter reading is wrong", "Billing")], origin="b.csv", now=NOW) == 1
    labelled_rows, corrections = models.training_set()
    assert sorted(labelled_rows) == sorted([*rows, ("the meter reading is wrong", "Billing")])
    assert corrections == []
    assert models.latest() is None and models.active() is None
    assert models.save(version(1, active=True))
    assert models.save(version(2, active=False))
    assert not models.save(version(2, active=True))  # another replica stored version 2 first
    latest, active = models.latest(), models.active()
    assert latest is not None and latest.version == 2 and not latest.active
    assert active == version(1, active=True)
    assert [v.version for v in models.versions()] == [2, 1]


def test_corrections_train_the_learner_and_the_pipeline_then_routes_with_it(make_app, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(cx_config=config_file)
    examples = labelled(3 * RETRAIN_AFTER + 30, seed=11)
    report = app.pipeline.ingest(
        IncomingComment(text=e.text, source="csv", external_id=f"r{i}") for i, e in enumerate(examples)
    )
    assert len(report.created) == len(examples)
    assert app.refresh_routing() is None  # no corrections, no labelled file: nothing to learn yet
    corrected = 0
    for story in report.created:
        department = examples[int(str(story.external_id)[1:])].department
        if story.departments[0] == department:
            continue
        assert app.followups.add_correction(
            key=f"slack:action:{story.story_id}",
            story_id=story.story_id,
            from_department=story.departments[0],
            to_department=department,
            by="UFIONA",
            platform="slack",
            now=NOW,
        )
        corrected += 1
    assert corrected >= RETRAIN_AFTER  # the metering comments reached the CX team: readers moved them
    _, corrections = app.routing_models.training_set()
    assert len(corrections) == corrected
    outcome = app.refresh_routing()
    assert outcome is not None and outcome.version == 1 and outcome.active, outcome
    assert app.routing.version == 1
    fresh = app.pipeline.ingest(
        [IncomingComment(text="The smart meter display shows no reading at all.", source="csv", external_id="new")]
    )
    (story,) = fresh.created
    assert story.departments[0] == "Metering"
    assert story.reasons[0].startswith("learned: '") and "meter" in story.reasons[0]
    assert app.refresh_routing() is None  # nothing new since: no retrain


def write_labelled(path: Path, rows: list[tuple[str, str]], header: str = "text,department") -> Path:
    lines = [header] + [f'"{t}",{d}' for t, d in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_learn_eval_status_and_config_route(  # type: ignore[no-untyped-def]
    database_url: str, config_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CX_CONFIG", str(config_file))
    assert main(["routing", "status"]) == 0
    assert "rules alone" in capsys.readouterr().out
    train_file = write_labelled(tmp_path / "train.csv", [(e.text, e.department) for e in labelled(90, seed=4)])
    assert main(["routing", "learn", str(train_file)]) == 0
    out = capsys.readouterr().out
    assert "90 labelled comments" in out and "learner version 1: held out" in out and "in use" in out
    assert main(["routing", "learn", str(train_file)]) == 0
    assert "90 already known" in capsys.readouterr().out
    test_file = write_labelled(
        tmp_path / "test.csv", [(e.text, e.department.upper()) for e in labelled(30, seed=5)]
    )  # department names compare case-insensitively
    assert main(["routing", "eval", str(test_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    alone = next(line for line in lines if line.startswith("rules alone"))
    blended = next(line for line in lines if line.startswith("rules + learner v2"))
    top1 = [float(line.split("top-1 ")[1].split()[0]) for line in (alone, blended)]
    assert top1[1] > top1[0]
    assert "default only" in alone and "departments/story" in blended
    assert main(["routing", "status"]) == 0
    status = capsys.readouterr().out
    assert "v2 " in status
    assert re.search(
        r"v2's settings: C = (1|4|16); its department goes before the rules' when it is (8|4|2|1.5|1)x", status
    )
    assert main(["config", "route", "The", "smart", "meter", "display", "is", "blank"]) == 0
    out = capsys.readouterr().out
    assert "rules alone:\n  CX Team: rule default" in out
    assert "rules + learner (v2):\n  Metering: rule learned (learned: '" in out


def test_cli_learn_refuses_a_bad_file_naming_the_fix(  # type: ignore[no-untyped-def]
    database_url: str, config_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CX_CONFIG", str(config_file))
    no_column = write_labelled(tmp_path / "a.csv", [("meter", "Metering")], header="comment,department")
    assert main(["routing", "learn", str(no_column)]) == 2
    assert "no column 'text'; the first line must name the columns text,department" in capsys.readouterr().out
    unknown = write_labelled(tmp_path / "b.csv", [("meter", "Metering"), ("bill", "Finance")])
    assert main(["routing", "learn", str(unknown)]) == 2
    out = capsys.readouterr().out
    assert "b.csv:3: department 'Finance' is not configured; use one of 'CX Team', 'Metering'" in out
    assert main(["routing", "status"]) == 0
    assert "no learned version yet" in capsys.readouterr().out


def test_labelled_files_are_redacted_before_they_are_stored(  # type: ignore[no-untyped-def]
    database_url: str, config_file: Path, tmp_path: Path, monkeypatch, capsys, engine
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CX_CONFIG", str(config_file))
    rows = [(e.text + " Write to jane.doe@example.com", e.department) for e in labelled(12)]
    assert main(["routing", "learn", str(write_labelled(tmp_path / "pii.csv", rows))]) == 0
    stored, _ = SqlRoutingModels(engine).training_set()
    assert stored and all("jane.doe" not in t and "[email]" in t for t, _ in stored)
