"""Asking in bulk, and the one way a question is cleaned before it is searched and read."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from qa.readers.answers import build_answer
from qa.readers.decision import decision_for
from qa.readers.staged import passage_dates, read_ranked
from qa.retrievers.filters import Filters
from qa.textsafe import plain
from qa.types import Answer, RetrievedPassage

if TYPE_CHECKING:
    from qa.assistant import Assistant

#: Longest question (in characters) that is searched and read; the rest is cut.
MAX_QUESTION_CHARS = 1000


def clean_question(question: str | None) -> str:
    """Plain text on one line, cut at ``MAX_QUESTION_CHARS``; "" when it has no words to search for."""
    clean = " ".join(plain(question or "").split())[:MAX_QUESTION_CHARS]
    return clean if any(ch.isalnum() for ch in clean) else ""


def answer_batch(
    assistant: Assistant,
    questions: list[str],
    *,
    top_k: int | None,
    threshold: float | None,
    filters: Filters | None,
) -> list[Answer]:
    """Several questions answered together: one embedding call, reader batches across questions.

    A question with time words ("latest", "on Friday", "last week") narrows
    its own search window and orders its timeline, so it is answered by
    ``ask`` on its own: every question gets the answer ``ask`` gives.
    """
    t0 = time.perf_counter()
    cleaned = [clean_question(q) for q in questions]
    timed = {i for i, c in enumerate(cleaned) if c and has_time_words(c)}
    live = [i for i, c in enumerate(cleaned) if c and i not in timed]
    asked = [cleaned[i] for i in live]
    data = assistant.data
    retrieved = retrieve_many(assistant, asked, top_k=top_k, filters=filters)
    t1 = time.perf_counter()
    preds = read_ranked(
        assistant.reader,
        asked,
        [[r.passage.text for r in rs] for rs in retrieved],
        assistant.stop_rule,
        dates=[passage_dates(rs, data.articles) for rs in retrieved],
    )
    t2 = time.perf_counter()
    limit = assistant.threshold if threshold is None else threshold
    answers = [Answer(question=q or "") for q in questions]
    for i in timed:
        answers[i] = assistant.ask(questions[i], top_k=top_k, threshold=threshold, filters=filters)
    n = max(len(live), 1)
    for j, i in enumerate(live):
        answers[i] = build_answer(
            asked[j],
            retrieved[j],
            preds[j],
            data.articles,
            assistant.reader.confidence,
            limit,
            groups=data.groups,
            decision=decision_for(assistant.reader.model_name),
        )
        answers[i].timings = {
            "retrieve_s": (t1 - t0) / n,
            "read_s": (t2 - t1) / n,
            "total_s": (time.perf_counter() - t0) / n,
        }
    return answers


def has_time_words(question: str) -> bool:
    """True when the question names a time (``qa.timeexpr``), which ``ask`` reads and a batch cannot."""
    import datetime as dt

    from qa.timeexpr import read_time

    return read_time(question, anchor=dt.date.today()).found


def retrieve_many(
    assistant: Assistant, questions: list[str], *, top_k: int | None, filters: Filters | None
) -> list[list[RetrievedPassage]]:
    """``retrieve`` for several questions, their vectors embedded in one call."""
    dense = assistant.retrieval != "bm25" and questions
    qvs = assistant.embedder.run(questions) if dense else [None] * len(questions)
    return [
        assistant.retriever.run(q, qv, top_k if top_k is not None else assistant.top_k, filters)
        for q, qv in zip(questions, qvs)
    ]
