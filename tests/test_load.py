"""Load: repeated asking keeps memory flat; re-indexing a large folder is a no-op."""

import ctypes
import ctypes.util
import gc
import os
import time

import pytest

from qa import Assistant
from tests.reliability import tried

N_ASK = int(os.environ.get("NEWSDESK_LOAD_ASKS", "300"))
N_ARTICLES = int(os.environ.get("NEWSDESK_LOAD_ARTICLES", "5000"))


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def settled_rss_mb() -> float:
    """Resident size of what is alive, not of what earlier tests left behind.

    Earlier tests in the same process leave gigabytes of collectable garbage
    (models in reference cycles). Collected mid-test, it hands pages back to
    the allocator; questions then reuse those pages, and the plain resident
    size rises with no more memory in use. Collecting and returning free
    pages to the system at both ends measures only what asking keeps.
    """
    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc:
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)
        if trim is not None:
            trim(0)
    return rss_mb()


@pytest.mark.slow
def test_ask_many_memory_flat(seed_assistant):
    questions = ["Who is the US Secretary of State?", "How long did the call last?",
                 "Who won the 2018 World Cup?", "What did Lavrov say about the prisoner exchange?"]
    stream = (questions[i % len(questions)] for i in range(N_ASK))
    warm = N_ASK // 5
    settled_rss_mb()
    seen: dict[str, set[str]] = {q: set() for q in questions}
    for i, answer in enumerate(seed_assistant.ask_many(stream)):
        seen[questions[i % len(questions)]].add(answer.text)
        if i == warm:
            after_warm = settled_rss_mb()
            t_warm = time.perf_counter()
    growth = settled_rss_mb() - after_warm
    rate = (N_ASK - warm) / (time.perf_counter() - t_warm)
    print(f"ask_many: {N_ASK} questions, {rate:.1f} questions/s after warm-up, RSS growth {growth:.1f} MB")
    # The same question gets the same answer all the way through, and some are answered.
    assert all(len(texts) == 1 for texts in seen.values()), seen
    assert any(texts != {""} for texts in seen.values())
    assert growth < 40, f"memory grew {growth:.1f} MB over {N_ASK - warm} questions"


@pytest.mark.slow
def test_reindex_large_folder_is_noop(tmp_path, monkeypatch):
    docs = tmp_path / "many"
    for i in range(N_ARTICLES):
        sub = docs / f"d{i // 500}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i}.txt").write_text(f"Report {i}\nCity {i} reported {i % 97} new cases on day {i % 31}.")
    a = Assistant(tmp_path / "idx")
    first = a.index([docs])
    assert first.added == N_ARTICLES
    calls = []
    real = a.embedder.run
    monkeypatch.setattr(a.embedder, "run", lambda texts, *k: calls.append(len(texts)) or real(texts, *k))
    gen_before = (tmp_path / "idx" / "CURRENT").read_text()
    second = a.index([docs])
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, N_ARTICLES)
    assert calls == [] and (tmp_path / "idx" / "CURRENT").read_text() == gen_before
    tried("articles lost", N_ARTICLES - len(Assistant.open(tmp_path / "idx").articles()))
