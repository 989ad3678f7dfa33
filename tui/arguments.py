"""Argument types of the ``newsdesk`` command line.

Each check is the engine's own (``qa.validation``, ``qa.retrievers.filters``)
wrapped so that argparse reports its one-line message and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from qa.textsafe import one_line


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block), exit status 2."""

    def error(self, message: str) -> Any:  # argparse's signature; never returns
        print(f"{self.prog}: error: {one_line(message, 300)}", file=sys.stderr)
        raise SystemExit(2)


def _checked(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from an engine check: the engine's one-line message becomes argparse's."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except ValueError as exc:  # InvalidInputError is a ValueError too
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _top_k(text: str) -> int:
    from qa.validation import check_top_k

    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"top-k must be a whole number, not {text[:40]!r}") from None
    return check_top_k(value)  # type: ignore[return-value]


def _threshold(text: str) -> float:
    from qa.validation import check_threshold

    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"threshold must be a number from 0 to 1, not {text[:40]!r}") from None
    return check_threshold(value)  # type: ignore[return-value]


def _date(text: str) -> str:
    from qa.retrievers.filters import date_bound

    date_bound(text, end=False)
    return text


TOP_K, THRESHOLD, DATE = _checked(_top_k), _checked(_threshold), _checked(_date)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.05 <= value <= 600:
        raise ValueError(f"seconds must be a number from 0.05 to 600, not {text[:40]!r}")
    return value


def _whole_number(name: str, low: int, high: int) -> Callable[[str], int]:
    """A check for a whole number from ``low`` to ``high``, its message naming ``name``."""

    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, not {text[:40]!r}")
        return value

    return check


def _shards(text: str) -> int:
    from qa.store.shards import check_shard_count

    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"shards must be a whole number, not {text[:40]!r}") from None
    return check_shard_count(value)


SECONDS, SHARDS = _checked(_seconds), _checked(_shards)
PORT, BATCH = _checked(_whole_number("port", 0, 65535)), _checked(_whole_number("batch", 1, 64))
REPLICAS, SHARD_GROUPS = _checked(_whole_number("replicas", 1, 256)), _checked(_whole_number("shard groups", 0, 256))
