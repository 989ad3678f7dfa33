import json

from qa.converters import convert_paths


def test_seed_format(seed_dir):
    r = convert_paths([seed_dir])
    assert len(r.articles) == 1 and not r.skipped
    a = r.articles[0]
    assert a.date == "2022-07-31"
    assert a.section == "International"
    assert a.title.startswith("Blinken says he had a")
    assert "Antony Blinken" in a.text
    assert a.text.startswith(a.title)
    assert len(a.id) == 16


def test_plain_txt_without_header(tmp_path):
    (tmp_path / "a.txt").write_text("Storm hits coast\nThe storm arrived on Monday.\n")
    a = convert_paths([tmp_path]).articles[0]
    assert a.title == "Storm hits coast" and a.date is None
    assert "arrived on Monday" in a.text


def test_markdown_front_matter(tmp_path):
    (tmp_path / "m.md").write_text("---\ntitle: Budget passes\ndate: 2023-05-02\nsection: Politics\n---\n"
                                   "The **budget** passed [the senate](http://x) on Tuesday.\n")
    a = convert_paths([tmp_path]).articles[0]
    assert (a.title, a.date, a.section) == ("Budget passes", "2023-05-02", "Politics")
    assert "The budget passed the senate on Tuesday." in a.text


def test_markdown_heading_title(tmp_path):
    (tmp_path / "m.md").write_text("# Harbour reopens\n\nShips returned after *three* weeks.\n")
    a = convert_paths([tmp_path]).articles[0]
    assert a.title == "Harbour reopens"


def test_html_page(tmp_path):
    body = " ".join(["The mayor opened the new bridge across the river on Saturday morning."] * 6)
    html = (f"<html><head><title>Bridge opens | City News</title>"
            f"<meta property='article:published_time' content='2021-03-04'></head><body>"
            f"<nav>Home News Sport</nav><article><h1>Bridge opens</h1><p>{body}</p>"
            f"<p>Hundreds of residents walked across it.</p></article><script>var x=1;</script></body></html>")
    (tmp_path / "p.html").write_text(html)
    a = convert_paths([tmp_path]).articles[0]
    assert "Bridge opens" in a.title
    assert "new bridge" in a.text and "var x" not in a.text
    assert a.date == "2021-03-04"


def test_json_and_jsonl(tmp_path):
    recs = [{"title": f"T{i}", "date": "2020-01-0%d" % (i + 1), "section": "World", "url": f"http://n/{i}",
             "body": f"Body number {i} says something."} for i in range(3)]
    (tmp_path / "a.json").write_text(json.dumps(recs))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r | {"title": "L" + r["title"]}) for r in recs)
                                      + "\n{broken\n")
    r = convert_paths([tmp_path])
    titles = sorted(a.title for a in r.articles)
    assert titles == ["LT0", "LT1", "LT2", "T0", "T1", "T2"]
    assert any("b.jsonl:4" in w for w in r.warnings)
    assert {a.section for a in r.articles} == {"World"}


def test_bad_files_are_skipped_and_named(tmp_path):
    (tmp_path / "good.txt").write_text("Good news\nAll is well.")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "bad.json").write_text("{not json")
    r = convert_paths([tmp_path])
    assert [a.title for a in r.articles] == ["Good news"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in r.skipped}
    assert set(reasons) == {"empty.txt", "bin.txt", "bad.json"}
    assert "binary" in reasons["bin.txt"] and "JSON" in reasons["bad.json"]


def test_encodings(tmp_path):
    text = "Café owner says prices rose\nThe café on Rue Saint-Honoré raised prices by 5€."
    (tmp_path / "cp.txt").write_bytes(text.encode("cp1252"))
    (tmp_path / "u16.txt").write_bytes(text.encode("utf-16"))
    (tmp_path / "u16le.txt").write_bytes(text.encode("utf-16-le"))
    r = convert_paths([tmp_path])
    assert [a.title for a in r.articles] == ["Café owner says prices rose"] * 3
    assert len({a.id for a in r.articles}) == 1  # same content, same id
    assert not r.skipped


def test_stable_id(tmp_path):
    (tmp_path / "a.txt").write_text("Same\nText")
    id1 = convert_paths([tmp_path]).articles[0].id
    (tmp_path / "a.txt").rename(tmp_path / "b.txt")
    assert convert_paths([tmp_path]).articles[0].id == id1
