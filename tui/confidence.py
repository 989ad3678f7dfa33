"""One rule for confidence labels, shared by the chat, its exports and the command line.

Kept free of Textual so that ``newsdesk ask`` does not load the chat's toolkit.
"""

from __future__ import annotations

#: Cut-offs of the confidence labels, in whole percent as shown beside the label.
#: The reader's confidence is calibrated (0.8 is right about 80% of the time), so
#: "high" starts where answers are right three times in four and "low" below
#: where they are wrong more often than right. The label is decided on the shown
#: percentage, so 75% always reads "high", whatever the digits behind it.
HIGH_FROM = 75
MEDIUM_FROM = 45


def confidence_percent(confidence: float) -> int:
    """The whole percentage shown for ``confidence`` (clamped to 0..100)."""
    return round(min(max(confidence, 0.0), 1.0) * 100)


def confidence_words(confidence: float) -> str:
    """The one rule for confidence labels: "high", "medium" or "low" (see ``HIGH_FROM``)."""
    percent = confidence_percent(confidence)
    if percent >= HIGH_FROM:
        return "high"
    if percent >= MEDIUM_FROM:
        return "medium"
    return "low"


def confidence_bar(confidence: float, cells: int = 5) -> str:
    percent = confidence_percent(confidence)
    filled = min(cells, max(1 if percent > 0 else 0, round(percent * cells / 100)))
    return "▮" * filled + "▯" * (cells - filled)


def confidence_label(confidence: float) -> str:
    """E.g. ``high ▮▮▮▮▯ 82%``: label, bar and number all from the same shown percentage."""
    return f"{confidence_words(confidence)} {confidence_bar(confidence)} {confidence_percent(confidence)}%"
