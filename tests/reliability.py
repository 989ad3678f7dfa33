"""Counts for the reliability summary printed at the end of a test run."""

from collections import Counter

COUNTS: Counter = Counter()


def tried(kind: str, n: int = 1) -> None:
    """kind: 'hostile inputs', 'faults injected', 'crashes', 'articles lost'."""
    COUNTS[kind] += n


class guard:
    """Count an unexpected exception as a crash (and let it fail the test)."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not issubclass(exc_type, AssertionError):
            COUNTS["crashes"] += 1
        return False
