"""The container: builds every part once from Settings and the CX configuration, and hands them out.

Nothing reads the environment after :func:`build` returns; tests build their own with explicit Settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from stories.routing import Router
from stories.sentiment import LexiconSentiment
from stories.summarize.offline import OfflineSummarizer

from bot.config import load_config
from bot.settings import Settings
from storage.comments import SqlCommentStore
from storage.db import make_engine, require_current
from storage.departments import DepartmentIds, sync_departments
from storage.stories import SqlStoryReader
from stories.config import CxConfig
from stories.pipeline import Pipeline
from stories.ports import Summarizer
from stories.redaction import PiiRedactor

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    config: CxConfig
    engine: Engine
    departments: DepartmentIds
    router: Router
    extras: dict[str, object] = field(default_factory=dict)

    @cached_property
    def summarizer(self) -> Summarizer:
        offline = OfflineSummarizer()
        if not self.settings.openai_model:
            return offline
        from storage.summary_cache import SqlSummaryCache
        from stories.summarize.llm import OpenAISummarizer

        key = self.settings.openai_api_key
        return OpenAISummarizer(
            model=self.settings.openai_model,
            api_key=key.get_secret_value() if key else "not-needed",
            base_url=self.settings.openai_base_url,
            timeout=self.settings.openai_timeout,
            max_retries=self.settings.openai_max_retries,
            batch_size=self.settings.openai_batch_size,
            cache=SqlSummaryCache(self.engine),
            fallback=offline,
        )

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline(
            redactor=PiiRedactor(
                default_region=self.config.redaction.default_region,
                digit_runs=self.config.redaction.digit_runs,
            ),
            sentiment=LexiconSentiment(),
            summarizer=self.summarizer,
            router=self.router,
            store=SqlCommentStore(self.engine, self.departments),
            keep_raw=self.settings.cx_keep_raw,
        )

    @cached_property
    def stories(self) -> SqlStoryReader:
        return SqlStoryReader(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, *, config: CxConfig | None = None, check_schema: bool = True) -> App:
    """Everything the process needs. Refuses a database behind the migrations (``cxbot db upgrade`` fixes it)."""
    config = config or load_config(settings.cx_config)
    engine = make_engine(settings.database_url)
    if check_schema:
        require_current(engine)
    departments = sync_departments(engine, config)
    return App(settings=settings, config=config, engine=engine, departments=departments, router=Router(config))
