"""Unanswerable (question, paragraph) pairs, one small generator per kind.

A reader that only ever sees answerable pairs learns to point at *something*.
Each kind here teaches a different way a paragraph can look right and still
not answer: real crowd-written SQuAD 2.0 questions, a question whose entity,
number or date was swapped for another from the same article, a negated or
antonym-flipped question over a paragraph that states the positive, the own
paragraph without its answer sentences, another paragraph of the same article,
and a paragraph of another article. Every generator is seeded and iterates in
a fixed order, so the same rows give the same pairs on every run (resuming a
campaign needs the same data order).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.training.data import QAExample, make_negatives, make_same_paragraph_negatives

#: The kinds, in the order they are built and reported.
KINDS = ("squad20", "entity_swap", "negation", "same_paragraph", "same_article", "other_article")


# -- real SQuAD 2.0 unanswerables ---------------------------------------------
def load_squad20_unanswerable(path: str | Path) -> list[QAExample]:
    """The ``is_impossible`` questions of a nested SQuAD 2.0 file, as no-answer pairs."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: list[QAExample] = []
    for art in data["data"]:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                if qa.get("is_impossible"):
                    out.append(QAExample(qa["question"], para["context"], art.get("title", ""), None, None))
    return out


def held_out_titles(titles, n_held: int, seed: int) -> set[str]:
    """Exactly ``n_held`` titles, chosen by a seeded hash (the same on every run).

    A fixed count rather than a fraction: with only 14 articles a fraction
    could hold out none or half of them.
    """
    key = lambda t: hashlib.sha256(f"{seed}:{t}".encode()).hexdigest()  # noqa: E731
    return set(sorted(set(titles), key=key)[:n_held])


def split_squad20(rows: list[QAExample], n_held: int, seed: int):
    """(train, held-out) unanswerables, split by whole article."""
    held = held_out_titles([r.title for r in rows], n_held, seed)
    return [r for r in rows if r.title not in held], [r for r in rows if r.title in held]


# -- entity / number / date swap ----------------------------------------------
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_NAMES = "|".join(_MONTHS)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTH_NAMES})(?: \d{{1,2}})?,? )?(?:1\d{{3}}|20\d{{2}})\b|\b(?:{_MONTH_NAMES}) \d{{1,2}}\b"
)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
_ENTITY = re.compile(r"\b[A-Z][\w'\-]*(?:(?: of| de| the| and)? [A-Z][\w'\-]*)*")
#: Capitalised words that are not names (question words, sentence starters).
_NOT_NAMES = set(
    [
        "What",
        "Which",
        "Who",
        "Whom",
        "Whose",
        "When",
        "Where",
        "Why",
        "How",
        "In",
        "On",
        "At",
        "By",
        "For",
        "From",
        "To",
        "Of",
        "The",
        "A",
        "An",
        "It",
        "Its",
        "This",
        "That",
        "These",
        "Those",
        "He",
        "She",
        "They",
        "His",
        "Her",
        "Their",
        "There",
        "Is",
        "Was",
        "Are",
        "Were",
        "Did",
        "Do",
        "Does",
        "Can",
        "Could",
        "Has",
        "Have",
        "Had",
        "Will",
        "Would",
        "Should",
        "After",
        "Before",
        "During",
        "Since",
        "Along",
        "With",
        "As",
        "If",
        "According",
        "Name",
        "Besides",
        "Also",
    ]
) | set(_MONTHS)
#: Honorifics and abbreviations: capitalised, but swapping them makes no sense.
_TITLES = set(["Mr", "Mrs", "Ms", "Dr", "St", "Sir", "Jr", "Sr", "Lord", "Lady", "King", "Queen", "Saint"])


