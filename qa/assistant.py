"""The Assistant: one object that indexes articles and answers questions.

It wires the pipeline stages together (converters → splitter → embedder →
index store → hybrid retriever → reader → answer builder) and is what the
CLI, the TUI and the evaluator all use.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from qa.contract import FaissKind, Progress, Retrieval
from qa.converters import ConversionReport, Skipped, convert_paths
from qa.converters.fetch import is_url
from qa.dedup import wire_groups
from qa.embedders.sentence_transformer import DEFAULT_EMBEDDER, SentenceTransformerEmbedder
from qa.errors import EmptyQuestionError, IndexError_, NewsdeskError
from qa.preprocessors.splitter import PassageSplitter
from qa.readers.answers import build_answer
from qa.readers.decision import decision_for
from qa.precision import Precision, requested
from qa.readers.extractive import ExtractiveReader
from qa.readers.staged import FULL_READING, StopRule, read_ranked
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.filters import Filters
from qa.retrievers.hybrid import HybridRetriever
from qa.retrievers.sparse import BM25Retriever
from qa.store.index_settings import load_threshold
from qa.store.index_store import IndexData, IndexStore
from qa.textsafe import plain
from qa.timeexpr import newest_date, question_time
from qa.validation import check_threshold, check_top_k
from qa.types import Answer, Article, Passage, RetrievedPassage

if TYPE_CHECKING:
    from qa.conversation import Conversation

log = logging.getLogger("qa")

#: ``embed(articles, progress) -> (passages, vectors)``: the one step of indexing that can run elsewhere.
EmbedStep = Callable[[list[Article], Progress | None], tuple[list[Passage], np.ndarray]]

#: Longest question (in characters) that is searched and read; the rest is cut.
MAX_QUESTION_CHARS = 1000


@dataclass
class IndexReport:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    #: Articles kept because their file or folder could not be read this time.
    kept: int = 0
    unchanged: int = 0
    passages_embedded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        kept = f"{self.kept} kept (unreadable now), " if self.kept else ""
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, {kept}"
                f"{self.unchanged} unchanged, {len(self.skipped)} skipped")


def _under(path: str | None, roots: list[Path]) -> bool:
    if not path:
        return False
    p = Path(path.split("#", 1)[0])
    return any(p == r or p.is_relative_to(r) for r in roots)


def _kept_warnings(kept_paths: list[str], unread: list[Skipped]) -> list[str]:
    """One line per place that could not be read and still holds indexed articles."""
    lines = []
    for s in unread:
        n = sum(1 for path in kept_paths if _under(path, [Path(s.path)]))
        if n:
            lines.append(f"{s.path}: {s.reason}; kept its {n} indexed article{'s' if n != 1 else ''}")
    return lines


class Assistant:
    """Index and question answering over one index folder."""

    def __init__(
        self,
        index_dir: str | Path,
        embedder: str = DEFAULT_EMBEDDER,
        reader: str | Path | None = None,
        top_k: int = 5,
        retrieval: Retrieval | str = Retrieval.HYBRID,
        passage_tokens: int = 200,
        faiss_kind: FaissKind | str = FaissKind.AUTO,
        threshold: float | None = None,
        precision: Precision | str | None = None,
    ):
        """``precision`` (else ``NEWSDESK_PRECISION``, else auto: measured once per machine)
        applies to the reader and the embedder; see ``qa.precision``."""
        self.index_dir = Path(index_dir)
        self.store = IndexStore(self.index_dir)
        self.embedder = SentenceTransformerEmbedder(embedder, precision=requested(precision))
        self.reader = ExtractiveReader(reader, precision=requested(precision))
        #: When to stop reading a question's passages (``qa.readers.staged``).
        self.stop_rule = StopRule()
        self.top_k = check_top_k(top_k)
        self.retrieval = Retrieval(retrieval)
        self.passage_tokens = passage_tokens
        self.faiss_kind = FaissKind(faiss_kind)
        self._threshold = check_threshold(threshold)
        #: The threshold tuned for this index (read once, on first use; False = not read yet).
        self._tuned_threshold: float | None | bool = False
        self._data: IndexData | None = None
        self._retriever: HybridRetriever | None = None
        self._lock = threading.RLock()
        self._ready = False

    # -- construction ----------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path, **kwargs) -> "Assistant":
        """Open an existing index; raises IndexError_ with a one-line reason."""
        a = cls(index_dir, **kwargs)
        if not a.store.exists():
            raise IndexError_(f"no index in {index_dir}: run `newsdesk index PATH... --index {index_dir}`")
        a._load()
        return a

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], index_dir: str | Path | None = None,
                   progress: Progress | None = None, **kwargs) -> "Assistant":
        """Index ``paths`` (into a temporary folder unless ``index_dir`` is given).

        The temporary folder (and the conversation kept in it) is removed when
        the process exits, so repeated runs do not pile folders up in /tmp;
        pass ``index_dir`` to keep the index.
        """
        if index_dir is None:
            index_dir = tempfile.mkdtemp(prefix="newsdesk-index-")
            atexit.register(shutil.rmtree, index_dir, ignore_errors=True)
        a = cls(index_dir, **kwargs)
        a.index(list(paths), progress=progress)
        return a

    @property
    def threshold(self) -> float:
        """The no-answer threshold: given, else tuned for this index, else the reader's."""
        if self._threshold is not None:
            return self._threshold
        if self._tuned_threshold is False:
            self._tuned_threshold = load_threshold(self.index_dir)
        if self._tuned_threshold is not None:
            return self._tuned_threshold
        decision = decision_for(self.reader.model_name)
        return decision.threshold if decision else self.reader.settings.no_answer_threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._threshold = check_threshold(value)

    def warm_up(self) -> None:
        """Load both models now (otherwise the first question does it)."""
        self.embedder.warm_up()
        self.reader.warm_up()
        self._ready = True

    @property
    def ready(self) -> bool:
        """True once both models are loaded."""
        return self._ready

    def _load(self) -> None:
        data = self.store.load(embedder=self.embedder.model_name)
        self._set_data(data)

    def _set_data(self, data: IndexData) -> None:
        with self._lock:
            self._data = data
            self._retriever = HybridRetriever(
                DenseRetriever(data.dense, data.vectors),
                BM25Retriever(data.bm25, len(data.passages)),
                data.passages,
                mode=self.retrieval,
            )

    @property
    def data(self) -> IndexData:
        if self._data is None:
            if self.store.exists():
                self._load()
            else:
                raise IndexError_(f"no index in {self.index_dir}: index some articles first")
        return self._data  # type: ignore[return-value]

    # -- indexing --------------------------------------------------------------
    def splitter(self) -> PassageSplitter:
        return PassageSplitter(max_tokens=self.passage_tokens, tokenizer=self.reader.tokenizer_only())

    def index(self, paths: Sequence[str | Path], *, rebuild: bool = False, remove_missing: bool = True,
              progress: Progress | None = None, follow_symlinks: bool = False) -> IndexReport:
        """Index files and folders; only new or changed articles are embedded.

        Articles previously indexed from under ``paths`` whose files are gone
        from a readable folder are dropped (unless ``remove_missing`` is
        False); articles from other places stay. A root, folder or file that is
        missing or cannot be read (an unmounted disk, permission denied) is
        not proof that its articles are gone, so they stay, with a warning.
        ``paths`` may also hold http(s) URLs of RSS/Atom feeds or article
        pages (``qa.converters.feeds``). Copies of one wire story are grouped
        (``qa.dedup``), keeping the group ids the index had.
        """
        t0 = time.perf_counter()
        roots = [Path(p).resolve() for p in paths if not is_url(p)]
        urls = [p for p in paths if is_url(p)]  # feeds and pages: their articles are never "missing"
        if progress:
            progress(0, 0, "reading files")
        conv: ConversionReport = convert_paths([*roots, *urls], follow_symlinks=follow_symlinks)
        return self.index_converted(conv, roots=roots, rebuild=rebuild, remove_missing=remove_missing,
                                    progress=progress, started=t0)

    def index_converted(self, conv: ConversionReport, *, roots: list[Path], rebuild: bool = False,
                        remove_missing: bool = True, progress: Progress | None = None,
                        embed: EmbedStep | None = None, started: float | None = None) -> IndexReport:
        """What ``index`` does once files are converted: plan, embed what is new, write a generation.

        Distributed indexing (``qa.distributed``) converts and embeds on a
        cluster and passes its own ``embed`` step; which articles are kept,
        dropped or embedded, and the generation written, are decided here
        alone, so both paths build the same index.
        """
        t0 = time.perf_counter() if started is None else started
        report = IndexReport(skipped=list(conv.skipped), warnings=list(conv.warnings))
        unread = [Path(s.path) for s in conv.skipped]
        kept_paths: list[str] = []
        with self.store.lock():
            old: IndexData | None = None
            if not rebuild and self.store.exists():
                try:
                    old = self.store.load(embedder=self.embedder.model_name)
                except IndexError_:
                    raise
            old_articles = old.articles if old else {}
            new_by_id: dict[str, Article] = {}
            for a in conv.articles:
                new_by_id.setdefault(a.id, a)
            old_paths = {a.path: aid for aid, a in old_articles.items()}
            new_paths = {a.path for a in new_by_id.values()}
            keep: dict[str, Article] = {}
            for aid, a in old_articles.items():
                if aid in new_by_id:
                    keep[aid] = a
                    report.unchanged += 1
                elif a.path in new_paths:
                    continue  # same file, new content: replaced below
                elif not (remove_missing and _under(a.path, roots)):
                    keep[aid] = a
                elif _under(a.path, unread):
                    keep[aid] = a
                    kept_paths.append(a.path)
            fresh = [a for aid, a in new_by_id.items() if aid not in old_articles]
            for a in fresh:
                if a.path in old_paths and old_paths[a.path] not in new_by_id:
                    report.updated += 1
                else:
                    report.added += 1
            report.removed = len(old_articles) - len(keep) - report.updated
            report.removed = max(report.removed, 0)
            report.kept = len(kept_paths)
            report.warnings.extend(_kept_warnings(kept_paths, conv.skipped))

            passages: list[Passage] = []
            vectors: list[np.ndarray] = []
            if old is not None:
                rows = [i for i, p in enumerate(old.passages) if p.article_id in keep]
                passages.extend(old.passages[i] for i in rows)
                if rows:
                    vectors.append(old.vectors[rows])
            new_passages, new_vectors = (embed or self.embed_articles)(fresh, progress)
            if new_passages:
                vectors.append(new_vectors)
                passages.extend(new_passages)
            report.passages_embedded = len(new_passages)
            articles = {**keep, **{a.id: a for a in fresh}}
            groups = wire_groups(articles, previous=old.groups if old else None)
            dim = self.embedder.dimension if (new_passages or old is None) else int(old.manifest["dimension"])
            vec = np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
            changed = fresh or len(keep) != len(old_articles) or old is None or groups != old.groups
            if changed:
                if progress:
                    progress(len(passages), len(passages), "writing index")
                self.store.write(articles, passages, vec, self.embedder.model_name, dim,
                                 self.faiss_kind, extra={"reader": self.reader.model_name}, groups=groups)
                self._load()
            elif old is not None:
                self._set_data(old)
        report.seconds = time.perf_counter() - t0
        return report

    def embed_articles(self, articles: list[Article], progress: Progress | None = None
                       ) -> tuple[list[Passage], np.ndarray]:
        """Split ``articles`` into passages and embed them in this process (the default embed step)."""
        splitter = self.splitter()
        passages = [p for a in articles for p in splitter.run(a)]

        def emb_progress(done: int, total: int) -> None:
            if progress:
                progress(done, total, "embedding passages")

        if not passages:  # nothing to embed: no need to load the model
            return passages, np.zeros((0, 0), dtype=np.float32)
        return passages, self.embedder.run([p.text for p in passages], emb_progress)

    def add(self, paths: Sequence[str | Path], *, progress: Progress | None = None) -> IndexReport:
        """Index more files without dropping anything already indexed."""
        return self.index(paths, remove_missing=False, progress=progress)

    def remove(self, article_id: str) -> bool:
        """Drop one article (and its passages) from the index."""
        with self.store.lock():
            data = self.store.load(embedder=self.embedder.model_name)
            if article_id not in data.articles:
                return False
            rows = [i for i, p in enumerate(data.passages) if p.article_id != article_id]
            articles = {k: v for k, v in data.articles.items() if k != article_id}
            self.store.write(articles, [data.passages[i] for i in rows], data.vectors[rows],
                             data.manifest["embedder"], int(data.manifest["dimension"]),
                             self.faiss_kind, extra={"reader": self.reader.model_name},
                             groups={k: g for k, g in data.groups.items() if k != article_id})
            self._load()
        return True

    # -- browsing --------------------------------------------------------------
    def articles(self) -> list[Article]:
        return sorted(self.data.articles.values(), key=lambda a: (a.date or "", a.title), reverse=True)

    def article(self, article_id: str) -> Article:
        return self.data.articles[article_id]

    def stats(self) -> dict:
        d = self.data
        size = sum(p.stat().st_size for p in self.index_dir.rglob("*") if p.is_file())
        return {
            "articles": len(d.articles),
            "passages": len(d.passages),
            "embedder": d.manifest.get("embedder"),
            "dimension": d.manifest.get("dimension"),
            "faiss": d.manifest.get("faiss"),
            "reader": self.reader.model_name,
            "index_dir": str(self.index_dir),
            "index_bytes": size,
            "written": d.manifest.get("written"),
            "precision": self.precision_report(),
        }

    def precision_report(self) -> dict:
        """Precision of each model, why (measured / cached / forced) and the probe times."""
        return {"reader": self.reader.resolve_precision().to_dict(),
                "embedder": self.embedder.resolve_precision().to_dict()}

    # -- asking ----------------------------------------------------------------
    def retrieve(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> list[RetrievedPassage]:
        data = self.data
        mask = filters.mask(data.passages, data.articles) if filters and filters.active else None
        qv = self.embedder.run([question])[0] if self.retrieval != "bm25" else None
        return self._retriever.run(question, qv, top_k or self.top_k, mask)  # type: ignore[union-attr]

    def ask(self, question: str, *, top_k: int | None = None, threshold: float | None = None,
            filters: Filters | None = None, history: Any = None, as_of: str | None = None) -> Answer:
        """Answer one question from the indexed articles.

        ``history`` (a Conversation or list of earlier (question, Answer)) lets
        follow-ups like "when did he say that?" be understood. ``threshold``
        overrides the no-answer threshold for this call only. Time words in
        the question ("latest", "on Friday", "in July") narrow or order the
        search (``qa.timeexpr``), read against ``as_of`` (YYYY-MM-DD) when
        given, else against the newest article.
        """
        from qa.conversation import rewrite_question, same_question

        top_k, threshold = check_top_k(top_k), check_threshold(threshold)
        clean = " ".join(plain(question or "").split())
        if not any(ch.isalnum() for ch in clean):
            raise EmptyQuestionError("Please type a question with some words in it.")
        clean = clean[:MAX_QUESTION_CHARS]
        understood = clean
        if history:
            understood = rewrite_question(clean, history)
        t0 = time.perf_counter()
        data = self.data
        when, filters = question_time(understood, filters=filters, as_of=as_of,
                                      newest=lambda: newest_date(data.articles.values()))
        retrieved = self.retrieve(when.search_text if when else understood, top_k, filters)
        t1 = time.perf_counter()
        preds = read_ranked(self.reader, [understood], [[r.passage.text for r in retrieved]],
                            FULL_READING if when and when.order else self.stop_rule)[0]
        t2 = time.perf_counter()
        answer = build_answer(clean, retrieved, preds, data.articles, self.reader.confidence,
                              self.threshold if threshold is None else threshold, groups=data.groups,
                              order=when.order if when else None,
                              decision=decision_for(self.reader.model_name), read_as=understood)
        if not same_question(understood, clean):
            answer.understood_as = understood
        answer.time = when.scope() if when else None
        answer.timings = {"retrieve_s": t1 - t0, "read_s": t2 - t1, "total_s": time.perf_counter() - t0}
        return answer

    def ask_many(self, questions: Iterable[str], *, top_k: int | None = None, threshold: float | None = None,
                 filters: Filters | None = None, batch: int = 8) -> Iterator[Answer]:
        """Answer questions lazily, ``batch`` at a time (memory stays flat).

        A batch embeds its questions in one call and reads their passages
        together, so one reader forward pass covers several questions;
        answers are the ones ``ask`` gives.
        """
        it = iter(questions)
        while chunk := list(itertools.islice(it, max(batch, 1))):
            yield from self._answer_batch(chunk, top_k, threshold, filters)

    def _answer_batch(self, questions: list[str], top_k: int | None, threshold: float | None,
                      filters: Filters | None) -> list[Answer]:
        t0 = time.perf_counter()
        cleaned = [" ".join(plain(q or "").split())[:MAX_QUESTION_CHARS] for q in questions]
        live = [i for i, c in enumerate(cleaned) if any(ch.isalnum() for ch in c)]
        asked = [cleaned[i] for i in live]
        data = self.data
        retrieved = self._retrieve_many(asked, top_k, filters)
        t1 = time.perf_counter()
        preds = read_ranked(self.reader, asked, [[r.passage.text for r in rs] for rs in retrieved],
                            self.stop_rule)
        t2 = time.perf_counter()
        limit = self.threshold if threshold is None else threshold
        answers = [Answer(question=q or "") for q in questions]
        n = max(len(live), 1)
        for j, i in enumerate(live):
            answers[i] = build_answer(asked[j], retrieved[j], preds[j], data.articles, self.reader.confidence,
                                      limit, groups=data.groups, decision=decision_for(self.reader.model_name))
            answers[i].timings = {"retrieve_s": (t1 - t0) / n, "read_s": (t2 - t1) / n,
                                  "total_s": (time.perf_counter() - t0) / n}
        return answers

    def _retrieve_many(self, questions: list[str], top_k: int | None,
                       filters: Filters | None) -> list[list[RetrievedPassage]]:
        """``retrieve`` for several questions, their vectors embedded in one call."""
        data = self.data
        mask = filters.mask(data.passages, data.articles) if filters and filters.active else None
        dense = self.retrieval != "bm25" and questions
        qvs = self.embedder.run(questions) if dense else [None] * len(questions)
        return [self._retriever.run(q, qv, top_k or self.top_k, mask)  # type: ignore[union-attr]
                for q, qv in zip(questions, qvs)]

    def conversation(self) -> Conversation:
        from qa.conversation import Conversation

        return Conversation(self)
