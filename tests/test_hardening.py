"""Hostile files, broken indexes, terminal injection. Each case is counted."""

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qa import Assistant
from qa.converters import convert_paths
from qa.converters.formats import parse_html, parse_json, parse_markdown, parse_plain
from qa.errors import IndexError_, NewsdeskError
from qa.store.index_store import IndexStore
from tests.reliability import guard, tried

ROOT = Path(__file__).resolve().parents[1]


def hostile_corpus(d: Path) -> dict[str, str]:
    """Write the hostile files; return name -> expected outcome ('ok' or 'skip')."""
    d.mkdir(parents=True, exist_ok=True)
    text = "Überraschung in Köln\nDer Bürgermeister sagte, die Brücke öffne am Montag – endlich."
    files = {
        "latin1.txt": (text.encode("latin-1", "replace"), "ok"),
        "cp1252.txt": ("Prices “rose” by 5€ — again\nThe café said so.".encode("cp1252"), "ok"),
        "utf16bom.txt": (text.encode("utf-16"), "ok"),
        "utf16nobom.txt": (text.encode("utf-16-le"), "ok"),
        "badutf8.txt": (b"Headline ok\nBody with bad bytes \xff\xfe\xfa here and more text.", "ok"),
        "binary.txt": (bytes(range(256)) * 40, "skip"),
        "empty.txt": (b"", "skip"),
        "spaces.txt": (b"   \n\t\n  ", "skip"),
        "bad.json": (b'{"title": "x", "body": ', "skip"),
        "deep.json": (b"[" * 100000 + b"]" * 100000, "skip"),
        "mixed.jsonl": (b'{"title": "Good line", "body": "Fine text here."}\n{bad\n[1,2]\n', "ok"),
        "noarticle.html": (b"<html><head><script>alert(1)</script><style>p{}</style></head>"
                           b"<body><iframe src='x'></iframe></body></html>", "skip"),
        "zerowidth.txt": ("Zero\u200bwidth head\u202eline\nBody\u2066 with bidi \u200f marks and NUL\x00s.".encode(), "ok"),
        "nul.txt": (b"Title\nSome \x00 text \x00 here", "ok"),
    }
    for name, (data, _) in files.items():
        (d / name).write_bytes(data)
    return {n: o for n, (_, o) in files.items()}


def test_hostile_files(tmp_path):
    expected = hostile_corpus(tmp_path / "h")
    (tmp_path / "h" / "loop").symlink_to(tmp_path / "h")
    (tmp_path / "outside.txt").write_text("Secret\nOutside the folder.")
    (tmp_path / "h" / "link.txt").symlink_to(tmp_path / "outside.txt")
    locked = tmp_path / "h" / "locked.txt"
    locked.write_text("Locked\nNo access")
    locked.chmod(0)
    with guard():
        r = convert_paths([tmp_path / "h"])
    tried("hostile inputs", len(expected) + 3)
    got = {Path(a.path.split("#")[0]).name for a in r.articles}
    skipped = {Path(s.path).name: s.reason for s in r.skipped}
    for name, outcome in expected.items():
        if outcome == "ok":
            assert name in got, f"{name} should be indexed ({skipped.get(name)})"
        else:
            assert name in skipped and name not in got
    assert "link.txt" in skipped and "Secret" not in {a.title for a in r.articles}
    if os.geteuid() != 0:
        assert "locked.txt" in skipped
    for a in r.articles:
        assert not re.search("[\x00-\x08\x0b-\x1f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", a.text)
    latin = next(a for a in r.articles if a.path.endswith("latin1.txt"))
    assert latin.title == "Überraschung in Köln"
    # Indexing the whole folder finishes and reports counts.
    a = Assistant(tmp_path / "idx")
    report = a.index([tmp_path / "h"])
    assert report.added >= 8 and len(report.skipped) >= 6


def test_five_megabyte_line(tmp_path):
    (tmp_path / "oneline.txt").write_bytes(b"Long line\n" + b"word " * (1024 * 1024))
    r = convert_paths([tmp_path])
    tried("hostile inputs")
    assert len(r.articles) == 1 and len(r.articles[0].text) > 5_000_000


