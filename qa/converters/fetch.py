"""Fetching one http(s) URL with a time limit and a size cap.

Indexing a feed or an article page must never hang on a slow server nor fill
memory from an endless response, and one unreachable address must cost one
named line, never the rest of the run. So every fetch has a whole-request
deadline (not only a per-read socket timeout, which a server trickling one
byte a second would never trip), reads at most ``MAX_FILE_BYTES`` (the cap
files have), follows redirects only to http(s), and turns every failure into
``FetchError`` with a short reason.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import TypeGuard

from qa.converters.text import MAX_FILE_BYTES

#: Seconds one fetch may take in all (connect, headers and body).
FETCH_TIMEOUT_S = 15.0
USER_AGENT = "Newsdesk/0.1 (news question answering; feed and article reader)"
_CHUNK = 1 << 16


class FetchError(Exception):
    """A URL could not be fetched; the message is a short reason ("HTTP 404", "connection refused")."""


@dataclass(frozen=True, kw_only=True)
class Fetched:
    """A fetched response body (cut at the size cap when ``truncated``)."""

    url: str
    data: bytes
    content_type: str
    charset: str | None
    truncated: bool


def is_url(value: object) -> TypeGuard[str]:
    """True for an http(s) address given where a path is expected."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only: a feed must not send the reader to ftp:// or file://."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not is_url(newurl):
            raise FetchError(f"redirected to a non-http address ({newurl[:80]})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects())


def fetch(url: str, *, timeout: float = FETCH_TIMEOUT_S, limit: int = MAX_FILE_BYTES) -> Fetched:
    """GET ``url``; raises FetchError with a one-line reason on any failure."""
    if not is_url(url):
        raise FetchError("not an http(s) address")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            chunks, size = [], 0
            while size <= limit:
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {timeout:g} s")
                chunk = response.read(min(_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            headers: Message = response.headers
            data = b"".join(chunks)
            return Fetched(
                url=response.geturl() or url,
                data=data[:limit],
                truncated=len(data) > limit,
                content_type=headers.get_content_type(),
                charset=headers.get_content_charset(),
            )
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}".strip()) from None
    except urllib.error.URLError as exc:
        raise FetchError(_reason(exc.reason)) from None
    except TimeoutError:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except (OSError, ValueError) as exc:  # a dropped connection, a malformed address or response
        raise FetchError(_reason(exc)) from None


def _reason(reason: object) -> str:
    """A short reason from what urllib or the socket layer gave."""
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "host not found"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    text = " ".join(str(reason).split())
    return text[:120] or type(reason).__name__
