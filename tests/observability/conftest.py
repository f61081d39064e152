"""The Slack and Teams fixtures, for tests that drive both platforms (metrics, log privacy)."""

from tests.slack.conftest import slack, slack_api, slack_settings  # noqa: F401
from tests.teams.conftest import connector, world  # noqa: F401
