"""One simulator per kind of device, each speaking the real protocol (the codecs' other side)."""
from __future__ import annotations

from plugins.devices.codecs import cd5220, escpos, fgl, payment, scanner
from plugins.devices.errors import ProtocolError
from plugins.devices.simulators.base import Connection, Simulator


class EscPosPrinterSimulator(Simulator):
    """An ESC/POS receipt printer with a cash drawer. State: ``paper`` ("ok", "near_end", "out"),
    ``cover_open``, ``drawer_open``, ``online`` (False: it answers nothing, as a printer switched off
    at the end of a live cable), ``drop_on_data`` (closes the connection when bytes arrive: a cable
    pulled mid-job). ``receipts`` holds the printed receipts (lists of ``escpos.Line``)."""

    code, label = "escpos", "Imprimante de reçus ESC/POS"

    def __init__(self, *, code_page: str = "cp437", **kw):
        super().__init__(**kw)
        self.code_page = code_page
        self.paper = "ok"
        self.cover_open = False
        self.drawer_open = False
        self.online = True
        self.drop_on_data = False
        self.receipts: list[list[escpos.Line]] = []
        self.drawer_kicks = 0
        self.status_requests = 0
        self._current: list[escpos.Line] = []

    def can_print(self) -> bool:
        return self.online and self.paper != "out" and not self.cover_open

    def on_connect(self, conn: Connection) -> None:
        conn.state["parser"] = escpos.Parser(self.code_page)

    def on_data(self, conn: Connection, data: bytes) -> None:
        if self.drop_on_data:
            if hasattr(conn.fileobj, "recv"):
                self._remove(conn)  # called from the serving thread
            return
        if not self.online:
            return
        try:
            elements = conn.state["parser"].feed(data)
        except ProtocolError:
            conn.state["parser"] = escpos.Parser(self.code_page)
            return
        for el in elements:
            if el.kind == "status":
                self.status_requests += 1
                conn.send(bytes([escpos.status_byte(
                    el.value, online=self.online and not self.cover_open and self.paper != "out",
                    drawer_open=self.drawer_open, cover_open=self.cover_open,
                    paper_out=self.paper == "out", paper_near_end=self.paper == "near_end")]))
            elif not self.can_print():
                continue  # a printer that is out of paper or open prints nothing
            elif el.kind == "text":
                self._current.append(el.line)
            elif el.kind == "cut":
                self.receipts.append(self._current)
                self._current = []
            elif el.kind == "drawer":
                self.drawer_open = True
                self.drawer_kicks += 1

    def close_drawer(self) -> None:
        self.drawer_open = False
        self.notify()


class FglPrinterSimulator(Simulator):
    """A BOCA ticket printer (FGL): records the printed ``tickets``, sends ``ACK`` after each one,
    answers ``<S1>`` with its status byte. ``tickets_left`` (None: endless) counts down to paper out."""

    code, label = "fgl", "Imprimante de billets BOCA (FGL)"

    def __init__(self, *, code_page: str = "cp858", tickets_left: int | None = None, **kw):
        super().__init__(**kw)
        self.code_page = code_page
        self.tickets: list[fgl.Ticket] = []
        self.tickets_left = tickets_left
        self.paper_near_end = False
        self.cover_open = False
        self.online = True

    def status(self) -> str:
        if self.cover_open:
            return "cover_open"
        if self.tickets_left == 0:
            return "paper_out"
        if self.paper_near_end:
            return "paper_near_end"
        return "ready"

    def on_connect(self, conn: Connection) -> None:
        conn.state["parser"] = fgl.Parser(self.code_page)

    def on_data(self, conn: Connection, data: bytes) -> None:
        if not self.online:
            return
        try:
            events = conn.state["parser"].feed(data)
        except ProtocolError:
            conn.state["parser"] = fgl.Parser(self.code_page)
            conn.send(bytes([fgl.STATUS_BYTES["illegal_data"]]))
            return
        for event in events:
            if event == "status":
                conn.send(bytes([fgl.STATUS_BYTES[self.status()]]))
                continue
            state = self.status()
            if state in ("cover_open", "paper_out"):
                conn.send(bytes([fgl.STATUS_BYTES[state]]))
                continue
            self.tickets.append(event)
            if self.tickets_left is not None:
                self.tickets_left -= 1
            conn.send(bytes([fgl.ACK_PRINTED]))


