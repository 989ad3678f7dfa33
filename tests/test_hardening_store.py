"""The index store under damage and failure: checksums, broken manifests, full disks, read-only folders."""

import errno
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant
from qa.errors import DiskFullError, IndexError_, NewsdeskError
from qa.store import index_store, integrity
from qa.store.index_store import IndexStore
from tests.reliability import guard, tried


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


def one_line_rebuild(err) -> None:
    msg = str(err.value)
    assert "\n" not in msg and "rebuild" in msg, msg


def rewrite_manifest(g: Path, **changes) -> None:
    man = json.loads((g / "manifest.json").read_text())
    man.update(changes)
    (g / "manifest.json").write_text(json.dumps(man))


# -- checksums -------------------------------------------------------------------------

def test_manifest_has_size_and_hash_of_every_file(built):
    idx, _ = built
    g = gen(idx)
    man = json.loads((g / "manifest.json").read_text())
    on_disk = integrity.generation_files(g)
    assert set(man["sha256"]) == set(on_disk) and set(man["files"]) == set(on_disk)
    assert any(n.startswith("bm25/") for n in on_disk)
    for name, path in on_disk.items():
        assert man["sha256"][name] == integrity.file_sha256(path)


def test_random_bytes_of_the_right_size_in_vectors_are_detected(built):
    idx, docs = built
    g = gen(idx)
    size = (g / "vectors.f32").stat().st_size
    (g / "vectors.f32").write_bytes(np.random.default_rng(0).bytes(size))
    tried("faults injected")
    with guard(), pytest.raises(IndexError_) as err:
        Assistant.open(idx)
    one_line_rebuild(err)
    # The writer refuses to carry the damaged vectors into a new generation.
    (docs / "new.txt").write_text("New story\nSomething else happened in the town.")
    with guard(), pytest.raises(IndexError_):
        Assistant(idx).index([docs])
    assert gen(idx) == g and not list(idx.glob("gen-*.tmp"))


def test_nan_vectors_with_matching_checksum_are_rejected(built):
    idx, docs = built
    g = gen(idx)
    vec = np.fromfile(g / "vectors.f32", dtype="<f4")
    vec[5] = np.nan
    vec[7] = np.inf
    vec.tofile(g / "vectors.f32")
    man = json.loads((g / "manifest.json").read_text())
    man["sha256"]["vectors.f32"] = integrity.file_sha256(g / "vectors.f32")
    (g / "manifest.json").write_text(json.dumps(man))
    tried("faults injected")
    with guard(), pytest.raises(IndexError_, match="NaN") as err:
        Assistant.open(idx)
    one_line_rebuild(err)
    with pytest.raises(IndexError_, match="NaN"):
        Assistant(idx).index([docs])


def test_writer_never_writes_nan_vectors(tmp_path):
    from qa.types import Article, Passage

    store = IndexStore(tmp_path / "idx")
    a = Article(id="a", title="T", text="Some text here.", date=None, section=None, url=None, path="a.txt")
    p = Passage(id="a#0", article_id="a", start=0, end=15, text="Some text here.")
    tried("faults injected")
    with store.lock(), pytest.raises(IndexError_, match="NaN"):
        store.write({"a": a}, [p], np.full((1, 4), np.nan, dtype=np.float32), "e", 4)
    assert not list((tmp_path / "idx").glob("gen-*"))


def test_large_index_is_checked_in_the_background_and_the_writer_waits(built, monkeypatch):
    idx, docs = built
    g = gen(idx)
    raw = bytearray((g / "vectors.f32").read_bytes())
    raw[0] ^= 0x01  # a tiny change: still finite, same size
    (g / "vectors.f32").write_bytes(bytes(raw))
    monkeypatch.setattr(integrity, "EAGER_VERIFY_BYTES", 0)
    tried("faults injected")
    data = IndexStore(idx).load()
    with pytest.raises(IndexError_, match="checksum"):
        data.verification.wait()
    (docs / "new.txt").write_text("New story\nSomething else happened in the town.")
    with guard(), pytest.raises(IndexError_, match="checksum"):
        Assistant(idx).index([docs])
    assert gen(idx) == g


def test_derived_file_with_same_size_but_other_bytes_is_rebuilt(built):
    idx, _ = built
    g = gen(idx)
    size = (g / "dense.faiss").stat().st_size
    data = bytearray((g / "dense.faiss").read_bytes())
    data[-16:] = bytes(16)  # zero the last vector values, keep the size
    (g / "dense.faiss").write_bytes(bytes(data))
    assert (g / "dense.faiss").stat().st_size == size
    tried("faults injected")
    with guard():
        a = Assistant.open(idx)
        assert "council" in a.retrieve("When did the council vote?")[0].passage.text
    assert a.data.dense.ntotal == 3


# -- broken manifests and pointers ---------------------------------------------------------

