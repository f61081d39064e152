from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_core_threads_default_to_one_and_three_with_a_language_model() -> None:
    assert Settings().core_threads == 1
    assert Settings(openai_model="m", openai_base_url="http://127.0.0.1:9/v1").core_threads == 3
    assert Settings(cx_core_threads=4).core_threads == 4


def test_settings_errors_name_the_variable() -> None:
    with pytest.raises(ValidationError, match="cx_core_threads"):
        Settings(cx_core_threads=0)
    with pytest.raises(ValidationError, match="OPENAI_API_KEY nor OPENAI_BASE_URL"):
        Settings(openai_model="gpt-4o-mini")


def test_teams_emulator_mode_is_asked_for_explicitly_and_never_beside_an_app_id() -> None:
    assert not Settings().teams_enabled
    assert Settings(cx_teams_emulator=True).teams_enabled
    assert Settings(microsoft_app_id="a", microsoft_app_password="p").teams_enabled
    with pytest.raises(ValidationError, match="CX_TEAMS_EMULATOR=true and MICROSOFT_APP_ID are both set"):
        Settings(cx_teams_emulator=True, microsoft_app_id="a")
