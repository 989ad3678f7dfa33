"""The HTTP API: ``create_app(engine_factory)`` builds the FastAPI app.

The app answers at once while the models load: ``/v1/health`` says 503
(``loading``) until they are in, then 200 with the article and passage
counts; question endpoints answer 503 meanwhile. Every engine call goes
through one ``EngineWorker`` thread (see ``qa.server.worker`` for why), and
an answer is returned in the one JSON form of an Answer
(``qa.types.answer_to_json``), exactly as ``newsdesk ask --json`` prints it.

The docs (``/docs``, ``/redoc``) load Swagger UI and ReDoc from this server
(``fastapi_offline`` ships their files), not from a CDN: a server on a
machine without internet, or a browser that cannot reach one, still shows
them.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline

from qa.contract import Engine
from qa.server.conversations import ConversationStore, UnknownConversation
from qa.server.errors import ApiError, GuardMiddleware, error_body, install_error_handlers
from qa.server.models import (
    MAX_PAGE,
    ArticleOut,
    ArticlePage,
    AskManyRequest,
    AskRequest,
    ConversationCreated,
    ErrorBody,
    Health,
    check_question,
)
from qa.server.worker import Busy, EngineWorker
from qa.types import answer_to_json

#: Largest request body read (a full ask_many is well under it).
MAX_BODY_BYTES = 256 * 1024
#: Where the Swagger UI and ReDoc files are served (they come with the package, not from a CDN).
DOCS_ASSETS = "/docs-assets"
#: Seconds a client is told to wait while the models load or the queue is full.
RETRY_AFTER_S = 2

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 413, 415, 422, 500, 503)
}
_ANSWER_DOC = {
    "description": "the answer, in the JSON form `newsdesk ask --json` prints "
    "(`format`, `version`, `question`, `text`, `confidence`, `article`, `start`, `end`, "
    "`sentence`, `alternatives`, `passages`, ...)"
}


def create_app(
    engine_factory: Callable[[], Engine],
    *,
    api_key: str | None = None,
    max_batch: int = 8,
    max_wait_s: float = 0.002,
    max_queue: int = 256,
    conversations: ConversationStore | None = None,
) -> FastAPI:
    """The app; ``engine_factory`` runs on the engine thread at startup (open the index there).

    ``api_key``, when given, must be sent as ``Authorization: Bearer <key>``
    on every endpoint but ``/v1/health`` and the docs. ``max_batch=1`` turns
    batching off.
    """
    worker = EngineWorker(engine_factory, max_batch=max_batch, max_wait_s=max_wait_s, max_queue=max_queue)
    store = conversations if conversations is not None else ConversationStore()

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        worker.start()
        try:
            yield
        finally:
            await asyncio.to_thread(worker.stop)

    app = FastAPIOffline(
        title="Newsdesk",
        summary="Exact, cited answers from news articles.",
        version="1",
        lifespan=lifespan,
        responses=_ERRORS,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )
    app.state.worker, app.state.conversations = worker, store
    install_error_handlers(app)
    app.add_middleware(GuardMiddleware, max_body_bytes=MAX_BODY_BYTES)

    @app.get(
        "/v1/health",
        response_model=Health,
        tags=["service"],
        responses={503: {"model": Health, "description": "models still loading, or failed to load"}},
    )
    async def health() -> JSONResponse:
        """200 with the article and passage counts once the models are loaded; 503 before (or if loading failed)."""
        if worker.ready:
            return JSONResponse({"status": "ok", **worker.counts})
        if worker.state == "failed":
            body = {"status": "failed", **error_body(code="startup_failed", message=worker.failure or "")}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    api = APIRouter(prefix="/v1", dependencies=[Depends(_ApiKey(api_key))] if api_key else [])

    @api.post("/ask", tags=["questions"], responses={200: _ANSWER_DOC})
    async def ask(body: AskRequest) -> JSONResponse:
        """Answer one question from the indexed articles."""
        check_question(body.question)
        options = body.options()
        answer = await _result(worker, lambda: worker.ask(body.question, **options))
        return JSONResponse(answer_to_json(answer))

    @api.post(
        "/ask_many",
        tags=["questions"],
        responses={200: {"description": "a list of answers, in the order of the questions"}},
    )
    async def ask_many(body: AskManyRequest) -> JSONResponse:
        """Answer several questions (at most 64) in one request; the list keeps their order."""
        for i, q in enumerate(body.questions):
            check_question(q, where=f"questions[{i}]")
        options, questions = body.options(), list(body.questions)
        answers = await _result(worker, lambda: worker.call(lambda e: list(e.ask_many(questions, **options))))
        return JSONResponse([answer_to_json(a) for a in answers])

    @api.post("/conversations", status_code=201, response_model=ConversationCreated, tags=["conversations"])
    async def new_conversation() -> ConversationCreated:
        """Start a conversation: its follow-ups ("when did he say that?") are understood from earlier turns."""
        conversation = await _result(worker, lambda: worker.call(lambda e: e.conversation()))
        return ConversationCreated(id=store.add(conversation), idle_timeout_s=store.idle_s)

    @api.post("/conversations/{conversation_id}/ask", tags=["conversations"], responses={200: _ANSWER_DOC})
    async def conversation_ask(conversation_id: str, body: AskRequest) -> JSONResponse:
        """Ask the next question of a conversation; ``understood_as`` shows how a follow-up was read."""
        conversation = _conversation(store, conversation_id)
        check_question(body.question)
        options = body.options()

        def turn(_: Engine) -> Any:
            answer = conversation.ask(body.question, **options)
            store.trim(conversation)
            return answer

        answer = await _result(worker, lambda: worker.call(turn))
        return JSONResponse(answer_to_json(answer))

    @api.delete("/conversations/{conversation_id}", status_code=204, tags=["conversations"])
    async def end_conversation(conversation_id: str) -> Response:
        """Forget a conversation now (it is forgotten anyway after its idle timeout)."""
        if not store.remove(conversation_id):
            raise _unknown(conversation_id)
        return Response(status_code=204)

    @api.get("/articles", response_model=ArticlePage, tags=["articles"])
    async def articles(
        limit: int = Query(50, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0),
        text: bool = Query(False, description="include each article's plain text"),
    ) -> ArticlePage:
        """The indexed articles, newest first, a page at a time (no body text unless ``text=true``)."""
        _require_ready(worker)
        page = worker.articles[offset : offset + limit]
        if text:  # the list holds no texts (a spread index keeps them in other processes)
            page = await asyncio.to_thread(lambda: [_engine(worker).article(a.id) for a in page])
        return ArticlePage(
            total=len(worker.articles), limit=limit, offset=offset, articles=[ArticleOut.of(a, text=text) for a in page]
        )

    @api.get("/articles/{article_id}", response_model=ArticleOut, tags=["articles"])
    async def article(article_id: str) -> ArticleOut:
        """One article with its plain text (the text every answer's ``start``/``end`` refers to)."""
        _require_ready(worker)
        if article_id not in worker.articles_by_id:
            raise ApiError(404, "article_not_found", f"no article with id {article_id[:80]!r}")
        return ArticleOut.of(await asyncio.to_thread(_engine(worker).article, article_id), text=True)

    @api.get("/stats", tags=["service"])
    async def stats() -> JSONResponse:
        """Index statistics, as ``newsdesk stats`` prints them, and the server's own under ``server``."""
        engine_stats = await _result(worker, lambda: worker.call(lambda e: e.stats()))
        return JSONResponse({**engine_stats, "server": {**worker.report(), "conversations": len(store)}})

    app.include_router(api)
    return app


_BEARER = HTTPBearer(auto_error=False, description="the server's API key")


class _ApiKey:
    """Checks ``Authorization: Bearer <key>``, comparing in constant time so timings do not leak the key."""

    def __init__(self, key: str) -> None:
        self._expected = key.encode("utf-8")

    async def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        given = credentials.credentials.encode("utf-8") if credentials else b""
        if not (credentials and hmac.compare_digest(given, self._expected)):
            raise ApiError(
                401,
                "unauthorized",
                "missing or wrong API key: send Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )


def _require_ready(worker: EngineWorker) -> None:
    if worker.state == "failed":
        raise ApiError(503, "startup_failed", f"the server could not load its index: {worker.failure}")
    if not worker.ready:
        raise ApiError(
            503,
            "loading",
            "the models are still loading; try again in a moment",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


def _engine(worker: EngineWorker) -> Engine:
    """The loaded engine, read outside its thread for what needs no models (an article by id)."""
    assert worker.engine is not None  # only called once ready
    return worker.engine


async def _result(worker: EngineWorker, submit: Callable[[], Future]) -> Any:
    """Queue an engine job and wait for it without blocking the event loop.

    If the client goes away, the waiting task is cancelled and so is the
    queued job (the worker skips cancelled jobs).
    """
    _require_ready(worker)
    try:
        future = submit()
    except Busy as exc:
        raise ApiError(503, "busy", str(exc), headers={"Retry-After": str(RETRY_AFTER_S)}) from None
    try:
        return await asyncio.wrap_future(future)
    except Busy as exc:
        raise ApiError(503, "unavailable", str(exc)) from None


def _conversation(store: ConversationStore, cid: str) -> Any:
    try:
        return store.get(cid)
    except UnknownConversation:
        raise _unknown(cid) from None


def _unknown(cid: str) -> ApiError:
    return ApiError(
        404,
        "conversation_not_found",
        f"no conversation {cid[:80]!r} (it may have expired): start one with POST /v1/conversations",
    )
