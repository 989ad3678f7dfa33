"""Hostile inputs on the way in: whole texts kept, unreadable places kept, no hangs.

Tests run as root in CI, where file modes do not stop reads, so permission
denied is injected by wrapping the lowest-level calls (``os.open`` for files,
``os.scandir`` for folders) for one path only.
"""

import json
import os
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest

from qa import Assistant
from qa.converters import convert_paths
from qa.converters.formats import parse_plain
from qa.errors import MissingDependencyError, NewsdeskError
from tests.reliability import guard, tried

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "The council voted on Tuesday to reopen the harbour bridge. "


# -- 1. a text file without line breaks ---------------------------------------------

def test_single_line_article_is_kept_whole(tmp_path):
    body = SENTENCE + "Residents said the vote came after months of delay. " * 2000
    (tmp_path / "oneline.txt").write_text(body.strip())
    with guard():
        r = convert_paths([tmp_path])
    tried("hostile inputs")
    art = r.articles[0]
    tried("articles lost", int(len(art.text) < len(body.strip())))
    assert art.text == body.strip()
    assert art.title == SENTENCE.strip()


def test_long_first_line_is_body_not_headline():
    first = "Word " * 200 + "ends here. Then more."
    arts = parse_plain(first + "\nSecond paragraph stays.", "x.txt")
    tried("hostile inputs")
    assert first in arts[0].text and "Second paragraph stays." in arts[0].text
    assert len(arts[0].title) <= 200 and arts[0].text.startswith(arts[0].title)


# -- 2. missing or unreadable places keep their articles --------------------------------

def write_docs(folder: Path, n: int, prefix: str = "Story") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{prefix.lower()}{i}.txt").write_text(
            f"{prefix} {i} headline\nThe council met on day {i} and voted {i} to {i + 1}.")


@pytest.fixture()
def library(tmp_path):
    """An index of docs/ (3 articles) and docs/sub/ (2 articles)."""
    docs = tmp_path / "docs"
    write_docs(docs, 3)
    write_docs(docs / "sub", 2, prefix="Sub")
    assistant = Assistant.from_paths([docs], index_dir=tmp_path / "idx")
    assert len(assistant.articles()) == 5
    return assistant, docs


def deny(monkeypatch, owner, name: str, target: Path) -> None:
    """Make ``owner.<name>`` (``os.scandir``, ``os.open``...) raise PermissionError for ``target`` only."""
    real = getattr(owner, name)

    def wrapped(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and os.fspath(path) == str(target):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)


def count_after(assistant: Assistant, docs: Path, expected: int):
    with guard():
        report = assistant.index([docs])
    n = len(Assistant.open(assistant.index_dir).articles())
    tried("articles lost", max(expected - n, 0))
    return report, n


def test_missing_root_keeps_its_articles(library, tmp_path):
    assistant, docs = library
    docs.rename(tmp_path / "unmounted")
    tried("faults injected")
    report, n = count_after(assistant, docs, 5)
    assert n == 5 and report.removed == 0 and report.kept == 5
    assert any(str(docs) in w and "kept" in w and "\n" not in w for w in report.warnings)


def test_missing_file_root_keeps_its_article(library, tmp_path):
    assistant, docs = library
    one = docs / "story0.txt"
    one.rename(tmp_path / "elsewhere.txt")
    tried("faults injected")
    with guard():
        report = assistant.index([one])
    n = len(Assistant.open(assistant.index_dir).articles())
    tried("articles lost", 5 - n)
    assert n == 5 and report.removed == 0 and report.kept == 1


def test_unreadable_root_keeps_its_articles(library, monkeypatch):
    assistant, docs = library
    deny(monkeypatch, os, "scandir", docs)
    tried("faults injected")
    report, n = count_after(assistant, docs, 5)
    assert n == 5 and report.removed == 0 and report.kept == 5
    assert any("permission denied" in str(s) for s in report.skipped)


def test_unreadable_subfolder_kept_gone_file_dropped(library, monkeypatch):
    assistant, docs = library
    deny(monkeypatch, os, "scandir", docs / "sub")
    (docs / "story2.txt").unlink()
    tried("faults injected")
    report, n = count_after(assistant, docs, 4)
    assert n == 4 and report.removed == 1 and report.kept == 2
    assert "1 removed" in report.summary() and "2 kept" in report.summary()


