"""Span encoding and decoding for extractive readers.

transformers 5 has no question-answering pipeline, so this module owns the two
halves of it: turning (question, context) pairs into model windows with a doc
stride, and turning start/end logits back into character spans of the context.
The reader, the training script and the evaluator all use these functions, so
there is exactly one definition of "what span did the model pick".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """One model input window over one context (a context may need several)."""

    context_index: int
    input_ids: list[int]
    token_type_ids: list[int]
    # Character offsets into the context for context tokens, None elsewhere.
    offsets: list[tuple[int, int] | None]


@dataclass(frozen=True)
class SpanCandidate:
    """A decoded span: character offsets into its context and its scores.

    ``score`` is start+end logit; ``null_score`` is the [CLS] start+end logit of
    the same window, so ``score - null_score`` (the margin) is comparable across
    windows and passages.
    """

    context_index: int
    start: int
    end: int
    score: float
    null_score: float
    log_prob: float

    @property
    def margin(self) -> float:
        return self.score - self.null_score


def encode_windows(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int = 256,
    stride: int = 64,
    max_question_tokens: int = 64,
) -> list[Window]:
    """Tokenize question/context pairs into windows with a doc stride.

    Long contexts overflow into several windows that overlap by ``stride``
    tokens, so no answer is lost at a window boundary. Questions are cut to
    ``max_question_tokens`` so a pasted essay cannot crowd out the context.
    """
    questions = [_clip_question(tokenizer, q, max_question_tokens) for q in questions]
    enc = tokenizer(
        list(questions),
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    windows: list[Window] = []
    mapping = enc["overflow_to_sample_mapping"]
    for i, ids in enumerate(enc["input_ids"]):
        seq_ids = enc.sequence_ids(i)
        offsets = [(int(o[0]), int(o[1])) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq_ids)]
        tt = enc["token_type_ids"][i] if "token_type_ids" in enc else [0] * len(ids)
        windows.append(Window(int(mapping[i]), list(ids), list(tt), offsets))
    return windows


def _clip_question(tokenizer, question: str, max_tokens: int) -> str:
    if len(question) < max_tokens * 3:
        return question
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    if len(offs) <= max_tokens:
        return question
    return question[: offs[max_tokens - 1][1]]


def pad_windows(windows: Sequence[Window], pad_id: int = 0) -> dict[str, np.ndarray]:
    """Pad a batch of windows to its longest member (not to max_length)."""
    n = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), n), pad_id, dtype=np.int64)
    tt = np.zeros((len(windows), n), dtype=np.int64)
    mask = np.zeros((len(windows), n), dtype=np.int64)
    for i, w in enumerate(windows):
        k = len(w.input_ids)
        ids[i, :k] = w.input_ids
        tt[i, :k] = w.token_type_ids
        mask[i, :k] = 1
    return {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask}


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def decode_window(
    window: Window,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    max_answer_tokens: int = 30,
    top_k: int = 5,
    n_best: int = 20,
) -> list[SpanCandidate]:
    """Best ``top_k`` spans of one window, by start+end logit.

    Only context tokens may start or end a span, the end may not precede the
    start, and a span is at most ``max_answer_tokens`` long. Log-probabilities
    are taken over the context tokens plus [CLS], the positions the model was
    trained to choose between.
    """
    n = len(window.input_ids)
    s = np.asarray(start_logits[:n], dtype=np.float64)
    e = np.asarray(end_logits[:n], dtype=np.float64)
    allowed = np.array([o is not None for o in window.offsets])
    if not allowed.any():
        return []
    allowed_or_cls = allowed.copy()
    allowed_or_cls[0] = True
    ls = np.full(n, -np.inf)
    le = np.full(n, -np.inf)
    ls[allowed_or_cls] = _log_softmax(s[allowed_or_cls])
    le[allowed_or_cls] = _log_softmax(e[allowed_or_cls])
    null_score = float(s[0] + e[0])

    ctx = np.flatnonzero(allowed)
    k = min(n_best, len(ctx))
    starts = ctx[np.argsort(-s[ctx], kind="stable")[:k]]
    ends = ctx[np.argsort(-e[ctx], kind="stable")[:k]]
    cands: list[SpanCandidate] = []
    for a in starts:
        for b in ends:
            if b < a or b - a + 1 > max_answer_tokens:
                continue
            cs, _ = window.offsets[a]
            _, ce = window.offsets[b]
            if ce <= cs:
                continue
            cands.append(
                SpanCandidate(
                    window.context_index,
                    cs,
                    ce,
                    float(s[a] + e[b]),
                    null_score,
                    float(ls[a] + le[b]),
                )
            )
    cands.sort(key=lambda c: -c.score)
    out: list[SpanCandidate] = []
    seen: set[tuple[int, int]] = set()
    for c in cands:
        if (c.start, c.end) in seen:
            continue
        seen.add((c.start, c.end))
        out.append(c)
        if len(out) >= top_k:
            break
    return out


def label_window(window: Window, answer_start: int, answer_end: int) -> tuple[int, int]:
    """Token positions of a character span in a window, or (0, 0) for [CLS].

    A window that does not fully contain the answer is labelled no-answer,
    which is how the model learns to abstain on windows without the answer.
    """
    ctx = [(i, o) for i, o in enumerate(window.offsets) if o is not None and o[1] > o[0]]
    if not ctx or ctx[0][1][0] > answer_start or ctx[-1][1][1] < answer_end:
        return 0, 0
    first = next((i for i, o in ctx if o[1] > answer_start), None)
    last = next((i for i, o in reversed(ctx) if o[0] < answer_end), None)
    if first is None or last is None or last < first:
        return 0, 0
    return first, last
