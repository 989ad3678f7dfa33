"""Where Newsdesk finds what it ships (the reader, the bundled articles) and keeps its data.

The same code runs from a source checkout, an editable install and an
installed wheel, so each resource is looked up in one documented order:

1. an explicit argument (``--reader``, ``Assistant(reader=...)``);
2. an environment variable (``NEWSDESK_READER``, ``NEWSDESK_SEEDS``);
3. the user data folder (``NEWSDESK_HOME``, else the platform's, e.g.
   ``~/.local/share/newsdesk``): ``models/reader`` and ``seeds`` there;
4. the package data of an installed wheel (``qa/_bundled/``);
5. the source checkout (``models/reader`` and ``seeds`` beside ``qa/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from qa.errors import NewsdeskError

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_CHECKOUT = _PACKAGE_DIR.parent


class ResourceNotFound(NewsdeskError):
    """A shipped resource (the reader or the bundled articles) is nowhere to be found."""


def data_home() -> Path:
    """The per-user data folder: ``NEWSDESK_HOME`` if set, else the platform's."""
    if os.environ.get("NEWSDESK_HOME"):
        return Path(os.environ["NEWSDESK_HOME"])
    from platformdirs import user_data_dir

    return Path(user_data_dir("newsdesk", appauthor=False))


def default_index_dir() -> Path:
    """The index used when no ``--index`` is given."""
    return data_home() / "index"


def _search(name: str, *, explicit: str | Path | None, env: str, relative: str, marker: str) -> Path:
    candidates: list[tuple[str, Path]] = []
    if explicit:
        return Path(explicit)
    if os.environ.get(env):
        return Path(os.environ[env])
    candidates += [
        ("user data folder", data_home() / relative),
        ("package data", _BUNDLED / Path(relative).name),
        ("source checkout", _CHECKOUT / relative),
    ]
    for _, path in candidates:
        if (path / marker).exists() if marker else path.is_dir() and any(path.iterdir()):
            return path
    looked = ", ".join(str(p) for _, p in candidates)
    raise ResourceNotFound(f"cannot find the {name} (looked in {looked}); set {env} to its folder")


def reader_path(explicit: str | Path | None = None) -> Path:
    """The reader model folder, by the search order above."""
    return _search(
        "reader model", explicit=explicit, env="NEWSDESK_READER", relative="models/reader", marker="config.json"
    )


def seeds_path(explicit: str | Path | None = None) -> Path:
    """The bundled articles folder, by the search order above."""
    return _search("bundled articles", explicit=explicit, env="NEWSDESK_SEEDS", relative="seeds", marker="")
