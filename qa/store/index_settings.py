"""Settings kept with one index folder (``newsdesk_settings.json``).

The no-answer threshold tuned on a person's own gold questions belongs to
their index, not to the shipped model: ``newsdesk eval --tune-threshold``
writes it here and every Assistant opened on the folder reads it back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SETTINGS_FILE = "newsdesk_settings.json"


def read_settings(index_dir: str | Path) -> dict[str, Any]:
    """The folder's settings, or {} when there are none or they cannot be read."""
    try:
        data = json.loads((Path(index_dir) / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_threshold(index_dir: str | Path, threshold: float, info: dict[str, Any] | None = None) -> Path:
    """Write the tuned no-answer threshold (other keys in the file are kept), atomically."""
    p = Path(index_dir) / SETTINGS_FILE
    data = read_settings(index_dir)
    data["no_answer_threshold"] = float(threshold)
    if info:
        data["tuned_on"] = info
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p


def load_threshold(index_dir: str | Path) -> float | None:
    """The threshold saved by ``save_threshold``, or None."""
    value = read_settings(index_dir).get("no_answer_threshold")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        return None
    return float(value)
