"""Shards spread over groups (as over Ray Serve replicas): the same ranking and answers as one process.

The groups here are ``LocalShards`` behind a stand-in for the wire that
copies every argument and result (nothing is shared with the front) and
counts the calls; ``tests/distributed/test_ray_serve.py`` runs the real
thing on a two-node Ray cluster.
"""

import copy
import shutil

import pytest

from qa import Assistant
from qa.contract import Retrieval
from qa.distributed.shard_groups import group_layout
from qa.errors import IndexError_, InvalidInputError
from qa.retrievers.filters import Filters
from qa.retrievers.shard_search import LocalShards
from qa.retrievers.sharded import ShardedRetriever
from qa.retrievers.spread import SpreadIndex, open_spread
from qa.store.shards import ShardedData, ShardedStore
from tests.test_shards import DEVELOPING, FILTERS, QUESTIONS, copy_corpus, generations, sharing_models
from tui.cli import main

#: Shard numbers of each group: one group of two shards, one of one.
LAYOUT = ((0, 2), (1,))


class Wire:
    """A group in another process, as the front sees it: copied arguments and results, every call counted."""

    def __init__(self, group: LocalShards):
        self.group = group
        self.calls: list[tuple[str, tuple]] = []

    def __getattr__(self, name):
        method = getattr(self.group, name)

        def call(*args):
            self.calls.append((name, args))
            return copy.deepcopy(method(*copy.deepcopy(args)))

        return call


def groups_of(root, layout=LAYOUT) -> list[Wire]:
    """Each group opens only its own shards, from disk, as a group replica does."""
    store = ShardedStore(root, shards=sum(len(g) for g in layout))
    return [Wire(LocalShards(store.load_shards(ids), ids=ids)) for ids in layout]


@pytest.fixture(scope="module")
def local_and_spread(tmp_path_factory):
    """One sharded index, open in one process and spread over two groups, sharing the models."""
    docs = copy_corpus(tmp_path_factory.mktemp("spread-docs") / "docs")
    idx = tmp_path_factory.mktemp("spread") / "idx"
    local = Assistant(idx, shards=3)
    local.index([docs])
    wires = groups_of(idx)
    front = sharing_models(idx, local)
    front.use(open_spread(wires, root=idx, embedder=front.embedder.model_name))
    return local, front, wires


def ranked(retriever, question, qv, filters, top_k=8):
    return [
        (r.passage, r.score, r.rank, r.dense_rank, r.sparse_rank) for r in retriever.run(question, qv, top_k, filters)
    ]


def test_the_front_holds_no_passage(local_and_spread):
    local, front, _ = local_and_spread
    assert isinstance(front.data, SpreadIndex) and isinstance(local.data, ShardedData)
    assert not hasattr(front.data, "passages") and front.data.layout == LAYOUT
    assert not front.data.articles._texts  # no text yet: only metadata


def test_same_ranking_as_one_process_for_every_filter_mode_and_cut(local_and_spread):
    local, _, wires = local_and_spread
    vectors = local.embedder.run(QUESTIONS)
    compared = 0
    for mode in Retrieval:
        for candidates in (3, 30):
            one = ShardedRetriever([LocalShards(local.data.shards)], mode=mode, candidates=candidates)
            spread = ShardedRetriever(wires, mode=mode, candidates=candidates)
            for q, qv in zip(QUESTIONS, vectors):
                for f in FILTERS:
                    expected = ranked(one, q, qv, f)
                    assert ranked(spread, q, qv, f) == expected, (q, f, mode, candidates)  # scores to the bit
                    compared += bool(expected)
    assert compared > 150


def test_only_the_fused_top_k_is_fetched(local_and_spread):
    _, front, wires = local_and_spread
    for w in wires:
        w.calls.clear()
    found = front.retrieve(QUESTIONS[2], top_k=4)
    fetched = [k for w in wires for name, args in w.calls if name == "fetch" for k in args[0]]
    assert len(found) == 4 and len(fetched) == 4
    assert {name for w in wires for name, _ in w.calls} == {"dense", "term_counts", "bm25", "fetch"}
    assert {p.passage.article_id for p in found} <= set(front.data.articles._texts)


@pytest.mark.slow
def test_same_answers_from_ask_and_ask_many(local_and_spread):
    local, front, _ = local_and_spread
    asked = [*QUESTIONS[:4], "What is the latest on Storm Maren?", "How many people died?"]
    for q in asked:
        a, b = local.ask(q), front.ask(q)
        assert (b.text, b.article, b.start, b.end, b.sentence) == (a.text, a.article, a.start, a.end, a.sentence)
        assert b.confidence == a.confidence and b.timeline == a.timeline and b.copies == a.copies
        assert [(p.passage, p.score) for p in b.passages] == [(p.passage, p.score) for p in a.passages]
    weather = Filters(sections=("Weather",))
    q = "How much federal aid was approved for Storm Maren?"
    assert front.ask(q, filters=weather).text == local.ask(q, filters=weather).text
    assert front.ask(q, as_of="2023-02-07").text == local.ask(q, as_of="2023-02-07").text
    assert [x.text for x in front.ask_many(asked)] == [x.text for x in local.ask_many(asked)]


