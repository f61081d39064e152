"""A Slack channel written unquoted, as admins write it (``slack_channel: #cx-finance``), is to YAML a key with no
value and a comment. `cxbot config check` said OK and the department silently had no channel; now it is refused
with the line and the quoted form. A real comment (``# ...``) after an empty key stays allowed."""

from __future__ import annotations

import pytest

from bot.config import parse_config
from stories.config import ConfigError

BASE = """\
default_department: Finance
departments:
  - name: Finance
    slack_channel: {channel}
rules: []
intake:
  slack_channels:
    - {intake}
kudos_teams_channel:   # none yet: set by `cx link`
"""


def test_an_unquoted_channel_name_is_refused_with_its_line_and_the_quoted_form() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(BASE.format(channel="#cx-finance", intake='"C0INTAKE01"'), name="cxbot.yaml")
    assert str(error.value) == (
        "cxbot.yaml:4:5: departments[0].slack_channel: has no value, because YAML reads #cx-finance as a comment; "
        'quote it: slack_channel: "#cx-finance"'
    )


def test_an_unquoted_channel_in_a_list_is_refused() -> None:
    with pytest.raises(ConfigError, match=r'cxbot.yaml:8:6: intake.slack_channels\[0\]: is empty.*- "#customer-voice"'):
        parse_config(BASE.format(channel='"#cx-finance"', intake="#customer-voice"), name="cxbot.yaml")


def test_quoted_names_ids_and_real_comments_after_an_empty_key_are_fine() -> None:
    config = parse_config(BASE.format(channel='"#cx-finance"', intake="C0INTAKE01  # the survey tool"), name="x")
    assert config.departments[0].slack_channel == "#cx-finance"
    assert list(config.intake.slack_channels) == ["C0INTAKE01"]
    assert config.kudos_teams_channel is None
