"""A sharded index whose shards live in other processes: what the process that asks holds instead.

The front (the process with the models, which embeds, fuses and reads)
holds no passage, vector or posting. It keeps, for the whole index:

* every article's metadata (``ArticleRef``: id, title, date, section, url,
  path; no text), for listings, filters' dates, the timeline's dates and
  wire copies;
* the wire-copy groups and each shard's manifest fields;
* the texts of the articles it last read (``ArticleCatalog.KEEP`` of them),
  fetched with the fused top ``k`` passages of each question.

Retrieval goes to the groups (``qa.retrievers.sharded`` over ``ShardSearch``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.errors import IndexError_
from qa.retrievers.shard_search import ShardSearch, ShardSummary
from qa.store.index_store import REBUILD_HINT, check_embedder
from qa.store.shards import index_manifest, shard_of
from qa.types import Article, ArticleRef


class ArticleCatalog(Mapping[str, Article]):
    """Every article of a spread index: metadata in memory, text fetched from its group when read.

    A Mapping of full articles, as an open index's ``articles`` is; reading
    one whose text is not kept asks its group (one call). ``refs`` lists
    every article without fetching anything.
    """

    KEEP = 1024

    def __init__(self, refs: dict[str, ArticleRef], *, owner: Mapping[int, ShardSearch], shards: int):
        self.refs = refs
        self._owner, self._shards = owner, shards
        self._texts: OrderedDict[str, Article] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, article_id: str) -> Article:
        with self._lock:
            found = self._texts.get(article_id)
            if found is not None:
                self._texts.move_to_end(article_id)
                return found
        if article_id not in self.refs:
            raise KeyError(article_id)
        fetched = self._owner[shard_of(article_id, self._shards)].articles([article_id])
        self.keep(fetched)
        return fetched[article_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.refs)

    def __len__(self) -> int:
        return len(self.refs)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.refs

    def keep(self, articles: Mapping[str, Article]) -> None:
        """Keep these texts (the articles of passages about to be read), dropping the least recently read."""
        with self._lock:
            for aid, article in articles.items():
                self._texts[aid] = article
                self._texts.move_to_end(aid)
            while len(self._texts) > self.KEEP:
                self._texts.popitem(last=False)


@dataclass(frozen=True, kw_only=True)
class SpreadIndex:
    """An open sharded index whose shards are held by ``parts``, other processes (or fakes of them)."""

    parts: tuple[ShardSearch, ...]
    articles: ArticleCatalog
    #: Article id -> wire-copy group id (``qa.dedup``).
    groups: dict[str, str]
    manifest: dict
    #: The shard numbers each part holds.
    layout: tuple[tuple[int, ...], ...]


def open_spread(parts: Sequence[ShardSearch], *, root: Path, embedder: str | None = None) -> SpreadIndex:
    """Ask each part what it holds and check that together they are one whole index, each shard once."""
    hint = REBUILD_HINT.format(dir=root)
    summaries: dict[int, tuple[int, ShardSummary]] = {}
    for g, part in enumerate(parts):
        for s in part.summaries():
            if s.shard in summaries:
                raise IndexError_(f"index shard {s.shard} of {root} is held by two shard groups")
            summaries[s.shard] = (g, s)
    counts = {s.manifest.get("shards") for _, s in summaries.values()}
    if len(counts) != 1 or sorted(summaries) != list(range(next(iter(counts)) or 0)):
        raise IndexError_(f"the shard groups of {root} do not hold every shard of one index once: {hint}")
    ordered = [summaries[i][1] for i in sorted(summaries)]
    if len({s.manifest.get("dimension") for s in ordered}) > 1:
        raise IndexError_(f"index shards in {root} have vectors of different sizes: {hint}")
    for s in ordered:
        check_embedder(s.manifest, embedder, root=root, hint=hint)
    manifest = index_manifest([s.manifest for s in ordered], shards=len(ordered))
    owner = {i: parts[summaries[i][0]] for i in summaries}
    return SpreadIndex(
        parts=tuple(parts),
        articles=ArticleCatalog({a.id: a for s in ordered for a in s.articles}, owner=owner, shards=len(ordered)),
        groups={aid: gid for s in ordered for aid, gid in s.groups.items()},
        manifest=manifest,
        layout=tuple(tuple(i for i in sorted(summaries) if summaries[i][0] == g) for g in range(len(parts))),
    )
