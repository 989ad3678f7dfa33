"""The turns of a conversation as a record of mentions, and which of them are still in view.

A pronoun looks back turn by turn, newest first, and within a turn in order
of salience (``qa.rewrite.mentions``); it takes the first mention whose kind
agrees with it (``agrees``). Only turns since the last change of topic are in
view: a question that leans on nothing before it (no pronoun, no ellipsis)
and brings in a thing of its own ("Why did the dockworkers go on strike?")
starts a new topic, and the people of the old one are out of view. A
pronoun with nothing in view to agree with is left as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qa.rewrite import words as W
from qa.rewrite.mentions import (
    GROUP,
    ORG,
    PERSON,
    PLACE,
    THING,
    TIME,
    Mention,
    classify_answer,
    names,
    noun_phrase_mention,
    noun_phrases,
    times,
)
from qa.types import Answer

_ORG_NOUNS = "|".join(sorted(W.ORG_NOUNS))
_AUX = "|".join(sorted(W.AUX))
_VERB = "|".join(sorted(W.VERBS))
ANAPHOR = re.compile(
    r"\b(he|him|his|she|her|hers|it|its|they|them|their|that|this|these|those|there|then|so)\b"
    rf"|\bthe\s+({_ORG_NOUNS})\b",
    re.I,
)
_ABOUT = re.compile(r"\b(?:about|regarding|concerning)\s+((?:the|a|an)\s+[^?.,;]+)", re.I)
_WH_AUX = re.compile(
    r"^\s*(?:(?:at|in|on|for|since|from)\s+)?(what|which|who|whom|when|where|why|how)"
    rf"(?:\s+(?:many|much|long|old|far|often|[a-z]+))??\s+({_AUX})\s+",
    re.I,
)


@dataclass
class Turn:
    question: str
    understood: str
    answer_text: str
    answer: Answer | None = None


def as_turns(history: Any) -> list[Turn]:
    """Earlier turns from a Conversation, Turns, or (question, answer) pairs."""
    if hasattr(history, "turns_for_rewrite"):
        return history.turns_for_rewrite()
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
            continue
        q, a = item
        text = a.text if isinstance(a, Answer) else str(a or "")
        understood = (a.understood_as if isinstance(a, Answer) else None) or q
        turns.append(Turn(q, understood, text, a if isinstance(a, Answer) else None))
    return turns


def wh(question: str) -> str:
    m = re.match(r"^\s*(?:(?:and|so|at|in|on|for|since|from)\s+)*(\w+)", question, re.I)
    return m.group(1).lower() if m else ""


def subject(question: str) -> Mention | None:
    """Who or what the question is about: the phrase after its auxiliary, or the N of "how many N"."""
    many = re.match(r"^\s*how\s+many\s+([a-z]+)", question, re.I)
    if many:
        return noun_phrase_mention(f"the {many.group(1)}")
    m = _WH_AUX.match(question)
    if not m:
        return None
    at = m.end()
    for pos, mention in names(question) + noun_phrases(question):
        if pos == at:
            return mention
    bare = re.match(rf"([a-z]+(?:\s+[a-z]+)?)\s+(?:{_VERB})\b", question[at:])
    if bare and all(w not in W.FUNCTION for w in bare.group(1).split()):
        return noun_phrase_mention(bare.group(1))
    return None


def _answer_mention(turn: Turn) -> Mention | None:
    q, a, kind = turn.understood, turn.answer_text.strip(), wh(turn.understood)
    if not a:
        return None
    if kind in ("who", "whom"):
        return classify_answer(a)
    if kind == "where":
        return Mention(re.sub(r"^(?:in|at|near)\s+", "", a), PLACE) if len(a.split()) <= 6 else None
    if kind == "when":
        return Mention(a, TIME) if len(a.split()) <= 6 else None
    which = re.match(r"^\s*which\s+([a-z]+)", q, re.I)
    if which and which.group(1).lower() in W.ORG_NOUNS and a[:1].isupper():
        return Mention(a, ORG)
    if which and a[:1].isupper():
        return classify_answer(a)
    if kind in ("what", "which") and re.match(r"^(?:the|a|an)\s", a, re.I) and len(a.split()) <= 16:
        return noun_phrase_mention(a)
    return None


def turn_mentions(turn: Turn) -> list[Mention]:
    """The mentions of one turn, most salient first (see ``qa.rewrite.mentions``)."""
    q = turn.understood
    answer = _answer_mention(turn)
    asked_for = answer is not None and (answer.kind != THING or bool(_WH_AUX.match(q)))
    out: list[Mention] = [answer] if asked_for and answer else []
    subj = subject(q)
    if subj:
        out.append(subj)
    about = _ABOUT.search(q)
    if about:
        out.append(noun_phrase_mention(about.group(1).strip()))
    out += [m for _, m in sorted(names(q) + noun_phrases(q), key=lambda pm: pm[0])]
    out += times(q)
    if answer and not asked_for:
        out.append(answer)
    seen: set[str] = set()
    return [m for m in out if not (m.text.lower() in seen or seen.add(m.text.lower()))]  # type: ignore[func-returns-value]


def starts_topic(question: str, previous: Turn | None) -> bool:
    """A question that leans on nothing before it and brings in a thing the last turn did not mention."""
    if previous is None or ANAPHOR.search(question) or re.match(r"^\s*(and|what about|how about)\b", question, re.I):
        return False
    before = f"{previous.understood} {previous.answer_text}".lower()
    things = [m for _, m in noun_phrases(question) if m.kind in (THING, GROUP)]
    return any(m.text.split()[-1].lower() not in before for m in things)


def in_view(turns: list[Turn]) -> list[Turn]:
    """The turns since the last change of topic, oldest first."""
    start = 0
    for i in range(1, len(turns)):
        if starts_topic(turns[i].question, turns[i - 1]):
            start = i
    return turns[start:]


def agrees(pronoun: str, m: Mention) -> bool:
    """Whether a pronoun can stand for a mention: person vs group vs thing, gender and number."""
    p = pronoun.lower()
    if p in ("he", "him", "his"):
        return m.kind == PERSON and not m.plural and m.gender != "f"
    if p in ("she", "her", "hers"):
        return m.kind == PERSON and not m.plural and m.gender != "m"
    if p in ("they", "them", "their", "these", "those"):
        return m.kind in (GROUP, ORG) or (m.kind in (PERSON, THING) and m.plural)
    if p in ("it", "its"):
        return m.kind in (ORG, THING) and not m.plural
    if p in ("that", "this"):
        return m.kind == THING and not m.plural
    if p == "there":
        return m.kind == PLACE
    if p == "then":
        return m.kind == TIME
    return m.kind == ORG  # "the company", "the union"


def resolve(pronoun: str, turns: list[Turn], taken: set[str]) -> Mention | None:
    """The most recent, most salient mention in view that agrees with ``pronoun`` and is not already taken."""
    for turn in reversed(turns):
        for m in turn_mentions(turn):
            if m.text not in taken and agrees(pronoun, m):
                return m
    return None
