"""Turning files and folders into Articles.

``convert_paths`` walks the given files and folders, picks a converter by
extension, and never stops on a bad file: it is skipped, named, and counted
in the returned ``ConversionReport``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from qa.converters.formats import (
    BadArticle,
    parse_html,
    parse_json,
    parse_jsonl,
    parse_markdown,
    parse_plain,
)
from qa.converters.text import MAX_FILE_BYTES, NotText, decode_bytes
from qa.types import Article

log = logging.getLogger("qa.converters")

TEXT_EXT = {".txt", ".text", ""}
MARKDOWN_EXT = {".md", ".markdown"}
HTML_EXT = {".html", ".htm", ".xhtml"}
JSON_EXT = {".json"}
JSONL_EXT = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_EXT | MARKDOWN_EXT | HTML_EXT | JSON_EXT | JSONL_EXT


@dataclass
class Skipped:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


@dataclass
class ConversionReport:
    """What happened to each file: articles made, files skipped and why."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_read: int = 0


def iter_files(paths: Iterable[str | Path], follow_symlinks: bool = False,
               report: ConversionReport | None = None) -> Iterator[Path]:
    """Files under ``paths``, recursively, sorted, without leaving the given roots.

    Symbolic links are not followed out of a given folder (nor into loops)
    unless ``follow_symlinks`` is set; hidden files and folders are ignored.
    """
    for raw in paths:
        root = Path(raw)
        if root.is_file():
            yield root
            continue
        if not root.is_dir():
            if report is not None:
                report.skipped.append(Skipped(str(root), "no such file or folder"))
            continue
        real_root = root.resolve()
        seen_dirs: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_symlinks):
            real = os.path.realpath(dirpath)
            if real in seen_dirs:
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                p = Path(dirpath) / name
                if p.is_symlink() and not follow_symlinks:
                    target = Path(os.path.realpath(p))
                    if not target.is_relative_to(real_root):
                        if report is not None:
                            report.skipped.append(Skipped(str(p), "symbolic link out of the folder"))
                        continue
                if p.suffix.lower() in SUPPORTED:
                    yield p


def convert_file(path: Path, report: ConversionReport) -> list[Article]:
    """Articles of one file; raises BadArticle/NotText/OSError on a bad file."""
    ext = path.suffix.lower()
    size = path.stat().st_size
    if ext in JSONL_EXT:
        return parse_jsonl(_iter_lines(path), str(path), report.warnings.append)
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if not data.strip():
        raise BadArticle("empty file")
    if len(data) > MAX_FILE_BYTES:
        if ext in JSON_EXT:
            raise BadArticle(f"JSON file over {MAX_FILE_BYTES // 2**20} MB (use JSONL)")
        data = data[:MAX_FILE_BYTES]
        report.warnings.append(f"{path}: cut to the first {MAX_FILE_BYTES // 2**20} MB of {size // 2**20} MB")
    text, _enc = decode_bytes(data)
    if ext in MARKDOWN_EXT:
        return parse_markdown(text, str(path))
    if ext in HTML_EXT:
        return parse_html(text, str(path))
    if ext in JSON_EXT:
        return parse_json(text, str(path))
    return parse_plain(text, str(path))


def _iter_lines(path: Path) -> Iterator[str]:
    """Stream a JSONL file line by line so memory stays bounded."""
    with open(path, "rb") as fh:
        for raw in fh:
            if len(raw) > MAX_FILE_BYTES:
                yield "\x00"  # reported as a malformed line
                continue
            try:
                yield decode_bytes(raw)[0] if raw.strip() else ""
            except NotText:
                yield "\x00"


def convert_paths(paths: Iterable[str | Path], follow_symlinks: bool = False) -> ConversionReport:
    """Read every supported file under ``paths``; bad files are skipped and named."""
    report = ConversionReport()
    for path in iter_files(paths, follow_symlinks, report):
        report.files_read += 1
        try:
            report.articles.extend(convert_file(path, report))
        except (BadArticle, NotText) as exc:
            report.skipped.append(Skipped(str(path), str(exc)))
        except PermissionError:
            report.skipped.append(Skipped(str(path), "permission denied"))
        except OSError as exc:
            report.skipped.append(Skipped(str(path), exc.strerror or type(exc).__name__))
        except Exception as exc:  # a converter bug must not stop the whole folder
            report.skipped.append(Skipped(str(path), f"could not parse ({type(exc).__name__})"))
    for s in report.skipped:
        log.warning("%s", s)
    for w in report.warnings:
        log.warning("%s", w)
    return report
