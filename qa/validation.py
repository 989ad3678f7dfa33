"""Checks on numbers people pass in (``--top-k``, ``--threshold``), shared by the engine and the command line.

They raise ``InvalidInputError`` with one line, so a NaN threshold or a
top-k of zero is refused where it enters rather than surfacing as an empty
answer or a FAISS error later.
"""

from __future__ import annotations

import math

from qa.errors import InvalidInputError

#: More passages than this are never read for one question.
MAX_TOP_K = 1000


def check_top_k(value: object, *, name: str = "top-k") -> int | None:
    """None (use the default) or a whole number from 1 to MAX_TOP_K."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOP_K:
        raise InvalidInputError(f"{name} must be a whole number from 1 to {MAX_TOP_K}, not {str(value)[:40]}")
    return value


def check_threshold(value: object, *, name: str = "threshold") -> float | None:
    """None (use the tuned or shipped one) or a number from 0 to 1."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0.0 <= value <= 1.0
    ):
        raise InvalidInputError(f"{name} must be a number from 0 to 1, not {str(value)[:40]}")
    return float(value)
