"""Customer text for Adaptive Cards in Teams: data, never markup.

Decision: customer text never goes into a ``TextBlock``, whose text Teams reads as Markdown (``**``, ``_``,
``[label](url)``, lists) and where the escape rules differ between Teams clients. It goes into ``TextRun``
elements of a ``RichTextBlock``, which the Adaptive Cards schema defines as plain text ("Markdown is not
supported"), so ``*``, ``_``, ``[``, ``]``, ``(``, ``)``, ``#`` and backticks show as typed with no escaping
to get wrong. ``TextBlock`` carries only our own words and numbers.

Two things are still read inside plain text, and a word joiner (U+2060: invisible, zero width) breaks each
without changing what a reader sees:

- ``<`` starts ``<at>...</at>`` mentions (and the HTML Teams accepts elsewhere): ``<at>Everyone</at>`` becomes
  ``<\u2060at>Everyone<\u2060/at>``, which no Teams client takes for a tag;
- ``{{`` starts the card's date functions, ``{{DATE(...)}}``.
"""

from __future__ import annotations

import re

from stories.presentation import clean_text, truncate

WORD_JOINER = "\u2060"
_DOUBLE_BRACE = re.compile(r"\{(?=\{)")


def neutralise(text: str) -> str:
    """``text`` with every ``<`` and ``{{`` broken by a word joiner; it reads the same."""
    return _DOUBLE_BRACE.sub("{" + WORD_JOINER, text.replace("<", "<" + WORD_JOINER))


def plain(text: str, limit: int) -> str:
    """Customer text cleaned, cut to ``limit`` visible characters and neutralised, ready for a ``TextRun``."""
    return neutralise(truncate(clean_text(text), limit))
