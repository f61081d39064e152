"""A fake OpenAI-compatible API: a real aiohttp server on 127.0.0.1, port 0, that records every request.

It implements ``POST /v1/chat/completions`` well enough for the ``openai`` client: point the client's
``base_url`` at :attr:`FakeOpenAI.base_url`. By default it plays a well-behaved model: it reads the comments in
the last user message as the system prompt describes them (:func:`comments_in`) and answers, in the
``{"stories": [...]}`` shape the request's ``response_format`` asks for, one title and what happened per comment
built from the comment's own words; a message it cannot read gets a refusal, as a real model would give. Scripted answers (:meth:`FakeOpenAI.queue`) replace that for the next calls:
429 with Retry-After, 500, a malformed body, valid JSON in the wrong shape, a slow answer, or any content.

The summariser is synchronous, so :meth:`FakeOpenAI.running` serves from a background thread with its own
event loop; ``await start()`` / ``await close()`` serve on the caller's loop for async tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

CHAT = "/v1/chat/completions"
UNREAD = "I could not find the comments to summarise in your message."
ContentFn = Callable[[list[dict[str, Any]]], Any]  # the request's comments -> the model's JSON answer


@dataclass(frozen=True)
class Request:
    """One request the fake received."""

    path: str
    headers: dict[str, str]
    json: Any
    at: float  # time.monotonic()
    status: int

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json.get("messages", []))

    def message(self, role: str) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)

    @property
    def comments(self) -> list[dict[str, Any]]:
        return comments_in(self.message("user"))


@dataclass
class Scripted:
    """One answer to give instead of the normal one."""

    status: int = 200
    retry_after: str | None = None
    body: bytes | None = None  # a raw body
    content: ContentFn | None = None  # the model's JSON answer (put into choices[0].message.content)
    raw_content: str | None = None  # message content as is (not JSON)
    delay: float = 0.0
    finish_reason: str = "stop"  # "length": the answer was cut at the model's output limit


class Unreadable(ValueError):
    """The user message holds no comments a model could read (what a real model would then answer: nothing)."""


DATA_START = "<<<COMMENTS_JSON"  # the summariser's delimiters, spelt out here: the fake reads, it does not import
DATA_END = "COMMENTS_JSON>>>"


def comments_in(user_message: str) -> list[dict[str, Any]]:
    """The comments a request carries, read as the system prompt tells the model to read them.

    The data is the one JSON object on the lines between ``DATA_START`` and ``DATA_END``: ``columns`` (starting
    ``index``, ``text``) names the values of each row of ``rows``; a null, or a value left out at a row's end, is
    the one under ``all``. Anything else (no delimiters or two data blocks, JSON that does not parse, a row longer
    than the columns, an index that is not a number or comes twice, a text that is not a string) raises
    :class:`Unreadable`: a model given it could not tell which text is which comment."""
    lines = user_message.split("\n")
    if lines.count(DATA_START) != 1 or lines.count(DATA_END) != 1:
        raise Unreadable("no single data block")
    start, end = lines.index(DATA_START), lines.index(DATA_END)
    try:
        data = json.loads("\n".join(lines[start + 1 : end]))
    except json.JSONDecodeError:
        raise Unreadable("the data is not JSON") from None
    if not isinstance(data, dict) or set(data) - {"all", "columns", "rows"}:
        raise Unreadable("not the comments object")
    shared, columns, rows = data.get("all", {}), data.get("columns"), data.get("rows")
    if not isinstance(shared, dict) or not isinstance(columns, list) or not isinstance(rows, list):
        raise Unreadable("all, columns or rows of the wrong kind")
    if (
        columns[:2] != ["index", "text"]
        or len(set(map(str, columns))) != len(columns)
        or {"index", "text"} & set(shared)
    ):
        raise Unreadable("columns must start with index and text, once each")
    comments, seen = [], set()
    for row in rows:
        if not isinstance(row, list) or not 2 <= len(row) <= len(columns):
            raise Unreadable("a row that does not fit the columns")
        index, text = row[0], row[1]
        if type(index) is not int or index in seen or not isinstance(text, str):
            raise Unreadable("a row without its own index and text")
        seen.add(index)
        own = {name: value for name, value in zip(columns, row, strict=False) if value is not None}
        comments.append({**shared, **own})
    return comments


def well_behaved(comments: list[dict[str, Any]]) -> dict[str, Any]:
    """What a good model would answer: a headline and what happened per comment, from its own words."""
    stories = []
    for comment in comments:
        words = re.findall(r"[^\W_]+", str(comment.get("text", "")))
        stories.append(
            {
                "index": comment["index"],
                "title": " ".join(words[:6]).capitalize()[:80] or "No text",
                "what_happened": ("Customer reports: " + " ".join(words[:30]))[:230],
                "impact": "",
                "ask": "",
                "translated": False,
            }
        )
    return {"stories": stories}


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.models: list[str] = ["gpt-4o-mini"]  # what GET /v1/models lists
        self.api_keys: set[str] | None = None  # keys GET /v1/models accepts (None: any)
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- life cycle -------------------------------------------------------------------------------------------

    async def start(self) -> FakeOpenAI:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post(CHAT, self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[FakeOpenAI]:
        """Serve from a background thread (for synchronous clients); stopped on exit."""
        fake = cls()
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(fake.start())
            ready.set()
            loop.run_forever()
            # Answers still sleeping (slow mode) end with the server rather than being destroyed pending.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

        thread = threading.Thread(target=serve, name="fake-openai", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        try:
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    # --- scripting ---------------------------------------------------------------------------------------------

    def queue(
        self,
        *,
        path: str = CHAT,
        status: int = 200,
        retry_after: str | None = None,
        body: bytes | None = None,
        content: ContentFn | None = None,
        raw_content: str | None = None,
        delay: float = 0.0,
        finish_reason: str = "stop",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``path`` this way instead of as a well-behaved model.

        ``queue(status=429, retry_after="0.2")`` a rate limit; ``queue(status=500)`` a server error;
        ``queue(body=b"{not json")`` a malformed body; ``queue(content=lambda cs: {...})`` any JSON answer;
        ``queue(raw_content="Sure! Here...")`` content that is not JSON; ``queue(delay=2)`` a slow answer;
        ``queue(finish_reason="length")`` an answer cut at the output limit.
        """
        for _ in range(times):
            self._scripts[path].append(
                Scripted(
                    status=status,
                    retry_after=retry_after,
                    body=body,
                    content=content,
                    raw_content=raw_content,
                    delay=delay,
                    finish_reason=finish_reason,
                )
            )

    # --- the route ---------------------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        """The models list, as OpenAI answers it; a key not in ``api_keys`` gets 401 invalid_api_key."""
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.api_keys is not None and key not in self.api_keys:
            error = {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
            return web.json_response({"error": error}, status=401)
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._record(request, None, web.json_response({"error": {"message": "bad JSON"}}, status=400))
        scripts = self._scripts[request.path]
        script = scripts.popleft() if scripts else Scripted()
        if script.delay:
            await asyncio.sleep(script.delay)
        if script.status != 200:
            headers = {"Retry-After": script.retry_after} if script.retry_after is not None else {}
            error = {"error": {"message": f"fake error {script.status}", "type": "server_error", "code": None}}
            response = web.json_response(error, status=script.status, headers=headers)
            return self._record(request, payload, response)
        if script.body is not None:
            return self._record(request, payload, web.Response(body=script.body, content_type="application/json"))
        try:
            comments = comments_in(self._last_user_message(payload))
        except Unreadable:  # a model that cannot find the comments says so instead of answering
            return self._record(request, payload, web.json_response(self._completion(payload, None, refusal=UNREAD)))
        if script.raw_content is not None:
            content = script.raw_content
        else:
            content = json.dumps((script.content or well_behaved)(comments), ensure_ascii=False)
        completion = self._completion(payload, content, finish_reason=script.finish_reason)
        return self._record(request, payload, web.json_response(completion))

    def _record(self, request: web.Request, payload: Any, response: web.Response) -> web.Response:
        self.requests.append(
            Request(
                path=request.path,
                headers=dict(request.headers),
                json=payload,
                at=time.monotonic(),
                status=response.status,
            )
        )
        return response

    @staticmethod
    def _last_user_message(payload: dict[str, Any]) -> str:
        users = [m for m in payload.get("messages", []) if m.get("role") == "user"]
        return str(users[-1].get("content", "")) if users else ""

    def _completion(
        self, payload: dict[str, Any], content: str | None, *, refusal: str | None = None, finish_reason: str = "stop"
    ) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
