"""The command line under hostile input and failing disks: one line, a non-zero exit, nothing left behind."""

import errno
import io
import json
import logging
import re
from pathlib import Path

import pytest

from qa import Assistant
from qa.errors import InvalidInputError
from qa.retrievers.filters import Filters
from qa.store.index_store import IndexStore
from qa.types import Article
from tests.reliability import guard, tried
from tui.cli import format_answer, main


@pytest.fixture()
def built(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"a{i}.txt").write_text(f"Story {i}\nThe council met on day {i} and voted {i} to {i + 1}.")
    assert main(["index", str(docs), "--index", str(tmp_path / "idx")]) == 0
    return tmp_path / "idx", docs


def run(capsys, *argv) -> tuple[int, str]:
    """Exit status and stderr of one command (argparse errors exit through SystemExit)."""
    capsys.readouterr()
    with guard():
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code
    return rc, capsys.readouterr().err


def one_error_line(err: str) -> str:
    """The single error line (progress bars redraw with carriage returns; warnings are their own lines)."""
    lines = [line for line in re.split(r"[\r\n]", err) if "error" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0][lines[0].index("error"):] if "newsdesk" not in lines[0] else lines[0]


# -- indexing ------------------------------------------------------------------------------

def test_index_of_an_empty_folder_is_one_line_and_non_zero(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n")
    tried("hostile inputs")
    rc, err = run(capsys, "index", empty, "--index", tmp_path / "idx")
    assert rc != 0 and "no articles found" in one_error_line(err)
    assert not list((tmp_path / "idx").glob("gen-*.tmp"))


def test_index_of_stop_words_only_succeeds(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stop.txt").write_text("The and of\nIt is the of and to a an in on at by for with.")
    tried("hostile inputs")
    rc, err = run(capsys, "index", docs, "--index", tmp_path / "idx")
    assert rc == 0, err
    assert len(Assistant.open(tmp_path / "idx").articles()) == 1


def test_corrupt_current_pointer(built, capsys):
    idx, docs = built
    (idx / "CURRENT").write_bytes(b"\xff\xfe\x9c\x00")
    tried("faults injected")
    rc, err = run(capsys, "ask", "When did the council meet?", "--index", idx)
    assert rc == 0, err
    (docs / "new.txt").write_text("New story\nSomething else happened in the town.")
    rc, err = run(capsys, "index", docs, "--index", idx)
    assert rc == 0, err
    assert (idx / "CURRENT").read_text().startswith("gen-")


def test_index_option_pointing_at_a_file(tmp_path, built, capsys):
    _, docs = built
    f = tmp_path / "file.txt"
    f.write_text("not a folder")
    tried("hostile inputs", 2)
    for argv in (["index", docs, "--index", f], ["ask", "Who?", "--index", f]):
        rc, err = run(capsys, *argv)
        assert rc == 2 and "is a file" in one_error_line(err)
    assert f.read_text() == "not a folder"


@pytest.mark.parametrize("change", ["[]", "dimension", "files"])
def test_malformed_manifest(built, capsys, change):
    idx, _ = built
    g = IndexStore(idx).current_generation()
    man = json.loads((g / "manifest.json").read_text())
    text = "[]" if change == "[]" else json.dumps({**man, change: "abc" if change == "dimension" else None})
    (g / "manifest.json").write_text(text)
    tried("hostile inputs")
    rc, err = run(capsys, "ask", "When did the council meet?", "--index", idx)
    assert rc == 2 and "rebuild" in one_error_line(err)


def test_read_only_mount(built, capsys, monkeypatch):
    idx, docs = built
    before = IndexStore(idx).current_generation()

    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", read_only)
    tried("faults injected")
    rc, err = run(capsys, "index", docs, "--index", idx, "--rebuild")
    monkeypatch.undo()
    assert rc == 2 and "read-only" in one_error_line(err)
    assert IndexStore(idx).current_generation() == before


@pytest.mark.parametrize("short", [False, True])
def test_disk_full(built, capsys, monkeypatch, short):
    from qa.store import index_store

    idx, docs = built
    before = IndexStore(idx).current_generation()
    (docs / "new.txt").write_text("New story\nSomething else happened in the town.")

    def full(*_a, **_k):
        if short:
            raise OSError("23040 requested and 18432 written")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index_store, "write_vectors", full)
    tried("faults injected")
    rc, err = run(capsys, "index", docs, "--index", idx)
    monkeypatch.undo()
    line = one_error_line(err)
    assert rc == 2 and "disk full" in line and "requested" not in line
    assert not list(idx.glob("gen-*.tmp")) and IndexStore(idx).current_generation() == before


# -- input checks --------------------------------------------------------------------------

BAD_OPTIONS = [
    ["--top-k", "0"], ["--top-k", "-3"], ["--top-k", "many"],
    ["--threshold", "nan"], ["--threshold", "-5"], ["--threshold", "1.5"], ["--threshold", "inf"],
    ["--date-from", "zzz"], ["--date-from", "2024-13-45"], ["--date-from", "04/01/2024"], ["--date-to", "2024-02-30"],
]


@pytest.mark.parametrize("option", BAD_OPTIONS, ids=lambda o: " ".join(o))
def test_bad_options_are_one_line_exit_2(built, capsys, option):
    idx, _ = built
    tried("hostile inputs")
    rc, err = run(capsys, "ask", "When did the council meet?", "--index", idx, *option)
    assert rc == 2
    one_error_line(err)


def test_engine_refuses_bad_numbers_and_dates(built):
    idx, _ = built
    a = Assistant.open(idx)
    tried("hostile inputs", 8)
    for kwargs in ({"top_k": 0}, {"top_k": -1}, {"threshold": float("nan")}, {"threshold": -5}, {"threshold": 2}):
        with guard(), pytest.raises(InvalidInputError) as err:
            a.ask("When did the council meet?", **kwargs)
        assert "\n" not in str(err.value)
    for bad in ("zzz", "2024-13-45", "04/01/2024"):
        with guard(), pytest.raises(InvalidInputError):
            Filters(date_from=bad)
    with pytest.raises(InvalidInputError):
        Assistant(idx, threshold=float("nan"))


def test_partial_dates_cover_the_whole_month_or_year():
    april = Article(id="a", title="T", text="x", date="2024-04-07", section=None, url=None, path="a.txt")
    tried("hostile inputs", 4)
    assert Filters(date_to="2024-04").accepts(april)
    assert Filters(date_from="2024-04", date_to="2024-04").accepts(april)
    assert Filters(date_from="2024", date_to="2024").accepts(april)
    assert not Filters(date_to="2024-03").accepts(april)
    with pytest.raises(InvalidInputError, match="after"):
        Filters(date_from="2024-05", date_to="2024-04")


def test_long_titles_are_cut_when_printed():
    from qa.types import Answer, ArticleRef

    article = Article(id="a", title="Headline " * 250_000, text="The council voted.", date="2024-01-01",
                      section=None, url=None, path="a.json")
    answer = Answer(question="q", text="voted", confidence=0.9, article=ArticleRef.of(article), start=12, end=17,
                    sentence="The council voted.", sentence_start=0)
    tried("hostile inputs")
    out = format_answer(answer)
    assert len(out) < 1000 and "Headline" in out


# -- log lines -----------------------------------------------------------------------------

def test_escape_sequences_in_file_names_never_reach_log_lines(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.txt").write_text("Title\nThe council met on Monday.")
    (docs / "evil\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07.txt").write_bytes(bytes(range(256)) * 40)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    tried("hostile inputs")
    try:
        rc, err = run(capsys, "-v", "index", docs, "--index", tmp_path / "idx")
    finally:
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert rc == 0 and "evil" in logged, logged
    for text in (logged, err):
        assert "\x1b" not in text and "\x07" not in text
