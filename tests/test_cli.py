from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from bot.cli import main
from bot.demo import run_demo, sample_csv
from storage.db import make_engine
from storage.models import Story


def test_demo_shows_every_department_and_no_personal_data() -> None:
    out = io.StringIO()
    assert run_demo(console=Console(file=out, width=120)) == 0
    text = out.getvalue()
    for department in (
        "Customer Service",
        "Logistics & Delivery",
        "Finance & Billing",
        "Product & Engineering",
        "Manufacturing & Quality",
        "Legal",
        "People & HR",
        "Marketing",
        "Sales",
    ):
        assert f"{department}: customer stories" in text
    assert "Summary" in text and "NPS:" in text and "top themes:" in text
    assert "[email]" in text or "[phone]" in text or "[card]" in text  # redaction is visible
    sample = sample_csv().decode()
    for secret in set(re.findall(r"[\w.+-]+@example\.com", sample)):
        assert secret not in text
    assert "4111 1111 1111 1111" not in text


def test_db_upgrade_then_import_then_reimport_is_idempotent(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cx.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    csv_file = tmp_path / "export.csv"
    csv_file.write_text("Response ID,Comment,NPS\nR1,Invoice was wrong,3\nR2,Lovely staff,10\n")
    assert main(["import", str(csv_file)]) == 2  # schema behind: refused with the fix
    assert "cxbot db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert main(["import", str(csv_file)]) == 0
    assert "2 new stories" in capsys.readouterr().out
    assert main(["import", str(csv_file)]) == 0
    assert "0 new stories, 2 already known" in capsys.readouterr().out
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Story)) == 2
    engine.dispose()


def test_import_without_text_column_imports_nothing_and_says_why(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cx.db'}")
    assert main(["db", "upgrade"]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,score\n1,9\n")
    assert main(["import", str(bad)]) == 2
    assert "no text column found; the file has columns ['id', 'score']" in capsys.readouterr().err


def test_invalid_environment_names_the_variable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "current"])
    assert "PORT" in str(exit_info.value)


def test_bad_config_file_names_file_and_line(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cx.db'}")
    config = tmp_path / "cx.yaml"
    config.write_text("default_department: CX\ndepartments:\n  - name: CX\n    timezone: Mars/Base\n")
    monkeypatch.setenv("CX_CONFIG", str(config))
    assert main(["db", "upgrade"]) == 0
    assert main(["import", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cx.yaml:4" in err and "Mars/Base" in err


def test_a_refused_start_leaves_no_database_file_behind(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "cxbot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "has no cxbot tables" in err and "cxbot db upgrade" in err
    assert not list(tmp_path.iterdir())


def test_a_demo_with_a_bad_config_leaves_nothing_behind(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("departments: [\n")
    monkeypatch.setenv("CX_CONFIG", str(bad))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR afresh
    assert main(["demo"]) == 2
    assert "bad.yaml:2" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "tmp"]
    assert not list((tmp_path / "tmp").iterdir())


def test_an_unreachable_database_is_one_line_naming_database_url(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "postgresql://cxbot:secret@127.0.0.1:1/cxbot")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxbot: cannot use the database at DATABASE_URL=postgresql://cxbot:***@127.0.0.1:1/cxbot")
    assert len(err.strip().splitlines()) == 1 and "secret" not in err and "Traceback" not in err


def test_config_route_without_text_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["config", "route"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "give the comment's text" in captured.err
    assert main(["config", "route", "   "]) == 2


def test_db_sub_commands_print_their_own_help(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "upgrade", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: cxbot db upgrade") and "newest schema revision" in out
    with pytest.raises(SystemExit):
        main(["db"])
    assert "{upgrade,current}" in capsys.readouterr().err


def test_digest_now_without_any_platform_names_the_settings(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cx.db'}")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["digest", "--now"]) == 2
    err = capsys.readouterr().err
    assert "no platform is configured" in err and "SLACK_BOT_TOKEN" in err and "MICROSOFT_APP_ID" in err


@pytest.mark.parametrize(
    ("option", "value", "message"), [("--nps", "12", "12 is not from 0 to 10"), ("--csat", "0", "0 is not from 1 to 5")]
)
def test_config_route_refuses_a_score_no_comment_can_have(capsys, option: str, value: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main(["config", "route", "the invoice was wrong", option, value])
    assert exit_.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err
