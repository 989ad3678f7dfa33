"""The data that flows through Newsdesk: Article → Passage → Candidate → Answer.

Every type is a keyword-only dataclass. ``Answer`` has one JSON form, used by
``newsdesk ask --json``, the saved conversations and the HTTP API alike
(documented in ``docs/answer-format.md``): ``answer_to_json`` writes it and
``answer_from_json`` reads it back, accepting the unversioned form older
conversation files hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

#: Version of the JSON form of an Answer; bump it when a field changes meaning or goes away.
ANSWER_FORMAT_VERSION = 1
ANSWER_FORMAT = "newsdesk.answer"

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Article:
    """One news article. ``text`` is the exact text every offset refers to."""

    id: str
    title: str
    text: str
    date: str | None = None
    section: str | None = None
    url: str | None = None
    path: str | None = None


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A slice of an article: ``article.text[start:end] == text``."""

    id: str
    article_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ArticleRef:
    """What an answer says about its article (no body text)."""

    id: str
    title: str
    date: str | None = None
    section: str | None = None
    path: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, article: Article | ArticleRef) -> ArticleRef:
        return cls(
            id=article.id,
            title=article.title,
            date=article.date,
            section=article.section,
            path=article.path,
            url=article.url,
        )


@dataclass(frozen=True, kw_only=True)
class RetrievedPassage:
    """A passage with the retrieval scores that brought it forward (and the reader's best, once read)."""

    passage: Passage
    score: float
    rank: int
    dense_rank: int | None = None
    sparse_rank: int | None = None
    reader_score: float | None = None


@dataclass(frozen=True, kw_only=True)
class AnswerSpan:
    """One candidate span the reader proposed, in article coordinates."""

    text: str
    confidence: float
    start: int
    end: int
    article: ArticleRef
    passage_id: str
    reader_margin: float
    retrieval_score: float


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One article's answer to the question, placed in time (see ``qa.readers.timeline``).

    ``confidence`` is the reader's own for this span, before any agreement
    across articles; ``agrees_with_best`` says whether it gives the same
    answer as the first entry (the one the Answer shows).
    """

    text: str
    article: ArticleRef
    date: str | None
    confidence: float
    start: int
    end: int
    agrees_with_best: bool
    #: The date a day word in ``text`` stands for ("Friday" -> 2022-07-29), read against ``date``.
    resolved_date: str | None = None


@dataclass(frozen=True, kw_only=True)
class TimeScope:
    """How the time words of a question were read (see ``qa.timeexpr``)."""

    #: The time words found in the question, as typed.
    words: tuple[str, ...] = ()
    #: The day the words were read against: the newest article, or the ``as_of`` given.
    anchor: str | None = None
    #: Inclusive window of article dates searched (None: open).
    date_from: str | None = None
    date_to: str | None = None
    #: "newest" or "oldest" when the question asks for an ordering ("latest", "originally").
    order: str | None = None
    #: True when no article was dated in the window the words name, so the dates the caller
    #: allowed were searched instead (the words then tell when an event happened, not a report).
    widened: bool = False


@dataclass(kw_only=True)
class Answer:
    """The assistant's reply to one question.

    ``text`` is empty when nothing cleared the threshold; ``passages`` still
    holds the closest passages so a person can read them.
    """

    question: str
    text: str = ""
    confidence: float = 0.0
    article: ArticleRef | None = None
    start: int | None = None
    end: int | None = None
    sentence: str = ""
    sentence_start: int | None = None
    alternatives: list[AnswerSpan] = field(default_factory=list)
    passages: list[RetrievedPassage] = field(default_factory=list)
    understood_as: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: Answers from several articles, the shown one first, then the others newest first.
    timeline: list[TimelineEntry] = field(default_factory=list)
    #: The date the answer stands for when it is a day word ("Friday" in a Sunday article).
    resolved_date: str | None = None
    #: How time words in the question narrowed or ordered the search (None: it had none).
    time: TimeScope | None = None
    #: Other outlets' copies of the answer's article (the same wire story), earliest first.
    copies: list[ArticleRef] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.text)


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The one JSON form of an Answer (a dict ready for ``json.dumps``)."""
    return {"format": ANSWER_FORMAT, "version": ANSWER_FORMAT_VERSION, **asdict(answer)}


class AnswerFormatError(ValueError):
    """A JSON object is not an Answer this version of Newsdesk can read."""


def answer_from_json(data: dict[str, Any]) -> Answer:
    """Rebuild an Answer from its JSON form (or the unversioned form of older files)."""
    if not isinstance(data, dict) or not isinstance(data.get("question"), str):
        raise AnswerFormatError("not an answer object (no question)")
    version = data.get("version", ANSWER_FORMAT_VERSION)
    if not isinstance(version, int) or version > ANSWER_FORMAT_VERSION:
        raise AnswerFormatError(f"answer format version {version!r} is newer than this Newsdesk reads")
    try:
        return Answer(
            question=data["question"],
            text=data.get("text") or "",
            confidence=float(data.get("confidence") or 0.0),
            article=_ref(data.get("article")),
            start=data.get("start"),
            end=data.get("end"),
            sentence=data.get("sentence") or "",
            sentence_start=data.get("sentence_start"),
            alternatives=[_build(AnswerSpan, s, article=_ref(s["article"])) for s in data.get("alternatives") or []],
            passages=[_retrieved(rp) for rp in data.get("passages") or []],
            understood_as=data.get("understood_as"),
            timings=dict(data.get("timings") or {}),
            copies=[_build(ArticleRef, c) for c in data.get("copies") or []],
            timeline=[_build(TimelineEntry, e, article=_ref(e["article"])) for e in data.get("timeline") or []],
            resolved_date=data.get("resolved_date"),
            time=_time_scope(data.get("time")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnswerFormatError(f"malformed answer object ({type(exc).__name__}: {exc})") from exc


def _build(cls: type[T], data: dict[str, Any], **given: Any) -> T:
    """``cls`` from its JSON fields; a field added by a later Newsdesk is ignored, not an error."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in known and k not in given}, **given)


def _ref(data: dict[str, Any] | None) -> ArticleRef | None:
    return _build(ArticleRef, data) if data else None


def _time_scope(data: dict[str, Any] | None) -> TimeScope | None:
    return _build(TimeScope, data, words=tuple(data.get("words") or ())) if data else None


def _retrieved(data: dict[str, Any]) -> RetrievedPassage:
    return _build(RetrievedPassage, data, passage=_build(Passage, data["passage"]))
