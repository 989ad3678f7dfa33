"""The two Ray Data stages of distributed indexing, as plain functions of pandas batches.

Rows carry one article each (``kind`` "article"), or a file that was
skipped, a warning, or a broken install ("skipped", "warning", "fatal"),
tagged with the file's number and a sequence so the driver can put
everything back in the order a single process reads it. Passages travel
as (start, end) offsets into the article text and vectors as packed
float32 bytes: no pickle, and nothing sent twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qa.converters import ConversionReport, convert_file
from qa.converters.files import Skipped, reason_of
from qa.converters.formats import BadArticle
from qa.converters.text import NotText
from qa.errors import NewsdeskError
from qa.types import Article, Passage

COLUMNS = ("file_no", "seq", "kind", "payload", "vectors")


@lru_cache(maxsize=4)
def _splitter(reader: str, passage_tokens: int):
    """One splitter per worker process (the tokenizer loads once, not once per batch)."""
    from qa.preprocessors.splitter import PassageSplitter
    from qa.readers.extractive import load_tokenizer

    return PassageSplitter(max_tokens=passage_tokens, tokenizer=load_tokenizer(reader))


def convert_and_split(batch: pd.DataFrame, *, reader: str, passage_tokens: int, known: frozenset[str]) -> pd.DataFrame:
    """Files (``file_no``, ``path``) → article rows with their passage offsets.

    Articles already in the index (``known`` ids) are not split: the
    driver keeps their old passages and vectors, as a local run does.
    """
    rows: list[dict[str, Any]] = []
    for file_no, path in zip(batch["file_no"], batch["path"]):
        report = ConversionReport()
        add = _adder(rows, int(file_no))
        try:
            articles = convert_file(Path(path), report)
        except NewsdeskError as exc:  # a broken install: every file of the kind fails alike
            add("fatal", str(exc))
            continue
        except (BadArticle, NotText) as exc:
            add("skipped", json.dumps([path, str(exc)]))
            continue
        except OSError as exc:
            add("skipped", json.dumps([path, reason_of(exc)]))
            continue
        except Exception as exc:  # a converter bug must not stop the whole folder
            add("skipped", json.dumps([path, f"could not parse ({type(exc).__name__})"]))
            continue
        for w in report.warnings:
            add("warning", w)
        for s in report.skipped:
            add("skipped", json.dumps([s.path, s.reason]))
        for a in articles:
            spans = None if a.id in known else [[p.start, p.end] for p in _splitter(reader, passage_tokens).run(a)]
            add("article", json.dumps({"article": asdict(a), "spans": spans}))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _adder(rows: list[dict[str, Any]], file_no: int):
    def add(kind: str, payload: str) -> None:
        rows.append({"file_no": file_no, "seq": len(rows), "kind": kind, "payload": payload, "vectors": b""})

    return add


class Embed:
    """The embedding stage: one model per actor, loaded once, reused for every batch."""

    def __init__(self, *, model: str, precision: str, threads: int):
        import torch

        from qa.embedders.sentence_transformer import SentenceTransformerEmbedder

        torch.set_num_threads(max(1, threads))
        self.embedder = SentenceTransformerEmbedder(model, precision=precision)
        self.embedder.warm_up()

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        texts: list[str] = []
        owners: list[tuple[int, int]] = []  # (row, passages) per article row that was split
        for i, (kind, payload) in enumerate(zip(batch["kind"], batch["payload"])):
            if kind != "article":
                continue
            data = json.loads(payload)
            if data["spans"] is None:
                continue
            text = data["article"]["text"]
            texts.extend(text[a:b] for a, b in data["spans"])
            owners.append((i, len(data["spans"])))
        vectors = self.embedder.run(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        out = batch.copy()
        packed = list(out["vectors"])
        lo = 0
        for i, n in owners:
            packed[i] = np.ascontiguousarray(vectors[lo : lo + n], dtype="<f4").tobytes()
            lo += n
        out["vectors"] = packed
        return out


def article_of(payload: dict[str, Any]) -> Article:
    return Article(**payload["article"])


def passages_of(article: Article, spans: list[list[int]]) -> list[Passage]:
    """The passages a local splitter makes, rebuilt from their offsets (same ids, same text)."""
    return [
        Passage(id=f"{article.id}:{n}", article_id=article.id, start=a, end=b, text=article.text[a:b])
        for n, (a, b) in enumerate(spans)
    ]


def skipped_of(payload: str) -> Skipped:
    path, reason = json.loads(payload)
    return Skipped(path, reason)
