"""Every code block in README.md runs or is checked, and prints what the README says.

* A block whose first line starts with ``$ `` is a terminal session: each
  command runs (``newsdesk`` as ``python -m tui.cli``) in a scratch folder
  that holds the bundled articles and the test corpora, and the lines shown
  under a command must appear in its output, in order (lines may be left
  out; percentages may differ by a few points between CPUs).
* A ``python`` block runs as a script there; the ``text`` block right after
  it is what it prints, checked the same way.
* Any other block is checked line by line: ``newsdesk`` commands name real
  subcommands and options, ``make`` targets exist, ``curl`` calls name real
  HTTP routes with valid JSON, training commands name real configs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: Shown and printed percentages may differ this much (precision differs between CPUs).
PERCENT_SLACK = 4


@dataclass(frozen=True, kw_only=True)
class Block:
    line: int
    info: str
    text: str


def readme_blocks() -> list[Block]:
    blocks, lines = [], README.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            info, start = lines[i][3:].strip(), i + 1
            i += 1
            while not lines[i].startswith("```"):
                i += 1
            blocks.append(Block(line=start, info=info, text="\n".join(lines[start:i])))
        i += 1
    return blocks


def _sessions() -> list[Block]:
    return [b for b in readme_blocks() if b.text.startswith("$ ")]


def _scripts() -> list[tuple[Block, Block]]:
    blocks = readme_blocks()
    return [(b, blocks[i + 1]) for i, b in enumerate(blocks[:-1])
            if b.info == "python" and blocks[i + 1].info == "text"]


def _others() -> list[Block]:
    used = {b.line for b in _sessions()} | {b.line for pair in _scripts() for b in pair}
    return [b for b in readme_blocks() if b.line not in used]


# -- comparing output ------------------------------------------------------------
_PERCENT = re.compile(r"(\d+)%")


def line_matches(expected: str, actual: str) -> bool:
    """Equal, except that each percentage may differ by ``PERCENT_SLACK`` points."""
    pattern = re.escape(expected.strip())
    pattern = _PERCENT.sub(lambda m: r"(\d+)%", pattern.replace(r"\%", "%"))
    match = re.fullmatch(pattern, actual.strip())
    if not match:
        return False
    wanted = [int(x) for x in _PERCENT.findall(expected)]
    return all(abs(int(got) - want) <= PERCENT_SLACK for got, want in zip(match.groups(), wanted))


def assert_shows(expected: list[str], output: str, *, where: str) -> None:
    """Every expected line appears in ``output``, in order."""
    actual = [line for line in output.split("\n") if line.strip()]
    at = 0
    for want in (e for e in expected if e.strip()):
        while at < len(actual) and not line_matches(want, actual[at]):
            at += 1
        assert at < len(actual), f"README line {where}: {want!r} is not printed; got:\n{output}"
        at += 1


# -- running -------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A folder like a fresh checkout's top: the bundled articles and the test corpora."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "seeds").symlink_to(ROOT / "seeds")
    (folder / "tests").mkdir()
    (folder / "tests" / "corpora").symlink_to(ROOT / "tests" / "corpora")
    (folder / "tests" / "gold").symlink_to(ROOT / "tests" / "gold")
    return folder


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(NEWSDESK_HOME=str(home), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), NEWSDESK_PRECISION="fp32")
    return env


def _commands(session: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in session.split("\n"):
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("block", _sessions(), ids=lambda b: f"line{b.line}")
def test_terminal_session_prints_what_the_readme_shows(block: Block, scratch: Path, tmp_path: Path):
    for command, expected in _commands(block.text):
        argv = shlex.split(command)
        assert argv[0] == "newsdesk", f"README line {block.line}: only newsdesk sessions are run"
        done = subprocess.run([sys.executable, "-m", "tui.cli", *argv[1:]], cwd=scratch, env=_env(tmp_path / "home"),
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"README line {block.line}: {command} failed: {done.stderr}"
        assert_shows(expected, done.stdout, where=str(block.line))


@pytest.mark.slow
@pytest.mark.parametrize("pair", _scripts(), ids=lambda p: f"line{p[0].line}")
def test_python_example_prints_what_the_readme_shows(pair: tuple[Block, Block], scratch: Path, tmp_path: Path):
    code, printed = pair
    done = subprocess.run([sys.executable, "-c", code.text], cwd=scratch, env=_env(tmp_path / "home"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README line {code.line}: {done.stderr}"
    assert_shows(printed.text.split("\n"), done.stdout, where=str(printed.line))


# -- checking the rest -----------------------------------------------------------
def _check_newsdesk(words: list[str], where: str) -> None:
    from tui.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    command = words[1]
    assert command in subparsers.choices, f"README line {where}: no subcommand {command!r}"
    known = {o for a in subparsers.choices[command]._actions for o in a.option_strings}
    for word in words[2:]:
        option = word.strip("[]|").split("=")[0]
        if option.startswith("--"):
            assert option in known, f"README line {where}: `newsdesk {command}` has no option {option}"


def _check_make(words: list[str], where: str) -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    assert words[1] in targets, f"README line {where}: no make target {words[1]!r}"


def _check_curl(line: str, where: str) -> None:
    pytest.importorskip("fastapi")
    from qa.server import create_app

    paths = set(create_app(lambda: None).openapi()["paths"])
    path = re.search(r"localhost:\d+(/[\w/{}]+)", line)
    assert path and path.group(1) in paths, f"README line {where}: no route for {line!r}"
    body = re.search(r"-d '(.+)'", line)
    if body:
        json.loads(body.group(1))


def _check_training(words: list[str], where: str) -> None:
    source = (ROOT / "qa" / "training" / "__main__.py").read_text()
    assert f'add_parser("{words[3]}"' in source, f"README line {where}: no training command {words[3]!r}"
    if "--config" in words:
        config = words[words.index("--config") + 1]
        assert (ROOT / config).is_file(), f"README line {where}: no config {config}"


def test_every_other_block_names_real_commands():
    checked = 0
    for block in _others():
        text = block.text.replace("\\\n", " ")
        for n, line in enumerate(text.split("\n")):
            where = f"{block.line + n}"
            words = line.split("#")[0].split()
            if not words:
                continue
            if words[0] == "newsdesk":
                _check_newsdesk(words, where)
            elif words[0] == "make":
                _check_make(words, where)
            elif words[0] == "curl":
                _check_curl(line, where)
            elif words[:3] == ["python", "-m", "qa.training"]:
                _check_training(words, where)
            else:
                continue
            checked += 1
    assert checked >= 10, "the README's command blocks were not found"


def test_readme_has_examples_that_run():
    assert _sessions() and _scripts(), "README should show a terminal session and a Python example with output"


def test_line_matching():
    assert line_matches("Confidence: 63% (medium)", "Confidence: 66% (medium)")
    assert not line_matches("Confidence: 63% (medium)", "Confidence: 73% (medium)")
    assert not line_matches("Answer: Sergey Lavrov", "Answer: Lavrov")
    assert_shows(["a", "c"], "a\nb\nc\n", where="test")
    with pytest.raises(AssertionError):
        assert_shows(["c", "a"], "a\nb\nc\n", where="test")
