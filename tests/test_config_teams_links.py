"""A Teams channel in the configuration may be given as Teams shows it: its "Get link to channel" link (Teams shows
the conversation id nowhere else); the id is read out of it. A link to something else is refused naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

INTAKE = "19:c0ffee00112233445566778899aabbcc@thread.tacv2"
LINK = (
    "https://teams.microsoft.com/l/channel/19%3Ac0ffee00112233445566778899aabbcc%40thread.tacv2/Customer%20voice"
    "?groupId=3d5d4c90-1ae9-41c7-9471-7ccd37ddb7d4&tenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"
)
CONFIG = f"""\
default_department: CX Team
departments:
  - name: CX Team
  - name: Finance
    teams_channel: "https://teams.microsoft.com/l/channel/19%3af1a2b3%40thread.tacv2/Finance?groupId=3d5d"
intake:
  teams_channels:
    - "{LINK}"
    - "19:1061571c5a0e4d2cb3a4f5e6d7c8b9a0@thread.tacv2"
kudos_teams_channel: "{LINK}"
"""


def test_get_link_to_channel_links_become_conversation_ids(tmp_path: Path) -> None:
    path = tmp_path / "cxbot.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path)
    assert config.intake.teams_channels == (INTAKE, "19:1061571c5a0e4d2cb3a4f5e6d7c8b9a0@thread.tacv2")
    assert config.department("Finance").teams_channel == "19:f1a2b3@thread.tacv2"
    assert config.kudos_teams_channel == INTAKE


def test_a_link_to_a_team_not_a_channel_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "cxbot.yaml"
    team_link = "https://teams.microsoft.com/l/team/19%3Aabc%40thread.tacv2/conversations?groupId=3d5d"
    path.write_text(CONFIG.replace(LINK, team_link, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:8") and "intake.teams_channels[0]" in message, message
    assert "“Get link to channel” link" in message
