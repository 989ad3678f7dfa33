"""Counts for the reliability summary printed at the end of a test run."""

from collections import Counter

COUNTS: Counter = Counter()


def tried(kind: str, n: int = 1) -> None:
    """kind: 'hostile inputs', 'faults injected', 'crashes', 'articles lost'."""
    COUNTS[kind] += n