def test_articles_stats_and_texts_as_one_process(local_and_spread):
    local, front, _ = local_and_spread
    assert front.article_refs() == local.article_refs() and len(front.article_refs()) == 15
    assert front.articles() == local.articles()  # texts fetched from the groups, one by one
    some = local.articles()[3]
    assert front.article(some.id) == some
    with pytest.raises(KeyError):
        front.article("nope")
    s, t = front.stats(), local.stats()
    assert {k: s[k] for k in t if k != "precision"} == {k: t[k] for k in t if k != "precision"}
    assert s["shard_groups"] == [[0, 2], [1]] and "shard_groups" not in t


def test_a_group_opens_only_its_own_shards(local_and_spread):
    local, _, _ = local_and_spread
    idx = local.index_dir
    spare = idx.parent / "damaged"
    shutil.copytree(idx, spare)
    gen0 = spare / generations(spare)[0]
    (gen0 / "vectors.f32").write_bytes(b"\0" * (gen0 / "vectors.f32").stat().st_size)  # shard 0 now fails its check
    with pytest.raises(IndexError_, match="shard-000"):
        ShardedStore(spare, shards=3).load_shards([0, 2])
    (only,) = ShardedStore(spare, shards=3).load_shards([1])  # shard 0's files are never read
    assert only.manifest["shard"] == 1 and len(only.passages) == len(local.data.shards[1].passages)


def test_groups_that_are_not_one_whole_index_are_refused(local_and_spread):
    local, _, _ = local_and_spread
    idx = local.index_dir
    store = ShardedStore(idx, shards=3)
    s0, s1, s2 = store.load_shards([0, 1, 2])
    with pytest.raises(IndexError_, match="every shard of one index once"):
        open_spread([LocalShards([s0, s2], ids=[0, 2])], root=idx)
    with pytest.raises(IndexError_, match="held by two shard groups"):
        open_spread([LocalShards([s0, s1], ids=[0, 1]), LocalShards([s1, s2], ids=[1, 2])], root=idx)
    with pytest.raises(IndexError_, match="built with embedder") as err:
        open_spread([LocalShards([s0, s1, s2])], root=idx, embedder="other-model")
    assert "\n" not in str(err.value) and "--embedder" in str(err.value)
    one = open_spread([LocalShards([s0, s1, s2])], root=idx)
    assert one.layout == ((0, 1, 2),) and list(one.articles) == list(local.data.articles)


def test_shard_group_layout_and_its_refusals(local_and_spread, tmp_path, capsys):
    local, _, _ = local_and_spread
    idx = local.index_dir
    assert group_layout(idx, None) == [(0,), (1,), (2,)]  # one group per shard by default
    assert group_layout(idx, 2) == [(0, 2), (1,)] and group_layout(idx, 1) == [(0, 1, 2)]
    assert group_layout(idx, 0) is None  # whole-index replicas
    one = sharing_models(tmp_path / "one", local)
    one.index([next(iter(DEVELOPING.iterdir()))])
    assert group_layout(one.index_dir, None) is None
    with pytest.raises(InvalidInputError, match="needs a sharded index"):
        group_layout(one.index_dir, 2)
    with pytest.raises(IndexError_, match="no index in"):
        group_layout(tmp_path / "none", None)
    # Refused in one line before any cluster is joined (nothing listens on port 9).
    assert main(["serve", "--index", str(idx), "--ray", "127.0.0.1:9", "--shard-groups", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: index {idx} has 3 shards: --shard-groups takes 0 to 3"
    with pytest.raises(SystemExit):
        main(["serve", "--index", str(idx), "--ray", "local", "--shard-groups", "-1"])
    assert "shard groups must be a whole number from 0 to 256" in capsys.readouterr().err


def test_a_group_that_does_not_answer_is_an_unavailable_index_not_a_crash():
    """Ray's errors from a lost or restarting group become IndexError_ (HTTP 503) with one line."""
    import numpy as np

    from qa.distributed.shard_groups import RemoteShards

    class Pending:
        def result(self, timeout_s=None):
            raise TimeoutError("Timed out waiting for result.\n(traceback follows)")

    class Method:
        def remote(self, *args):
            return Pending()

    class Handle:
        def __getattr__(self, name):
            return Method()

    with pytest.raises(IndexError_) as err:
        RemoteShards(Handle(), timeout_s=0.1).dense(np.zeros(384, dtype=np.float32), 5, None)
    assert "shard group did not answer" in str(err.value) and "\n" not in str(err.value)
