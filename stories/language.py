"""The language a comment is written in, for comments that arrive without one.

py3langid (a maintained fork of langid.py) ships its model inside the package (4.5 MB installed, numpy only), so it
needs no download at run time, and classifies a comment in well under a millisecond. lingua-language-detector is
more accurate on very short text but installs about 100 MB of models; fasttext-langdetect downloads its model
on first use, which this project's machines cannot do. Short texts are where every detector guesses, so a comment
with fewer than ``min_letters`` letters, or a guess less likely than ``min_probability``, gets no language rather
than a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

# The languages a guess may name (ISO 639-1). Restricting the set keeps the detector from naming rare languages
# for short or mixed English text; a comment in a language not listed gets its nearest listed one or none.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "ar", "cs", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "hu", "id", "it", "ja", "ko", "nl", "no",
    "pl", "pt", "ro", "ru", "sv", "th", "tr", "uk", "vi", "zh",
)  # fmt: skip

NAMES: dict[str, str] = {
    "ar": "Arabic", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "no": "Norwegian",
    "nb": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def base_code(language: str | None) -> str | None:
    """``"fr-CA"`` -> ``"fr"``; ``"FR"`` -> ``"fr"``; empty -> None."""
    if not language or not language.strip():
        return None
    return language.strip().replace("_", "-").split("-")[0].casefold()


def language_name(language: str | None) -> str | None:
    """The English name of a language code (``"fr"`` -> ``"French"``), or None if we do not know it."""
    code = base_code(language)
    return NAMES.get(code) if code else None


def is_english(language: str | None) -> bool:
    """Unknown counts as English: a story says a language only when it knows it is another one."""
    code = base_code(language)
    return code is None or code == "en"


@cache
def _identifier(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def _letters(text: str) -> int:
    """Letters, a CJK character counting as three (it carries about a word): what a guess has to go on."""
    return sum((3 if ord(char) >= 0x2E80 else 1) for char in text if char.isalpha())


class LangidDetector:
    """Implements :class:`stories.ports.LanguageDetector` with py3langid; deterministic, no network."""

    def __init__(
        self,
        *,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        min_letters: int = 20,
        min_probability: float = 0.9,
    ) -> None:
        self.languages = tuple(sorted({code.casefold() for code in languages}))
        self.min_letters = min_letters
        self.min_probability = min_probability

    def detect(self, text: str) -> str | None:
        """An ISO 639-1 code, or None when the text is too short or the guess too unsure."""
        if _letters(text) < self.min_letters:
            return None
        code, probability = _identifier(self.languages).classify(text)
        return str(code) if probability >= self.min_probability else None
