"""Shared fixtures. Real models, real FAISS; everything written under tmp dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Gold floors hold on any CPU: read in float32 unless a test asks for a precision
# (tests/test_precision.py covers choosing one by measurement).
os.environ.setdefault("NEWSDESK_PRECISION", "fp32")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
SQUAD_TRAIN = SHARED / "data" / "squad11" / "train.jsonl.gz"
SQUAD_DEV = SHARED / "data" / "squad11" / "dev-v1.1.json"


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("seeds")
    for f in SEEDS.iterdir():
        shutil.copy(f, d / f.name)
    return d


@pytest.fixture(scope="session")
def seed_assistant(tmp_path_factory, seed_dir):
    """One Assistant over the bundled article, shared by read-only tests."""
    from qa import Assistant

    return Assistant.from_paths([seed_dir], index_dir=tmp_path_factory.mktemp("seed-index"))


@pytest.fixture(autouse=True)
def newsdesk_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own user data folder: nothing reads or writes the real one."""
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "home"))
    for name in ("NEWSDESK_READER", "NEWSDESK_SEEDS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def pytest_terminal_summary(terminalreporter):
    from tests.reliability import COUNTS

    if not COUNTS:
        return
    keys = ["hostile inputs", "faults injected", "crashes", "articles lost"]
    line = ", ".join(f"{k}: {COUNTS.get(k, 0)}" for k in keys)
    terminalreporter.write_sep("-", "reliability")
    terminalreporter.write_line(line)
