"""BOCA ticket printers (FGL)."""
from __future__ import annotations

from marshmallow import fields, validate

from plugins.devices.codecs import fgl
from plugins.devices.drivers.base import Driver, PortSettingsSchema
from plugins.devices.errors import CoverOpen, DeviceTimeout, PaperOut, ProtocolError
from plugins.devices.i18n import _, _l

# statuses a BOCA sends on its own (ticket taken, ready again): not an answer to wait for
UNSOLICITED = {"ready", "paper_near_end", "powered_up", "busy"}


class FglSettings(PortSettingsSchema):
    code_page = fields.String(load_default="cp858", validate=validate.OneOf(["cp858", "cp850", "cp437", "cp1252"]),
                              metadata={"label": _l("Page de code")})
    print_timeout = fields.Float(load_default=10.0, validate=validate.Range(min=1, max=120),
                                 metadata={"label": _l("Délai d'impression d'un billet (secondes)")})


def _raise_for(state: str, printed: int, total: int):
    detail = _("%(printed)s billet(s) imprimé(s) sur %(total)s", printed=printed, total=total)
    if state == "paper_out":
        raise PaperOut(detail)
    if state == "cover_open":
        raise CoverOpen(detail)
    raise ProtocolError(f"{state}: {detail}")


def ticket_from_payload(raw: dict) -> fgl.Ticket:
    types = {"text": fgl.Text, "box": fgl.Box, "barcode": fgl.Barcode, "qr": fgl.QRCode}
    elements = []
    for el in raw.get("elements", []):
        el = dict(el)
        cls = types.get(el.pop("type", ""))
        if cls is None:
            raise ProtocolError(f"ticket element {el!r}: type is one of {', '.join(types)}")
        try:
            elements.append(cls(**el))
        except TypeError as exc:
            raise ProtocolError(f"ticket element: {exc}") from None
    return fgl.Ticket(tuple(elements), cut=bool(raw.get("cut", True)))


class BocaFglPrinter(Driver):
    key = "boca_fgl"
    kind = "ticket_printer"
    label = _l("Imprimante de billets BOCA (FGL)")
    priority = 100
    settings_schema = FglSettings

    def _status(self, port) -> str:
        port.discard_input()
        port.write(fgl.status_request())
        return fgl.parse_status(port.read_exact(1, what="FGL status")[0])

    def status(self, port, settings, payload):
        state = self._status(port)
        return {"online": True, "state": state,
                "paper": {"paper_out": "out", "paper_near_end": "near_end"}.get(state, "ok"),
                "cover_open": state == "cover_open"}

    def print_ticket(self, port, settings, payload):
        tickets = [ticket_from_payload(t) for t in payload.get("tickets", [])]
        state = self._status(port)
        if state not in UNSOLICITED and state != "printed":
            _raise_for(state, 0, len(tickets))
        port.set_timeout(settings["print_timeout"])
        printed = 0
        for ticket in tickets:
            port.write(fgl.encode_ticket(ticket, settings["code_page"]))
            while True:
                try:
                    answer = fgl.parse_status(port.read_exact(1, what="ticket printed (ACK)")[0])
                except DeviceTimeout as exc:
                    exc.detail = f"{exc.detail}; " + _("%(printed)s billet(s) imprimé(s) sur %(total)s",
                                                       printed=printed, total=len(tickets))
                    exc.partial = {"printed": printed}
                    raise
                if answer == "printed":
                    printed += 1
                    break
                if answer not in UNSOLICITED:
                    try:
                        _raise_for(answer, printed, len(tickets))
                    except Exception as exc:
                        exc.partial = {"printed": printed}
                        raise
        return {"printed": printed}

    def test(self, port, settings, payload):
        status = self.status(port, settings, payload)
        ticket = {"elements": [
            {"type": "box", "row": 10, "col": 10, "height": 380, "width": 1200},
            {"type": "text", "row": 40, "col": 40, "text": "Coulisses — test d'impression", "font": 3},
            {"type": "text", "row": 100, "col": 40, "text": "é è ç à œ € ’", "font": 3},
            {"type": "barcode", "row": 160, "col": 40, "data": "0123456789", "symbology": "code128"},
            {"type": "qr", "row": 160, "col": 800, "data": "COULISSES-TEST"}]}
        return {"status": status, "print": self.print_ticket(port, settings, {"tickets": [ticket]})}


BOCA_FGL = BocaFglPrinter()
