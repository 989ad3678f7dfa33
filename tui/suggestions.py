"""Example questions drawn from the indexed articles, offered on a first start.

A new user facing an empty chat does not know what the articles hold or how
to ask about them. The newest articles' sentences are read with a few simple
patterns (a role before a name, a person and a verb of meeting, a subject and
what it did) and each match is turned into a question the sentence answers.
Nothing here knows any particular article: it only reads their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.types import Article

#: How many questions are offered, and from how many of the newest articles.
COUNT = 3
NEWEST = 5
#: Sentences longer than this are not used (their questions read badly).
MAX_WORDS = 45

_NAME_WORD = r"[A-Z][a-z’'-]+"
_NAME = rf"{_NAME_WORD}(?:\s{_NAME_WORD}){{1,2}}"
_ROLE_NOUN = (
    r"(?:Secretary|Minister|President|Prime Minister|Chancellor|Governor|Mayor|Senator|Ambassador|"
    r"Director|Commissioner|Chief|spokesman|spokeswoman|spokesperson|chairman|chairwoman|coach|captain|"
    r"CEO|General|Judge|Speaker|Secretary-General)"
)
#: "US Secretary of State Antony Blinken", "Russian Foreign Minister Sergey Lavrov".
_ROLE_NAME = re.compile(
    rf"\b(?P<role>(?:[A-Z][\w’'.-]*\s){{0,3}}{_ROLE_NOUN}(?:\sof\s(?:the\s)?[A-Z][\w’'-]*(?:\s[A-Z][\w’'-]*)?)?)"
    rf"\s(?P<name>{_NAME})\b"
)
#: A person and a verb whose object is another person: "<Name> spoke with ...".
_MEETING_VERBS = {
    "spoke with": "speak with",
    "spoke to": "speak to",
    "talked with": "talk with",
    "talked to": "talk to",
    "met with": "meet with",
    "met": "meet",
    "called": "call",
    "phoned": "phone",
    "thanked": "thank",
    "warned": "warn",
    "accused": "accuse",
    "defeated": "defeat",
    "beat": "beat",
    "replaced": "replace",
    "appointed": "appoint",
    "criticized": "criticize",
    "criticised": "criticise",
    "interviewed": "interview",
}
_MEETING = re.compile(
    rf"\b(?P<name>{_NAME})\s(?P<verb>{'|'.join(sorted(_MEETING_VERBS, key=len, reverse=True))})"
    rf"\s(?=(?:[A-Z]|the\s|his\s|her\s|their\s))"
)
#: A sentence that opens with its subject, then a regular past-tense verb and its object.
_SUBJECT_VERB = re.compile(
    r"^(?P<subject>[A-Z][\w’'-]*(?:\s[\w’'-]+){0,6}?)\s(?P<verb>[a-z]{3,}ed)\s(?P<object>[a-z0-9]\w*)"
)
_NOT_SUBJECT = {
    "it",
    "this",
    "that",
    "there",
    "these",
    "those",
    "he",
    "she",
    "they",
    "we",
    "i",
    "you",
    "but",
    "and",
    "or",
    "so",
    "if",
    "when",
    "while",
    "after",
    "before",
    "as",
    "in",
    "on",
    "at",
    "according",
    "earlier",
    "later",
    "then",
    "also",
    "what",
    "who",
    "his",
    "her",
    "their",
    "our",
    "its",
}
_NOT_IN_SUBJECT = {
    "said",
    "says",
    "say",
    "told",
    "had",
    "has",
    "have",
    "was",
    "were",
    "is",
    "are",
    "will",
    "would",
    "could",
    "should",
    "may",
    "might",
    "not",
    "who",
    "which",
    "that",
    "he",
    "she",
    "they",
    "it",
    "we",
    "also",
    "been",
    "be",
}
_NOT_OBJECT = {"that", "to", "by", "as", "it", "in", "on", "at", "for", "with", "from", "into", "of", "and", "or"}
_NOT_VERB = {"need", "seed", "speed", "feed", "bed", "red", "hundred", "based", "related", "united", "limited"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"‘'])")


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    """One example question and what kind of pattern it came from (for variety)."""

    question: str
    kind: str
    #: Newest article first, then its sentences in order: lower comes first.
    rank: tuple[int, int]


def suggest(articles: Iterable[Article], count: int = COUNT) -> list[str]:
    """Up to ``count`` example questions from the newest of ``articles``, of different kinds where possible."""
    newest = sorted(articles, key=lambda a: a.date or "", reverse=True)[:NEWEST]
    found: list[Suggestion] = []
    for number, article in enumerate(newest):
        for position, sentence in enumerate(sentences(article)):
            found.extend(questions_in(sentence, rank=(number, position)))
    return pick(found, count)


def pick(found: Sequence[Suggestion], count: int) -> list[str]:
    """The earliest question of each kind first, then the earliest of the rest; no question twice."""
    chosen: list[Suggestion] = []
    seen: set[str] = set()
    ordered = sorted(found, key=lambda s: s.rank)
    for kind in ("role", "meeting", "subject"):
        first = next((s for s in ordered if s.kind == kind and _key(s.question) not in seen), None)
        if first is not None and len(chosen) < count:
            chosen.append(first)
            seen.add(_key(first.question))
    for s in sorted(ordered, key=lambda s: (s.kind == "person", s.rank)):  # "Who is <name>?" last
        if len(chosen) >= count:
            break
        if _key(s.question) not in seen:
            chosen.append(s)
            seen.add(_key(s.question))
    return [s.question for s in sorted(chosen, key=lambda s: s.rank)]


def _key(question: str) -> str:
    return " ".join(re.findall(r"\w+", question.lower()))


def sentences(article: Article) -> list[str]:
    """The article's sentences, without its headline line and short lines (datelines, bylines)."""
    out: list[str] = []
    for line in (article.text or "").split("\n"):
        line = " ".join(line.split())
        if len(line.split()) < 6 or line.rstrip("…") == (article.title or "").rstrip("…"):
            continue
        out.extend(s for s in _SENTENCE_END.split(line) if 6 <= len(s.split()) <= MAX_WORDS)
    return out