def mentions(text: str, sentence_starts: bool = True) -> dict[str, list[str]]:
    """Dates, numbers and names in ``text``, by kind, in order of appearance.

    ``sentence_starts=False`` skips a capitalised word that opens a sentence,
    which is often just a capitalised common word, when gathering candidates.
    """
    found: dict[str, list[str]] = {"date": [], "number": [], "entity": []}
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("date", _DATE), ("number", _NUMBER), ("entity", _ENTITY)):
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            value = m.group(0).strip(" ,")
            if kind == "entity":
                words = value.split()
                while words and words[0] in _NOT_NAMES:
                    words.pop(0)
                if not words or len(value) < 3:
                    continue
                opens = m.start() == 0 or text[max(0, m.start() - 2) : m.start()].strip() in (".", "?", "!", '"')
                if opens and not sentence_starts and words == value.split():
                    continue
                value = " ".join(words)
            taken.append((m.start(), m.end()))
            if value not in found[kind]:
                found[kind].append(value)
    return found


def article_pools(rows: list[QAExample]) -> dict[str, dict[str, list[str]]]:
    """Per article, every date, number and name its paragraphs mention."""
    pools: dict[str, dict[str, list[str]]] = {}
    for title, context in sorted({(r.title, r.context) for r in rows}):
        pool = pools.setdefault(title, {"date": [], "number": [], "entity": []})
        for kind, values in mentions(context, sentence_starts=False).items():
            pool[kind] += [v for v in values if v not in pool[kind]]
    return pools


