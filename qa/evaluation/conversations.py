"""Scoring multi-turn conversations: answers per turn and how follow-ups were understood."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qa.evaluation.gold import GoldConversation, load_conversations
from qa.evaluation.results import ConversationReport, TurnResult, _score
from qa.evaluation.runner import Progress
from qa.evaluation.scoring import _pct


def _has_words(text: str, words: Sequence[str]) -> bool:
    low = text.lower()
    return all(w.lower() in low for w in words)


def evaluate_conversations(
    assistant,
    gold: str | Path | Sequence[GoldConversation],
    threshold: float | None = None,
    top_k: int | None = None,
    progress: Progress | None = None,
) -> ConversationReport:
    """Play each conversation turn by turn through ``Assistant.conversation()``.

    Reports EM/F1 over all turns and over follow-ups, and rewrite accuracy:
    the fraction of follow-up turns whose self-contained rewrite
    (``Answer.understood_as``) contains every expected word. The oracle
    rewrite accuracy repeats the check with the gold answers as history, so a
    rewriting rule and a wrong earlier answer can be told apart.
    """
    from qa.conversation import rewrite_all

    convs = load_conversations(gold) if isinstance(gold, (str, Path)) else list(gold)
    t = assistant.threshold if threshold is None else threshold
    results: list[TurnResult] = []
    total = sum(len(c.turns) for c in convs)
    for conv in convs:
        chat = assistant.conversation()
        oracle = rewrite_all(
            [tn.question for tn in conv.turns], [tn.answers[0] if tn.answers else "" for tn in conv.turns]
        )
        for i, turn in enumerate(conv.turns):
            answer = chat.ask(turn.question, top_k=top_k, threshold=t)
            understood = answer.understood_as or turn.question
            em, f1 = _score(answer.text, turn.answers)
            check = i > 0 and bool(turn.rewrite_contains)
            results.append(
                TurnResult(
                    conversation=conv.id,
                    turn=i,
                    question=turn.question,
                    understood_as=understood,
                    golds=list(turn.answers),
                    prediction=answer.text,
                    confidence=float(answer.confidence),
                    exact_match=em,
                    f1=f1,
                    expected_words=list(turn.rewrite_contains),
                    rewrite_ok=_has_words(understood, turn.rewrite_contains) if check else None,
                    oracle_rewrite=oracle[i],
                    oracle_rewrite_ok=_has_words(oracle[i], turn.rewrite_contains) if check else None,
                )
            )
            if progress:
                progress(len(results), total)
    follow = [r for r in results if r.turn > 0]
    checked = [r for r in results if r.rewrite_ok is not None]
    return ConversationReport(
        conversations=len(convs),
        turns=len(results),
        exact_match=_pct(r.exact_match for r in results) or 0.0,
        f1=_pct(r.f1 for r in results) or 0.0,
        follow_up_exact_match=_pct(r.exact_match for r in follow),
        follow_up_f1=_pct(r.f1 for r in follow),
        rewrite_accuracy=_pct(float(bool(r.rewrite_ok)) for r in checked),
        oracle_rewrite_accuracy=_pct(float(bool(r.oracle_rewrite_ok)) for r in checked),
        rewrite_checked=len(checked),
        threshold=t,
        items=results,
    )
