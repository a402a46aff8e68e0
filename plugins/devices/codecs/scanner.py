"""Barcode scanners on a serial line (or a serial-over-TCP bridge): each scan is the code followed by
a suffix (CR, LF or CRLF), optionally preceded by an AIM symbology identifier (``]C0`` Code 128,
``]E0`` EAN-13, ``]I0`` ITF, ``]Q1`` QR, ``]d2`` Data Matrix…). Reads arrive in any chunks: a scan may
be split in two reads, and two scans may come in one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

AIM_SYMBOLOGIES = {"A": "code39", "C": "code128", "E": "ean", "I": "itf", "Q": "qr", "d": "datamatrix",
                   "e": "gs1_databar", "L": "pdf417", "X": "other"}
SUFFIXES = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}


@dataclass(frozen=True)
class Scan:
    code: str
    symbology: str | None = None  # from the AIM prefix, when the scanner sends one


def encode_scan(code: str, suffix: str = "cr", aim: str | None = None) -> bytes:
    """What a scanner sends for ``code`` (``aim`` like ``"]C0"``)."""
    return ((aim or "") + code).encode("latin-1") + SUFFIXES[suffix]


def split_aim(raw: str) -> Scan:
    if len(raw) >= 3 and raw[0] == "]" and raw[1] in AIM_SYMBOLOGIES:
        return Scan(raw[3:], AIM_SYMBOLOGIES[raw[1]])
    return Scan(raw)


@dataclass
class Decoder:
    """``feed(bytes)`` returns the complete scans; CR, LF and CRLF all end a scan (a CRLF split over
    two reads gives one scan, not an empty one)."""

    buffer: bytearray = field(default_factory=bytearray)
    last_was_cr: bool = False

    def feed(self, data: bytes) -> list[Scan]:
        scans: list[Scan] = []
        for b in data:
            if b == 0x0A and self.last_was_cr:
                self.last_was_cr = False
                continue
            self.last_was_cr = b == 0x0D
            if b in (0x0D, 0x0A):
                raw = bytes(self.buffer).decode("latin-1").strip()
                self.buffer.clear()
                if raw:
                    scans.append(split_aim(raw))
            else:
                self.buffer.append(b)
        return scans
