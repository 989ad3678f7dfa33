"""The metadata table of a generation: articles, passage offsets and wire-copy groups, in SQLite.

Passage text is not stored: it is sliced from its article's text on load,
so text lives once. A passage's ``row`` is its place in the whole index's
order: in an unsharded index that is its vector row (0, 1, 2...); in a
shard it is its place among every shard's passages, so that ties across
shards break as they would in one index (``qa.store.shards``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from qa.errors import IndexError_
from qa.types import Article, Passage

#: Article fields as stored in the metadata table, in column order.
ARTICLE_COLUMNS = ("id", "title", "text", "date", "section", "url", "path")


def read_metadata(path: Path, *, hint: str) -> tuple[dict[str, Article], list[Passage], dict[str, str], np.ndarray]:
    """Articles, passages in row order, wire groups and each passage's row (its order key)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            articles = {}
            for row in con.execute(f"SELECT {','.join(ARTICLE_COLUMNS)} FROM articles"):
                articles[row[0]] = Article(**dict(zip(ARTICLE_COLUMNS, row)))
            passages, order = [], []
            for r, pid, aid, s, e in con.execute("SELECT row,id,article_id,start,end FROM passages ORDER BY row"):
                passages.append(Passage(id=pid, article_id=aid, start=s, end=e, text=articles[aid].text[s:e]))
                order.append(r)
            groups = {}
            if con.execute("SELECT 1 FROM sqlite_master WHERE name='wire_groups'").fetchone():
                groups = dict(con.execute("SELECT article_id, group_id FROM wire_groups"))
        finally:
            con.close()
    except (sqlite3.DatabaseError, KeyError) as exc:
        raise IndexError_(f"index metadata {path} is corrupt: {hint}") from exc
    return articles, passages, groups, np.asarray(order, dtype=np.int64)


def write_metadata(
    path: Path,
    articles: dict[str, Article],
    passages: list[Passage],
    groups: dict[str, str],
    order: np.ndarray | None = None,
) -> None:
    """The metadata file; ``order`` gives each passage's row (default: 0, 1, 2... as in an unsharded index)."""
    rows = range(len(passages)) if order is None else (int(r) for r in order)
    con = sqlite3.connect(path)
    try:
        con.executescript(
            "CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT, text TEXT, date TEXT,"
            " section TEXT, url TEXT, path TEXT);"
            "CREATE TABLE passages (row INTEGER PRIMARY KEY, id TEXT, article_id TEXT,"
            " start INTEGER, end INTEGER);"
            "CREATE TABLE wire_groups (article_id TEXT PRIMARY KEY, group_id TEXT);"
        )
        con.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?)",
            ((a.id, a.title, a.text, a.date, a.section, a.url, a.path) for a in articles.values()),
        )
        con.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?)",
            ((i, p.id, p.article_id, p.start, p.end) for i, p in zip(rows, passages)),
        )
        con.executemany("INSERT INTO wire_groups VALUES (?,?)", ((a, g) for a, g in groups.items() if a in articles))
        con.commit()
    finally:
        con.close()
