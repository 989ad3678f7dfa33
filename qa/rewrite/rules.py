"""Follow-up questions made self-contained by rules over the earlier turns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from qa.types import Answer

_QWORDS = {
    "what", "who", "whom", "whose", "when", "where", "why", "how", "which", "did", "does", "do",
    "is", "are", "was", "were", "will", "would", "can", "could", "should", "has", "have", "had",
    "and", "but", "so", "also", "the", "a", "an", "in", "on", "at", "of", "for", "to", "about",
    "according", "after", "before", "during", "since", "if", "i", "what's", "who's",
}
_ENTITY = re.compile(r"\b([A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’.-]*)*)")
_PERSON_PRON = re.compile(r"\b(he|she|him|her|his|hers)\b", re.I)
_THING_PRON = re.compile(r"\b(it|that|this|they|them|those|these)\b", re.I)
_POSSESSIVE = {"his", "her", "hers", "its", "their"}
_TOPIC = re.compile(r"\b(?:about|regarding|concerning)\s+((?:the\s+|a\s+|an\s+)?[^?.,;]+)", re.I)
_WHAT_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(.+?)\s*\??$|^and\s+([^?]+?)\s*\?$", re.I)
_VERBISH = re.compile(r"\b(what|who|when|where|why|how|which|did|does|do|is|are|was|were|say|said|has|have|had)\b", re.I)
_SPEECH = {"say", "said", "says", "tell", "told", "mention", "mentioned", "announce", "announced",
           "claim", "claimed", "suggest", "suggested", "describe", "described", "mean", "meant"}
_DETERMINER = re.compile(r"\b(that|this|those|these)\s+[a-z]+", re.I)
_LEAD = re.compile(r"^(?:and|so|also|then|ok|okay|well)[,\s]+", re.I)


def _entities(text: str) -> list[str]:
    out = []
    for m in _ENTITY.finditer(text or ""):
        words = m.group(1).split()
        while words and words[0].lower() in _QWORDS:
            words = words[1:]
        if words:
            ent = " ".join(words).rstrip(".’'")
            if ent.lower() not in _QWORDS and len(ent) > 1:
                out.append(ent)
    return out


@dataclass
class Turn:
    question: str
    understood: str
    answer_text: str
    answer: Answer | None = None


def _turns(history: Any) -> list[Turn]:
    if hasattr(history, "turns_for_rewrite"):
        return history.turns_for_rewrite()
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        else:
            q, a = item
            text = a.text if isinstance(a, Answer) else str(a or "")
            understood = (a.understood_as if isinstance(a, Answer) else None) or q
            turns.append(Turn(q, understood, text, a if isinstance(a, Answer) else None))
    return turns


def _subject(question: str) -> str | None:
    """The first name in a question (who or what it is about)."""
    ents = _entities(question)
    return ents[0] if ents else None


def _topic(question: str) -> str | None:
    """What the question was about: the phrase after about/on/regarding."""
    m = _TOPIC.search(question)
    if not m:
        return None
    topic = m.group(1).strip()
    if _THING_PRON.fullmatch(topic) or _PERSON_PRON.fullmatch(topic):
        return None
    return topic


def _person(turn: Turn) -> str | None:
    q = turn.understood
    if re.match(r"^\s*(who|whom|which (?:official|person|minister|leader))\b", q, re.I) and turn.answer_text:
        return turn.answer_text
    subj = _subject(q)
    if subj:
        return subj
    ents = _entities(turn.answer_text)
    return ents[0] if ents else None


_NOT_NOUN = {"between", "with", "of", "on", "in", "to", "take", "took", "last", "lasted", "been", "was", "is",
             "are", "were", "we", "they", "that", "which", "who", "would", "will", "has", "had", "did", "does",
             "for", "from", "by", "at", "and", "or", "be", "being", "said", "say", "made"}


def _noun_phrase(question: str) -> str | None:
    """The first "the X" or "the X Y" phrase ("the call", "the prisoner exchange")."""
    for m in re.finditer(r"\bthe\s+([a-z]{3,})(?:\s+([a-z]{3,}))?", question):
        first, second = m.group(1), m.group(2)
        if first in _NOT_NOUN:
            continue
        if second and second not in _NOT_NOUN and not second.endswith("ed"):
            return f"the {first} {second}"
        return f"the {first}"
    return None


def _thing(turns: list[Turn]) -> str | None:
    """What "it"/"that" most likely points at, looking back from the last turn.

    The topic a question was "about" comes first. After a what/which question
    the answer is a thing ("the proposal"), so it is the referent; after
    who/when/where/how/why questions the answer is a person, time, place or
    reason, so the thing talked about is the question's own noun phrase ("the
    call"). Turns without either are skipped.
    """
    for t in reversed(turns):
        q = t.understood
        topic = _topic(q)
        if topic:
            return topic
        short_answer = t.answer_text and len(t.answer_text.split()) <= 16
        if short_answer and re.match(r"^\s*(what|which)\b(?!\s+(time|day|year|date|month))", q, re.I):
            return t.answer_text
        phrase = _noun_phrase(q)
        if phrase:
            return phrase
    return None


def rewrite_question(question: str, history: Any) -> str:
    """Make a follow-up self-contained; a standalone question is returned as is."""
    turns = [t for t in _turns(history) if t.understood]
    q = " ".join(question.split())
    if not turns:
        return q
    last = turns[-1]
    m = _WHAT_ABOUT.match(q)
    if m and m.group(2) and (len(m.group(2).split()) > 4 or _VERBISH.search(m.group(2))):
        m = None
    if m:
        new_subject = (m.group(1) or m.group(2) or "").strip()
        old = _person(last) if not re.match(r"^\s*who", last.understood, re.I) else None
        old = old or _subject(last.understood)
        if new_subject and old and old in last.understood:
            return last.understood.replace(old, new_subject, 1)
        if new_subject:
            return f"{last.understood.rstrip('?')} {new_subject}?"
    body = _LEAD.sub("", q)
    if body and body[0].islower():
        body = body[0].upper() + body[1:]
    person = next((p for p in (_person(t) for t in reversed(turns)) if p), None)
    topic = _topic(last.understood)
    thing = _thing(turns)

    def person_sub(m: re.Match) -> str:
        word = m.group(1)
        if word.lower() in _POSSESSIVE:
            return f"{person}'s"
        return person  # type: ignore[return-value]

    out = body
    if person and _PERSON_PRON.search(out) and not _mentions(out, person):
        out = _PERSON_PRON.sub(person_sub, out)
    if _THING_PRON.search(out):
        out = _replace_thing_pronoun(out, thing, topic)
    unresolved = _DETERMINER.search(out) or _THING_PRON.search(out) or re.search(r"\b(so|there|then)\b", out, re.I)
    if out == body and (unresolved or (not _entities(body) and len(body.split()) <= 3)):
        # "When was that meeting?", "Why?": keep the last turn in view for retrieval.
        context = last.answer_text if last.answer_text and len(last.answer_text.split()) <= 8 else None
        context = " ".join(x for x in (context or person, thing if thing != context else None) if x)
        if context and not _mentions(out, context):
            out = f"{body.rstrip('?')} ({context})?"
    return out


def _mentions(text: str, name: str) -> bool:
    return any(part.lower() in text.lower() for part in name.split() if len(part) > 2)


def _replace_thing_pronoun(text: str, thing: str | None, topic: str | None) -> str:
    """Replace the first "it/that/this/them" that stands for a thing.

    "that" before a clause ("say that the US...") or a noun ("that meeting")
    is not a pronoun and stays; after a speech verb ("when did he say that?")
    the statement is kept and the topic added.
    """
    def repl(m: re.Match) -> str:
        word = m.group(1).lower()
        after = text[m.end():].lstrip()
        if word in ("that", "this", "these", "those") and after[:1].isalpha():
            return m.group(0)
        if word in ("they", "them", "these", "those") and not topic:
            return m.group(0)
        before = text[: m.start()].split()
        if before and before[-1].lower() in _SPEECH:
            return f"{m.group(1)} about {topic}" if topic else m.group(0)
        return thing or m.group(0)

    return _THING_PRON.sub(repl, text, count=1)



def rewrite_all(questions: Sequence[str], answers: Sequence[str]) -> list[str]:
    """Rewrite each question given the previous ones (for evaluation)."""
    out: list[str] = []
    turns: list[Turn] = []
    for q, a in zip(questions, answers):
        u = rewrite_question(q, turns)
        out.append(u)
        turns.append(Turn(q, u, a))
    return out


def same_question(a: str, b: str) -> bool:
    """Whether two questions say the same words (case, spacing and punctuation aside)."""
    def norm(s: str) -> list[str]:
        return re.findall(r"\w+", s.lower())
    return norm(a) == norm(b)
