"""Sharded indexes: the same articles, rankings and answers as one index, incremental per shard, checked files."""

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.contract import Retrieval
from qa.errors import IndexError_
from qa.retrievers.dense import DenseRetriever
from qa.retrievers.filters import Filters
from qa.retrievers.global_bm25 import BM25Query, TermCounts, shard_scores
from qa.retrievers.hybrid import HybridRetriever
from qa.retrievers.shard_search import LocalShards
from qa.retrievers.sharded import ShardedRetriever
from qa.retrievers.sparse import BM25Retriever, query_words
from qa.store.derived import build_bm25
from qa.store.index_store import IndexStore
from qa.store.shards import SHARDS_FILE, ShardedData, shard_of
from qa.store.terms import build_terms
from tests.conftest import ROOT, SEEDS
from tui.cli import main

DEVELOPING = ROOT / "tests" / "corpora" / "developing"

QUESTIONS = [
    "Which Russian official did Blinken speak with?",
    "When will Hollins Bridge reopen?",
    "How much federal aid was approved for Storm Maren?",
    "What pay rise did the Bellmare dockworkers accept?",
    "What did the Reserve Bank do to the interest rate?",
    "bridge bridge repairs",  # a repeated word counts twice in BM25
    "How many people died?",
]
FILTERS = [
    None,
    Filters(date_from="2023"),
    Filters(sections=("Business", "Local")),
    Filters(date_to="2022-08"),
    Filters(sections=("Sport",)),  # nothing passes
]


