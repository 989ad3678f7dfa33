"""The help screen's key table, read from the bindings themselves.

The keys the app binds are the only list of keys: a binding with a
``tooltip`` is a key for people, and its tooltip is what the help screen (and
the README, checked by a test) says it does. Adding or changing a binding
changes the help with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding

_NAMES = {"escape": "Escape", "enter": "Enter", "up": "Up", "down": "Down", "ctrl": "Ctrl", "shift": "Shift"}


def key_name(key: str) -> str:
    """``ctrl+up`` -> ``Ctrl+Up``, ``f2`` -> ``F2``."""
    return "+".join(_NAMES.get(part, part.upper() if len(part) <= 3 else part.capitalize()) for part in key.split("+"))


def joined(keys: list[str]) -> str:
    """Keys of one row: ``Ctrl+Up / Down`` when they share a modifier, else ``F6 / Ctrl+O``."""
    names = [key_name(k) for k in keys]
    prefix = names[0].rpartition("+")[0]
    if prefix and all(n.rpartition("+")[0] == prefix for n in names):
        return " / ".join([names[0], *(n.rpartition("+")[2] for n in names[1:])])
    return " / ".join(names)


def described(holders: Iterable[type]) -> list[Binding]:
    """Bindings with a tooltip, declared directly on each of ``holders``, in order."""
    out: list[Binding] = []
    for holder in holders:
        for binding in holder.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.tooltip:
                out.extend(
                    Binding(key.strip(), binding.action, binding.description, tooltip=binding.tooltip)
                    for key in binding.key.split(",")
                )
    return out


def key_table(holders: Iterable[type]) -> list[tuple[str, str]]:
    """(keys, what they do) rows; bindings in a row share one tooltip and sit next to each other."""
    rows: list[tuple[list[str], str]] = []
    for binding in described(holders):
        if rows and rows[-1][1] == binding.tooltip:
            rows[-1][0].append(binding.key)
        else:
            rows.append(([binding.key], binding.tooltip))
    return [(joined(keys), what) for keys, what in rows]
