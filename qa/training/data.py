"""Training data for the reader: SQuAD rows, article-level hold-out, negatives."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QAExample:
    """A question paired with a context; ``answer_start`` is None for no-answer."""

    question: str
    context: str
    title: str
    answer_text: str | None
    answer_start: int | None
    answers: tuple[str, ...] = ()


def load_squad_jsonl(path: str | Path) -> list[QAExample]:
    """Read the gzipped SQuAD-style JSONL (one question per line)."""
    out: list[QAExample] = []
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            a = r["answers"][0]
            out.append(
                QAExample(
                    r["question"],
                    r["context"],
                    r["title"],
                    a["text"],
                    int(a["answer_start"]),
                    tuple(x["text"] for x in r["answers"]),
                )
            )
    return out


def load_squad_json(path: str | Path) -> list[QAExample]:
    """Read the nested official SQuAD JSON (v1.1 or v2.0)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: list[QAExample] = []
    for art in data["data"]:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                first = qa["answers"][0] if qa.get("answers") else None
                out.append(
                    QAExample(
                        qa["question"],
                        para["context"],
                        art.get("title", ""),
                        first["text"] if first else None,
                        int(first["answer_start"]) if first else None,
                        answers,
                    )
                )
    return out


def is_held_out(title: str, fraction: float, seed: int) -> bool:
    """Stable article-level split: the same titles are held out on every run."""
    h = hashlib.sha256(f"{seed}:{title}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < fraction


def split_by_article(rows: list[QAExample], fraction: float, seed: int):
    train = [r for r in rows if not is_held_out(r.title, fraction, seed)]
    held = [r for r in rows if is_held_out(r.title, fraction, seed)]
    return train, held


def make_negatives(rows: list[QAExample], ratio: float, hard_fraction: float, seed: int) -> list[QAExample]:
    """Pair questions with contexts from *other* articles, labelled no-answer.

    Hard negatives are the BM25 top hits from another article: the passages a
    retriever would put in front of the reader by mistake.
    """
    if ratio <= 0 or not rows:
        return []
    rng = random.Random(seed)
    contexts = sorted({(r.context, r.title) for r in rows})
    chosen = rng.sample(rows, min(len(rows), int(len(rows) * ratio)))
    n_hard = int(len(chosen) * hard_fraction)
    hard_q, easy_q = chosen[:n_hard], chosen[n_hard:]
    out: list[QAExample] = []
    if hard_q:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize([c for c, _ in contexts], stopwords="en", show_progress=False), show_progress=False
        )
        k = min(10, len(contexts))
        ids, _ = retriever.retrieve(
            bm25s.tokenize([q.question for q in hard_q], stopwords="en", show_progress=False),
            k=k,
            show_progress=False,
            n_threads=1,
        )
        for q, hits in zip(hard_q, ids):
            pick = next((contexts[i] for i in hits if contexts[i][1] != q.title), None)
            if pick is None:
                easy_q.append(q)
                continue
            out.append(QAExample(q.question, pick[0], pick[1], None, None))
    for q in easy_q:
        for _ in range(20):
            ctx, title = contexts[rng.randrange(len(contexts))]
            if title != q.title:
                out.append(QAExample(q.question, ctx, title, None, None))
                break
    return out


def strip_answer_sentences(row: QAExample) -> str | None:
    """The row's context without every sentence that holds one of its answers.

    What is left is on topic (same paragraph, same names) but cannot answer
    the question: the passage a retriever brings for a question the article
    does not answer. None when too little is left or an answer survives.
    """
    from qa.training.sentences import sentence_spans

    answers = [a.lower() for a in row.answers or (row.answer_text,) if a]
    if not answers:
        return None
    kept = [
        row.context[a:b].strip()
        for a, b in sentence_spans(row.context)
        if not any(x in row.context[a:b].lower() for x in answers)
    ]
    kept = [k for k in kept if k]
    text = " ".join(kept)
    if len(kept) < 2 or any(x in text.lower() for x in answers):
        return None
    return text


def make_same_paragraph_negatives(rows: list[QAExample], ratio: float, seed: int) -> list[QAExample]:
    """No-answer pairs from the question's own paragraph with the answer sentences removed."""
    if ratio <= 0 or not rows:
        return []
    rng = random.Random(seed)
    out: list[QAExample] = []
    for r in rng.sample(rows, min(len(rows), int(len(rows) * ratio))):
        text = strip_answer_sentences(r)
        if text is not None:
            out.append(QAExample(r.question, text, r.title, None, None))
    return out
