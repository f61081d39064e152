"""Summarisers turn redacted comments into short stories: offline (quotes the customer) or a language model."""

from __future__ import annotations

from stories.summarize.llm import OpenAISummarizer
from stories.summarize.offline import OfflineSummarizer

__all__ = ["OfflineSummarizer", "OpenAISummarizer"]