@pytest.mark.slow
def test_200_megabyte_file_is_read_capped(tmp_path):
    from qa.converters.text import MAX_FILE_BYTES

    big = tmp_path / "huge.txt"
    chunk = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 20000
    with open(big, "wb") as fh:
        fh.write(b"Huge file\n")
        while fh.tell() < 200 * 2**20:
            fh.write(chunk)
    r = convert_paths([big])
    tried("hostile inputs")
    assert len(r.articles) == 1 and len(r.articles[0].text) <= MAX_FILE_BYTES + 2
    assert any("cut to the first" in w for w in r.warnings)


def test_huge_file_is_capped(tmp_path, monkeypatch):
    from qa.converters import text as text_mod
    import qa.converters as conv

    monkeypatch.setattr(conv, "MAX_FILE_BYTES", 1_000_000)
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.write(b"Big file\n")
        fh.write(b"All work and no play. " * 200_000)  # 4.4 MB against a 1 MB cap
    r = convert_paths([big])
    tried("hostile inputs")
    assert len(r.articles) == 1 and len(r.articles[0].text) <= 1_000_100
    assert any("cut to the first" in w for w in r.warnings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_bytes_never_crash(data):
    from qa.converters.formats import BadArticle
    from qa.converters.text import NotText, decode_bytes

    tried("hostile inputs")
    with guard():
        try:
            text, _ = decode_bytes(data)
        except NotText:
            return
        for parse in (parse_plain, parse_markdown, parse_json):
            try:
                for art in parse(text, "f"):
                    assert isinstance(art.text, str)
            except BadArticle:
                pass


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=1500))
def test_fuzz_html_never_crashes(text):
    from qa.converters.formats import BadArticle

    tried("hostile inputs")
    with guard():
        try:
            parse_html(text, "f.html")
        except BadArticle:
            pass


# -- broken indexes ---------------------------------------------------------------

@pytest.fixture()
def built(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"a{i}.txt").write_text(f"Story {i}\nThe council met on day {i} and voted {i} to {i + 1}.")
    Assistant.from_paths([docs], index_dir=tmp_path / "idx")
    return tmp_path / "idx", docs


def gen(idx: Path) -> Path:
    return IndexStore(idx).current_generation()


def truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


