"""Request and response bodies of the HTTP API (pydantic models, shown at /docs).

Limits live here so they are refused before any work is queued: a question is
at most the engine's ``MAX_QUESTION_CHARS`` (the engine would silently cut a
longer one; a client should hear about it instead), ``top_k`` at most 50 and
``ask_many`` at most ``MAX_QUESTIONS`` questions per request, so one request
cannot hold the single model thread for minutes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from qa.asking import MAX_QUESTION_CHARS
from qa.errors import EmptyQuestionError
from qa.retrievers.filters import Filters
from qa.textsafe import plain

#: Most questions one ``POST /v1/ask_many`` may carry.
MAX_QUESTIONS = 64
#: Most passages a request may ask to be read for one question.
MAX_TOP_K = 50
#: Most articles one page of ``GET /v1/articles`` returns.
MAX_PAGE = 500

Question = Annotated[str, Field(max_length=MAX_QUESTION_CHARS, description="the question, in plain English")]
Section = Annotated[str, Field(min_length=1, max_length=200)]


def check_question(question: str, *, where: str = "question") -> str:
    """Refuse a question with no words, as ``Assistant.ask`` does.

    Batched requests are answered by ``ask_many``, which answers an empty
    question with an empty Answer instead of raising; checking here gives
    every request the engine's error (``EmptyQuestionError``), batched or not.
    """
    if not any(ch.isalnum() for ch in plain(question)):
        prefix = "" if where == "question" else f"{where}: "
        raise EmptyQuestionError(f"{prefix}Please type a question with some words in it.")
    return question


class _Strict(BaseModel):
    """Unknown fields are refused: a misspelt option should not be ignored silently."""

    model_config = ConfigDict(extra="forbid")


class FiltersIn(_Strict):
    """Only articles inside these bounds are searched (dates: YYYY, YYYY-MM or YYYY-MM-DD, inclusive)."""

    date_from: str | None = Field(None, max_length=40, examples=["2022-07"])
    date_to: str | None = Field(None, max_length=40, examples=["2022-12-31"])
    sections: list[Section] = Field(default_factory=list, max_length=50, examples=[["International"]])

    def to_filters(self) -> Filters:
        """The engine's Filters; a bad date raises the engine's ``InvalidInputError`` (422)."""
        return Filters(self.date_from, self.date_to, tuple(self.sections))


class AskOptions(_Strict):
    top_k: int | None = Field(
        None, ge=1, le=MAX_TOP_K, strict=True, description="passages to read (default: the server's)"
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, allow_inf_nan=False, description="no-answer threshold for this request only"
    )
    filters: FiltersIn | None = None

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``Engine.ask``/``ask_many``."""
        filters = self.filters.to_filters() if self.filters else None
        return {
            "top_k": self.top_k,
            "threshold": self.threshold,
            "filters": filters if filters is not None and filters.active else None,
        }


class AskRequest(AskOptions):
    question: Question
    as_of: str | None = Field(
        None,
        max_length=40,
        examples=["2023-02-08"],
        description='read time words ("latest", "on Monday") as of this day (YYYY, YYYY-MM or YYYY-MM-DD); '
        "nothing after it is searched",
    )

    def options(self) -> dict[str, Any]:
        return {**super().options(), **({"as_of": self.as_of} if self.as_of else {})}

    model_config = ConfigDict(json_schema_extra={"examples": [{"question": "Who did Blinken speak with?"}]})


class AskManyRequest(AskOptions):
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)


class ConversationCreated(BaseModel):
    id: str = Field(description="use in POST /v1/conversations/{id}/ask")
    idle_timeout_s: float = Field(description="the conversation is forgotten after this long unused")


class ArticleOut(BaseModel):
    """An article's metadata; ``text`` (plain text, never HTML) only when asked for."""

    id: str
    title: str
    date: str | None = None
    section: str | None = None
    url: str | None = None
    path: str | None = None
    text: str | None = None

    @classmethod
    def of(cls, article: Any, *, text: bool) -> ArticleOut:
        return cls(
            id=article.id,
            title=plain(article.title),
            date=article.date,
            section=article.section,
            url=article.url,
            path=article.path,
            text=article.text if text else None,
        )


class ArticlePage(BaseModel):
    total: int
    limit: int
    offset: int
    articles: list[ArticleOut]


class Health(BaseModel):
    status: str = Field(description="ok, loading or failed")
    articles: int | None = None
    passages: int | None = None
    error: dict[str, str] | None = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code": ..., "message": ...}}``."""

    error: dict[str, str] = Field(
        examples=[{"code": "empty_question", "message": "Please type a question with some words in it."}]
    )
