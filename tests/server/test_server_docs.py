"""The API docs work offline: /docs and /redoc load their scripts and styles from the server itself."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from qa.server.app import DOCS_ASSETS


class _Assets(HTMLParser):
    """The URLs a page loads: script sources and stylesheet or icon links."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url:
            self.urls.append(url)


def assets_of(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def assert_served_here(client, page: str, *, kinds: set[str]) -> list[str]:
    """``page`` is HTML whose every asset is a path on this server (no host: no CDN) answering 200."""
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "http://" not in r.text and "https://" not in r.text  # nothing fetched from elsewhere
    urls = assets_of(r.text)
    assert urls, r.text
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith(DOCS_ASSETS + "/"), url
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert {url.rsplit(".", 1)[-1] for url in urls} >= kinds
    return urls


@pytest.mark.parametrize(("page", "kinds"), [("/docs", {"js", "css"}), ("/redoc", {"js"})])
def test_docs_load_their_assets_from_the_server(client, page, kinds):
    assert_served_here(client, page, kinds=kinds)


def test_the_docs_read_the_servers_own_schema(client):
    docs = client.get("/docs").text
    assert "url: '/openapi.json'" in docs and '"validatorUrl": null' in docs  # no badge from an online validator
    assert 'spec-url="/openapi.json"' in client.get("/redoc").text
    assert "/v1/ask" in client.get("/openapi.json").json()["paths"]


def test_assets_have_their_content_types(client):
    types = {
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-ui.css": "text/css",
        "redoc.standalone.js": "text/javascript",
    }
    for name, kind in types.items():
        r = client.get(f"{DOCS_ASSETS}/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), name


def test_docs_need_no_api_key(make_client):
    client = make_client(api_key="s3cret")
    assert client.post("/v1/ask", json={"question": "Who?"}).status_code == 401
    assert_served_here(client, "/docs", kinds={"js", "css"})


def test_a_missing_asset_is_a_json_404(client):
    r = client.get(f"{DOCS_ASSETS}/nope.js")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
