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
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.asking import answer_batch, clean_question
from qa.contract import FaissKind, Progress, Retrieval
from qa.converters import ConversionReport, convert_paths
from qa.converters.fetch import is_url
from qa.embedders.sentence_transformer import DEFAULT_EMBEDDER, SentenceTransformerEmbedder
from qa.errors import EmptyQuestionError, IndexError_
from qa.indexing import EmbedStep, IndexReport, remove_article, update_index
from qa.precision import Precision, requested
from qa.preprocessors.splitter import PassageSplitter
from qa.readers.answers import build_answer
from qa.readers.decision import decision_for
from qa.readers.extractive import ExtractiveReader
from qa.readers.staged import FULL_READING, StopRule, passage_dates, read_ranked, stop_rule_for
from qa.retrievers.choose import OpenIndex, metadata, retriever_for
from qa.retrievers.filters import Filters
from qa.retrievers.hybrid import HybridRetriever
from qa.retrievers.sharded import ShardedRetriever
from qa.retrievers.spread import SpreadIndex
from qa.store.index_settings import load_threshold
from qa.store.index_store import IndexData
from qa.store.shards import check_shard_count, open_store
from qa.timeexpr import newest_date, question_time, without_window
from qa.types import Answer, Article, ArticleRef, Passage, RetrievedPassage
from qa.validation import check_threshold, check_top_k

if TYPE_CHECKING:
    from qa.conversation import Conversation

