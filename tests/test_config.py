"""bot.config: the YAML file becomes a CxConfig, or a ConfigError naming file, line, key path and fix."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, example_path, load_config

# Line numbers below are those of this text (line 1 is "default_department").
BASE = """\
default_department: CX Team
departments:
  - name: CX Team
    slack_channel: "#cx-team"
  - name: Finance & Billing
    slack_channel: "#cx-finance"
    timezone: Europe/Dublin
    schedule: "0 10 * * mon,wed,fri"
    quiet_hours: {start: "20:00", end: "07:00"}
rules:
  - id: fin-invoice
    department: Finance & Billing
    keywords: [invoice]
  - id: fin-refund
    department: Finance & Billing
    regex: ['refund']
    theme: refund delay
"""


def write(tmp_path: Path, text: str, name: str = "cxbot.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    return message


def line_of(message: str) -> int:
    found = re.match(r".*?cxbot\.yaml:(\d+)(?::\d+)?: ", message)
    assert found, message
    return int(found.group(1))


def test_valid_file_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE))
    assert config.default_department == "CX Team"
    assert [r.id for r in config.rules] == ["fin-invoice", "fin-refund"]
    assert config.department("finance & billing").quiet_hours is not None


def test_bundled_example_loads_when_no_path_is_given() -> None:
    config = load_config()
    assert config == load_config(example_path())
    assert config.default_department == "CX Team"
    assert len(config.departments) >= 10


def test_unknown_department_in_a_rule_names_the_rule_line_and_the_choices(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, BASE.replace("    department: Finance & Billing\n    regex", "    department: Finanse\n    regex")
    )
    assert line_of(message) == 15
    assert "rules[1].department: unknown department 'Finanse'" in message
    assert "'CX Team', 'Finance & Billing'" in message


def test_unknown_default_department_points_at_its_line(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("default_department: CX Team", "default_department: CX"))
    assert line_of(message) == 1
    assert "default_department: unknown department 'CX'" in message


def test_duplicate_department_names_point_at_the_second(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("  - name: Finance & Billing", "  - name: cx team"))
    assert line_of(message) == 5
    assert "departments[1].name" in message and "unique" in message


def test_duplicate_rule_id_points_at_the_second(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("id: fin-refund", "id: fin-invoice"))
    assert line_of(message) == 14
    assert "rules[1].id: rule id 'fin-invoice' is already used by rules[0]" in message


def test_bad_regex_points_at_the_pattern(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("regex: ['refund']", "regex: ['refund', '(unclosed']"))
    assert line_of(message) == 16
    assert "rules[1].regex[1]: bad regular expression '(unclosed'" in message
    assert "fix the pattern" in message


def test_bad_timezone_says_what_to_write(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("Europe/Dublin", "Europe/Dubln"))
    assert line_of(message) == 7
    assert "departments[1].timezone: unknown timezone 'Europe/Dubln'" in message
    assert "IANA" in message


@pytest.mark.parametrize("schedule", ["0 25 * * mon", "0 9 * * funday", "every morning", "0 9 * *"])
def test_bad_schedule_points_at_the_schedule(tmp_path: Path, schedule: str) -> None:
    message = error_for(tmp_path, BASE.replace("0 10 * * mon,wed,fri", schedule))
    assert line_of(message) == 8
    assert "departments[1].schedule:" in message
    assert "'0 9 * * mon-fri'" in message


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace('    slack_channel: "#cx-finance"', '    slak_channel: "#cx-finance"'))
    assert line_of(message) == 6
    assert "departments[1].slak_channel: unknown key 'slak_channel'; did you mean 'slack_channel'?" in message


def test_unknown_key_in_a_rule_lists_the_rule_keys(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("    theme: refund delay", "    themes: [refund delay]"))
    assert line_of(message) == 17
    assert "rules[1].themes: unknown key 'themes'" in message
    assert "'theme'" in message and "'keywords'" in message


def test_wrong_type_shows_the_value_given(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("    timezone: Europe/Dublin", "    digest_size: five"))
    assert line_of(message) == 7
    assert "departments[1].digest_size: input should be a valid integer" in message
    assert "got 'five'" in message


def test_out_of_range_score_points_at_it(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("    keywords: [invoice]", "    nps_max: 11"))
    assert line_of(message) == 13
    assert "rules[0].nps_max: input should be less than or equal to 10; got 11" in message


def test_missing_required_key_points_at_the_mapping(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, BASE.replace("  - id: fin-refund\n", "  - theme: x\n").replace("    theme: refund delay\n", "")
    )
    assert line_of(message) == 14
    assert "rules[1]: required key 'id' is missing" in message


def test_rule_without_condition_is_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("    keywords: [invoice]\n", ""))
    assert line_of(message) == 11
    assert "rules[0]: rule 'fin-invoice' has no condition" in message


def test_yaml_syntax_error_names_line_and_problem(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("    keywords: [invoice]", "    keywords: [invoice"))
    assert "YAML syntax error" in message
    assert "begun on line 13" in message


def test_tab_indentation_is_a_syntax_error_on_its_line(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE.replace("    keywords: [invoice]", "\tkeywords: [invoice]"))
    assert line_of(message) == 13
    assert "YAML syntax error" in message and "'\\t'" in message


def test_duplicate_key_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, BASE.replace("    keywords: [invoice]", "    keywords: [invoice]\n    keywords: [bill]")
    )
    assert line_of(message) == 14
    assert "rules[0].keywords: key appears twice (first on line 13)" in message


def test_several_problems_are_listed_one_per_line(tmp_path: Path) -> None:
    text = BASE.replace("Europe/Dublin", "Mars/Olympus").replace("    keywords: [invoice]", "    nps_max: 99")
    lines = error_for(tmp_path, text).splitlines()
    assert [line_of(line) for line in lines] == [7, 13]


def test_unquoted_clock_time_is_read_as_a_time_not_a_base_60_number(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE.replace('{start: "20:00", end: "07:00"}', "{start: 22:30, end: 7:00}")))
    quiet = config.department("Finance & Billing").quiet_hours
    assert quiet is not None
    assert (quiet.start, quiet.end) == (time(22, 30), time(7, 0))


def test_empty_file_is_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, "# nothing yet\n")
    assert "empty" in message


def test_top_level_list_is_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, "- CX Team\n- Sales\n")
    assert line_of(message) == 1
    assert "must be a mapping" in message


def test_missing_file_names_the_file_and_cx_config(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert str(missing) in str(info.value)
    assert "CX_CONFIG" in str(info.value)


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cxbot.yaml"
    path.write_bytes(BASE.replace("CX Team", "CX Tëam").encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_cli_config_check_reports_ok_or_the_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    good = write(tmp_path, BASE, name="good.yaml")
    assert main(["config", "check", "--file", str(good)]) == 0
    assert "good.yaml: OK, 2 departments, 2 rules" in capsys.readouterr().out

    bad = write(tmp_path, BASE.replace("Europe/Dublin", "Dublin"))
    assert main(["config", "check", "--file", str(bad)]) == 2
    assert f"{bad}:7:15: departments[1].timezone: unknown timezone 'Dublin'" in capsys.readouterr().err


def test_cli_config_route_explains_where_a_comment_goes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("CX_CONFIG", str(write(tmp_path, BASE)))
    assert main(["config", "route", "Two", "invoices", "missing", "--nps", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == [
        "rules alone:",
        "  Finance & Billing: rule fin-invoice (keyword 'invoice')",
        "themes: -",
        "urgent: no",
    ]
    assert out[4].startswith("rules + learner: no database at cxbot.db")  # and none was created
    assert not Path("cxbot.db").exists()


def test_sunday_may_be_written_as_seven_as_in_crontab(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.config import load_config

    path = tmp_path / "cx.yaml"
    path.write_text('default_department: CX\ndepartments:\n  - name: CX\n    schedule: "0 9 * * 7"\n')
    assert load_config(path).department("CX").schedule == "0 9 * * 7"


def test_emoji_actions_load_and_a_bad_emoji_name_points_at_its_line(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, BASE)).emoji_actions.action_for("white_check_mark") is None  # off unless set
    bundled = load_config().emoji_actions  # the example turns them on
    assert (bundled.action_for("eyes"), bundled.action_for("white_check_mark")) == ("looking", "done")
    config = load_config(write(tmp_path, BASE + "emoji_actions:\n  looking: [':eyes:']\n  done: [white_check_mark]\n"))
    assert config.emoji_actions.action_for("eyes") == "looking"
    assert config.emoji_actions.action_for("white_check_mark") == "done"

    message = error_for(tmp_path, BASE + "emoji_actions:\n  looking: [eyes]\n  done: [✅]\n")
    assert line_of(message) == 20
    assert "emoji_actions.done[0]:" in message and "white_check_mark" in message  # the fix: Slack's name


def test_an_emoji_under_both_actions_is_refused_with_the_fix(tmp_path: Path) -> None:
    message = error_for(tmp_path, BASE + "emoji_actions:\n  looking: [eyes]\n  done: [white_check_mark, eyes]\n")
    assert "emoji_actions.done[1]:" in message
    assert "'eyes' is also under looking" in message and "remove it from one of the lists" in message
