"""What a turn of a conversation talks about: people, groups, organisations, things, places and times.

Each turn (its self-contained question and its answer) yields its mentions in
order of salience, which is the order a pronoun looks at them in:

1. the answer when the question asked for it: "who" (a person, or a group
   when it names several), "which company" (an organisation), "where" (a
   place), "when" (a time), and "what/which ... did X do" (a thing: what the
   question asked about is what the next turn most likely calls "it");
2. the subject of the question (the words right after its auxiliary: "What
   did *the Central Bank* decide?") or, in "how many N", the N;
3. the other names and noun phrases of the question, left to right;
4. the answer to a question whose subject was "what" ("What caused the
   wildfire?": the topic stays the wildfire, the cause comes after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.rewrite import words as W

PERSON, GROUP, ORG, THING, PLACE, TIME = "person", "group", "org", "thing", "place", "time"

_NAME = re.compile(r"(?<![\w'’])([A-Z][\w’'.-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w’'.-]*)*)")
_TOKEN = re.compile(r"[\w’'%,.-]*\w|[\w]")
_DATES = "|".join(sorted((d.capitalize() for d in W.DAYS | W.MONTHS), key=len, reverse=True))
_TIME = re.compile(
    r"\b(?:on|in|since|by|until|last|this|next)\s+(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
    rf"(?:{_DATES})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:\s+\d{{4}})?\b|\bin\s+\d{{4}}\b"
)


@dataclass(frozen=True)
class Mention:
    """Something a later pronoun can point at, and what kind of thing it is."""

    text: str
    kind: str
    gender: str | None = None
    plural: bool = False


def _gender(name: str) -> str | None:
    words = [w.lower().rstrip(".") for w in name.split()]
    for w in words:
        if w in W.MALE_TITLES:
            return "m"
        if w in W.FEMALE_TITLES:
            return "f"
    first = next((w for w in words if w not in W.TITLES and w != "the"), "")
    return "m" if first in W.MALE_NAMES else "f" if first in W.FEMALE_NAMES else None


def is_time_word(word: str) -> bool:
    return word.lower() in W.DAYS or word.lower() in W.MONTHS


#: What follows "X's" when X is a place ("Westmark's police chief", "Ukraine's grain"); otherwise X's is a person's.
_PLACE_OWNED = {
    "mayor",
    "police",
    "government",
    "capital",
    "economy",
    "city",
    "port",
    "council",
    "governor",
    "president",
    "prime",
    "army",
    "population",
    "coast",
    "border",
    "parliament",
    "grain",
    "exports",
    "imports",
    "streets",
    "schools",
    "hospitals",
    "harbour",
    "harbor",
    "airport",
    "residents",
    "people",
    "largest",
    "biggest",
}


def classify_name(text: str, before: str = "", after: str = "") -> Mention:
    """A capitalised name as a person, organisation or place, from its own words and the words around it."""
    words = text.split()
    last = words[-1].lower().strip(".’'")
    if before.lower() == "the" or last in W.ORG_WORDS or (words[-1].isupper() and len(words[-1]) > 1):
        full = text if text.lower().startswith("the ") or before.lower() != "the" else f"the {text}"
        return Mention(full, ORG)
    if text.endswith(("'s", "’s")):
        owned = (after.split()[:1] or [""])[0].lower().strip("?,.")
        if owned in _PLACE_OWNED:
            return Mention(text[:-2], PLACE)
        return Mention(text[:-2], PERSON, _gender(text[:-2]))
    if before.lower() in ("in", "at", "near", "from", "to", "across", "into") and len(words) <= 2:
        return Mention(text, PLACE)
    return Mention(text, PERSON, _gender(text))


def classify_answer(answer: str) -> Mention | None:
    """The answer of a "who"/"which" question as a mention (several names make a group)."""
    text = answer.strip().rstrip(".")
    if not text or len(text.split()) > 8:
        return None
    if re.search(r"\band\b|,", text):
        return Mention(text, PERSON, plural=True)
    lead = re.match(r"^(?:the\s+)?(?:[a-z]+\s+)*", text)
    rest = text[lead.end() :] if lead and not text.lower().startswith("the ") else text
    if text.lower().startswith("the "):
        return classify_name(text[4:], "the") if text[4:5].isupper() else noun_phrase_mention(text)
    return classify_name(text) if rest[:1].isupper() else noun_phrase_mention(text)


def noun_phrase_mention(text: str) -> Mention:
    """A noun phrase by its head, the last word before any "of/to/on ..." ("the proposal to swap prisoners")."""
    words = text.split()
    cut = next((i for i, w in enumerate(words[1:], 1) if w.lower() in W.PREPS), len(words))
    head = words[cut - 1].lower()
    if head in W.PEOPLE_PLURALS or (head.endswith(W.PEOPLE_SUFFIXES) and len(head) > 5):
        return Mention(text, GROUP, plural=True)
    if head in W.ORG_NOUNS:
        return Mention(text, ORG)
    plural = head.endswith("s") and not head.endswith(("ss", "us", "is", "ics"))
    return Mention(text, THING, plural=plural)


def _np_end(tokens: list[str], i: int) -> int:
    """Index after the last word of the noun phrase whose first content word is tokens[i]."""
    j, n = i, len(tokens)
    while j < n:
        w = tokens[j]
        low = w.lower()
        if low in W.FUNCTION or (j > i and (low in W.VERBS or low.endswith(("ly", "less", "ous", "ful")))):
            if low in ("of", "on", "for", "in") and j + 1 < n and j > i and _content(tokens[j + 1]):
                j += 1
                continue
            break
        if j > i and low.endswith("ed") and not w[0].isupper():
            break
        j += 1
        if w.islower() and (low in W.PEOPLE_PLURALS or (low.endswith(W.PEOPLE_SUFFIXES) and len(low) > 5)):
            break  # "the farmers block ...": what follows a plural of people is its verb
    return j


def _content(word: str) -> bool:
    low = word.lower()
    return low not in W.FUNCTION and low not in W.VERBS and low[:1].isalnum() and not is_time_word(word)


def _opens_phrase(word: str) -> bool:
    """After "the", a verb form is a noun ("the call", "the strike")."""
    return word.lower() not in W.FUNCTION and word[:1].isalnum() and not is_time_word(word)


def noun_phrases(question: str) -> list[tuple[int, Mention]]:
    """Noun phrases that open with the/a/an ("the call", "a ban on short-term rentals"), with their positions."""
    tokens = [(m.group(0), m.start()) for m in _TOKEN.finditer(question)]
    words = [t for t, _ in tokens]
    out = []
    for i, (w, pos) in enumerate(tokens):
        if w.lower() in ("the", "a", "an") and i + 1 < len(words) and _opens_phrase(words[i + 1]):
            end = _np_end(words, i + 1)
            phrase = question[pos : tokens[end - 1][1] + len(words[end - 1])].rstrip(",.")
            if end > i + 1:
                out.append((pos, noun_phrase_mention(phrase)))
    bare = re.search(r"\b(?:on|over)\s+([a-z]{4,})\s*\??$", question)
    if bare and bare.group(1) not in W.FUNCTION:
        out.append((bare.start(1), Mention(f"the {bare.group(1)}", THING)))
    return out


def names(question: str) -> list[tuple[int, Mention]]:
    """Capitalised names in a question, classified; the question word and modifiers inside a phrase are left out."""
    out = []
    for m in _NAME.finditer(question):
        text, start = m.group(1), m.start(1)
        words = text.split()
        while words and (words[0].lower() in W.FUNCTION or is_time_word(words[0])):
            start += len(words[0]) + 1
            words = words[1:]
        while words and is_time_word(words[-1]):
            words = words[:-1]
        if not words:
            continue
        text = " ".join(words)
        before = question[:start].split()[-1:] or [""]
        after = question[start + len(text) :].lstrip()
        if (
            before[0].lower() == "the"
            and after[:1].islower()
            and not after.startswith(("and", "or"))
            and after.split()[0].lower() not in W.VERBS | W.FUNCTION
        ):
            continue  # "the Riverside bridge": a modifier inside a noun phrase
        out.append((start if before[0].lower() != "the" else start - 4, classify_name(text, before[0], after)))
    return out


def times(question: str) -> list[Mention]:
    return [Mention(m.group(0), TIME) for m in _TIME.finditer(question)]