def questions_in(sentence: str, *, rank: tuple[int, int]) -> list[Suggestion]:
    """Every question the patterns find in one sentence."""
    out = []
    for m in _ROLE_NAME.finditer(sentence):
        role = re.sub(r"^(?:The|A|An)\s", "", m.group("role"))
        if len(role.split()) >= 2 or role[0].isupper():
            out.append(Suggestion(question=f"Who is the {role}?", kind="role", rank=rank))
            out.append(Suggestion(question=f"Who is {m.group('name')}?", kind="person", rank=rank))
    names = [m.group("name") for m in _ROLE_NAME.finditer(sentence)]
    for m in _MEETING.finditer(sentence):
        verb = _MEETING_VERBS[m.group("verb")]
        # "Secretary of State Antony Blinken spoke": the person is the name after the role.
        name = next((n for n in names if m.group("name").endswith(n)), m.group("name"))
        out.append(Suggestion(question=f"Who did {name} {verb}?", kind="meeting", rank=rank))
    opening = _SUBJECT_VERB.match(sentence)
    if opening and "," not in opening.group("subject"):
        subject, verb, obj = opening.group("subject"), opening.group("verb"), opening.group("object")
        words = subject.split()
        if (
            words[0].lower() not in _NOT_SUBJECT
            and verb not in _NOT_VERB
            and obj not in _NOT_OBJECT
            and not any(w.lower() in _NOT_IN_SUBJECT or w.endswith(("ed", "ly")) for w in words[1:])
        ):
            if words[0] in ("The", "A", "An") or not (len(words) > 1 and words[1][:1].isupper()):
                # "temperatures in Seville", "the Russian Foreign Ministry"; but "Antony Blinken" keeps its capital
                subject = " ".join([words[0].lower(), *words[1:]])
            out.append(Suggestion(question=f"What did {subject} {base_form(verb)}?", kind="subject", rank=rank))
    return out


_E_ENDINGS = (
    "at",
    "ar",
    "ir",
    "ur",
    "id",
    "ud",
    "ib",
    "um",
    "ot",
    "ut",
    "ok",
    "ik",
    "ak",
    "ap",
    "ang",
    "eng",
    "arg",
    "dg",
)
_VOWELS = set("aeiou")


def base_form(verb: str) -> str:
    """The plain form of a regular past-tense verb ("battled" -> "battle"), by spelling rules alone."""
    if verb.endswith("ied"):
        return verb[:-3] + "y"
    if verb.endswith("eed"):
        return verb[:-1]
    stem = verb[:-2]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]  # stopped -> stop
    if stem.endswith(("ll", "nd", "ss", "ck", "sh", "ch")):
        return stem  # killed, landed, pressed, attacked, pushed, reached
    if stem[-1] in "csuvz":
        return stem + "e"  # raised, caused, continued, forced, moved
    if len(stem) >= 3 and stem[-2] in _VOWELS and stem[-3] in _VOWELS:
        return stem  # claimed, treated, explained
    if stem.endswith(_E_ENDINGS) or (stem[-1] == "l" and stem[-2] not in _VOWELS):
        return stem + "e"  # decided, judged, battled
    return stem
