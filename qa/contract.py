"""The contract between the engine and its front ends.

The chat, the command line, the evaluator and the HTTP server talk to the
engine only through :class:`Engine`. ``qa.Assistant`` implements it, and so
does the chat tests' fake, so a front end can be driven without models.
Per-call choices (threshold, top_k, filters) are arguments of each call,
never state a caller changes and restores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qa.errors import NewsdeskError
from qa.types import Answer, Article, ArticleRef

if TYPE_CHECKING:
    from qa.assistant import IndexReport
    from qa.retrievers.filters import Filters

#: ``progress(done, total, stage)``: how far a long job (indexing) has come.
Progress = Callable[[int, int, str], None]

__all__ = ["Engine", "EngineConversation", "EvalMode", "FaissKind", "NewsdeskError", "Progress", "Retrieval"]


class Retrieval(str, Enum):
    """How passages are found: both retrievers fused (default), or one alone."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


class FaissKind(str, Enum):
    """The FAISS index built for dense search (``auto`` picks by corpus size)."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    IVF = "ivf"


class EvalMode(str, Enum):
    """Open: through retrieval, as a person asks. Reader: the gold context is given."""

    OPEN = "open"
    READER = "reader"


@runtime_checkable
class EngineConversation(Protocol):
    """A conversation: follow-ups are understood in the light of earlier turns."""

    turns: list[tuple[str, Answer]]

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        threshold: float | None = None,
        filters: Filters | None = None,
        as_of: str | None = None,
    ) -> Answer: ...

    def reset(self) -> None: ...

    def to_markdown(self) -> str: ...


@runtime_checkable
class Engine(Protocol):
    """What every front end may ask of the engine."""

    index_dir: Path

    @property
    def ready(self) -> bool:
        """True once both models are loaded (``warm_up`` has run)."""
        ...

    def warm_up(self) -> None: ...

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        threshold: float | None = None,
        filters: Filters | None = None,
        history: Any = None,
        as_of: str | None = None,
    ) -> Answer: ...

    def ask_many(
        self,
        questions: Iterable[str],
        *,
        top_k: int | None = None,
        threshold: float | None = None,
        filters: Filters | None = None,
        batch: int = 8,
    ) -> Iterable[Answer]: ...

    def conversation(self) -> EngineConversation: ...

    def index(
        self,
        paths: Sequence[str | Path],
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        follow_symlinks: bool = False,
    ) -> IndexReport: ...

    def add(self, paths: Sequence[str | Path], *, progress: Progress | None = None) -> IndexReport: ...

    def remove(self, article_id: str) -> bool: ...

    def articles(self) -> list[Article]: ...

    def article_refs(self) -> list[ArticleRef]:
        """Every article's metadata without its text, in the order of ``articles``."""
        ...

    def article(self, article_id: str) -> Article: ...

    def stats(self) -> dict[str, Any]: ...
