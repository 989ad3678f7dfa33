"""Conversations: the turns of one chat with an assistant, kept on disk.

A ``Conversation`` asks through its assistant with itself as history, so a
follow-up ("When did he say that?") is rewritten into a self-contained
question before it is read (the rules live in ``qa.rewrite`` and are
re-exported here). Each index keeps its conversation in its own folder
(``conversation_path``), one JSON line per turn, only ever appended to.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.rewrite import Turn, rewrite_all, rewrite_question, same_question
from qa.types import Answer, answer_from_json, answer_to_json

__all__ = [
    "CONVERSATION_FILE",
    "Conversation",
    "Turn",
    "conversation_path",
    "rewrite_all",
    "rewrite_question",
    "same_question",
]

CONVERSATION_FILE = "conversation.jsonl"


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

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        threshold: float | None = None,
        filters: Any = None,
        as_of: str | None = None,
    ) -> Answer:
        answer = self.assistant.ask(
            question, top_k=top_k, threshold=threshold, filters=filters, history=self, as_of=as_of
        )
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
    def from_dict(cls, assistant: Any, data: dict[str, Any]) -> Conversation:
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
        lines = [
            json.dumps(_turn_record(q, a), ensure_ascii=False) + "\n"
            for q, a in self.turns[self._saved if same else 0 :]
        ]
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
    def load(cls, assistant: Any, path: str | Path) -> tuple[Conversation, int]:
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
    return {"question": question, "answer": answer_to_json(answer)}


def _turn_from_record(record: dict[str, Any]) -> tuple[str, Answer]:
    return str(record["question"]), answer_from_json(record["answer"])
