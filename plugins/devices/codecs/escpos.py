"""ESC/POS receipts: text in CP858 or CP1252 (French text and €), bold, sizes, alignment, feed, cut,
drawer kick, and the real-time status requests ``DLE EOT n`` with their answers.

``encode_receipt(Receipt(...))`` gives the bytes a receipt printer takes; ``parse(bytes)`` reads them
back into ``Element``s (the simulator uses it, and the round-trip tests). ``parse_status(n, byte)``
reads the one byte a printer answers to ``DLE EOT n``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from plugins.devices.codecs import text as ctext
from plugins.devices.errors import ProtocolError

ESC, GS, DLE, EOT, LF = b"\x1b", b"\x1d", b"\x10", b"\x04", b"\n"
INIT = ESC + b"@"
# ESC t n: the character code table
CODE_PAGE_NUMBERS = {"cp437": 0, "cp850": 2, "cp1252": 16, "cp858": 19}
CODE_PAGES_BY_NUMBER = {v: k for k, v in CODE_PAGE_NUMBERS.items()}
ALIGN = {"left": 0, "center": 1, "right": 2}
# DLE EOT n
STATUS_PRINTER, STATUS_OFFLINE, STATUS_ERROR, STATUS_PAPER = 1, 2, 3, 4
DRAWER_PINS = {2: 0, 5: 1}


@dataclass(frozen=True)
class Line:
    """One line of a receipt."""

    text: str = ""
    bold: bool = False
    width: int = 1  # 1..8 (character width multiplier)
    height: int = 1
    align: str = "left"
    underline: bool = False


@dataclass(frozen=True)
class Receipt:
    lines: tuple[Line, ...] = ()
    cut: bool = True
    partial_cut: bool = False
    feed: int = 6  # lines fed before the cut, so that the last line clears the cutter
    open_drawer: bool = False
    drawer_pin: int = 2


def status_request(n: int) -> bytes:
    if n not in (1, 2, 3, 4):
        raise ValueError("DLE EOT n: n is 1, 2, 3 or 4")
    return DLE + EOT + bytes([n])


def drawer_kick(pin: int = 2, on_ms: int = 100, off_ms: int = 100) -> bytes:
    """``ESC p m t1 t2``: a pulse on pin 2 or 5 of the drawer connector (times in 2 ms units)."""
    if pin not in DRAWER_PINS:
        raise ValueError("the drawer is on pin 2 or pin 5")
    return ESC + b"p" + bytes([DRAWER_PINS[pin], max(1, min(255, on_ms // 2)), max(1, min(255, off_ms // 2))])


def cut(feed: int = 6, partial: bool = False) -> bytes:
    """Feed ``feed`` lines (``ESC d n``) then cut (``GS V 0`` full, ``GS V 1`` partial)."""
    return (ESC + b"d" + bytes([feed]) if feed else b"") + GS + b"V" + (b"\x01" if partial else b"\x00")


def encode_receipt(receipt: Receipt, code_page: str = "cp858") -> bytes:
    if code_page not in CODE_PAGE_NUMBERS:
        raise ValueError(f"code page {code_page!r}: one of {', '.join(CODE_PAGE_NUMBERS)}")
    out = bytearray(INIT + ESC + b"t" + bytes([CODE_PAGE_NUMBERS[code_page]]))
    state = Line()
    for line in receipt.lines:
        if not (1 <= line.width <= 8 and 1 <= line.height <= 8):
            raise ValueError("width and height are 1 to 8")
        if line.align != state.align:
            out += ESC + b"a" + bytes([ALIGN[line.align]])
        if line.bold != state.bold:
            out += ESC + b"E" + bytes([int(line.bold)])
        if line.underline != state.underline:
            out += ESC + b"-" + bytes([int(line.underline)])
        if (line.width, line.height) != (state.width, state.height):
            out += GS + b"!" + bytes([((line.width - 1) << 4) | (line.height - 1)])
        state = line
        out += ctext.encode(line.text.replace("\n", " "), code_page) + LF
    if receipt.cut:
        out += cut(receipt.feed, receipt.partial_cut)
    if receipt.open_drawer:
        out += drawer_kick(receipt.drawer_pin)
    return bytes(out)


# --------------------------------------------------------------------------- parsing (simulator, tests)


@dataclass
class Element:
    """What a parsed stream holds: ``text`` lines with their style, ``cut``, ``drawer``, ``status``."""

    kind: str  # "text" | "cut" | "drawer" | "status" | "init"
    line: Line | None = None
    value: int = 0  # status request n, drawer pin, cut: 1 partial / 0 full


@dataclass
class Parser:
    """Incremental ESC/POS reader: ``feed(bytes)`` returns the complete elements; keeps a partial
    command or line until its bytes arrive (bytes come in any chunks)."""

    code_page: str = "cp437"
    buffer: bytearray = field(default_factory=bytearray)
    style: dict = field(default_factory=lambda: {"bold": False, "width": 1, "height": 1, "align": "left",
                                                  "underline": False})
    text: bytearray = field(default_factory=bytearray)

    def _line(self) -> Element:
        line = Line(ctext.decode(bytes(self.text), self.code_page), **self.style)
        self.text.clear()
        return Element("text", line)

    def feed(self, data: bytes) -> list[Element]:
        self.buffer += data
        out: list[Element] = []
        buf = self.buffer
        i = 0
        while i < len(buf):
            b = buf[i]
            if b == 0x0A:
                out.append(self._line())
                i += 1
                continue
            if b == 0x0D:
                i += 1
                continue
            if b in (0x1B, 0x1D, 0x10):
                need = self._command_length(buf, i)
                if need is None:  # incomplete: wait for more bytes
                    break
                out.extend(self._command(bytes(buf[i:i + need])))
                i += need
                continue
            if b < 0x20:
                raise ProtocolError(f"unexpected control byte 0x{b:02x}")
            self.text.append(b)
            i += 1
        del buf[:i]
        return out

    @staticmethod
    def _command_length(buf: bytearray, i: int) -> int | None:
        if i + 1 >= len(buf):
            return None
        lead, op = buf[i], buf[i + 1]
        if lead == 0x1B:
            lengths = {0x40: 2, 0x74: 3, 0x61: 3, 0x45: 3, 0x2D: 3, 0x64: 3, 0x70: 5, 0x21: 3, 0x47: 3}
        elif lead == 0x1D:
            lengths = {0x21: 3, 0x56: 3}
            if op == 0x56 and i + 2 < len(buf) and buf[i + 2] in (0x41, 0x42, 65, 66):
                lengths = {0x56: 4}
        else:
            lengths = {0x04: 3}
        if op not in lengths:
            raise ProtocolError(f"unknown command 0x{lead:02x} 0x{op:02x}")
        need = lengths[op]
        return need if i + need <= len(buf) else None

    def _command(self, cmd: bytes) -> list[Element]:
        lead, op, args = cmd[0], cmd[1], cmd[2:]
        out: list[Element] = []
        if lead == 0x10:
            return [Element("status", value=args[0])]
        if lead == 0x1B and op == 0x40:
            self.style = {"bold": False, "width": 1, "height": 1, "align": "left", "underline": False}
            return [Element("init")]
        if lead == 0x1B and op == 0x74:
            self.code_page = CODE_PAGES_BY_NUMBER.get(args[0], "cp437")
        elif lead == 0x1B and op == 0x61:
            self.style["align"] = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}[args[0]]
        elif lead == 0x1B and op in (0x45, 0x47):
            self.style["bold"] = bool(args[0] & 1)
        elif lead == 0x1B and op == 0x2D:
            self.style["underline"] = bool(args[0] & 3)
        elif lead == 0x1B and op == 0x21:  # ESC ! n: print mode (bold bit 3, double height 4, width 5)
            self.style.update(bold=bool(args[0] & 8), height=2 if args[0] & 16 else 1, width=2 if args[0] & 32 else 1)
        elif lead == 0x1D and op == 0x21:
            self.style.update(width=(args[0] >> 4) + 1, height=(args[0] & 0x0F) + 1)
        elif lead == 0x1B and op == 0x64:
            if self.text:
                out.append(self._line())
        elif lead == 0x1D and op == 0x56:
            if self.text:
                out.append(self._line())
            out.append(Element("cut", value=1 if args[0] in (1, 49, 66) else 0))
        elif lead == 0x1B and op == 0x70:
            out.append(Element("drawer", value=2 if args[0] in (0, 48) else 5))
        return out


def parse(data: bytes, code_page: str = "cp437") -> list[Element]:
    parser = Parser(code_page)
    elements = parser.feed(data)
    if parser.text:
        elements.append(parser._line())
    return elements


def receipt_text(elements: list[Element]) -> list[str]:
    return [e.line.text for e in elements if e.kind == "text"]


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class PrinterStatus:
    """What the four status requests tell (None: not asked)."""

    online: bool | None = None
    drawer_open: bool | None = None
    cover_open: bool | None = None
    paper_out: bool | None = None
    paper_near_end: bool | None = None
    error: bool | None = None

    @property
    def paper(self) -> str | None:
        if self.paper_out:
            return "out"
        if self.paper_near_end:
            return "near_end"
        return None if self.paper_out is None and self.paper_near_end is None else "ok"


def _check(byte: int) -> None:
    # bits 1 and 4 are fixed to 1, bits 0 and 7 to 0: anything else is not a status byte
    if byte & 0b10010011 != 0b00010010:
        raise ProtocolError(f"0x{byte:02x} is not an ESC/POS status byte")


def parse_status(n: int, byte: int) -> dict:
    """The meaning of the byte answered to ``DLE EOT n``."""
    _check(byte)
    if n == STATUS_PRINTER:
        # bit 2: drawer connector pin 3 high (most drawers: closed = high, so high means closed)
        return {"online": not byte & 0x08, "drawer_open": not byte & 0x04}
    if n == STATUS_OFFLINE:
        return {"cover_open": bool(byte & 0x04), "paper_out": bool(byte & 0x20), "error": bool(byte & 0x40)}
    if n == STATUS_ERROR:
        return {"error": bool(byte & (0x08 | 0x20 | 0x40))}
    if n == STATUS_PAPER:
        return {"paper_near_end": bool(byte & 0x0C), "paper_out": bool(byte & 0x60)}
    raise ValueError("n is 1, 2, 3 or 4")


def status_byte(n: int, *, online=True, drawer_open=False, cover_open=False, paper_out=False,
                paper_near_end=False, error=False) -> int:
    """The byte a printer in this state answers to ``DLE EOT n`` (the simulator's side)."""
    byte = 0b00010010
    if n == STATUS_PRINTER:
        byte |= (0 if online else 0x08) | (0 if drawer_open else 0x04)
    elif n == STATUS_OFFLINE:
        byte |= (0x04 if cover_open else 0) | (0x20 if paper_out else 0) | (0x40 if error or cover_open else 0)
    elif n == STATUS_ERROR:
        byte |= 0x40 if error else 0
    elif n == STATUS_PAPER:
        byte |= (0x0C if paper_near_end or paper_out else 0) | (0x60 if paper_out else 0)
    return byte


def merge_status(answers: dict[int, int]) -> PrinterStatus:
    merged: dict = {}
    for n in sorted(answers):
        merged.update(parse_status(n, answers[n]))
    if merged.get("paper_out"):
        merged["paper_near_end"] = True
    return PrinterStatus(**merged)
