"""CD5220-style customer displays: two lines of 20 characters.

``ESC @`` initialises, ``FF`` (0x0C) clears, ``ESC Q A text CR`` writes the upper line and
``ESC Q B text CR`` the lower one; ``ESC t n`` picks the code page (CP858 holds the €).
``encode_show(line1, line2)`` gives the bytes; ``Parser().feed(bytes)`` keeps what the display
would show (the simulator).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from plugins.devices.codecs import text as ctext
from plugins.devices.errors import ProtocolError

ESC, CR, CLEAR, INIT = b"\x1b", b"\r", b"\x0c", b"\x1b@"
WIDTH = 20
CODE_PAGE_NUMBERS = {"cp437": 0, "cp850": 2, "cp858": 19, "cp1252": 16}


def fit(text: str, width: int = WIDTH, align: str = "left") -> str:
    text = " ".join(text.split())[:width]
    return text.rjust(width) if align == "right" else text.center(width) if align == "center" else text.ljust(width)


def two_columns(left: str, right: str, width: int = WIDTH) -> str:
    """``"Total"`` and ``"42,00 €"`` on one 20-character line, the amount flush right."""
    right = right[:width]
    return (left[: max(0, width - len(right) - 1)].ljust(width - len(right)) + right)[:width]


def encode_show(line1: str, line2: str = "", code_page: str = "cp858", width: int = WIDTH) -> bytes:
    if code_page not in CODE_PAGE_NUMBERS:
        raise ValueError(f"code page {code_page!r}")
    return (INIT + ESC + b"t" + bytes([CODE_PAGE_NUMBERS[code_page]]) + CLEAR
            + ESC + b"QA" + ctext.encode(fit(ctext.printable(line1, code_page), width), code_page) + CR
            + ESC + b"QB" + ctext.encode(fit(ctext.printable(line2, code_page), width), code_page) + CR)


def encode_clear() -> bytes:
    return CLEAR


@dataclass
class Parser:
    code_page: str = "cp437"
    lines: list = field(default_factory=lambda: ["", ""])
    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[str]:
        """Consume bytes; returns the two lines shown after them."""
        self.buffer += data
        buf = self.buffer
        while buf:
            if buf[0] == 0x0C:
                self.lines = ["", ""]
                del buf[:1]
            elif buf[0] == 0x1B:
                if len(buf) < 2:
                    break
                if buf[1] == ord("@"):
                    self.lines = ["", ""]
                    del buf[:2]
                elif buf[1] == ord("t"):
                    if len(buf) < 3:
                        break
                    self.code_page = {v: k for k, v in CODE_PAGE_NUMBERS.items()}.get(buf[2], "cp437")
                    del buf[:3]
                elif buf[1] == ord("Q"):
                    end = buf.find(CR)
                    if len(buf) < 3 or end < 0:
                        break
                    row = {ord("A"): 0, ord("B"): 1}.get(buf[2])
                    if row is None:
                        raise ProtocolError(f"ESC Q {chr(buf[2])!r}: A or B")
                    self.lines[row] = ctext.decode(bytes(buf[3:end]), self.code_page)
                    del buf[:end + 1]
                else:
                    raise ProtocolError(f"unknown display command ESC 0x{buf[1]:02x}")
            else:
                raise ProtocolError(f"unexpected byte 0x{buf[0]:02x} for the display")
        return list(self.lines)
