"""The data that flows through Newsdesk: Article → Passage → Candidate → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One news article. ``text`` is the exact text every offset refers to."""

    id: str
    title: str
    text: str
    date: str | None = None
    section: str | None = None
    url: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Article":
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Passage:
    """A slice of an article: ``article.text[start:end] == text``."""

    id: str
    article_id: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ArticleRef:
    """What an answer says about its article (no body text)."""

    id: str
    title: str
    date: str | None
    section: str | None
    path: str | None
    url: str | None = None

    @classmethod
    def of(cls, article: Article) -> "ArticleRef":
        return cls(article.id, article.title, article.date, article.section, article.path, article.url)


@dataclass
class RetrievedPassage:
    """A passage with the retrieval scores that brought it forward."""

    passage: Passage
    score: float
    rank: int
    dense_rank: int | None = None
    sparse_rank: int | None = None
    reader_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d


@dataclass
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


@dataclass
class Answer:
    """The assistant's reply to one question.

    ``text`` is empty when nothing cleared the threshold; ``passages`` still
    holds the closest passages so a person can read them.
    """

    question: str
    text: str
    confidence: float
    article: ArticleRef | None
    start: int | None
    end: int | None
    sentence: str
    sentence_start: int | None
    alternatives: list[AnswerSpan] = field(default_factory=list)
    passages: list[RetrievedPassage] = field(default_factory=list)
    understood_as: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def answer_from_dict(d: dict[str, Any]) -> Answer:
    """Rebuild an Answer saved with ``Answer.to_dict`` (conversation history)."""
    def ref(x):
        return ArticleRef(**x) if x else None

    def passage(rp):
        return RetrievedPassage(Passage(**rp["passage"]), rp["score"], rp["rank"], rp.get("dense_rank"),
                                rp.get("sparse_rank"), rp.get("reader_score"))

    alts = [AnswerSpan(**{**s, "article": ref(s["article"])}) for s in d.get("alternatives", [])]
    return Answer(
        d["question"], d.get("text", ""), d.get("confidence", 0.0), ref(d.get("article")), d.get("start"),
        d.get("end"), d.get("sentence", ""), d.get("sentence_start"), alts,
        [passage(p) for p in d.get("passages", [])], d.get("understood_as"), d.get("timings", {}),
    )
