"""The retriever for an open index, in whichever form it is open.

One folder (``IndexData``): dense and BM25 fused (``qa.retrievers.hybrid``).
Several shards opened here (``ShardedData``): the merge over one group of
every shard. Shards spread over other processes (``SpreadIndex``): the same
merge over those groups, keeping the texts of the articles it fetches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from qa.contract import Retrieval
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.hybrid import HybridRetriever
from qa.retrievers.shard_search import LocalShards
from qa.retrievers.sharded import ShardedRetriever
from qa.retrievers.sparse import BM25Retriever
from qa.retrievers.spread import ArticleCatalog, SpreadIndex
from qa.store.index_store import IndexData
from qa.store.shards import ShardedData
from qa.types import Article, ArticleRef

#: An index as the engine holds it.
OpenIndex = IndexData | ShardedData | SpreadIndex


def retriever_for(data: OpenIndex, *, mode: Retrieval) -> HybridRetriever | ShardedRetriever:
    if isinstance(data, SpreadIndex):
        return ShardedRetriever(data.parts, mode=mode, keep=data.articles.keep)
    if isinstance(data, ShardedData):
        return ShardedRetriever([LocalShards(data.shards)], mode=mode)
    return HybridRetriever(
        DenseRetriever(data.dense, data.vectors),
        BM25Retriever(data.bm25, len(data.passages)),
        data.passages,
        mode=mode,
        articles=data.articles,
    )


def metadata(articles: Mapping[str, Article]) -> Iterable[Article | ArticleRef]:
    """Every article's metadata without reading texts (which a spread index fetches from other processes)."""
    return articles.refs.values() if isinstance(articles, ArticleCatalog) else articles.values()
