"""Feeds and URLs, served by a real HTTP server on 127.0.0.1 (loopback only).

The server runs in a thread on a free port and is shut down after each module;
a closed port stands in for a site that is down.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qa.converters import convert_paths
from qa.converters.fetch import FetchError, fetch

STORY = ("The city council of Riverton approved a new flood barrier on Tuesday after three days of debate. "
         "The barrier will cost 42 million dollars and protect about 9,000 homes along the river. "
         "Construction is due to start in March and to finish within two years, the mayor said. "
         "Engineers said the design had been tested against the worst floods of the past century.")

PAGE = f"""<!doctype html><html><head><title>Riverton approves flood barrier</title>
<meta property="article:published_time" content="2024-03-05"></head>
<body><nav>Home | News | Sport</nav><article><h1>Riverton approves flood barrier</h1>
{''.join(f'<p>{s}.</p>' for s in STORY.split('. '))}
</article><footer>Copyright Riverton Courier</footer></body></html>"""


def rss(base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Riverton Courier</title><link>{base}/</link><description>Local news</description>
<item><title>Library reopens after repairs</title><link>{base}/articles/library.html</link>
<guid>library-1</guid><pubDate>Mon, 04 Mar 2024 09:00:00 GMT</pubDate><category>Local</category>
<content:encoded><![CDATA[<p>The Riverton public library reopened on Monday after repairs that took eight months.</p>
<p>The roof was replaced and the reading room now seats 120 people.</p>]]></content:encoded></item>
<item><title>Riverton approves flood barrier</title><link>{base}/articles/barrier.html</link>
<guid>barrier-1</guid><pubDate>Tue, 05 Mar 2024 18:00:00 GMT</pubDate>
<description>The council voted on Tuesday.</description></item>
<item><title>Bridge closed for inspection</title><link>{base}/articles/gone.html</link>
<guid>bridge-1</guid><pubDate>Wed, 06 Mar 2024 07:00:00 GMT</pubDate>
<description>The old bridge is closed until Friday while engineers inspect it.</description></item>
</channel></rss>"""


def atom(base: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Valley Post</title><id>urn:valley</id>
<updated>2024-03-07T10:00:00Z</updated>
<entry><title>School wins robotics prize</title><id>urn:valley:1</id>
<link href="{base}/valley/robotics.html"/><updated>2024-03-07T10:00:00Z</updated>
<content type="html">&lt;p&gt;Pupils from Valley High School won the national robotics prize on Thursday with a robot that sorts recycling.&lt;/p&gt;</content>
</entry></feed>"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        routes = {
            "/feed.rss": ("application/rss+xml", rss(base)),
            "/feed.atom": ("application/atom+xml", atom(base)),
            "/articles/barrier.html": ("text/html; charset=utf-8", PAGE),
            "/plain-feed": ("text/plain", rss(base)),  # a feed served with the wrong type
        }
        if self.path not in routes:
            self.send_error(404, "Not Found")
            return
        kind, body = routes[self.path]
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def by_title(report):
    return {a.title: a for a in report.articles}


def test_rss_feed_url_gives_dated_articles_and_fetches_pages_without_full_text(server):
    report = convert_paths([f"{server}/feed.rss"])
    arts = by_title(report)
    library = arts["Library reopens after repairs"]
    assert library.date == "2024-03-04" and library.section == "Local"
    assert "seats 120 people" in library.text and "<p>" not in library.text
    assert library.url == library.path == f"{server}/articles/library.html"
    barrier = arts["Riverton approves flood barrier"]  # teaser only: the linked page was fetched
    assert "42 million dollars" in barrier.text and "Copyright" not in barrier.text
    assert barrier.date == "2024-03-05"
    bridge = arts["Bridge closed for inspection"]  # its page is a 404: the summary is kept, named once
    assert "closed until Friday" in bridge.text
    lines = [str(s) for s in report.skipped]
    assert len(lines) == 1 and "gone.html" in lines[0] and "404" in lines[0] and "\n" not in lines[0]


def test_atom_feed_url(server):
    report = convert_paths([f"{server}/feed.atom"])
    (entry,) = report.articles
    assert entry.title == "School wins robotics prize" and entry.date == "2024-03-07"
    assert "sorts recycling" in entry.text and not report.skipped


def test_feed_file_and_feed_served_as_plain_text(server, tmp_path):
    (tmp_path / "valley.atom").write_text(atom(server), encoding="utf-8")
    (tmp_path / "notes.xml").write_text("<notes><n>not a feed</n></notes>", encoding="utf-8")
    report = convert_paths([tmp_path])  # .atom found in a folder; .xml only when named
    assert [a.title for a in report.articles] == ["School wins robotics prize"]
    named = convert_paths([tmp_path / "notes.xml"])
    assert not named.articles and "not an RSS or Atom feed" in str(named.skipped[0])
    sniffed = convert_paths([f"{server}/plain-feed"])
    assert "Library reopens after repairs" in by_title(sniffed)


def test_article_url_is_fetched_and_extracted(server):
    report = convert_paths([f"{server}/articles/barrier.html"])
    (article,) = report.articles
    assert article.title == "Riverton approves flood barrier"
    assert "9,000 homes" in article.text and "Home | News" not in article.text
    assert article.url == article.path == f"{server}/articles/barrier.html"


def test_network_errors_are_one_line_and_never_stop_the_rest(server, tmp_path):
    (tmp_path / "local.txt").write_text("Local headline\n\nA local story about the harbour.", encoding="utf-8")
    down = f"http://127.0.0.1:{closed_port()}/feed.rss"
    t0 = time.perf_counter()
    report = convert_paths([down, f"{server}/nothing-here", tmp_path, f"{server}/feed.atom"])
    assert time.perf_counter() - t0 < 10
    assert {a.title for a in report.articles} == {"Local headline", "School wins robotics prize"}
    lines = {s.path: s.reason for s in report.skipped}
    assert lines[down] == "connection refused"
    assert lines[f"{server}/nothing-here"].startswith("HTTP 404")
    assert all("\n" not in str(s) for s in report.skipped)


def test_fetch_caps_size_and_refuses_other_schemes(server):
    page = fetch(f"{server}/articles/barrier.html", limit=100)
    assert page.truncated and len(page.data) == 100
    with pytest.raises(FetchError, match="not an http"):
        fetch("file:///etc/passwd")


def test_slow_server_times_out(tmp_path):
    """A server that accepts and never answers costs the timeout, not a hung run."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        t0 = time.perf_counter()
        with pytest.raises(FetchError, match="timed out"):
            fetch(f"http://127.0.0.1:{sock.getsockname()[1]}/", timeout=0.5)
        assert time.perf_counter() - t0 < 5
    finally:
        sock.close()


@pytest.mark.slow
def test_index_a_feed_served_on_loopback(server, tmp_path):
    from qa import Assistant

    assistant = Assistant(tmp_path / "index")
    report = assistant.index([f"{server}/feed.rss", f"{server}/feed.atom"])
    assert report.added == 4 and len(report.skipped) == 1
    answer = assistant.ask("How much will the Riverton flood barrier cost?")
    assert "42 million" in answer.text
    assert answer.article.url == f"{server}/articles/barrier.html" and answer.article.date == "2024-03-05"
    again = assistant.index([f"{server}/feed.rss"])  # re-reading a feed: nothing new, nothing dropped
    assert again.added == 0 and again.removed == 0 and len(assistant.articles()) == 4