@pytest.mark.parametrize("manifest", ["[]", '{"dimension": "abc"}', '{"files": null}', '"text"', "null"])
def test_malformed_manifest_is_one_line(built, manifest):
    idx, _ = built
    g = gen(idx)
    if manifest.startswith("{"):
        man = json.loads((g / "manifest.json").read_text())
        man.update(json.loads(manifest))
        manifest = json.dumps(man)
    (g / "manifest.json").write_text(manifest)
    tried("hostile inputs")
    with guard(), pytest.raises(IndexError_) as err:
        Assistant.open(idx)
    one_line_rebuild(err)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage\x9c", b"gen-../../etc\n", b"x" * 100000])
def test_corrupt_current_pointer_falls_back_to_the_newest_generation(built, content):
    idx, docs = built
    (idx / "CURRENT").write_bytes(content)
    tried("faults injected")
    with guard():
        assert len(Assistant.open(idx).articles()) == 3
        (docs / "new.txt").write_text("New story\nSomething else happened in the town.")
        Assistant(idx).index([docs])
    assert len(Assistant.open(idx).articles()) == 4


def test_index_folder_that_is_a_file(tmp_path):
    f = tmp_path / "notafolder"
    f.write_text("hello")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Title\nThe council met on Monday.")
    tried("hostile inputs", 2)
    with guard(), pytest.raises(IndexError_, match="is a file") as err:
        Assistant(f).index([docs])
    assert "\n" not in str(err.value)
    with guard(), pytest.raises(IndexError_, match="is a file"):
        Assistant.open(f)
    assert f.read_text() == "hello"


# -- empty and stop-word-only corpora ----------------------------------------------------------

def test_stop_words_only_and_empty_are_indexed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stop.txt").write_text("The and of\nIt is the of and to a an in on at by for with.")
    tried("hostile inputs")
    with guard():
        a = Assistant(tmp_path / "idx")
        a.index([docs])
        assert len(Assistant.open(tmp_path / "idx").articles()) == 1
        assert a.retrieve("What about it?", top_k=1)
        empty = tmp_path / "empty"
        empty.mkdir()
        b = Assistant(tmp_path / "idx2")
        report = b.index([empty])
    assert report.added == 0 and Assistant.open(tmp_path / "idx2").articles() == []


# -- failed writes -----------------------------------------------------------------------------

def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def _fail_metadata(monkeypatch):
    def full(*_a, **_k):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(IndexStore, "_write_metadata", staticmethod(full))


def _fail_vectors(monkeypatch):
    def short(*_a, **_k):
        raise OSError("23040 requested and 18432 written")
    monkeypatch.setattr(index_store, "write_vectors", short)


def _fail_faiss(monkeypatch):
    import faiss

    def fail(*_a, **_k):
        raise RuntimeError("Error in faiss::FileIOWriter: 'ret == (n)' failed: write error in gen/dense.faiss: "
                           "2 != 3 (No space left on device)")
    monkeypatch.setattr(faiss, "write_index", fail)


def _fail_bm25(monkeypatch):
    import bm25s

    monkeypatch.setattr(bm25s.BM25, "save", _enospc)


def _fail_manifest(monkeypatch):
    real = Path.write_text

    def write_text(self, *a, **k):
        if self.name == "manifest.json":
            _enospc()
        return real(self, *a, **k)
    monkeypatch.setattr(Path, "write_text", write_text)


def _fail_current(monkeypatch):
    real = Path.write_text

    def write_text(self, *a, **k):
        if self.name == "CURRENT.tmp":
            _enospc()
        return real(self, *a, **k)
    monkeypatch.setattr(Path, "write_text", write_text)


WRITE_FAULTS = {"metadata": _fail_metadata, "vectors": _fail_vectors, "faiss": _fail_faiss,
                "bm25": _fail_bm25, "manifest": _fail_manifest, "current": _fail_current}


@pytest.mark.parametrize("where", sorted(WRITE_FAULTS))
def test_disk_full_at_every_write_point(built, monkeypatch, where):
    idx, docs = built
    before = gen(idx)
    (docs / "new.txt").write_text("New story\nSomething else happened in the town.")
    a = Assistant(idx)
    a.warm_up()
    WRITE_FAULTS[where](monkeypatch)
    tried("faults injected")
    with guard(), pytest.raises(DiskFullError, match="disk full") as err:
        a.index([docs])
    monkeypatch.undo()
    assert "\n" not in str(err.value)
    assert not list(idx.glob("gen-*.tmp")) and not (idx / "CURRENT.tmp").exists()
    assert gen(idx) == before and [g.name for g in idx.glob("gen-*")] == [before.name]
    n = len(Assistant.open(idx).articles())
    tried("articles lost", 3 - n)
    assert n == 3


def test_read_only_mount_is_one_line(built, monkeypatch):
    idx, docs = built
    before = gen(idx)

    def read_only(*_a, **_k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", read_only)
    tried("faults injected")
    with guard(), pytest.raises(NewsdeskError, match="read-only") as err:
        Assistant(idx).index([docs], rebuild=True)
    monkeypatch.undo()
    assert "\n" not in str(err.value)
    assert gen(idx) == before and len(Assistant.open(idx).articles()) == 3
