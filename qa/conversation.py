"""Conversations: follow-up questions understood in the light of earlier turns.

Extractive readers answer one self-contained question. People do not ask like
that: after "What did Blinken say about the grain deal?" they ask "And what
did Lavrov say about it?" or "When did he say that?". ``rewrite_question``
turns such a follow-up into a self-contained question by resolving pronouns
and ellipsis against the previous turns, with rules that are cheap, run
offline and can be read and tested:

* "he/she/him/her/his" → the person the last turn was about (the answer of a
  "who" question, else the first name in the previous question, else a name
  in the previous answer);
* "it/that/this/they/them" → the topic of the previous question (what it was
  "about"), else the previous answer;
* "What about X?" / "And X?" / "How about X?" → the previous question with its
  subject swapped for X;
* a leading "And"/"So"/"Also" is dropped.

The rewritten question is what is retrieved and read, and the Answer shows it
(``understood_as``) so a person can see how they were understood.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from qa.types import Answer, answer_from_dict

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
CONVERSATION_FILE = "conversation.jsonl"
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
    if isinstance(history, Conversation):
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


@dataclass
class Conversation:
    """A sequence of questions and answers with one assistant."""

    assistant: Any
    turns: list[tuple[str, Answer]] = field(default_factory=list)
    #: How many leading turns the file last saved to already holds (see ``save``).
    _saved: int = field(default=0, init=False, repr=False, compare=False)
    _saved_path: Path | None = field(default=None, init=False, repr=False, compare=False)
    #: Byte offset of a torn (unterminated, incomplete) last line in the loaded file, cut before appending.
    _torn_at: int | None = field(default=None, init=False, repr=False, compare=False)
    #: Set by ``reset``: the person started over, so the next save may replace the file.
    _replace: bool = field(default=False, init=False, repr=False, compare=False)

    def ask(self, question: str, **kwargs) -> Answer:
        answer = self.assistant.ask(question, history=self, **kwargs)
        self.turns.append((question, answer))
        return answer

    def reset(self) -> None:
        self.turns.clear()
        self._saved, self._saved_path, self._torn_at, self._replace = 0, None, None, True

    def turns_for_rewrite(self, window: int = 3) -> list[Turn]:
        return [Turn(q, a.understood_as or q, a.text, a) for q, a in self.turns[-window:]]

    def to_dict(self) -> dict[str, Any]:
        return {"turns": [_turn_record(q, a) for q, a in self.turns]}

    @classmethod
    def from_dict(cls, assistant: Any, data: dict[str, Any]) -> "Conversation":
        turns = [_turn_from_record(t) for t in data.get("turns", [])]
        return cls(assistant, turns)

    def save(self, path: str | Path) -> None:
        """Keep the conversation in ``path`` as JSON Lines, one turn per line.

        Turns are appended, so saving after each answer costs one line rather
        than the whole history. An existing file is only ever appended to
        (it may hold turns this process could not read, and those must
        survive); it is written whole, aside and then renamed, only when it
        does not exist yet or after ``reset``. A line torn by a crash while
        appending is cut off before the next append.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        same = self._saved_path == path
        lines = [json.dumps(_turn_record(q, a), ensure_ascii=False) + "\n"
                 for q, a in self.turns[self._saved if same else 0:]]
        if path.exists() and not self._replace:
            self._append(path, "".join(lines).encode("utf-8"), torn_at=self._torn_at if same else None)
        else:
            tmp = path.with_name(path.name + ".tmp")
            with tmp.open("w", encoding="utf-8") as f:
                f.writelines(lines)
            os.replace(tmp, path)
        self._saved, self._saved_path, self._torn_at, self._replace = len(self.turns), path, None, False

    @staticmethod
    def _append(path: Path, data: bytes, *, torn_at: int | None) -> None:
        with path.open("r+b") as f:
            if torn_at is not None:
                f.truncate(torn_at)
            end = f.seek(0, os.SEEK_END)
            if end and torn_at is None:
                f.seek(end - 1)
                if f.read(1) != b"\n":
                    data = b"\n" + data
            f.seek(0, os.SEEK_END)
            f.write(data)

    @classmethod
    def load(cls, assistant: Any, path: str | Path) -> tuple["Conversation", int]:
        """The conversation saved in ``path`` and how many unreadable lines were skipped.

        Any line that cannot be read (malformed or deeply nested JSON, a
        record of the wrong shape) is skipped; the others are kept, and so
        is the file: later saves append to it.
        """
        path = Path(path)
        turns: list[tuple[str, Answer]] = []
        broken, offset, torn_at = 0, 0, None
        with path.open("rb") as f:
            for raw in f:
                at, offset = offset, offset + len(raw)
                line = raw.decode("utf-8", errors="replace")
                if not line.strip():
                    continue
                try:
                    turns.append(_turn_from_record(json.loads(line)))
                except json.JSONDecodeError:
                    broken += 1
                    torn_at = at if not raw.endswith(b"\n") else None
                except Exception:  # RecursionError from deep nesting, wrong types, anything else
                    broken += 1
        conversation = cls(assistant, turns)
        conversation._saved, conversation._saved_path, conversation._torn_at = len(turns), path, torn_at
        return conversation, broken

    def to_markdown(self) -> str:
        lines = ["# Newsdesk conversation", ""]
        for q, a in self.turns:
            lines.append(f"**Q:** {q}")
            if a.understood_as:
                lines.append(f"*Understood as:* {a.understood_as}")
            lines.append("")
            if a.found and a.article:
                lines.append(f"**A:** {a.text}  ")
                lines.append(f"> {a.sentence}")
                cite = ", ".join(x for x in (a.article.title, a.article.date, a.article.section) if x)
                lines.append(f"— {cite} (confidence {a.confidence:.0%})")
            else:
                lines.append("**A:** No answer found in the articles.")
            lines.append("")
        return "\n".join(lines)


def conversation_path(index_dir: str | Path) -> Path:
    """The file a conversation with the index in ``index_dir`` is kept in: inside that folder.

    A conversation belongs to exactly one index; everything that saves or
    restores one (the chat, its index switching) derives the file from the
    index folder here, so turns never land beside another index.
    """
    return Path(index_dir) / CONVERSATION_FILE


def _turn_record(question: str, answer: Answer) -> dict[str, Any]:
    return {"question": question, "answer": answer.to_dict()}


def _turn_from_record(record: dict[str, Any]) -> tuple[str, Answer]:
    return str(record["question"]), answer_from_dict(record["answer"])


def rewrite_all(questions: Sequence[str], answers: Sequence[str]) -> list[str]:
    """Rewrite each question given the previous ones (for evaluation)."""
    out: list[str] = []
    turns: list[Turn] = []
    for q, a in zip(questions, answers):
        u = rewrite_question(q, turns)
        out.append(u)
        turns.append(Turn(q, u, a))
    return out