FAULTS = {
    "truncated metadata": lambda g: truncate(g / "metadata.sqlite"),
    "corrupt metadata": lambda g: (g / "metadata.sqlite").write_bytes(b"garbage" * 100),
    "truncated vectors": lambda g: truncate(g / "vectors.f32"),
    "missing vectors": lambda g: (g / "vectors.f32").unlink(),
    "missing metadata": lambda g: (g / "metadata.sqlite").unlink(),
    "newer format": lambda g: (g / "manifest.json").write_text(
        json.dumps({**json.loads((g / "manifest.json").read_text()), "format_version": 99})),
    "corrupt manifest": lambda g: (g / "manifest.json").write_text("{"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_detected_with_rebuild_hint(built, fault):
    idx, docs = built
    FAULTS[fault](gen(idx))
    tried("faults injected")
    with pytest.raises(IndexError_) as err:
        Assistant.open(idx)
    msg = str(err.value)
    assert "\n" not in msg and ("rebuild" in msg or "upgrade" in msg)
    # The rebuild the message asks for works and loses nothing.
    a = Assistant(idx)
    a.index([docs], rebuild=True)
    n = len(Assistant.open(idx).articles())
    tried("articles lost", 3 - n)
    assert n == 3


@pytest.mark.parametrize("fault", ["truncated faiss", "missing faiss", "broken bm25"])
def test_derived_files_are_repaired(built, fault):
    idx, _ = built
    g = gen(idx)
    if fault == "truncated faiss":
        truncate(g / "dense.faiss")
    elif fault == "missing faiss":
        (g / "dense.faiss").unlink()
    else:
        shutil.rmtree(g / "bm25")
    tried("faults injected")
    a = Assistant.open(idx)
    tried("articles lost", 3 - len(a.articles()))
    assert len(a.articles()) == 3
    assert "council" in a.retrieve("When did the council vote?")[0].passage.text


def test_count_mismatch(built):
    idx, _ = built
    g = gen(idx)
    con = sqlite3.connect(g / "metadata.sqlite")
    con.execute("DELETE FROM passages WHERE row = (SELECT MAX(row) FROM passages)")
    con.commit()
    con.close()
    man = json.loads((g / "manifest.json").read_text())
    man["files"]["metadata.sqlite"] = (g / "metadata.sqlite").stat().st_size
    (g / "manifest.json").write_text(json.dumps(man))
    tried("faults injected")
    with pytest.raises(IndexError_, match="vectors for"):
        Assistant.open(idx)


def test_missing_current_pointer_is_repaired(built):
    idx, _ = built
    (idx / "CURRENT").unlink()
    tried("faults injected")
    assert len(Assistant.open(idx).articles()) == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(built):
    idx, docs = built
    idx.chmod(0o555)
    try:
        tried("faults injected")
        assert len(Assistant.open(idx).articles()) == 3
        with pytest.raises(NewsdeskError, match="read-only"):
            Assistant(idx).index([docs], rebuild=True)
    finally:
        idx.chmod(0o755)


def test_disk_full_keeps_previous_index(built, monkeypatch):
    import errno

    idx, docs = built
    (docs / "new.txt").write_text("New story\nSomething else happened.")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(IndexStore, "_write_metadata", staticmethod(full))
    tried("faults injected")
    with pytest.raises(NewsdeskError, match="disk full"):
        Assistant(idx).index([docs])
    monkeypatch.undo()
    assert len(Assistant.open(idx).articles()) == 3
    assert not list(idx.glob("*.tmp"))


def test_second_writer_waits_then_fails_clearly(built):
    from qa.errors import IndexLockedError

    idx, docs = built
    store = IndexStore(idx)
    tried("faults injected")
    with store.lock():
        with pytest.raises(IndexLockedError, match="another process"):
            with IndexStore(idx).lock(timeout=0.3):
                pass


# -- security -----------------------------------------------------------------------

def test_no_pickle_or_remote_code_anywhere():
    bad = re.compile(r"\bimport pickle\b|\bpickle\.|trust_remote_code\s*=\s*True|allow_pickle\s*=\s*True|"
                     r"torch\.load\((?![^)]*weights_only=True)")
    offenders = []
    for p in list((ROOT / "qa").rglob("*.py")) + list((ROOT / "tui").rglob("*.py")) + list((ROOT / "benchmarks").rglob("*.py")):
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if bad.search(line):
                offenders.append(f"{p.relative_to(ROOT)}:{n}")
    assert offenders == []
    assert not [p for p in (ROOT / "models").rglob("*") if p.suffix in (".bin", ".pt", ".pkl", ".pickle")]


def test_index_format_has_no_pickle(built):
    idx, _ = built
    for p in gen(idx).rglob("*"):
        if p.is_file():
            head = p.read_bytes()[:2]
            assert head != b"\x80\x04" and head != b"\x80\x05", p  # pickle protocol 4/5 headers
        if p.suffix == ".npy":
            import numpy as np

            np.load(p, allow_pickle=False)


HOSTILE = ("Markup [bold]BOLD[/bold] and [link=https://evil.example]click[/link] "
           "with \x1b[31mred\x1b[0m, \x1b]8;;https://evil.example\x07link\x1b]8;;\x07, "
           "clipboard \x1b]52;c;ZXZpbA==\x07 and bell\x07 and C1 \x9b2J here. "
           "The hostile council voted on Tuesday.")


def test_cli_output_is_plain(tmp_path, capsys):
    from tui.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "h.txt").write_text("Hostile [red]headline[/red] \x1b]0;title\x07\n" + HOSTILE + "\n")
    tried("hostile inputs")
    assert main(["index", str(docs), "--index", str(tmp_path / "idx")]) == 0
    assert main(["ask", "When did the hostile council vote?", "--index", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "[red]headline[/red]" in out  # shown literally, never interpreted
