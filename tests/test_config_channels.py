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


@pytest.mark.parametrize(
    "link",
    [
        "https://acme.slack.com/archives/C0FINANCE1",  # the channel menu's Copy link
        "https://acme.slack.com/archives/C0FINANCE1/p1764270000000100",  # a message's link in that channel
        "https://app.slack.com/client/T0ACME0001/C0FINANCE1",  # Slack in a browser, the address bar
        " https://acme.enterprise.slack.com/archives/C0FINANCE1 ",
    ],
)
def test_a_channel_given_as_its_slack_link_is_read_as_its_id(link: str) -> None:
    """A pasted link passed `config check` and was then taken for a channel *name* that never resolves."""
    config = parse_config(BASE.format(channel=f'"{link}"', intake=f'"{link}"'), name="x")
    assert config.departments[0].slack_places == ("C0FINANCE1",)
    assert config.intake.slack_channels == ("C0FINANCE1",)
    listed = parse_config(BASE.format(channel=f'["{link}"]', intake='"C0INTAKE01"'), name="x")
    assert listed.departments[0].slack_places == ("C0FINANCE1",)


def test_a_link_that_is_not_a_slack_channel_is_refused_with_the_line_and_the_forms_that_work() -> None:
    text = BASE.format(channel='"https://teams.microsoft.com/l/channel/x"', intake='"C0INTAKE01"')
    with pytest.raises(ConfigError, match=r"x:4:20: departments\[0\].slack_channel: a Slack channel is its id"):
        parse_config(text, name="x")
    text = BASE.format(channel='"C0FINANCE1"', intake='"https://acme.slack.com/team/U0PERSON01"')
    with pytest.raises(
        ConfigError, match=r"x:8:7: intake.slack_channels\[0\]: .*archives/C0123ABCD\); got 'https://acme"
    ):
        parse_config(text, name="x")


def test_one_intake_channel_written_as_text_not_as_a_list_is_taken() -> None:
    """`slack_channel: "#cx-finance"` takes text, so admins write `slack_channels: "#customer-voice"` too: it was
    refused with "input should be a valid tuple"."""
    text = BASE.format(channel='"#cx-finance"', intake='"C0INTAKE01"').replace(
        '  slack_channels:\n    - "C0INTAKE01"',
        '  slack_channels: "#customer-voice, https://acme.slack.com/archives/C0INTAKE01"\n  teams_channels: "19:a@thread.tacv2"',
    )
    config = parse_config(text, name="x")
    assert config.intake.slack_channels == ("#customer-voice", "C0INTAKE01")
    assert config.intake.teams_channels == ("19:a@thread.tacv2",)


@pytest.mark.parametrize("listed", ["[#customer-voice]", '["#customer-voice", #cx-intake]'])
def test_an_unquoted_channel_in_a_bracketed_list_is_refused_at_its_line_with_the_quoted_form(listed: str) -> None:
    """The bundled example writes `slack_channels: ["#customer-voice"]`; without the quotes YAML's error pointed at
    the end of the file ("expected the node content, but found '<stream end>'")."""
    text = BASE.format(channel='"#cx-finance"', intake='"C0INTAKE01"').replace(
        '  slack_channels:\n    - "C0INTAKE01"', f"  slack_channels: {listed}"
    )
    with pytest.raises(ConfigError) as error:
        parse_config(text, name="cxbot.yaml")
    token = listed.rsplit("#", 1)[1].rstrip("]")
    column = listed.rindex("#") + len("  slack_channels: ") + 1
    assert str(error.value) == (
        f"cxbot.yaml:7:{column}: #{token} inside [...] is a comment to YAML, which cuts the list there; "
        f'quote it: "#{token}"'
    )


@pytest.mark.parametrize(
    ("channel", "intake", "where", "meant"),
    [
        ("c0123abcd", '"C0INTAKE01"', r"x:4:20: departments\[0\].slack_channel: c0123abcd", '"C0123ABCD"'),
        ('"T0ACME/c0fin00001"', '"C0INTAKE01"', r"x:4:20: departments\[0\]", '"T0ACME/C0FIN00001"'),
        ('["T0ACME/#billing", "T0BETA/g0123abcd"]', '"C0INTAKE01"', r"x:4:20: departments\[0\]", '"T0BETA/G0123ABCD"'),
        ('"#cx-finance"', "c0intake01", r"x:8:7: intake.slack_channels\[0\]: c0intake01", '"C0INTAKE01"'),
        (
            '"#cx-finance"',
            "C0inTake01",
            r"x:8:7: intake.slack_channels\[0\]: (?i:c0intake01) is a channel id",
            '"C0INTAKE01"',
        ),
    ],
)
def test_a_channel_id_in_lower_case_is_refused_with_the_capitals_to_write(
    channel: str, intake: str, where: str, meant: str
) -> None:
    """`c0123abcd` passed `config check`, was taken for a channel name and never resolved: nothing was posted."""
    with pytest.raises(ConfigError, match=where) as error:
        parse_config(BASE.format(channel=channel, intake=intake), name="x")
    assert f"write channel ids in capitals, as Slack shows them: {meant}" in str(error.value)


def test_kudos_channel_ids_in_lower_case_are_refused_too() -> None:
    text = BASE.format(channel='"#cx-finance"', intake='"C0INTAKE01"') + "kudos_slack_channel: c0kudos001\n"
    with pytest.raises(ConfigError, match=r'kudos_slack_channel: c0kudos001 .* "C0KUDOS001" .* "#c0kudos001"'):
        parse_config(text, name="x")


@pytest.mark.parametrize("name", ['"#c0123abcd"', "billing", "customers", "dashboard", '"T0ACME/#g0team2026"'])
def test_names_stay_names_even_when_they_look_like_an_id_after_a_hash(name: str) -> None:
    """Words without a digit ("customers", "dashboard": a C or D and letters) and anything after # are names."""
    config = parse_config(BASE.format(channel=name, intake='"C0INTAKE01"'), name="x")
    assert config.departments[0].slack_places == (name.strip('"'),)
