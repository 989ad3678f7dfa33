"""Gold question sets: what the evaluator scores answers against.

Three formats are read into one list of ``GoldItem``:

* the official nested SQuAD JSON, v1.1 and v2.0 (``is_impossible`` or an
  empty ``answers`` list marks a question the context cannot answer);
* the gzipped or plain SQuAD-style JSONL of ``../shared/data`` (one question a
  line, ``answers`` a list of ``{"text", "answer_start"}`` objects);
* a simple JSONL written by hand: ``question``, ``answers`` (a list of
  acceptable strings; empty means "the articles do not say"), and optionally
  ``id``, ``context`` (the text the answer comes from) or ``article`` (an
  article id, title, file name or path, used to tell which retrieved passages
  are the right ones).

Conversation files (one object with ``turns`` per line) are read by
``load_conversations``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import NewsdeskError


class GoldFormatError(NewsdeskError):
    """A gold file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class GoldItem:
    """One question with every acceptable answer.

    ``answers`` empty means the right reply is "no answer". ``context`` is the
    paragraph the question was written against (SQuAD); ``article`` names the
    article when the question was written against an indexed one.
    """

    id: str
    question: str
    answers: tuple[str, ...]
    context: str | None = None
    article: str | None = None
    title: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class GoldTurn:
    """One turn of a conversation: the question as a person would type it."""

    question: str
    answers: tuple[str, ...]
    #: Words the self-contained rewrite of this turn must contain (case-insensitive).
    rewrite_contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoldConversation:
    id: str
    turns: tuple[GoldTurn, ...] = field(default_factory=tuple)


def _item_id(question: str, n: int) -> str:
    return f"q{n:05d}-" + hashlib.sha1(question.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _answer_texts(raw: Any, where: str) -> tuple[str, ...]:
    """Answers as strings, in order, duplicates dropped (SQuAD repeats them)."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise GoldFormatError(f"{where}: 'answers' must be a list")
    out: list[str] = []
    for a in raw:
        text = a.get("text") if isinstance(a, dict) else a
        if not isinstance(text, str):
            raise GoldFormatError(f"{where}: each answer must be a string or have a 'text' string")
        if text.strip() and text not in out:
            out.append(text)
    return tuple(out)


def load_squad(path: str | Path) -> list[GoldItem]:
    """Official nested SQuAD JSON (v1.1 or v2.0)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GoldFormatError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise GoldFormatError(f"{path}: not SQuAD JSON (no top-level 'data' list)")
    items: list[GoldItem] = []
    for art in data["data"]:
        title = art.get("title") or None
        for para in art.get("paragraphs", []):
            context = para["context"]
            for qa in para.get("qas", []):
                where = f"{path}: question {qa.get('id', len(items))}"
                answers = () if qa.get("is_impossible") else _answer_texts(qa.get("answers"), where)
                items.append(
                    GoldItem(
                        str(qa.get("id") or _item_id(qa["question"], len(items))),
                        qa["question"],
                        answers,
                        context,
                        None,
                        title,
                    )
                )
    return items


def load_jsonl(path: str | Path) -> list[GoldItem]:
    """Hand-written JSONL or SQuAD-style JSONL (optionally gzipped)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    items: list[GoldItem] = []
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for where, r in _json_lines(fh, path):
                if not isinstance(r, dict) or not isinstance(r.get("question"), str):
                    raise GoldFormatError(f"{where}: each line needs a 'question' string")
                if "answers" not in r:
                    raise GoldFormatError(f"{where}: missing 'answers' (use [] for no answer)")
                answers = () if r.get("is_impossible") else _answer_texts(r["answers"], where)
                items.append(
                    GoldItem(
                        str(r.get("id") or _item_id(r["question"], len(items))),
                        r["question"],
                        answers,
                        r.get("context") or None,
                        r.get("article") or None,
                        r.get("title") or None,
                    )
                )
    except OSError as exc:
        raise GoldFormatError(f"{path}: cannot read ({exc})") from exc
    return items


def is_conversation_file(path: str | Path) -> bool:
    """True when the first record of a JSONL file has ``turns``."""
    if not str(path).endswith((".jsonl", ".jsonl.gz")):
        return False
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    return "turns" in json.loads(line)
                except json.JSONDecodeError:
                    return False
    return False


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read any supported gold file, chosen by its extension."""
    p = Path(path)
    if not p.is_file():
        raise GoldFormatError(f"{path}: no such gold file")
    if p.name.endswith(".json"):
        return load_squad(p)
    if p.name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return load_jsonl(p)
    raise GoldFormatError(f"{path}: unknown gold format (use SQuAD .json or .jsonl)")


def _json_lines(fh, path):
    """(``path:line``, parsed object) for each non-blank JSONL line; bad JSON is a GoldFormatError."""
    for n, line in enumerate(fh, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldFormatError(f"{where}: malformed JSON ({exc.msg})") from exc


def load_conversations(path: str | Path) -> list[GoldConversation]:
    """One conversation a line: ``{"id", "turns": [{"question", "answers", "rewrite_contains"}]}``."""
    convs: list[GoldConversation] = []
    with open(path, encoding="utf-8") as fh:
        for where, r in _json_lines(fh, path):
            turns = r.get("turns") if isinstance(r, dict) else None
            if not isinstance(turns, list) or not turns:
                raise GoldFormatError(f"{where}: needs a non-empty 'turns' list")
            convs.append(
                GoldConversation(
                    str(r.get("id") or f"conv-{len(convs) + 1}"),
                    tuple(
                        GoldTurn(
                            t["question"],
                            _answer_texts(t.get("answers"), where),
                            tuple(t.get("rewrite_contains") or ()),
                        )
                        for t in turns
                    ),
                )
            )
    return convs


def select(
    items: Sequence[GoldItem], limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[GoldItem]:
    """A fixed random sample (same seed, same questions) and/or the first ``limit``."""
    out = list(items)
    if sample is not None and sample < len(out):
        rng = random.Random(seed)
        picked = sorted(rng.sample(range(len(out)), sample))
        out = [out[i] for i in picked]
    if limit is not None:
        out = out[:limit]
    return out


def unique_contexts(items: Iterable[GoldItem]) -> list[tuple[str, str | None]]:
    """(context, title) of each distinct paragraph, in first-seen order."""
    seen: dict[str, str | None] = {}
    for it in items:
        if it.context and it.context not in seen:
            seen[it.context] = it.title
    return list(seen.items())
