"""A small, deterministic stand-in for ``qa.Assistant`` for the chat app's tests.

It answers from a fixed table of (keywords, answer words): when a keyword is in
the (rewritten) question and the answer words occur in an indexed article, it
returns that span with its sentence; otherwise it returns a no-answer with the
closest passages by word overlap. Conversations are the real
``qa.conversation.Conversation`` so follow-ups are rewritten as in the engine.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.conversation import Conversation
from qa.errors import IndexError_, NewsdeskError
from qa.rewrite import rewrite_question
from qa.types import Answer, AnswerSpan, Article, ArticleRef, Passage, RetrievedPassage

BLINKEN = Article(
    id="blinken-lavrov",
    title="Blinken says he had a ‘frank’ discussion with Lavrov",
    text=(
        "US Secretary of State Antony Blinken spoke with Russian Foreign Minister Sergey Lavrov on Friday "
        "for the first time since Moscow launched its war in Ukraine in late February.\n"
        "In what the top US diplomat described as a frank and straightforward conversation, Blinken said he "
        "pressed the Kremlin to accept the substantive proposal made for the release of Paul Whelan and "
        "Brittney Griner.\n"
        "That proposal, which has been on the table since June, includes an offer to exchange convicted "
        "Russian arms dealer Viktor Bout."
    ),
    date="2022-07-31",
    section="International",
    path="seeds/blinken.txt",
)

HEATWAVE = Article(
    id="heatwave",
    title="Heatwave grips southern Europe",
    text=(
        "Temperatures in Seville reached 44 degrees Celsius on Tuesday as the heatwave spread north.\n"
        "Firefighters in Portugal and Spain battled wildfires that forced thousands from their homes.\n"
        "Forecasters said the heat would ease by the weekend."
    ),
    date="2022-07-20",
    section="Weather",
    path="seeds/heatwave.txt",
)

DEFAULT_RULES: list[tuple[tuple[str, ...], str]] = [
    (("secretary of state",), "Antony Blinken"),
    (("speak with", "spoke with", "talk to"), "Sergey Lavrov"),
    (("temperature", "how hot"), "44 degrees Celsius"),
    (("artemis",), "August 29"),
    (("bout",), "Russian arms dealer"),
    (("odd article", "markup"), "[bold]not bold[/bold]"),
]

_WORD = re.compile(r"[a-z0-9]{3,}")


def parse_article(text: str, path: str) -> Article:
    """The seed format: ``date YYYY-MM-DD Section`` line, headline line, then the body."""
    lines = text.strip("\n").split("\n")
    date = section = None
    first = lines[0].strip().split(maxsplit=2) if lines else []
    if len(first) >= 2 and first[0] == "date":
        date = first[1]
        section = first[2] if len(first) > 2 else None
        lines = lines[1:]
    title = lines[0].strip() if lines else Path(path).stem
    return Article(id=Path(path).stem, title=title, text="\n".join(lines[1:]), date=date, section=section, path=path)


@dataclass
class FakeSkipped:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class FakeIndexReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[FakeSkipped] = field(default_factory=list)


class FakeAssistant:
    """Implements the parts of ``qa.Assistant`` the chat app uses."""

    def __init__(self, articles: Iterable[Article] = (BLINKEN, HEATWAVE), index_dir: str | Path = "/fake/index",
                 rules: Sequence[tuple[tuple[str, ...], str]] = DEFAULT_RULES, delay: float = 0.0,
                 gate: threading.Event | None = None, warm_up_delay: float = 0.0) -> None:
        self._articles = {a.id: a for a in articles}
        self.index_dir = Path(index_dir)
        self.rules = list(rules)
        self.delay = delay
        self.gate = gate  # when set, ask() waits for it: a reader that takes as long as a test wants
        self.warm_up_delay = warm_up_delay
        self.asked: list[str] = []
        self.warmed = False

    # -- construction -----------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path) -> FakeAssistant:
        folder = Path(index_dir)
        if not folder.is_dir():
            raise IndexError_(f"no index in {index_dir}")
        assistant = cls(articles=(), index_dir=folder)
        assistant.index([folder])
        return assistant

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path], index_dir: str | Path | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> FakeAssistant:
        assistant = cls(articles=(), index_dir=index_dir or "/fake/new-index")
        assistant.index(paths, progress=progress)
        return assistant

    def warm_up(self) -> None:
        time.sleep(self.warm_up_delay)
        self.warmed = True

    @property
    def ready(self) -> bool:
        return self.warmed

    def ask_many(self, questions: Iterable[str], *, top_k: int | None = None, threshold: float | None = None,
                 filters: Any = None, batch: int = 8) -> Iterable[Answer]:
        return [self.ask(q, top_k=top_k, threshold=threshold, filters=filters) for q in questions]

    def add(self, paths: Sequence[str | Path], *,
            progress: Callable[[int, int, str], None] | None = None) -> FakeIndexReport:
        return self.index(paths, progress=progress)

    def remove(self, article_id: str) -> bool:
        return self._articles.pop(article_id, None) is not None

    # -- indexing ---------------------------------------------------------------
    def index(self, paths: Sequence[str | Path], *, rebuild: bool = False,
              progress: Callable[[int, int, str], None] | None = None,
              follow_symlinks: bool = False) -> FakeIndexReport:
        report = FakeIndexReport()
        files: list[Path] = []
        for p in map(Path, paths):
            if not p.exists():
                raise IndexError_(f"no such file or folder: {p}")
            files.extend(sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])
        for done, f in enumerate(files, 1):
            if progress:
                progress(done, len(files), "reading files")
            if f.suffix != ".txt":
                report.skipped.append(FakeSkipped(str(f), "not a text file"))
                continue
            article = parse_article(f.read_text(encoding="utf-8"), str(f))
            old = self._articles.get(article.id)
            if old == article:
                report.unchanged += 1
            elif old is None:
                report.added += 1
            else:
                report.updated += 1
            self._articles[article.id] = article
        return report

    # -- browsing ---------------------------------------------------------------
    def articles(self) -> list[Article]:
        return sorted(self._articles.values(), key=lambda a: (a.date or "", a.title), reverse=True)

    def article_refs(self) -> list[ArticleRef]:
        return [ArticleRef.of(a) for a in self.articles()]

    def article(self, article_id: str) -> Article:
        return self._articles[article_id]

    def passages(self) -> list[Passage]:
        out = []
        for a in self._articles.values():
            offset = 0
            for i, line in enumerate(a.text.split("\n")):
                if line.strip():
                    out.append(Passage(id=f"{a.id}#{i}", article_id=a.id, start=offset, end=offset + len(line), text=line))
                offset += len(line) + 1
        return out

    def stats(self) -> dict:
        return {"articles": len(self._articles), "passages": len(self.passages()), "embedder": "fake-embedder",
                "reader": "fake-reader", "index_dir": str(self.index_dir), "index_bytes": 12345}

    # -- asking -----------------------------------------------------------------
    def conversation(self) -> Conversation:
        return Conversation(self)

    def _retrieve(self, question: str, k: int = 3) -> list[RetrievedPassage]:
        words = set(_WORD.findall(question.lower()))
        scored = []
        for p in self.passages():
            pw = set(_WORD.findall(p.text.lower()))
            scored.append((len(words & pw) / math.sqrt(len(pw) or 1), p))
        scored.sort(key=lambda sp: (-sp[0], sp[1].id))
        return [RetrievedPassage(passage=p, score=round(s, 3), rank=r, dense_rank=r, sparse_rank=r) for r, (s, p) in enumerate(scored[:k], 1)]

    def ask(self, question: str, *, top_k: int | None = None, threshold: float | None = None,
            filters: Any = None, history: Any = None, as_of: str | None = None) -> Answer:
        self.asked.append(question)
        if self.gate is not None:
            self.gate.wait(timeout=20)
        if self.delay:
            time.sleep(self.delay)
        if "explode" in question.lower():
            raise RuntimeError("the reader fell over")
        if not question.strip():
            raise NewsdeskError("Please type a question with some words in it.")
        understood = rewrite_question(question, history) if history else question
        lower = understood.lower()
        for keywords, words in self.rules:
            if not any(k in lower for k in keywords):
                continue
            for article in self._articles.values():
                start = article.text.find(words)
                if start >= 0:
                    return self._found(question, understood, article, start, start + len(words))
        return Answer(question=question, confidence=0.04, passages=self._retrieve(understood),
                      understood_as=understood if understood != question else None, timings={"total_s": 0.01})

    def _found(self, question: str, understood: str, article: Article, start: int, end: int) -> Answer:
        text = article.text
        s_start = max(text.rfind(". ", 0, start) + 2 if text.rfind(". ", 0, start) >= 0 else 0,
                      text.rfind("\n", 0, start) + 1)
        stops = [i for i in (text.find(". ", end), text.find("\n", end)) if i >= 0]
        s_end = min(stops) + (1 if stops and text[min(stops)] == "." else 0) if stops else len(text)
        ref = ArticleRef.of(article)
        passage = next(p for p in self.passages() if p.article_id == article.id and p.start <= start < p.end)
        others = [rp for rp in self._retrieve(understood) if rp.passage.id != passage.id][:2]
        passages = [RetrievedPassage(passage=passage, score=0.912, rank=1, dense_rank=1, sparse_rank=2, reader_score=0.82)]
        passages += [RetrievedPassage(passage=rp.passage, score=rp.score, rank=i, dense_rank=i, sparse_rank=i)
                     for i, rp in enumerate(others, 2)]
        span = AnswerSpan(text=text[start:end], confidence=0.82, start=start, end=end, article=ref, passage_id=passage.id,
                          reader_margin=3.1, retrieval_score=0.912)
        return Answer(question=question, text=text[start:end], confidence=0.82, article=ref, start=start, end=end,
                      sentence=text[s_start:s_end], sentence_start=s_start, alternatives=[span], passages=passages,
                      understood_as=understood if understood != question else None, timings={"total_s": 0.01})
