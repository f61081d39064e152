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
from html.parser import HTMLParser

from stories.presentation import clean_text, truncate

WORD_JOINER = "\u2060"
_DOUBLE_BRACE = re.compile(r"\{(?=\{)")


def neutralise(text: str) -> str:
    """``text`` with every ``<`` and ``{{`` broken by a word joiner; it reads the same."""
    return _DOUBLE_BRACE.sub("{" + WORD_JOINER, text.replace("<", "<" + WORD_JOINER))


def plain(text: str, limit: int) -> str:
    """Customer text cleaned, cut to ``limit`` visible characters and neutralised, ready for a ``TextRun``."""
    return neutralise(truncate(clean_text(text), limit))


# --- Teams message HTML -> the words a person wrote ---------------------------------------------------------

_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"})
_SKIPPED = frozenset({"script", "style", "attachment", "template"})
_EMOJI = frozenset({"emoji", "img"})


class _Words(HTMLParser):
    """Collects a Teams message body's text: blocks become lines, ``<at>`` mentions ``@Name``, links
    ``label (url)``, emoji their character; scripts, styles and attachment placeholders are dropped, and so is the
    quote of a reply (``<blockquote itemtype="http://schema.skype.com/Reply">``): its words are another message's."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0  # depth inside a quoted reply
        self._links: list[tuple[str | None, int]] = []  # (href, where its label starts in parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "blockquote" and (self._quote or (found.get("itemtype") or "").endswith("/Reply")):
            self._quote += 1
            return
        if self._quote:
            return
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag == "at":
            self.parts.append("@")
        elif tag == "a":
            self._links.append((found.get("href"), len(self.parts)))
        elif tag in _EMOJI and not self._skip:
            alt = found.get("alt") or ""
            if tag == "emoji" or (found.get("itemtype") or "").endswith("/Emoji"):
                self.parts.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._quote:
            self._quote -= tag == "blockquote"
            return
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and href.startswith(("http://", "https://", "mailto:")) and href.removeprefix("mailto:") != label:
                self.parts.append(f" ({href.removeprefix('mailto:')})" if label else href.removeprefix("mailto:"))

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._quote:
            self.parts.append(data)


def html_text(content: str) -> str:
    r"""A Teams message body (HTML) as plain text: what the person wrote, one line per paragraph.

    >>> html_text('<p>Refund &amp; <a href="https://x.example/o/1">order 1</a> for <at>Dana</at></p><p>thanks</p>')
    'Refund & order 1 (https://x.example/o/1) for @Dana\nthanks'
    """
    words = _Words()
    words.feed(content)
    words.close()
    lines = (" ".join(line.split()) for line in "".join(words.parts).splitlines())
    return "\n".join(line for line in lines if line)


# --- a card someone posted (a Workflows survey card, a forwarded bot card) -> its words ----------------------------

_MD_LINK = re.compile(r"\[([^\]\n]*)\]\((https?://[^)\s]+)\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
_CARD_TYPES = frozenset(
    {
        "application/vnd.microsoft.card.adaptive",
        "application/vnd.microsoft.card.hero",
        "application/vnd.microsoft.card.thumbnail",
    }
)


def _markdown_words(text: str) -> str:
    """A TextBlock's Markdown as what it shows: ``[label](url)`` -> ``label (url)``, ``**bold**`` -> ``bold``."""
    text = _MD_LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", text)
    return _MD_EMPHASIS.sub(r"\2", text)


def card_text(card: object) -> str:
    """What an Adaptive (or hero) card shows a reader, one line per element: TextBlocks, TextRuns, facts as
    ``title: value``; actions, inputs and images are not text someone wrote."""
    lines: list[str] = []

    def visit(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "TextBlock" and isinstance(node.get("text"), str):
            lines.append(_markdown_words(node["text"]))
        elif kind == "TextRun" and isinstance(node.get("text"), str):
            lines.append(node["text"])
        elif kind == "FactSet":
            for fact in node.get("facts") or ():
                if isinstance(fact, dict):
                    lines.append(f"{fact.get('title', '')}: {fact.get('value', '')}".strip(": "))
        elif kind is None:  # a hero or thumbnail card's content
            lines.extend(str(node[key]) for key in ("title", "subtitle", "text") if isinstance(node.get(key), str))
        for key in ("body", "items", "columns", "inlines", "card"):  # containers; never "actions"
            visit(node.get(key))

    visit(card)
    words = (html_text(line) if "<" in line else line for line in lines)
    return "\n".join(line for line in (" ".join(w.split()) for w in words) if line)


def attachments_text(attachments: object) -> str:
    """The words of the cards among a message's attachments (files and images have none)."""
    found = []
    for attachment in attachments if isinstance(attachments, list) else ():
        data = attachment if isinstance(attachment, dict) else getattr(attachment, "__dict__", {})
        kind = data.get("contentType") or data.get("content_type")
        if kind in _CARD_TYPES:
            found.append(card_text(data.get("content")))
    return "\n".join(text for text in found if text)
