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


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise ValueError(f"port must be a whole number from 0 to 65535, not {text[:40]!r}")
    return value


def _batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise ValueError(f"batch must be a whole number from 1 to 64, not {text[:40]!r}")
    return value


def _replicas(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        raise ValueError(f"replicas must be a whole number from 1 to 256, not {text[:40]!r}")
    return value


def _shard_groups(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 256:
        raise ValueError(f"shard groups must be a whole number from 0 to 256, not {text[:40]!r}")
    return value


def _shards(text: str) -> int:
    from qa.store.shards import check_shard_count

    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"shards must be a whole number, not {text[:40]!r}") from None
    return check_shard_count(value)


SECONDS, PORT, BATCH, REPLICAS = _checked(_seconds), _checked(_port), _checked(_batch), _checked(_replicas)
SHARDS, SHARD_GROUPS = _checked(_shards), _checked(_shard_groups)
