"""Turning files and folders into Articles.

``convert_paths`` walks the given files and folders, picks a converter by
extension, and never stops on a bad file: it is skipped, named, and counted
in the returned ``ConversionReport``. Only a broken install stops it (a
``NewsdeskError`` naming the fix), since every file of that kind would fail.
RSS/Atom feed files and http(s) URLs (feeds or article pages) are read by
``qa.converters.feeds``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.converters import feeds, files
from qa.converters.fetch import is_url
from qa.converters.files import Skipped, bounded_lines, open_regular, read_regular, reason_of
from qa.converters.formats import (
    BadArticle,
    parse_html,
    parse_json,
    parse_jsonl,
    parse_markdown,
    parse_plain,
)
from qa.converters.text import MAX_FILE_BYTES, NotText, decode_bytes
from qa.errors import NewsdeskError
from qa.types import Article

__all__ = ["SUPPORTED", "ConversionReport", "Skipped", "convert_file", "convert_paths", "iter_files"]

log = logging.getLogger("qa.converters")

TEXT_EXT = {".txt", ".text", ""}
MARKDOWN_EXT = {".md", ".markdown"}
HTML_EXT = {".html", ".htm", ".xhtml"}
JSON_EXT = {".json"}
JSONL_EXT = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_EXT | MARKDOWN_EXT | HTML_EXT | JSON_EXT | JSONL_EXT | feeds.FEED_EXT


@dataclass
class ConversionReport:
    """What happened to each file: articles made, files and folders skipped and why."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_read: int = 0


def iter_files(
    paths: Iterable[str | Path], follow_symlinks: bool = False, report: ConversionReport | None = None
) -> Iterator[Path]:
    """Regular article files under ``paths``, recursively, sorted, without leaving the roots.

    Symbolic links are not followed out of a given folder (nor into loops)
    unless ``follow_symlinks`` is set; hidden files and folders are ignored;
    pipes, devices and sockets are skipped, never opened.
    """
    skip = report.skipped.append if report is not None else (lambda s: None)
    return files.iter_files(paths, suffixes=SUPPORTED, follow_symlinks=follow_symlinks, skip=skip)


def convert_file(path: Path, report: ConversionReport) -> list[Article]:
    """Articles of one file; raises BadArticle/NotText/OSError on a bad file."""
    ext = path.suffix.lower()
    if ext in JSONL_EXT:
        with open_regular(path) as fh:
            return parse_jsonl(_iter_lines(fh, path, report), str(path), report.warnings.append)
    data, size = read_regular(path, limit=MAX_FILE_BYTES + 1)
    if not data.strip():
        raise BadArticle("empty file")
    if ext in feeds.FEED_EXT or ext == ".xml":
        if len(data) > MAX_FILE_BYTES:
            raise BadArticle(f"feed file over {MAX_FILE_BYTES // 2**20} MB")
        return feeds.parse_feed(data, source=str(path), report=report)
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


def _iter_lines(fh, path: Path, report: ConversionReport) -> Iterator[str]:
    """Stream a JSONL file line by line; no line is held past the file size cap."""
    limit = MAX_FILE_BYTES

    def too_long(n: int) -> None:
        report.warnings.append(f"{path}:{n}: skipped line: longer than {limit / 2**20:.3g} MB")

    for raw in bounded_lines(fh, limit=limit, too_long=too_long):
        try:
            yield decode_bytes(raw)[0] if raw.strip() else ""
        except NotText:
            yield "\x00"  # reported as a malformed line


def convert_paths(paths: Iterable[str | Path], follow_symlinks: bool = False) -> ConversionReport:
    """Read every supported file under ``paths`` (and each http(s) URL); bad ones are skipped and named."""
    paths = list(paths)
    report = ConversionReport()
    for path in iter_files([p for p in paths if not is_url(p)], follow_symlinks, report):
        report.files_read += 1
        try:
            report.articles.extend(convert_file(path, report))
        except NewsdeskError:
            raise  # a broken install: every file of this kind would fail the same way
        except (BadArticle, NotText) as exc:
            report.skipped.append(Skipped(str(path), str(exc)))
        except OSError as exc:
            report.skipped.append(Skipped(str(path), reason_of(exc)))
        except Exception as exc:  # a converter bug must not stop the whole folder
            report.skipped.append(Skipped(str(path), f"could not parse ({type(exc).__name__})"))
    for url in filter(is_url, paths):
        try:
            report.articles.extend(feeds.convert_url(url, report=report))
        except NewsdeskError:
            raise
        except Exception as exc:  # a parser bug must not stop the other addresses
            report.skipped.append(Skipped(url, f"could not parse ({type(exc).__name__})"))
    for s in report.skipped:
        log.warning("%s", s)
    for w in report.warnings:
        log.warning("%s", w)
    return report
