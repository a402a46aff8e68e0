"""Text in a device's code page: French text (é ç œ € ’) on printers and displays that speak one byte
per character. What the code page cannot hold is replaced by its nearest ASCII form (œ → oe in CP858,
’ → ') rather than by '?'."""
from __future__ import annotations

import unicodedata

from unidecode import unidecode

CODE_PAGES = ("cp858", "cp1252", "cp437", "cp850")
# What a shop's printer cannot print is written the way a French typist would.
_NEAREST = {"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"', "œ": "oe", "Œ": "OE", "…": "...",
            "–": "-", "—": "-", "\u00a0": " ", "\u202f": " "}


def encode(text: str, code_page: str) -> bytes:
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode(code_page)
        except UnicodeEncodeError:
            fallback = _NEAREST.get(char)
            if fallback is None:
                fallback = unidecode(char) or "?"
            out += fallback.encode(code_page, errors="replace")
    return bytes(out)


def decode(data: bytes, code_page: str) -> str:
    return data.decode(code_page, errors="replace")


def printable(text: str, code_page: str) -> str:
    """What ``text`` looks like once printed in ``code_page`` (for round-trip checks and previews)."""
    return decode(encode(text, code_page), code_page)
