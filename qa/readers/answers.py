"""From reader spans over retrieved passages to one cited Answer.

Spans are moved from passage to article coordinates, the same span found in
overlapping passages is merged, and each span's final score blends the
reader's calibrated confidence with the retriever's rank. Copies of one wire
story (``qa.dedup``) answer once, and the answer lists the other copies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from qa.dedup import copies_of, one_per_group
from qa.preprocessors.sentences import sentence_at
from qa.readers.decision import NoAnswerDecision
from qa.readers.extractive import ContextPrediction
from qa.readers.timeline import place_in_time
from qa.timeexpr import Order, resolve_day
from qa.types import Answer, AnswerSpan, Article, ArticleRef, RetrievedPassage

#: Weight of the retriever in the final ranking score (the rest is the reader's).
RETRIEVER_WEIGHT = 0.1


def build_answer(
    question: str,
    retrieved: list[RetrievedPassage],
    predictions: list[ContextPrediction],
    articles: Mapping[str, Article],
    confidence: Callable[[float], float],
    threshold: float,
    *,
    max_alternatives: int = 5,
    groups: Mapping[str, str] | None = None,
    order: Order | str | None = None,
    decision: NoAnswerDecision | None = None,
    read_as: str | None = None,
) -> Answer:
    """One Answer from the reader's spans; ``retrieved`` is left as it was (copies carry the reader score).

    When several articles answer, ``qa.readers.timeline`` picks the one to
    show (newest among the well supported, or as ``order`` asks) and lists
    the others with their dates. Spans are ranked by ``confidence(margin)``;
    with a ``decision`` (``qa.readers.decision``) the ranked spans' confidence,
    and so whether to answer, combines the reader's scores with signals of
    the question and passage, read for ``read_as`` (a follow-up's rewrite)
    when given.
    """
    top_retrieval = max((r.score for r in retrieved), default=0.0) or 1.0
    merged: dict[tuple[str, int, int], AnswerSpan] = {}
    gates: dict[tuple[str, int, int], float] = {}
    read: list[RetrievedPassage] = []
    for rp, pred in zip(retrieved, predictions):
        p = rp.passage
        art = articles[p.article_id]
        best_here = 0.0
        for c in pred.candidates:
            start, end = p.start + c.start, p.start + c.end
            conf = confidence(c.margin)
            best_here = max(best_here, conf)
            span = AnswerSpan(
                text=art.text[start:end],
                confidence=conf,
                start=start,
                end=end,
                article=ArticleRef.of(art),
                passage_id=p.id,
                reader_margin=c.margin,
                retrieval_score=rp.score / top_retrieval,
            )
            key = (art.id, start, end)
            old = merged.get(key)
            if old is None or _final(span) > _final(old):
                merged[key] = span
                if decision:
                    gates[key] = decision.confidence(question=read_as or question, context=p.text, candidate=c)
        read.append(replace(rp, reader_score=best_here))
    read.extend(retrieved[len(read) :])
    ranked = _drop_nested_duplicates(sorted(merged.values(), key=lambda s: -_final(s)))
    ranked = one_per_group(ranked, groups=groups or {})  # wire copies answer once
    if decision:  # the margin still ranks the spans; the decision says how sure each one is
        ranked = [replace(s, confidence=gates[(s.article.id, s.start, s.end)]) for s in ranked]
    if not ranked or ranked[0].confidence < threshold:
        return Answer(
            question=question,
            confidence=ranked[0].confidence if ranked else 0.0,
            alternatives=ranked[:max_alternatives],
            passages=read,
        )
    timeline = place_in_time(
        ranked=ranked,
        threshold=threshold,
        order=order,
        question=question,
        sentence_of=lambda span: _sentence_parts(span, articles),
        text_of=lambda span: articles[span.article.id].text,
    )
    best = timeline.lead
    art = articles[best.article.id]
    s0, s1 = sentence_at(art.text, best.start, best.end)
    return Answer(
        question=question,
        text=best.text,
        confidence=timeline.confidence,
        article=best.article,
        start=best.start,
        end=best.end,
        sentence=art.text[s0:s1],
        sentence_start=s0,
        alternatives=[s for s in ranked if s is not best][:max_alternatives],
        passages=read,
        timeline=timeline.entries,
        resolved_date=resolve_day(best.text, article_date=best.article.date, before=art.text[s0 : best.start]),
        copies=copies_of(best.article.id, groups=groups or {}, articles=articles),
    )


def _sentence_parts(span: AnswerSpan, articles: Mapping[str, Article]) -> tuple[str, str]:
    """The span's sentence, and the part of it before the span."""
    text = articles[span.article.id].text
    s0, s1 = sentence_at(text, span.start, span.end)
    return text[s0:s1], text[s0 : span.start]


def _final(span: AnswerSpan) -> float:
    return (1 - RETRIEVER_WEIGHT) * span.confidence + RETRIEVER_WEIGHT * span.retrieval_score


def _drop_nested_duplicates(spans: list[AnswerSpan]) -> list[AnswerSpan]:
    """Keep one of spans in the same article whose text is the same or overlaps heavily."""
    kept: list[AnswerSpan] = []
    for s in spans:
        dup = False
        for k in kept:
            if k.article.id != s.article.id:
                continue
            overlap = min(k.end, s.end) - max(k.start, s.start)
            if overlap > 0 and overlap >= 0.5 * min(k.end - k.start, s.end - s.start):
                dup = True
                break
            if k.text.strip().lower() == s.text.strip().lower():
                dup = True
                break
        if not dup:
            kept.append(s)
    return kept
