"""Decoding files to text: encoding detection and binary rejection.

News folders hold UTF-8, Windows-1252, Latin-1 and UTF-16 files side by side.
Each is decoded as what it is; a file that is not text is refused with a
reason rather than indexed as mojibake.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

#: Bytes read from one file at most; longer files are cut with a warning.
MAX_FILE_BYTES = 20 * 1024 * 1024


class NotText(ValueError):
    """The file's bytes do not decode to readable text."""


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding) or raise NotText."""
    for bom, bom_enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(bom_enc), bom_enc
            except UnicodeDecodeError as exc:
                raise NotText(f"invalid {bom_enc} text") from exc
    if b"\x00" in data:
        utf16 = _guess_utf16(data)
        if utf16 is not None:
            try:
                return data.decode(utf16), utf16
            except UnicodeDecodeError as exc:
                raise NotText("binary file (NUL bytes)") from exc
        # A few stray NULs in otherwise readable text are dropped, not fatal.
        if data.count(b"\x00") > max(8, len(data) // 100):
            raise NotText("binary file (NUL bytes)")
        data = data.replace(b"\x00", b"")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8. Western text in Windows-1252 is by far the most common case and
    # detectors confuse it with other 8-bit code pages, so take it when every
    # non-ASCII character it yields is a Latin letter or common punctuation.
    try:
        text = data.decode("cp1252")
        if all(ch < "\x80" or "\u00a0" <= ch <= "\u024f" or ch in _CP1252_PUNCT for ch in text):
            return text, "cp1252"
    except UnicodeDecodeError:
        pass
    enc: str | None = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None:
            enc = best.encoding
    except Exception:  # detection is a hint only
        enc = None
    for candidate in [enc, "cp1252", "latin-1"]:
        if not candidate:
            continue
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if _looks_binary(text):
            raise NotText("binary file (not text in any common encoding)")
        return text, candidate
    raise NotText("undecodable text")


_CP1252_PUNCT = set(
    "\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u20ac\u2022\u2122\u0152\u0153\u0160\u0161\u017d\u017e\u0178\u02c6\u02dc\u2020\u2021\u2030\u2039\u203a\u201a\u201e\u0192"
)


def _guess_utf16(data: bytes) -> str | None:
    sample = data[:4096]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = max(len(sample) // 2, 1)
    if odd / half > 0.3 and even / half < 0.05:
        return "utf-16-le"
    if even / half > 0.3 and odd / half < 0.05:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad / len(sample) > 0.05


_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]"
)


def clean_text(text: str) -> str:
    """Normalise newlines and drop control, zero-width and bidi characters.

    Done once at ingestion so every offset refers to the cleaned text and no
    control sequence ever reaches an index, a terminal or a report.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_escape_sequences(text)
    return _CONTROL.sub("", text)


_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (hyperlinks, clipboard writes, titles)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"  # 8-bit OSC
)


def strip_escape_sequences(text: str) -> str:
    return _ESCAPES.sub("", text)