def test_unreadable_file_keeps_its_article(library, monkeypatch):
    assistant, docs = library
    import builtins

    deny(monkeypatch, os, "open", docs / "story1.txt")
    deny(monkeypatch, builtins, "open", docs / "story1.txt")
    tried("faults injected")
    report, n = count_after(assistant, docs, 5)
    assert n == 5 and report.removed == 0 and report.kept == 1
    assert any(s.path.endswith("story1.txt") and s.reason == "permission denied" for s in report.skipped)


# -- 5. pipes, devices and stalled reads ------------------------------------------------

@pytest.mark.timeout(60)
def test_fifo_is_skipped_not_waited_on(tmp_path):
    docs = tmp_path / "docs"
    write_docs(docs, 1)
    os.mkfifo(docs / "pipe.txt")
    os.mkfifo(tmp_path / "outside.jsonl")
    (docs / "link.jsonl").symlink_to(tmp_path / "outside.jsonl")
    tried("hostile inputs", 3)
    with guard():
        r = convert_paths([docs], follow_symlinks=True)
        direct = convert_paths([docs / "pipe.txt"])
    skipped = {Path(s.path).name: s.reason for s in r.skipped}
    assert [a.title for a in r.articles] == ["Story 0 headline"]
    assert "not a regular file" in skipped["pipe.txt"] and "not a regular file" in skipped["link.jsonl"]
    assert "not a regular file" in direct.skipped[0].reason


@pytest.mark.timeout(60)
def test_fifo_folder_indexes(tmp_path):
    docs = tmp_path / "docs"
    write_docs(docs, 2)
    os.mkfifo(docs / "pipe.md")
    tried("hostile inputs")
    with guard():
        report = Assistant(tmp_path / "idx").index([docs])
    assert report.added == 2 and any(s.path.endswith("pipe.md") for s in report.skipped)


@pytest.mark.timeout(60)
def test_stalled_read_times_out(tmp_path, monkeypatch):
    import qa.converters.files as files

    write_docs(tmp_path, 2)
    stalled = tmp_path / "story0.txt"
    real_open = os.open

    def slow_open(path, *args, **kwargs):
        if os.fspath(path) == str(stalled):
            time.sleep(3)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files, "READ_TIMEOUT_S", 0.3)
    monkeypatch.setattr(os, "open", slow_open)
    tried("faults injected")
    t0 = time.monotonic()
    with guard():
        r = convert_paths([tmp_path])
    assert time.monotonic() - t0 < 2.5
    assert [a.title for a in r.articles] == ["Story 1 headline"]
    assert any(s.path == str(stalled) and "timed out" in s.reason for s in r.skipped)


# -- 6. long JSONL lines ---------------------------------------------------------------