class ScannerSimulator(Simulator):
    """A barcode scanner: ``scan("1234")`` sends the code to the connected clients, with its suffix
    (``cr``, ``lf``, ``crlf``) and an optional AIM prefix; ``split=True`` sends it in two writes."""

    code, label = "scanner", "Douchette"

    def __init__(self, *, suffix: str = "cr", aim: bool = False, **kw):
        super().__init__(**kw)
        self.suffix = suffix
        self.aim = aim

    def scan(self, code: str, *, symbology_prefix: str = "]C0", split: bool = False) -> int:
        data = scanner.encode_scan(code, self.suffix, symbology_prefix if self.aim else None)
        if not split:
            return self.broadcast(data)
        half = max(1, len(data) // 2)
        self.broadcast(data[:half])
        return self.broadcast(data[half:])

    def on_data(self, conn: Connection, data: bytes) -> None:
        pass  # a scanner ignores what it is sent


class DisplaySimulator(Simulator):
    """A CD5220 customer display: ``lines`` is what it shows; ``history`` every state shown."""

    code, label = "display", "Afficheur client"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.lines = ["", ""]
        self.history: list[list[str]] = []

    def on_connect(self, conn: Connection) -> None:
        conn.state["parser"] = cd5220.Parser()

    def on_data(self, conn: Connection, data: bytes) -> None:
        try:
            lines = conn.state["parser"].feed(data)
        except ProtocolError:
            conn.state["parser"] = cd5220.Parser()
            return
        if lines != self.lines:
            self.lines = lines
            self.history.append(lines)


class ConcertTerminalSimulator(Simulator):
    """A payment terminal speaking Concert E+. ``outcome``: "accept", "decline", "timeout" (takes the
    request, never answers), "bad_checksum" (every answer has a wrong LRC). ``requests`` holds what
    it was asked."""

    code, label = "concert", "Terminal de paiement (Concert E+)"

    def __init__(self, *, outcome: str = "accept", **kw):
        super().__init__(**kw)
        self.outcome = outcome
        self.requests: list[payment.PaymentRequest] = []
        self.answers_sent = 0

    def on_connect(self, conn: Connection) -> None:
        conn.state.update(phase="idle", buffer=bytearray(), sends=0)

    def _answer_frame(self, conn: Connection) -> bytes:
        req = conn.state["request"]
        data = payment.encode_answer(payment.PaymentAnswer(self.outcome == "accept", req.amount, req.currency,
                                                           req.mode, req.pos, req.private))
        framed = payment.frame(data)
        if self.outcome == "bad_checksum":
            framed = framed[:-1] + bytes([framed[-1] ^ 0xFF])
        return framed

    def on_data(self, conn: Connection, data: bytes) -> None:
        st = conn.state
        st["buffer"] += data
        buf = st["buffer"]
        while buf:
            phase = st["phase"]
            if phase == "idle":
                if buf[0] == payment.ENQ:
                    conn.send(bytes([payment.ACK]))
                    st["phase"] = "request"
                del buf[:1]
            elif phase == "request":
                if buf[0] == payment.EOT:
                    st["phase"] = "idle"
                    del buf[:1]
                    continue
                if len(buf) < payment.REQUEST_FRAME_LENGTH:
                    return
                message = bytes(buf[:payment.REQUEST_FRAME_LENGTH])
                del buf[:payment.REQUEST_FRAME_LENGTH]
                try:
                    st["request"] = payment.parse_request(payment.unframe(message))
                except ProtocolError:
                    conn.send(bytes([payment.NAK]))
                    continue
                conn.send(bytes([payment.ACK]))
                st["phase"] = "end_of_request"
            elif phase == "end_of_request":
                byte = buf[0]
                del buf[:1]
                if byte != payment.EOT:
                    continue
                self.requests.append(st["request"])
                if self.outcome == "timeout":
                    st["phase"] = "silent"
                    continue
                conn.send(bytes([payment.ENQ]))
                st["phase"] = "answer_session"
            elif phase == "answer_session":
                byte = buf[0]
                del buf[:1]
                if byte == payment.ACK:
                    st["sends"] = 1
                    conn.send(self._answer_frame(conn))
                    st["phase"] = "answer_sent"
            elif phase == "answer_sent":
                byte = buf[0]
                del buf[:1]
                if byte == payment.ACK:
                    conn.send(bytes([payment.EOT]))
                    self.answers_sent += 1
                    st["phase"] = "idle"
                elif byte == payment.NAK and st["sends"] < payment.MAX_SENDS:
                    st["sends"] += 1
                    conn.send(self._answer_frame(conn))
                elif byte == payment.NAK:
                    conn.send(bytes([payment.EOT]))
                    st["phase"] = "idle"
            else:  # silent: a terminal that hung
                del buf[:]


class CaisseApTerminalSimulator(Simulator):
    """A payment terminal speaking Caisse-AP over IP (TCP only); ``outcome`` as for Concert."""

    code, label = "caisse_ap", "Terminal de paiement (Caisse-AP IP)"

    def __init__(self, *, outcome: str = "accept", **kw):
        kw.setdefault("transport", "tcp")
        super().__init__(**kw)
        self.outcome = outcome
        self.requests: list[payment.PaymentRequest] = []
        self._authorisations = 0

    def on_connect(self, conn: Connection) -> None:
        conn.state["buffer"] = bytearray()

    def on_data(self, conn: Connection, data: bytes) -> None:
        conn.state["buffer"] += data
        try:
            fields = payment.parse_tlv(bytes(conn.state["buffer"]))
        except ProtocolError:
            conn.state["buffer"].clear()
            return
        if fields is None or "CE" not in fields:
            return
        conn.state["buffer"].clear()
        req = payment.parse_caisse_ap_request(fields)
        self.requests.append(req)
        if self.outcome == "timeout":
            return
        self._authorisations += 1
        answer = payment.encode_caisse_ap_answer(req, self.outcome == "accept", f"{self._authorisations:06d}")
        if self.outcome == "bad_checksum":
            answer = answer.replace(b"AE0", b"A\xc9\xff", 1)  # garbled on the line
        conn.send(answer)
