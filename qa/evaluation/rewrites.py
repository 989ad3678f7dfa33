"""Scoring follow-up rewriting on its own: no index, no model.

A rewrite set is JSON Lines, one conversation a line, in the shape of the
conversation gold sets (``tests/gold/followups.jsonl``) with two optional
checks per turn besides ``rewrite_contains``:

* ``rewrite_excludes``: words the rewrite must not contain (whole words,
  case-insensitive): the wrong person after a change of topic, or a pronoun
  that should have been resolved;
* ``rewrite_like``: a regular expression the whole rewrite must match
  (case-insensitive), where the wording itself matters (grammar).

Each follow-up is rewritten with the gold answers of the earlier turns as
history, so a wrong answer cannot spoil the score: what is measured is the
rewriting rules alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.evaluation.gold import GoldFormatError


@dataclass(frozen=True)
class RewriteTurn:
    question: str
    answer: str = ""
    contains: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    like: str | None = None


@dataclass(frozen=True)
class RewriteConversation:
    id: str
    turns: tuple[RewriteTurn, ...]


@dataclass
class RewriteCheck:
    conversation: str
    turn: int
    question: str
    rewrite: str
    ok: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class RewriteReport:
    checks: list[RewriteCheck]

    @property
    def accuracy(self) -> float:
        """Percentage of follow-up turns whose rewrite passes every check."""
        return 100.0 * sum(c.ok for c in self.checks) / len(self.checks) if self.checks else 0.0

    @property
    def failures(self) -> list[RewriteCheck]:
        return [c for c in self.checks if not c.ok]


def load_rewrite_set(path: str | Path) -> list[RewriteConversation]:
    """The conversations of a rewrite set; a malformed line names the file and line."""
    convs: list[RewriteConversation] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            turns = tuple(_turn(t) for t in record["turns"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GoldFormatError(f"{path}:{n}: not a rewrite conversation ({exc})") from exc
        convs.append(RewriteConversation(str(record.get("id") or f"conv-{n}"), turns))
    return convs


def _turn(raw: dict) -> RewriteTurn:
    answers = raw.get("answers") or []
    return RewriteTurn(
        question=str(raw["question"]),
        answer=str(answers[0]) if answers else "",
        contains=tuple(raw.get("rewrite_contains") or ()),
        excludes=tuple(raw.get("rewrite_excludes") or ()),
        like=raw.get("rewrite_like"),
    )


def problems(rewrite: str, turn: RewriteTurn) -> list[str]:
    """What is wrong with ``rewrite`` for ``turn``; empty when it passes."""
    low = rewrite.lower()
    out = [f"lacks {w!r}" for w in turn.contains if w.lower() not in low]
    out += [f"has {w!r}" for w in turn.excludes if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", rewrite, re.I)]
    if turn.like and not re.fullmatch(turn.like, " ".join(rewrite.split()), re.I):
        out.append(f"not like {turn.like!r}")
    return out


def score_rewrites(convs: Sequence[RewriteConversation]) -> RewriteReport:
    """Rewrite every follow-up with the gold answers as history and check it."""
    from qa.conversation import rewrite_all

    checks: list[RewriteCheck] = []
    for conv in convs:
        rewrites = rewrite_all([t.question for t in conv.turns], [t.answer for t in conv.turns])
        for i, (turn, rewrite) in enumerate(zip(conv.turns, rewrites)):
            if i == 0:
                continue
            found = problems(rewrite, turn)
            checks.append(RewriteCheck(conv.id, i, turn.question, rewrite, not found, found))
    return RewriteReport(checks)


def format_report(report: RewriteReport) -> str:
    """One line for the accuracy, then one per failed turn."""
    lines = [
        f"rewrite accuracy {report.accuracy:.1f}% ({len(report.checks) - len(report.failures)}"
        f"/{len(report.checks)} follow-ups)"
    ]
    for c in report.failures:
        lines.append(f"  {c.conversation}#{c.turn}: {c.question!r} -> {c.rewrite!r}: {'; '.join(c.problems)}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m qa.evaluation.rewrites tests/gold/rewrites.jsonl
    import sys

    print(format_report(score_rewrites(load_rewrite_set(sys.argv[1]))))
