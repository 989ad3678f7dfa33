"""Newsdesk as a package: the engine stands alone, and an installed wheel answers."""

from __future__ import annotations

import ast
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_never_imports_the_front_end():
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path) if m.split(".")[0] == "tui")
        for path in (ROOT / "qa").rglob("*.py")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"qa/ imports tui: {offenders}"


def test_engine_imports_without_the_front_end_loaded():
    code = ("import sys, qa, qa.assistant, qa.evaluation.runner, qa.resources; "
            "print(sorted(m for m in sys.modules if m == 'tui' or m.startswith('tui.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_resource_search_order(tmp_path, monkeypatch):
    from qa import resources

    monkeypatch.delenv("NEWSDESK_READER", raising=False)
    checkout = resources.reader_path()
    assert (checkout / "config.json").is_file()
    # The user data folder wins over the package data and the checkout ...
    home_reader = tmp_path / "home" / "models" / "reader"
    home_reader.mkdir(parents=True)
    (home_reader / "config.json").write_text("{}")
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "home"))
    assert resources.reader_path() == home_reader
    # ... the environment variable wins over the data folder, and an argument over everything.
    monkeypatch.setenv("NEWSDESK_READER", str(checkout))
    assert resources.reader_path() == checkout
    assert resources.reader_path(tmp_path / "given") == tmp_path / "given"


def test_missing_resource_is_one_clear_line(tmp_path, monkeypatch):
    from qa import resources

    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(resources, "_BUNDLED", tmp_path / "nothing")
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path / "nothing")
    with pytest.raises(resources.ResourceNotFound) as err:
        resources.seeds_path()
    assert "NEWSDESK_SEEDS" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_installed_wheel_answers_from_another_folder(tmp_path):
    """Build the wheel, install it into a fresh venv, and ask from outside the checkout.

    The new venv gets Newsdesk from the wheel alone (no editable finder); its
    third-party dependencies are borrowed from the test venv through a path
    file, so the test needs no network.
    """
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(ROOT)], check=True, cwd=tmp_path, timeout=600)
    wheel = next(wheels.glob("newsdesk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "qa/_bundled/reader/model.safetensors" in names
    assert any(n.startswith("qa/_bundled/seeds/") for n in names)
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip()
    Path(venv_site, "borrowed_dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", venv_site, str(wheel)], check=True, timeout=300)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(NEWSDESK_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1", PYTHONPATH="")
    where = subprocess.run([str(python), "-c", "import qa, qa.resources as r; print(qa.__file__); "
                            "print(r.reader_path()); print(r.seeds_path())"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, check=True).stdout.split("\n")
    assert where[0].startswith(venv_site) and where[1].startswith(venv_site) and where[2].startswith(venv_site)
    out = subprocess.run([str(python), "-m", "tui.cli", "ask", "Which Russian official did Blinken speak with?"],
                         capture_output=True, text=True, cwd=elsewhere, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "Lavrov" in out.stdout and "2022-07-31" in out.stdout
