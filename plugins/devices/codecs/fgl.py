"""BOCA FGL ("Friendly Ghost Language") tickets: text, boxes, bar codes and QR codes placed by row
and column (dots), ``<p>`` to print and cut; the one-byte statuses a BOCA printer sends back.

``encode_ticket(Ticket(...))`` gives the bytes; ``Parser().feed(bytes)`` reads them back into
``Ticket``s (the simulator records them; round-trip tests). Commands are ``<...>``; a ``<`` or ``>``
in printed text would start a command, so text carries them as ``(`` and ``)``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from plugins.devices.codecs import text as ctext
from plugins.devices.errors import ProtocolError

PRINT, PRINT_NO_CUT, STATUS_REQUEST = b"<p>", b"<q>", b"<S1>"
FORM_FEED = 0x0C

# Statuses a BOCA printer sends (one byte)
ACK_PRINTED = 0x06
STATUSES = {
    0x06: "printed",
    0x10: "paper_out",
    0x11: "ready",
    0x12: "cover_open",
    0x13: "busy",
    0x16: "paper_near_end",
    0x18: "paper_jam",
    0x19: "illegal_data",
    0x1A: "powered_up",
}
STATUS_BYTES = {v: k for k, v in STATUSES.items()}
ROTATIONS = ("NR", "RR", "RU", "RL")  # none, right (90°), up (180°), left (270°)
# bar code type letter (FGL) and the start/stop character around its data
SYMBOLOGIES = {"code128": ("O", "^"), "code39": ("N", "*"), "itf": ("F", ":"), "ean13": ("E", "")}


@dataclass(frozen=True)
class Text:
    row: int
    col: int
    text: str
    font: int = 3
    height: int = 1
    width: int = 1
    rotation: str = "NR"


@dataclass(frozen=True)
class Box:
    row: int
    col: int
    height: int  # dots
    width: int
    thickness: int = 2


@dataclass(frozen=True)
class Barcode:
    row: int
    col: int
    data: str
    symbology: str = "code128"
    height: int = 8  # in units of 8 dots
    magnification: int = 2
    readable: bool = True


@dataclass(frozen=True)
class QRCode:
    row: int
    col: int
    data: str
    size: int = 6  # module size in dots


@dataclass(frozen=True)
class Ticket:
    elements: tuple = ()
    cut: bool = True


def _clean(text: str) -> str:
    return text.replace("<", "(").replace(">", ")").replace("\n", " ")


def status_request() -> bytes:
    return STATUS_REQUEST


def encode_ticket(ticket: Ticket, code_page: str = "cp858") -> bytes:
    out = bytearray()
    for el in ticket.elements:
        out += f"<RC{el.row},{el.col}>".encode("ascii")
        if isinstance(el, Text):
            if el.rotation not in ROTATIONS:
                raise ValueError(f"rotation {el.rotation!r}")
            out += f"<{el.rotation}><F{el.font}><HW{el.height},{el.width}>".encode("ascii")
            out += ctext.encode(_clean(el.text), code_page)
        elif isinstance(el, Box):
            out += f"<LT{el.thickness}><BX{el.height},{el.width}>".encode("ascii")
        elif isinstance(el, Barcode):
            if el.symbology not in SYMBOLOGIES:
                raise ValueError(f"bar code {el.symbology!r}: one of {', '.join(SYMBOLOGIES)}")
            if not el.data.isascii() or any(c in el.data for c in "<>^*:{}"):
                raise ValueError("bar code data: ASCII without < > ^ * : { }")
            letter, delimiter = SYMBOLOGIES[el.symbology]
            out += (("<BI>" if el.readable else "") + f"<X{el.magnification}><{letter}P{el.height}>"
                    + f"{delimiter}{el.data}{delimiter}").encode("ascii")
        elif isinstance(el, QRCode):
            if "}" in el.data:
                raise ValueError("QR data: no '}'")
            out += f"<QR{el.size}>{{".encode("ascii") + el.data.encode("utf-8") + b"}"
        else:
            raise TypeError(f"not a ticket element: {el!r}")
    out += PRINT if ticket.cut else PRINT_NO_CUT
    return bytes(out)


def parse_status(byte: int) -> str:
    try:
        return STATUSES[byte]
    except KeyError:
        raise ProtocolError(f"0x{byte:02x} is not a BOCA status byte") from None


_COMMAND = re.compile(rb"<([^<>]*)>")


@dataclass
class Parser:
    """Reads FGL bytes (in any chunks) into ``Ticket``s; ``feed`` returns the tickets completed and
    the commands that ask for a status (``"status"``)."""

    code_page: str = "cp858"
    buffer: bytearray = field(default_factory=bytearray)
    elements: list = field(default_factory=list)
    state: dict = field(default_factory=dict)

    def _reset_state(self):
        self.state = {"row": 0, "col": 0, "font": 3, "height": 1, "width": 1, "rotation": "NR", "thickness": 2,
                      "magnification": 2, "readable": False}

    def __post_init__(self):
        self._reset_state()

    def feed(self, data: bytes) -> list:
        self.buffer += data
        events: list = []
        while self.buffer:
            b = self.buffer[0]
            if b == FORM_FEED:
                del self.buffer[:1]
                events.append(self._finish(cut=True))
                continue
            if b == ord("<"):
                end = self.buffer.find(b">")
                if end < 0:
                    break
                command = bytes(self.buffer[1:end]).decode("ascii", errors="replace")
                del self.buffer[:end + 1]
                event = self._command(command)
                if event is not None:
                    events.append(event)
                continue
            # data: up to the next command; a bar code or QR waits for its closing delimiter
            pending = self.state.get("pending")
            if pending is not None:
                kind, closing = pending
                if kind == "qr" and self.buffer[:1] == b"{":
                    del self.buffer[:1]
                    continue
                start = 1 if closing and self.buffer[:1] == closing[:1] else 0
                end = self.buffer.find(closing, start) if closing else self.buffer.find(b"<")
                if end < 0:
                    break
                raw = bytes(self.buffer[start:end])
                del self.buffer[:end + (len(closing) if closing else 0)]
                self._data_element(kind, raw)
                continue
            end = self.buffer.find(b"<")
            ff = self.buffer.find(bytes([FORM_FEED]))
            stops = [x for x in (end, ff) if x >= 0]
            if not stops:
                break  # text may continue in the next chunk
            cut_at = min(stops)
            raw = bytes(self.buffer[:cut_at])
            del self.buffer[:cut_at]
            if raw.strip(b"\r\n"):
                s = self.state
                self.elements.append(Text(s["row"], s["col"], ctext.decode(raw.strip(b"\r\n"), self.code_page),
                                          s["font"], s["height"], s["width"], s["rotation"]))
        return events

    def _data_element(self, kind: str, raw: bytes) -> None:
        s = self.state
        self.state["pending"] = None
        if kind == "qr":
            self.elements.append(QRCode(s["row"], s["col"], raw.decode("utf-8"), s["qr_size"]))
        else:
            self.elements.append(Barcode(s["row"], s["col"], raw.decode("ascii"), kind, s["bar_height"],
                                         s["magnification"], s["readable"]))
            self.state["readable"] = False

    def _finish(self, cut: bool):
        ticket = Ticket(tuple(self.elements), cut)
        self.elements = []
        self._reset_state()
        return ticket

    def _command(self, cmd: str):
        s = self.state
        m = re.fullmatch(r"RC(\d+),(\d+)", cmd)
        if m:
            s["row"], s["col"] = int(m[1]), int(m[2])
            return None
        if cmd in ROTATIONS:
            s["rotation"] = cmd
            return None
        m = re.fullmatch(r"F(\d+)", cmd)
        if m:
            s["font"] = int(m[1])
            return None
        m = re.fullmatch(r"HW(\d+),(\d+)", cmd)
        if m:
            s["height"], s["width"] = int(m[1]), int(m[2])
            return None
        m = re.fullmatch(r"LT(\d+)", cmd)
        if m:
            s["thickness"] = int(m[1])
            return None
        m = re.fullmatch(r"BX(\d+),(\d+)", cmd)
        if m:
            self.elements.append(Box(s["row"], s["col"], int(m[1]), int(m[2]), s["thickness"]))
            return None
        m = re.fullmatch(r"X(\d+)", cmd)
        if m:
            s["magnification"] = int(m[1])
            return None
        if cmd == "BI":
            s["readable"] = True
            return None
        m = re.fullmatch(r"([ONFE])P(\d+)", cmd)
        if m:
            kind = {v[0]: k for k, v in SYMBOLOGIES.items()}[m[1]]
            s["bar_height"] = int(m[2])
            s["pending"] = (kind, SYMBOLOGIES[kind][1].encode("ascii"))
            return None
        m = re.fullmatch(r"QR(\d+)", cmd)
        if m:
            s["qr_size"] = int(m[1])
            s["pending"] = ("qr", b"}")
            if self.buffer[:1] == b"{":
                del self.buffer[:1]
            return None
        if cmd == "p":
            return self._finish(cut=True)
        if cmd == "q":
            return self._finish(cut=False)
        if cmd == "S1":
            return "status"
        raise ProtocolError(f"unknown FGL command <{cmd}>")


def parse(data: bytes, code_page: str = "cp858") -> list:
    return [e for e in Parser(code_page).feed(data) if isinstance(e, Ticket)]