log = logging.getLogger("qa")


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
        shards: int | None = None,
    ):
        """``precision`` (else ``NEWSDESK_PRECISION``, else auto: measured once per machine)
        applies to the reader and the embedder; see ``qa.precision``. ``shards``: how many
        shards a new index gets (``qa.store.shards``); None keeps an existing index's count
        (else 1), and a different count is refused when indexing unless it rebuilds."""
        self.index_dir = Path(index_dir)
        self.shards = None if shards is None else check_shard_count(shards)
        self.store = open_store(self.index_dir, shards=self.shards)
        self.embedder = SentenceTransformerEmbedder(embedder, precision=requested(precision))
        self.reader = ExtractiveReader(reader, precision=requested(precision))
        #: When to stop reading a question's passages (``qa.readers.staged``).
        self.stop_rule: StopRule = stop_rule_for(self.reader)
        check_top_k(top_k)
        self.top_k: int = top_k
        self.retrieval = Retrieval(retrieval)
        self.passage_tokens = passage_tokens
        self.faiss_kind = FaissKind(faiss_kind)
        self._threshold = check_threshold(threshold)
        #: The threshold tuned for this index (read once, on first use; False = not read yet).
        self._tuned_threshold: float | bool | None = False
        self._data: OpenIndex | None = None
        self._retriever: HybridRetriever | ShardedRetriever | None = None
        self._lock = threading.RLock()
        self._ready = False

    # -- construction ----------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path, **kwargs) -> Assistant:
        """Open an existing index; raises IndexError_ with a one-line reason."""
        a = cls(index_dir, **kwargs)
        if not a.store.exists():
            raise IndexError_(f"no index in {index_dir}: run `newsdesk index PATH... --index {index_dir}`")
        a.reload()
        return a

    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | Path],
        index_dir: str | Path | None = None,
        progress: Progress | None = None,
        **kwargs,
    ) -> Assistant:
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

    def reload(self) -> None:
        """Read the index's current generation (after a write; re-sharded elsewhere, in its new layout)."""
        self.store = open_store(self.index_dir, shards=self.shards, current=self.store)
        self.use(self.store.load(embedder=self.embedder.model_name))

    def use(self, data: OpenIndex) -> None:
        """Search ``data`` from now on: an index loaded and checked here, or one spread over other processes."""
        with self._lock:
            self._data = data
            self._retriever = retriever_for(data, mode=self.retrieval)

    @property
    def retriever(self) -> HybridRetriever | ShardedRetriever:
        """The retriever over the current index (loading it on first use)."""
        if self._retriever is None:
            self.use(self.data)
        assert self._retriever is not None  # use() always sets it
        return self._retriever

    @property
    def data(self) -> OpenIndex:
        if self._data is None:
            if self.store.exists():
                self.reload()
            else:
                raise IndexError_(f"no index in {self.index_dir}: index some articles first")
        return self._data  # type: ignore[return-value]

    # -- indexing --------------------------------------------------------------
    def splitter(self) -> PassageSplitter:
        return PassageSplitter(max_tokens=self.passage_tokens, tokenizer=self.reader.tokenizer_only())

    def index(
        self,
        paths: Sequence[str | Path],
        *,
        rebuild: bool = False,
        remove_missing: bool = True,
        progress: Progress | None = None,
        follow_symlinks: bool = False,
    ) -> IndexReport:
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
        return self.index_converted(
            conv, roots=roots, rebuild=rebuild, remove_missing=remove_missing, progress=progress, started=t0
        )

    def index_converted(
        self,
        conv: ConversionReport,
        *,
        roots: list[Path],
        rebuild: bool = False,
        remove_missing: bool = True,
        progress: Progress | None = None,
        embed: EmbedStep | None = None,
        started: float | None = None,
    ) -> IndexReport:
        """What ``index`` does once files are converted (``qa.indexing.update_index``)."""
        return update_index(
            self,
            conv,
            roots=roots,
            rebuild=rebuild,
            remove_missing=remove_missing,
            progress=progress,
            embed=embed,
            started=started,
        )

    def embed_articles(
        self, articles: list[Article], progress: Progress | None = None
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
        return remove_article(self, article_id)

    # -- browsing --------------------------------------------------------------
    def articles(self) -> list[Article]:
        return sorted(self.data.articles.values(), key=_newest_first, reverse=True)

    def article_refs(self) -> list[ArticleRef]:
        """Every article's metadata, newest first (no text: a spread index holds no more than this)."""
        return [ArticleRef.of(a) for a in sorted(metadata(self.data.articles), key=_newest_first, reverse=True)]

    def article(self, article_id: str) -> Article:
        return self.data.articles[article_id]

    def stats(self) -> dict:
        d = self.data
        size = sum(p.stat().st_size for p in self.index_dir.rglob("*") if p.is_file())
        return {
            "articles": len(d.articles),
            "passages": len(d.passages) if isinstance(d, IndexData) else sum(d.manifest["passages_per_shard"]),
            "embedder": d.manifest.get("embedder"),
            "dimension": d.manifest.get("dimension"),
            "faiss": d.manifest.get("faiss"),
            "shards": d.manifest.get("shards", 1),
            **({} if isinstance(d, IndexData) else {"passages_per_shard": d.manifest["passages_per_shard"]}),
            **({"shard_groups": [list(g) for g in d.layout]} if isinstance(d, SpreadIndex) else {}),
            "reader": self.reader.model_name,
            "index_dir": str(self.index_dir),
            "index_bytes": size,
            "written": d.manifest.get("written"),
            "precision": self.precision_report(),
        }

    def precision_report(self) -> dict:
        """Precision of each model, why (measured / cached / forced) and the probe times."""
        return {
            "reader": self.reader.resolve_precision().to_dict(),
            "embedder": self.embedder.resolve_precision().to_dict(),
        }

    # -- asking ----------------------------------------------------------------
    def retrieve(
        self, question: str, top_k: int | None = None, filters: Filters | None = None
    ) -> list[RetrievedPassage]:
        qv = self.embedder.run([question])[0] if self.retrieval != "bm25" else None
        return self.retriever.run(question, qv, top_k if top_k is not None else self.top_k, filters)

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        threshold: float | None = None,
        filters: Filters | None = None,
        history: Any = None,
        as_of: str | None = None,
    ) -> Answer:
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
        clean = clean_question(question)
        if not clean:
            raise EmptyQuestionError("Please type a question with some words in it.")
        understood = clean
        if history:
            understood = rewrite_question(clean, history)
        t0 = time.perf_counter()
        data = self.data
        when, narrowed = question_time(
            understood, filters=filters, as_of=as_of, newest=lambda: newest_date(metadata(data.articles))
        )
        retrieved = self.retrieve(when.search_text if when else understood, top_k, narrowed)
        if not retrieved and when and (wide := without_window(when, understood, filters=filters, as_of=as_of)):
            when = wide[0]
            retrieved = self.retrieve(when.search_text, top_k, wide[1])
        t1 = time.perf_counter()
        preds = read_ranked(
            self.reader,
            [understood],
            [[r.passage.text for r in retrieved]],
            FULL_READING if when and when.order else self.stop_rule,
            dates=[passage_dates(retrieved, data.articles)],
        )[0]
        t2 = time.perf_counter()
        answer = build_answer(
            clean,
            retrieved,
            preds,
            data.articles,
            self.reader.confidence,
            self.threshold if threshold is None else threshold,
            groups=data.groups,
            order=when.order if when else None,
            decision=decision_for(self.reader.model_name),
            read_as=understood,
        )
        if not same_question(understood, clean):
            answer.understood_as = understood
        answer.time = when.scope() if when else None
        answer.timings = {"retrieve_s": t1 - t0, "read_s": t2 - t1, "total_s": time.perf_counter() - t0}
        return answer

    def ask_many(
        self,
        questions: Iterable[str],
        *,
        top_k: int | None = None,
        threshold: float | None = None,
        filters: Filters | None = None,
        batch: int = 8,
    ) -> Iterator[Answer]:
        """Answer questions lazily, ``batch`` at a time (memory stays flat).

        A batch embeds its questions in one call and reads their passages
        together, so one reader forward pass covers several questions;
        answers are the ones ``ask`` gives.
        """
        it = iter(questions)
        while chunk := list(itertools.islice(it, max(batch, 1))):
            yield from answer_batch(self, chunk, top_k=top_k, threshold=threshold, filters=filters)

    def conversation(self) -> Conversation:
        from qa.conversation import Conversation

        return Conversation(self)


def _newest_first(a: Article | ArticleRef) -> tuple[str, str]:
    return (a.date or "", a.title)