def swap_question(row: QAExample, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    """The question with one mention replaced by another of its kind, or None.

    The swapped-out mention must appear in the paragraph (so the paragraph is
    about it) and the replacement must not (so the paragraph cannot answer the
    new question by chance): a plausible answer stays in front of the reader.
    """
    ctx = row.context.lower()
    found = mentions(row.question)
    for kind in ("date", "number", "entity"):
        for old in found[kind]:
            if old not in row.context or (kind == "entity" and (len(old) < 4 or old in _TITLES)):
                continue
            width = len(old.split())
            options = [
                v
                for v in pool.get(kind, [])
                if v.lower() not in ctx
                and v not in _TITLES
                and abs(len(v.split()) - width) <= 1
                and len(v.split()) <= 4
                and v.lower() not in old.lower()
                and old.lower() not in v.lower()
            ]
            if options:
                return row.question.replace(old, rng.choice(options), 1)
    return None


def make_entity_swaps(rows: list[QAExample], ratio: float, seed: int) -> list[QAExample]:
    """No-answer pairs: a question with a swapped name, number or date, over its own paragraph."""
    if ratio <= 0 or not rows:
        return []
    rng = random.Random(seed)
    pools = article_pools(rows)
    out: list[QAExample] = []
    for r in rng.sample(rows, min(len(rows), int(len(rows) * ratio))):
        q = swap_question(r, pools[r.title], rng)
        if q is not None:
            out.append(QAExample(q, r.context, r.title, None, None))
    return out


# -- negation / antonym flip --------------------------------------------------
_PAIRS = (
    "first last, largest smallest, biggest smallest, highest lowest, most least, earliest latest, "
    "oldest youngest, before after, longest shortest, best worst, increase decrease, "
    "increased decreased, won lost, win lose, north south, east west, northern southern, "
    "eastern western, maximum minimum, more less, major minor, above below, higher lower, "
    "larger smaller, top bottom, began ended, start end, started ended, opened closed, "
    "accepted rejected, supported opposed, success failure, legal illegal, public private, "
    "positive negative, rise fall, rose fell, male female, inside outside, early late"
)
ANTONYMS = {a: b for pair in _PAIRS.split(", ") for a, b in [pair.split()]}
ANTONYMS.update({b: a for a, b in list(ANTONYMS.items()) if b not in ANTONYMS})
_NEGATIONS = re.compile(r"\b(?:not|never|no|none|nor)\b|n't", re.I)
_AUX = re.compile(r"^(\w+) (is|was|are|were) (?!not\b)(?=[a-z])", re.I)
_DO_AUX = re.compile(r"^(\w+) (did|does|do) ((?:[A-Z][\w\-]* )+)(?=[a-z])")


def flip_antonym(question: str, context: str) -> str | None:
    """Swap one word for its antonym when the paragraph has the word and not the antonym."""
    ctx = context.lower()
    for m in re.finditer(r"[A-Za-z]+", question):
        word = m.group(0).lower()
        other = ANTONYMS.get(word)
        if other and re.search(rf"\b{word}\b", ctx) and not re.search(rf"\b{other}\b", ctx):
            return question[: m.start()] + other + question[m.end() :]
    return None


def negate(question: str) -> str | None:
    """Insert "not" after the auxiliary of a wh-question ("Who was not ...",
    "When did Chopin not ..."), or None when the question has no such shape."""
    m = _AUX.match(question)
    if m:
        return question[: m.end()] + "not " + question[m.end() :]
    m = _DO_AUX.match(question)
    if m:
        return question[: m.end()] + "not " + question[m.end() :]
    return None


def answer_sentence(row: QAExample) -> str:
    """The sentence of the context that holds the answer (the whole context if unknown)."""
    if row.answer_start is None:
        return row.context
    from qa.training.sentences import sentence_at

    a, b = sentence_at(row.context, row.answer_start, row.answer_start + len(row.answer_text or ""))
    return row.context[a:b]


def make_negation_flips(rows: list[QAExample], ratio: float, seed: int) -> list[QAExample]:
    """No-answer pairs: a flipped or negated question whose paragraph states the positive.

    Only rows whose answer sentence has no negation of its own qualify, so the
    paragraph really says the opposite of what the new question asks.
    """
    if ratio <= 0 or not rows:
        return []
    rng = random.Random(seed)
    out: list[QAExample] = []
    for r in rng.sample(rows, min(len(rows), int(len(rows) * ratio))):
        if _NEGATIONS.search(answer_sentence(r)) or _NEGATIONS.search(r.question):
            continue
        q = flip_antonym(r.question, r.context) or negate(r.question)
        if q is not None:
            out.append(QAExample(q, r.context, r.title, None, None))
    return out


# -- another paragraph of the same article ------------------------------------
def make_same_article_negatives(rows: list[QAExample], ratio: float, seed: int) -> list[QAExample]:
    """No-answer pairs: the question over another paragraph of its own article.

    The paragraph shares the article's names and topic, but must not contain
    any of the question's answer texts.
    """
    if ratio <= 0 or not rows:
        return []
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = {}
    for title, context in sorted({(r.title, r.context) for r in rows}):
        by_title.setdefault(title, []).append(context)
    out: list[QAExample] = []
    for r in rng.sample(rows, min(len(rows), int(len(rows) * ratio))):
        answers = [a.lower() for a in (r.answers or (r.answer_text,)) if a]
        others = [c for c in by_title[r.title] if c != r.context and not any(a in c.lower() for a in answers)]
        if others and answers:
            out.append(QAExample(r.question, rng.choice(others), r.title, None, None))
    return out


# -- all kinds together -------------------------------------------------------
@dataclass
class NegativeMix:
    """Share of the answerable questions turned into each generated kind.

    A share is of the questions tried; a kind whose conditions a question does
    not meet yields fewer pairs (see the data record of the log for counts).
    """

    entity_swap: float = 0.15
    negation: float = 0.1
    same_paragraph: float = 0.12
    same_article: float = 0.1
    other_article: float = 0.1
    #: Of the other-article pairs, the share that are the BM25 top hit of another article.
    hard_fraction: float = 0.5

    @classmethod
    def from_dict(cls, raw: dict | None) -> NegativeMix:
        return cls(**(raw or {}))

    @classmethod
    def everything(cls) -> NegativeMix:
        """Every question tried for every kind (held-out evaluation)."""
        return cls(1.0, 1.0, 1.0, 1.0, 1.0, 0.5)


def build_negatives(
    rows: list[QAExample], mix: NegativeMix, seed: int, squad20: Sequence[QAExample] = ()
) -> dict[str, list[QAExample]]:
    """Every kind of no-answer pair for ``rows``, keyed by kind (see ``KINDS``)."""
    return {
        "squad20": list(squad20),
        "entity_swap": make_entity_swaps(rows, mix.entity_swap, seed + 11),
        "negation": make_negation_flips(rows, mix.negation, seed + 12),
        "same_paragraph": make_same_paragraph_negatives(rows, mix.same_paragraph, seed + 13),
        "same_article": make_same_article_negatives(rows, mix.same_article, seed + 14),
        "other_article": make_negatives(rows, mix.other_article, mix.hard_fraction, seed + 15),
    }