def copy_corpus(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for f in [*SEEDS.iterdir(), *DEVELOPING.iterdir()]:
        shutil.copy(f, dest / f.name)
    return dest


def sharing_models(index_dir: Path, model_source: Assistant, **kwargs) -> Assistant:
    """An Assistant on another folder with ``model_source``'s loaded models (loading them twice is only slower)."""
    a = Assistant(index_dir, **kwargs)
    a.embedder, a.reader = model_source.embedder, model_source.reader
    return a


def generations(idx: Path) -> list[str]:
    return json.loads((idx / SHARDS_FILE).read_text())["generations"]


def retrievers(a: Assistant, mode: Retrieval, candidates: int):
    """A fresh retriever over ``a``'s index with a small candidate list, so that the cut between shards matters."""
    d = a.data
    if isinstance(d, ShardedData):
        return ShardedRetriever([LocalShards(d.shards)], mode=mode, candidates=candidates)
    return HybridRetriever(
        DenseRetriever(d.dense, d.vectors),
        BM25Retriever(d.bm25, len(d.passages)),
        d.passages,
        mode,
        candidates,
        articles=d.articles,
    )


def ranking(a: Assistant, question: str, qv, *, mode=Retrieval.HYBRID, filters=None, candidates=4, top_k=8):
    found = retrievers(a, mode, candidates).run(question, qv, top_k, filters)
    return [(r.passage.id, r.score, r.dense_rank, r.sparse_rank) for r in found]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same corpus indexed as one shard and as three."""
    docs = copy_corpus(tmp_path_factory.mktemp("shard-docs") / "docs")
    one = Assistant.from_paths([docs], index_dir=tmp_path_factory.mktemp("one"))
    three = sharing_models(tmp_path_factory.mktemp("three"), one, shards=3)
    three.index([docs])
    return one, three


def test_same_articles_passages_offsets_and_vectors(pair):
    one, three = pair
    assert isinstance(three.data, ShardedData) and not isinstance(one.data, ShardedData)
    assert three.data.articles == one.data.articles and three.data.groups == one.data.groups
    key = lambda p: (p.id, p.article_id, p.start, p.end, p.text)  # noqa: E731
    assert sorted(map(key, three.data.passages)) == sorted(map(key, one.data.passages))
    one_vec = {p.id: v for p, v in zip(one.data.passages, one.data.vectors)}
    for i, shard in enumerate(three.data.shards):
        assert all(shard_of(aid, 3) == i for aid in shard.articles)
        for p, v in zip(shard.passages, shard.vectors):
            assert np.array_equal(v, one_vec[p.id])
    stats = three.stats()
    assert stats["shards"] == 3 and sum(stats["passages_per_shard"]) == stats["passages"] == len(one.data.passages)
    assert all(stats["passages_per_shard"]) and one.stats()["shards"] == 1 and "passages_per_shard" not in one.stats()
    assert three.articles() == one.articles()
    assert {p.name for p in three.index_dir.iterdir()} >= {SHARDS_FILE, "shard-000", "shard-001", "shard-002"}


def test_retrieval_equals_one_index_with_filters_and_every_mode(pair):
    one, three = pair
    vectors = one.embedder.run(QUESTIONS)
    compared = 0
    for q, qv in zip(QUESTIONS, vectors):
        for f in FILTERS:
            for mode in Retrieval:
                for candidates in (3, 30):
                    expected = ranking(one, q, qv, mode=mode, filters=f, candidates=candidates)
                    got = ranking(three, q, qv, mode=mode, filters=f, candidates=candidates)
                    assert [g[0] for g in got] == [e[0] for e in expected], (q, f, mode, candidates)
                    assert [g[2:] for g in got] == [e[2:] for e in expected], (q, f, mode, candidates)
                    assert np.allclose([g[1] for g in got], [e[1] for e in expected], rtol=0, atol=1e-12)
                    compared += bool(expected)
    assert compared > 150  # most combinations return passages
    # Through the public API too (its own candidate list and the question's time words).
    for q in QUESTIONS:
        got = [(r.passage.id, r.score) for r in three.retrieve(q, top_k=6)]
        assert got == [(r.passage.id, r.score) for r in one.retrieve(q, top_k=6)]


def test_bm25_with_summed_statistics_scores_as_one_index_to_the_bit(pair):
    one, three = pair
    terms = [d.bm25 for d in three.data.shards]
    naive = [build_bm25(d.passages) for d in three.data.shards]  # each shard with its own statistics
    differs = 0
    for q in QUESTIONS:
        words = [w for w in query_words(q) if w in one.data.bm25.vocab_dict]
        whole = dict(zip((p.id for p in one.data.passages), one.data.bm25.get_scores(words)))
        query = BM25Query.of(query_words(q), TermCounts.of(terms, query_words(q)))
        assert query is not None
        per_shard = [shard_scores(t, query) for t in terms]
        for shard, scores, own in zip(three.data.shards, per_shard, naive):
            assert scores.dtype == np.float32
            assert [float(s) for s in scores] == [float(whole[p.id]) for p in shard.passages]  # exact equality
            known = [w for w in words if w in own.vocab_dict]
            local = own.get_scores(known) if known else np.zeros(len(shard.passages), dtype=np.float32)
            differs += not np.allclose(local, scores)
    assert differs  # per-shard statistics alone would not rank as one index does


def test_terms_match_what_bm25_indexes():
    from qa.types import Passage

    texts = ["The storm, the storm and the floods.", "of the and", "Bridge repairs: six weeks."]
    passages = [Passage(id=str(i), article_id="a", start=0, end=len(t), text=t) for i, t in enumerate(texts)]
    stats = build_terms(passages)
    assert stats.docs == 3 and stats.df("storm") == 1 and list(stats.postings("storm")[1]) == [2.0]
    assert stats.lengths[1] == 1  # stop words only: one placeholder word, as bm25s indexes it
    assert build_terms([]).docs == 0 and BM25Query.of(["storm"], TermCounts.of([build_terms([])], ["storm"])) is None


@pytest.mark.slow
def test_same_answers_from_ask_and_ask_many(pair):
    one, three = pair
    asked = [*QUESTIONS[:2], "What is the latest on Storm Maren?"]
    expected = [one.ask(q) for q in asked]
    for a, b in zip(expected, [three.ask(q) for q in asked]):
        assert (b.text, b.article and b.article.id) == (a.text, a.article and a.article.id)
        assert b.confidence == pytest.approx(a.confidence, abs=1e-6)
        assert [p.passage.id for p in b.passages] == [p.passage.id for p in a.passages]
    filtered = Filters(sections=("Weather",))
    q = "How much federal aid was approved for Storm Maren?"
    a, b = one.ask(q, filters=filtered), three.ask(q, filters=filtered)
    assert b.text == a.text and "450" in b.text
    assert [x.text for x in three.ask_many(asked[:2])] == [x.text for x in expected[:2]]


def test_incremental_reindex_rewrites_only_the_changed_shards(pair, tmp_path, monkeypatch):
    models, _ = pair
    docs = copy_corpus(tmp_path / "docs")
    idx = tmp_path / "idx"
    a = sharing_models(idx, models, shards=3)
    a.index([docs])
    one = sharing_models(tmp_path / "one", models)
    one.index([docs])
    before = generations(idx)
    calls: list[int] = []
    real = models.embedder.run
    monkeypatch.setattr(models.embedder, "run", lambda texts, *k: calls.append(len(texts)) or real(texts, *k))

    r = a.index([docs])
    assert (r.unchanged, r.passages_embedded) == (15, 0) and calls == [] and generations(idx) == before

    edited = docs / "bridge-02-repairs.txt"
    old_id = next(x.id for x in a.articles() if x.path == str(edited.resolve()))
    edited.write_text(edited.read_text().replace("six weeks", "eight weeks"))
    r = a.index([docs])
    assert (r.updated, r.unchanged) == (1, 14)
    new = next(x for x in a.articles() if x.path == str(edited.resolve()))
    assert sum(calls) == r.passages_embedded == sum(1 for p in a.data.passages if p.article_id == new.id)
    touched = {i for i, (x, y) in enumerate(zip(before, generations(idx))) if x != y}
    assert touched and touched <= {shard_of(old_id, 3), shard_of(new.id, 3)}
    for i in set(range(3)) - touched:
        assert (idx / before[i]).is_dir()  # untouched shards keep their generation folder
    assert len([g for g in idx.glob("shard-*/gen-*")]) == 3  # replaced generations are removed

    # Still the ranking of one index that went through the same edit.
    one.index([docs])
    for q, qv in zip(QUESTIONS, models.embedder.run(QUESTIONS)):
        assert ranking(a, q, qv) == ranking(one, q, qv)

    # Removing one article rewrites its shard only.
    before = generations(idx)
    victim = next(x for x in a.articles() if x.title.startswith("Bellmare dockworkers ratify"))
    assert a.remove(victim.id)
    changed = [i for i, (x, y) in enumerate(zip(before, generations(idx))) if x != y]
    assert changed == [shard_of(victim.id, 3)] and victim.id not in Assistant.open(idx).data.articles


@pytest.fixture()
def sharded(pair, tmp_path):
    models, _ = pair
    docs = copy_corpus(tmp_path / "docs")
    a = sharing_models(tmp_path / "idx", models, shards=3)
    a.index([docs])
    return a, docs


def test_damaged_shard_is_refused_in_one_line_then_rebuilt(sharded):
    a, docs = sharded
    idx = a.index_dir
    gen = idx / generations(idx)[1]
    size = (gen / "vectors.f32").stat().st_size
    (gen / "vectors.f32").write_bytes(np.random.default_rng(0).bytes(size))
    with pytest.raises(IndexError_, match="checksum") as err:
        Assistant.open(idx)
    msg = str(err.value)
    assert "\n" not in msg and "shard-001" in msg and f"--rebuild PATH... --index {idx}`" in msg
    b = sharing_models(idx, a)
    r = b.index([docs], rebuild=True)
    assert r.added == 15 and b.stats()["shards"] == 3 and len(Assistant.open(idx).articles()) == 15


def test_damaged_derived_shard_files_are_recounted(sharded):
    a, _ = sharded
    idx = a.index_dir
    gen = idx / generations(idx)[0]
    tf = gen / "terms" / "tf.npy"
    tf.write_bytes(tf.read_bytes()[:-4] + b"\x00\x00\x80\x7f")  # same size, other bytes
    b = sharing_models(idx, a)
    b.reload()
    assert np.array_equal(b.data.shards[0].bm25.tf, a.data.shards[0].bm25.tf)
    q = QUESTIONS[2]
    qv = a.embedder.run([q])[0]
    assert ranking(b, q, qv) == ranking(a, q, qv)


def test_damaged_shard_list_is_one_line_and_rebuilt(sharded):
    a, docs = sharded
    (a.index_dir / SHARDS_FILE).write_text('{"shards": 3, "generations": ["../../etc"]}')
    with pytest.raises(IndexError_, match=r"shard list .* corrupt") as err:
        Assistant.open(a.index_dir)
    assert "\n" not in str(err.value) and "--rebuild" in str(err.value)
    b = sharing_models(a.index_dir, a)
    assert b.index([docs], rebuild=True).added == 15 and Assistant.open(a.index_dir).stats()["shards"] == 3


def test_empty_sharded_index_opens_and_finds_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    a = Assistant(tmp_path / "idx", shards=2)
    assert a.index([tmp_path / "empty"]).added == 0
    b = Assistant.open(tmp_path / "idx", retrieval="bm25")
    assert b.articles() == [] and b.stats()["passages_per_shard"] == [0, 0] and b.retrieve("storm") == []


def test_shard_of_is_sha256_not_pythons_salted_hash():
    digest = hashlib.sha256(b"000_6b29c57e0b4b91e8").digest()
    assert shard_of("000_6b29c57e0b4b91e8", 7) == int.from_bytes(digest[:8], "big") % 7
    # Frozen: a change here would move indexed articles to other shards.
    assert [shard_of(f"article-{i}", 3) for i in range(8)] == [2, 2, 0, 0, 0, 0, 0, 2]


def test_cli_shards_recorded_mismatch_refused_and_rebuild_reshards(tmp_path, capsys):
    docs = copy_corpus(tmp_path / "docs")
    idx = tmp_path / "idx"
    assert main(["index", str(docs), "--index", str(idx), "--shards", "2"]) == 0
    assert generations(idx) and not (idx / "CURRENT").exists()
    capsys.readouterr()
    assert main(["index", str(docs), "--index", str(idx)]) == 0  # the recorded count is reused
    assert "15 unchanged" in capsys.readouterr().out and len(generations(idx)) == 2

    before = generations(idx)
    assert main(["index", str(docs), "--index", str(idx), "--shards", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "has 2 shards, not 3" in err and "--rebuild" in err
    assert generations(idx) == before

    with pytest.raises(SystemExit) as exited:
        main(["index", str(docs), "--index", str(idx), "--shards", "0"])
    assert exited.value.code == 2 and "shards must be a whole number from 1" in capsys.readouterr().err

    assert main(["index", str(docs), "--index", str(idx), "--shards", "3", "--rebuild"]) == 0
    assert len(generations(idx)) == 3 and not (idx / "shard-003").exists()
    assert main(["stats", "--index", str(idx)]) == 0
    capsys.readouterr()
    assert main(["index", str(docs), "--index", str(idx), "--shards", "1", "--rebuild"]) == 0
    assert (idx / "CURRENT").is_file() and not (idx / SHARDS_FILE).exists() and not list(idx.glob("shard-*"))
    capsys.readouterr()
    assert main(["stats", "--index", str(idx)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["shards"] == 1 and stats["articles"] == 15
    assert main(["ask", "Which Russian official did Blinken speak with?", "--index", str(idx)]) == 0
    assert "Lavrov" in capsys.readouterr().out


def test_one_shard_keeps_the_unsharded_layout(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for f in list(DEVELOPING.iterdir())[:3]:
        shutil.copy(f, docs / f.name)
    assert main(["index", str(docs), "--index", str(tmp_path / "idx"), "--shards", "1"]) == 0
    idx = tmp_path / "idx"
    assert {p.name for p in idx.iterdir()} == {"CURRENT", ".lock", "gen-000001"}
    gen = IndexStore(idx).current_generation()
    assert {p.name for p in gen.iterdir()} == {"manifest.json", "metadata.sqlite", "vectors.f32", "dense.faiss", "bm25"}
    con = sqlite3.connect(gen / "metadata.sqlite")
    rows = [r for (r,) in con.execute("SELECT row FROM passages ORDER BY row")]
    con.close()
    assert rows == list(range(len(rows)))
    assert "shard" not in json.loads((gen / "manifest.json").read_text())


def test_full_disk_in_one_shard_leaves_every_shard_as_it_was(sharded, monkeypatch):
    import errno

    import faiss

    from qa.errors import DiskFullError

    a, docs = sharded
    idx = a.index_dir
    before = generations(idx)
    (docs / "late.txt").write_text("date 2023-03-01 Local\nLate story\nThe council met again on Tuesday.\n")
    (docs / "bridge-01-closed.txt").unlink()

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", full)
    with pytest.raises(DiskFullError, match="disk full") as err:
        a.index([docs])
    monkeypatch.undo()
    assert "\n" not in str(err.value) and generations(idx) == before
    assert sorted(p.relative_to(idx).as_posix() for p in idx.glob("shard-*/gen-*")) == sorted(before)
    assert len(Assistant.open(idx).articles()) == 15