def test_overlong_jsonl_line_is_rejected_in_bounded_memory(tmp_path, monkeypatch):
    import qa.converters as conv

    monkeypatch.setattr(conv, "MAX_FILE_BYTES", 1_000_000)
    with open(tmp_path / "feed.jsonl", "wb") as fh:
        fh.write(b'{"title": "First", "body": "The first record is fine."}\n')
        fh.write(b'{"title": "Huge", "body": "' + b"x" * 8_000_000 + b'"}\n')
        fh.write(b'{"title": "Third", "body": "The third record is fine too."}\n')
    tried("hostile inputs")
    tracemalloc.start()
    try:
        with guard():
            r = convert_paths([tmp_path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, f"peak {peak / 1e6:.1f} MB reading an 8 MB line"
    assert sorted(a.title for a in r.articles) == ["First", "Third"]
    assert any("feed.jsonl:2" in w and "longer than" in w for w in r.warnings)


@pytest.mark.timeout(60)
def test_dev_zero_named_jsonl_is_skipped(tmp_path, monkeypatch):
    import qa.converters as conv

    monkeypatch.setattr(conv, "MAX_FILE_BYTES", 1_000_000)  # bounded even if it were read
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    write_docs(tmp_path, 1)
    tried("hostile inputs")
    with guard():
        r = convert_paths([tmp_path], follow_symlinks=True)
    assert [a.title for a in r.articles] == ["Story 0 headline"]
    assert any(s.path.endswith("zero.jsonl") and "not a regular file" in s.reason for s in r.skipped)


# -- 7. very large articles --------------------------------------------------------------

@pytest.mark.timeout(60)
def test_abbreviation_heavy_text_splits_in_linear_time():
    from qa.preprocessors.sentences import sentence_spans

    text = "Mr. Smith met Dr. Jones and Gen. Lee and " * 50_000 + "Then it ended."  # 2 MB, one sentence
    tried("hostile inputs")
    t0 = time.monotonic()
    with guard():
        spans = sentence_spans(text)
    assert time.monotonic() - t0 < 10
    assert spans == [(0, len(text))]
    assert sentence_spans("He met Mr. Smith. Then Gen. Lee left.") == [(0, 17), (18, 37)]


@pytest.mark.timeout(120)
def test_large_article_splits_in_bounded_memory():
    from qa.converters.formats import make_article
    from qa.preprocessors.splitter import PassageSplitter
    from qa.readers.extractive import load_tokenizer
    from qa.resources import reader_path

    tok = load_tokenizer(reader_path())
    body = (SENTENCE + "Officials said the work would take three more weeks. ") * 16_000
    body += "word " * 300_000  # a 1.5 MB run with no sentence end at all
    art = make_article("Harbour", body, "big.txt")
    tried("hostile inputs")
    tracemalloc.start()
    try:
        with guard():
            ps = PassageSplitter(max_tokens=200, tokenizer=tok).run(art)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    held = sum(len(p.text) for p in ps)
    assert peak < held + 30_000_000, f"peak {peak / 1e6:.0f} MB for {held / 1e6:.0f} MB of passages"
    covered = 0
    for p in ps:
        assert art.text[p.start:p.end] == p.text
        covered = max(covered, p.end)
    assert covered == len(art.text.rstrip())
    for p in ps[::97]:
        assert len(tok(p.text, add_special_tokens=False)["input_ids"]) <= 200


@pytest.mark.timeout(60)
def test_answer_sentence_is_found_locally():
    from qa.preprocessors.sentences import sentence_at, sentence_spans

    filler = "Officials said the work would take three more weeks. " * 400_000  # 21 MB
    text = filler + "Mr. Lavrov spoke with Blinken on Friday. " + filler
    start = text.index("Blinken")
    tried("hostile inputs")
    t0 = time.monotonic()
    with guard():
        a, b = sentence_at(text, start, start + 7)
    assert time.monotonic() - t0 < 0.5
    assert text[a:b] == "Mr. Lavrov spoke with Blinken on Friday."
    small = "One. Two is here. Three!\nFour"
    for i in range(len(small)):
        full = next((s for s in sentence_spans(small) if s[1] > i), None)
        if full and full[0] <= i:
            assert sentence_at(small, i, i + 1) == full


def test_cut_size_is_documented():
    from qa.converters.text import MAX_FILE_BYTES

    reliability = (ROOT / "README.md").read_text().split("## Reliability", 1)[1]
    assert f"{MAX_FILE_BYTES // 2**20} MB" in reliability and "cut" in reliability


# -- 9. a broken HTML install ------------------------------------------------------------

def test_missing_html_cleaner_fails_once_naming_the_fix(tmp_path, monkeypatch):
    import sys

    for name in list(sys.modules):
        if name.startswith(("trafilatura", "justext", "lxml.html.clean", "lxml_html_clean")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "lxml_html_clean", None)
    for i in range(3):
        (tmp_path / f"p{i}.html").write_text(f"<html><body><article><p>Story {i}.</p></article></body></html>")
    tried("faults injected")
    with pytest.raises(MissingDependencyError) as err:
        convert_paths([tmp_path])
    msg = str(err.value)
    assert isinstance(err.value, NewsdeskError) and "\n" not in msg
    assert "lxml_html_clean" in msg and "install" in msg


def test_html_cleaner_is_a_pinned_dependency():
    deps = (ROOT / "pyproject.toml").read_text().split("dependencies = [", 1)[1].split("]", 1)[0]
    assert '"lxml_html_clean==' in deps


def test_json_numbers_are_not_headlines_and_long_titles_are_capped(tmp_path):
    """``1e999`` and ``NaN`` are numbers, not text: no article titled "inf"; a 2 MB title is cut, kept in the text."""
    from qa.converters.formats import MAX_TITLE_CHARS

    (tmp_path / "numbers.json").write_text('[{"title": 1e999, "body": "The council met on Monday."},'
                                           ' {"title": NaN, "body": 1e999}]')
    long_title = "Headline " * 250_000
    (tmp_path / "long.json").write_text(json.dumps({"title": long_title, "body": "Short body text here."}))
    with guard():
        report = convert_paths([tmp_path])
    tried("hostile inputs", 3)
    titles = {a.title for a in report.articles}
    assert "inf" not in titles and "nan" not in {t.lower() for t in titles}
    assert any(a.text.startswith("The council met") for a in report.articles)
    long = next(a for a in report.articles if a.path.endswith("long.json"))
    assert len(long.title) <= MAX_TITLE_CHARS + 1 and long.title.endswith("…")
    assert long_title.strip() in long.text
