"""Follow-up questions made self-contained by rules over the earlier turns.

Extractive readers answer one self-contained question; people ask "And what
did Lavrov say about it?" or "When did he say that?". ``rewrite_question``
resolves such a follow-up against the turns in view (``qa.rewrite.discourse``):

* a pronoun takes the most recent, most salient mention that agrees with it:
  "he"/"she" a person (of that gender when the name tells), "they" a group,
  an organisation or a plural, "it"/"this"/"that" a thing or organisation,
  "there" a place, "then" a time, "the company" an organisation; two
  different pronouns in one question take two different referents;
* "his/her/its/their N" becomes "X's N";
* "that N" becomes "the N in PLACE" / "the N about THING"; "say that?" becomes
  "say that about THING";
* "What about X?" / "And X?" swaps X for the subject of the last question (or
  for its "in PLACE" when X is "in Y"); a bare "Why?" after "Who did Z?" asks
  "Why did ANSWER do Z?";
* a question that leans on nothing is left as typed, and one whose pronouns
  find nothing in view keeps them and names the last topic in brackets.

The rewrite is what is retrieved and read, and the Answer shows it
(``understood_as``) when it differs from what was typed (``same_question``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from qa.rewrite import words as W
from qa.rewrite.discourse import ANAPHOR, Turn, agrees, as_turns, in_view, resolve, subject, turn_mentions
from qa.rewrite.mentions import PLACE, THING, Mention, names

_ORG_NOUNS = "|".join(sorted(W.ORG_NOUNS))
_AUX_WH = "|".join(sorted(W.AUX | W.WH))
_PRONOUN = re.compile(
    r"\b(he|him|his|she|her|hers|it|its|they|them|their|there|then)\b"
    rf"|\b(that|this)\b(?:\s+([a-z][\w'-]*))?|\bthe\s+({_ORG_NOUNS})\b",
    re.I,
)
_CLASS = {
    "he": "m",
    "him": "m",
    "his": "m",
    "she": "f",
    "her": "f",
    "hers": "f",
    "it": "it",
    "its": "it",
    "that": "it",
    "this": "it",
    "they": "pl",
    "them": "pl",
    "their": "pl",
}
_WHAT_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(.+?)\s*\??$|^and\s+([^?]+?)\s*\?$", re.I)
_BARE_WH = re.compile(r"^(?:and\s+|so\s+)?(why|when|where|how)\s*\??$", re.I)
_LEAD = re.compile(r"^(?:and|so|also|then|ok|okay|well)[,\s]+", re.I)
#: Pronouns for people: one named earlier in the same question is their referent.
_PERSONAL = {"he", "him", "his", "she", "her", "hers"}


def _possessive(text: str) -> str:
    return f"{text}'" if text.endswith("s") and not text.endswith("'s") else f"{text}'s"


class _Binder:
    """Resolves the pronouns of one question, one referent per pronoun class."""

    def __init__(self, view: list[Turn]):
        self.view, self.changed = view, False
        self.bound: dict[str, Mention | None] = {}

    def find(self, pronoun: str) -> Mention | None:
        cls = _CLASS.get(pronoun.lower(), pronoun.lower())
        if cls not in self.bound:
            taken = {m.text for c, m in self.bound.items() if c != cls and m}
            self.bound[cls] = resolve(pronoun, self.view, taken)
        return self.bound[cls]

    def thing(self) -> Mention | None:
        return self.find("that")

    def sub(self, m: re.Match, text: str) -> str:
        word, demo, after, org_noun = m.group(1), m.group(2), m.group(3), m.group(4)
        before = text[: m.start()].split()[-1:] or [""]
        if org_noun:
            ref = self.find("company")
            return self._done(ref.text) if ref else m.group(0)
        if demo:
            return self._demonstrative(m, demo, after, before[0].lower())
        low = word.lower()
        if low in _PERSONAL and any(pos < m.start() and agrees(low, mention) for pos, mention in names(text)):
            return word  # "Where was Blinken when he spoke?": bound inside the question itself
        next_word = text[m.end() :].split()[:1]
        possessive = low in ("his", "its", "their") or (
            low == "her" and next_word and next_word[0][:1].isalpha() and next_word[0].lower() not in W.FUNCTION
        )
        ref = self.find(low)
        if not ref:
            return word
        if low == "there":
            return self._done(ref.text if before[0].lower() in W.PREPS else f"in {ref.text}")
        if low == "it" and before[0].lower() in W.SPEECH:
            return self._done(f"that about {ref.text}")  # "say it" is a statement about the thing
        return self._done(_possessive(ref.text) if possessive else ref.text)

    def _demonstrative(self, m: re.Match, demo: str, after: str | None, before: str) -> str:
        if after and (after.lower() in W.FUNCTION or after.lower() in W.VERBS or before in W.SPEECH):
            return m.group(0)  # "say that the US ...", "that is": not a pronoun
        if after:
            place = next((x for x in turn_mentions(self.view[-1]) if x.kind == PLACE), None)
            thing = self.thing()
            if place:
                return self._done(f"the {after} in {place.text}")
            return self._done(f"the {after} about {thing.text}") if thing else m.group(0)
        thing = self.thing()
        if before in W.SPEECH:
            return self._done(f"{demo} about {thing.text}") if thing else demo
        return self._done(thing.text) if thing else demo

    def _done(self, text: str) -> str:
        self.changed = True
        return text


def _substitute(body: str, view: list[Turn]) -> tuple[str, bool]:
    binder = _Binder(view)
    out = _PRONOUN.sub(lambda m: binder.sub(m, body), body)
    return (out[:1].upper() + out[1:] if out else out), binder.changed


def _swap(last: str, new: str) -> str:
    """The last question with its subject (or its "in PLACE") swapped for ``new``."""
    prep = re.match(r"^(in|at|on|for|from)\s+(.+)$", new, re.I)
    if prep:
        old = re.search(rf"\b{prep.group(1)}\s+(?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*", last)
        if old:
            return last[: old.start()] + new + last[old.end() :]
    subj = subject(last)
    old_text = subj.text if subj and subj.text in last else next((m.text for _, m in names(last)), None)
    if old_text and old_text in last:
        return last.replace(old_text, new, 1)
    return f"{last.rstrip('?')} {new}?"


def _base_verb(word: str) -> str:
    """The base form of a past-tense verb: "resigned" → "resign", "raised" → "raise", "won" → "win"."""
    low = word.lower()
    if low in W.IRREGULAR:
        return W.IRREGULAR[low]
    if low.endswith("ied"):
        return low[:-3] + "y"
    if low.endswith("ed"):
        stem = low[:-2]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "ls":
            return stem[:-1]
        return stem + "e" if stem.endswith(("s", "c", "v", "z", "u", "at")) else stem
    return low


def _bare_wh(word: str, turns: list[Turn]) -> str | None:
    """ "Why?" after "Who resigned from X?" (answered Y) → "Why did Y resign from X?"."""
    last = turns[-1]
    m = re.match(r"^\s*who\s+(\w+)\s+(.*?)\s*\??$", last.understood, re.I)
    if not m or not last.answer_text or m.group(1).lower() in W.AUX:
        return None
    return f"{word.capitalize()} did {last.answer_text.strip()} {_base_verb(m.group(1))} {m.group(2)}?"


def _ellipsis(q: str, turns: list[Turn], view: list[Turn]) -> str | None:
    bare = _BARE_WH.match(q)
    if bare:
        return _bare_wh(bare.group(1), turns)
    m = _WHAT_ABOUT.match(q)
    if not m:
        return None
    new = (m.group(1) or m.group(2) or "").strip()
    if m.group(2) and (len(new.split()) > 4 or re.search(rf"\b({_AUX_WH})\b", new, re.I)):
        return None
    new, _ = _substitute(new, view)
    new = new if new[:1].isupper() and not new.lower().startswith(("the ", "in ", "at ")) else new[:1].lower() + new[1:]
    return _swap(turns[-1].understood, new)


def _context(view: list[Turn]) -> str | None:
    last = view[-1]
    short = last.answer_text if last.answer_text and len(last.answer_text.split()) <= 8 else None
    thing = next((m.text for t in reversed(view) for m in turn_mentions(t) if m.kind == THING), None)
    parts = [x for x in (short, thing) if x]
    return ", ".join(dict.fromkeys(parts)) or None


def _without_bound_inside(text: str) -> str:
    """``text`` less the person pronouns whose referent is named earlier in it (they lean on nothing)."""
    found = names(text)

    def drop(m: re.Match) -> str:
        word = m.group(0).lower()
        bound = word in _PERSONAL and any(pos < m.start() and agrees(word, x) for pos, x in found)
        return "" if bound else m.group(0)

    return re.sub(r"\b(?:he|him|his|she|her|hers)\b", drop, text, flags=re.I)


def rewrite_question(question: str, history: Any) -> str:
    """Make a follow-up self-contained; a question that leans on nothing is returned as typed."""
    turns = [t for t in as_turns(history) if t.understood]
    q = " ".join(question.split())
    if not turns:
        return q
    view = in_view([*turns, Turn(q, q, "")])[:-1] or turns[-1:]
    rewritten = _ellipsis(q, turns, view)
    if rewritten:
        return rewritten
    body = _LEAD.sub("", q)
    body = body[:1].upper() + body[1:]
    out, changed = _substitute(body, view)
    leaning = ANAPHOR.search(_without_bound_inside(body)) or (len(body.split()) <= 2 and not names(body))
    if not changed and leaning:
        context = _context(view)
        if context and context.lower() not in out.lower():
            out = f"{out.rstrip('?')} ({context})?"
    return out


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
