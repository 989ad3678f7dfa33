import json
import subprocess
import sys

from tui.cli import main


def test_ask_on_bundled_corpus_first_run(newsdesk_home, capsys):
    assert main(["ask", "Which Russian official did Blinken speak with?"]) == 0
    out = capsys.readouterr().out
    assert "Lavrov" in out
    assert "Blinken says he had a" in out and "2022-07-31" in out
    assert (newsdesk_home / "index" / "CURRENT").is_file()


def test_index_and_ask_json(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("date 2021-05-05 Science\nProbe lands on Mars\n"
                                "The Zhurong rover touched down on Mars on Saturday, the space agency said.\n")
    (docs / "bad.json").write_text("{oops")
    assert main(["index", str(docs), "--index", str(tmp_path / "idx")]) == 0
    cap = capsys.readouterr()
    assert "1 added" in cap.out and "bad.json" in cap.err
    assert main(["ask", "Which rover touched down on Mars?", "--index", str(tmp_path / "idx"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "Zhurong" in data["text"]
    assert data["article"]["date"] == "2021-05-05" and data["article"]["section"] == "Science"
    article = (docs / "a.txt").read_text()
    assert data["format"] == "newsdesk.answer" and 0.0 < data["confidence"] <= 1.0
    assert data["sentence"].startswith("The Zhurong rover") and data["text"] in data["sentence"]
    assert data["end"] - data["start"] == len(data["text"]) and data["passages"][0]["rank"] == 1
    assert "Zhurong" in article


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["ask", "anything?", "--index", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "tui.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "index" in out.stdout and "chat" in out.stdout
