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
