"""Wire copies: one story carried by several outlets, grouped at indexing.

News agencies sell one story to many papers, and each prints it under its own
headline with small edits. Answering from every copy would show the same
answer several times and count one source as many. So articles whose bodies
share most of their word 3-shingles are put in one group, and an answer cites
the group once ("and 2 other outlets").

How two articles are judged copies: the body (the text after the headline,
lower-cased words, its first ``MAX_WORDS`` words) is cut into overlapping
three-word shingles; MinHash signatures (``NUM_PERM`` permutations, fixed
seed, so the same files always give the same signatures) estimate the Jaccard
similarity of two shingle sets, and MinHash LSH finds the candidate pairs
without comparing every pair. A pair whose estimated Jaccard similarity is at
least ``THRESHOLD`` (0.8: a 300-word story with a handful of words changed
stays above it; two stories on the same event written separately share far
less) is linked, and groups are the connected sets of links. Bodies under
``MIN_WORDS`` words are never grouped: a short notice says too little to call
two articles one story.

Group ids are stable: a group keeps the id an earlier index gave any of its
members (so a fourth copy joins the existing group, and a group outlives the
removal of its first article); a new group is named after its earliest
article (by date, then id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from qa.types import AnswerSpan, Article, ArticleRef

#: Least estimated Jaccard similarity of two bodies' word 3-shingles for them to be copies.
THRESHOLD = 0.8
#: MinHash permutations (more: a finer estimate, slower indexing).
NUM_PERM = 128
#: Words per shingle.
SHINGLE_WORDS = 3
#: Bodies shorter than this are never grouped.
MIN_WORDS = 20
#: Only the start of a body is compared: copies share their opening, and a 20 MB article stays cheap.
MAX_WORDS = 5000
#: Fixed so signatures (and so groups) are the same on every run.
SEED = 1

_WORD = re.compile(r"\w+")


def body_of(article: Article) -> str:
    """The article text without its headline (outlets retitle wire stories)."""
    text = article.text
    if article.title and text.startswith(article.title):
        text = text[len(article.title) :]
    return text


def shingles(text: str) -> set[bytes]:
    """The body's word 3-shingles; empty when it is too short to be grouped."""
    words = _WORD.findall(text.lower())[:MAX_WORDS]
    if len(words) < MIN_WORDS:
        return set()
    return {
        " ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8", "surrogatepass")
        for i in range(len(words) - SHINGLE_WORDS + 1)
    }


def _earliest(article: Article) -> tuple[str, str]:
    """Sort key: dated articles first, oldest first, then by id (undated ones last)."""
    return (article.date or "9999", article.id)


def wire_groups(articles: Mapping[str, Article], *, previous: Mapping[str, str] | None = None) -> dict[str, str]:
    """Article id -> group id, for every article that has at least one copy.

    ``previous`` is the grouping the index had before, whose ids are kept.
    """
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    sigs: dict[str, MinHash] = {}
    for aid in sorted(articles):
        grams = shingles(body_of(articles[aid]))
        if not grams:
            continue
        sig = MinHash(num_perm=NUM_PERM, seed=SEED)
        sig.update_batch(sorted(grams))
        sigs[aid] = sig
        lsh.insert(aid, sig)
    parent = {aid: aid for aid in sigs}

    def root(aid: str) -> str:
        while parent[aid] != aid:
            parent[aid] = parent[parent[aid]]
            aid = parent[aid]
        return aid

    for aid, sig in sigs.items():
        for other in lsh.query(sig):
            if other != aid and sig.jaccard(sigs[other]) >= THRESHOLD:
                a, b = sorted((root(aid), root(other)))
                parent[b] = a
    members: dict[str, list[Article]] = {}
    for aid in sigs:
        members.setdefault(root(aid), []).append(articles[aid])
    groups = [sorted(m, key=_earliest) for m in members.values() if len(m) > 1]
    return _name_groups(sorted(groups, key=lambda g: _earliest(g[0])), previous or {})


def _name_groups(groups: list[list[Article]], previous: Mapping[str, str]) -> dict[str, str]:
    """Give each group (earliest member first) an id no other group has: an old one if it had one."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for group in groups:
        olds = [previous[a.id] for a in group if a.id in previous]
        candidates = olds + [a.id for a in group]
        gid = next((c for c in candidates if c not in used), group[0].id + "~")
        used.add(gid)
        out.update((a.id, gid) for a in group)
    return out


def copies_of(article_id: str, *, groups: Mapping[str, str], articles: Mapping[str, Article]) -> list[ArticleRef]:
    """The other articles of ``article_id``'s group, earliest first (empty when it has none)."""
    gid = groups.get(article_id)
    if gid is None:
        return []
    others = [articles[a] for a, g in groups.items() if g == gid and a != article_id and a in articles]
    return [ArticleRef.of(a) for a in sorted(others, key=_earliest)]


def one_per_group(spans: Iterable[AnswerSpan], *, groups: Mapping[str, str]) -> list[AnswerSpan]:
    """Keep the best span of each (group, answer words): a wire story answers once, not once per copy.

    ``spans`` come best first; articles without a group are their own group.
    """
    seen: set[tuple[str, str]] = set()
    kept = []
    for span in spans:
        key = (groups.get(span.article.id, span.article.id), " ".join(span.text.lower().split()))
        if key not in seen:
            seen.add(key)
            kept.append(span)
    return kept


def copies_note(copies: list[ArticleRef]) -> str:
    """How an answer cites its wire copies: "and 2 other outlets" (empty when there are none)."""
    n = len(copies)
    return f"and {n} other outlet{'s' if n != 1 else ''}" if n else ""
