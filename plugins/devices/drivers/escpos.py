"""ESC/POS receipt printers, and the cash drawer wired to one."""
from __future__ import annotations

from marshmallow import fields, validate

from plugins.devices.codecs import escpos
from plugins.devices.drivers.base import Driver, PortSettingsSchema
from plugins.devices.errors import CoverOpen, DeviceOffline, PaperOut, ProtocolError
from plugins.devices.i18n import _, _l

TEST_TEXT = "Test d'impression — é è ç à œ € ’"


class EscPosSettings(PortSettingsSchema):
    code_page = fields.String(load_default="cp858", validate=validate.OneOf(sorted(escpos.CODE_PAGE_NUMBERS)),
                              metadata={"label": _l("Page de code")})
    columns = fields.Integer(load_default=42, validate=validate.Range(min=16, max=80),
                             metadata={"label": _l("Caractères par ligne")})
    drawer_pin = fields.Integer(load_default=2, validate=validate.OneOf([2, 5]),
                                metadata={"label": _l("Broche du tiroir-caisse")})
    cut = fields.Boolean(load_default=True, metadata={"label": _l("Couper le papier")})


def read_status(port) -> escpos.PrinterStatus:
    """Ask the four real-time statuses (``DLE EOT 1..4``); a printer answers them even when offline."""
    answers = {}
    for n in (escpos.STATUS_PRINTER, escpos.STATUS_OFFLINE, escpos.STATUS_PAPER):
        port.write(escpos.status_request(n))
        answers[n] = port.read_exact(1, what=f"DLE EOT {n}")[0]
    return escpos.merge_status(answers)


def status_dict(status: escpos.PrinterStatus) -> dict:
    return {"online": status.online, "paper": status.paper, "cover_open": status.cover_open,
            "drawer_open": status.drawer_open}


def ensure_ready(status: escpos.PrinterStatus) -> None:
    if status.cover_open:
        raise CoverOpen()
    if status.paper_out:
        raise PaperOut()
    if status.online is False:
        raise DeviceOffline()


def receipt_from_payload(payload: dict, settings: dict) -> escpos.Receipt:
    lines = []
    for raw in payload.get("lines", []):
        raw = {"text": raw} if isinstance(raw, str) else raw
        try:
            lines.append(escpos.Line(str(raw.get("text", "")), bool(raw.get("bold", False)), int(raw.get("width", 1)),
                                     int(raw.get("height", 1)), str(raw.get("align", "left")),
                                     bool(raw.get("underline", False))))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"receipt line {raw!r}: {exc}") from None
    return escpos.Receipt(tuple(lines), cut=settings["cut"], open_drawer=bool(payload.get("open_drawer")),
                          drawer_pin=settings["drawer_pin"])


class EscPosReceiptPrinter(Driver):
    key = "escpos"
    kind = "receipt_printer"
    label = _l("Imprimante de reçus ESC/POS (Epson TM et compatibles)")
    priority = 100
    settings_schema = EscPosSettings

    def status(self, port, settings, payload):
        return status_dict(read_status(port))

    def probe(self, port, settings, payload):
        return {"driver": self.key, "protocol": "ESC/POS", **self.status(port, settings, payload)}

    def print_receipt(self, port, settings, payload):
        ensure_ready(read_status(port))
        receipt = receipt_from_payload(payload, settings)
        port.write(escpos.encode_receipt(receipt, settings["code_page"]))
        after = read_status(port)  # the printer took the whole receipt: it answers after it
        if after.paper_out:
            raise PaperOut(_("le papier s'est épuisé pendant l'impression"))
        return {"printed": True, "lines": len(receipt.lines), **status_dict(after)}

    def open_drawer(self, port, settings, payload):
        ensure_ready(read_status(port))
        port.write(escpos.drawer_kick(int(payload.get("pin", settings["drawer_pin"]))))
        return {"opened": True, **status_dict(read_status(port))}

    def test(self, port, settings, payload):
        probe = self.probe(port, settings, payload)
        printed = self.print_receipt(port, settings, {"lines": [
            {"text": "Coulisses", "bold": True, "width": 2, "height": 2, "align": "center"},
            {"text": TEST_TEXT}, {"text": "-" * settings["columns"]}]})
        return {"probe": probe, "print": printed}


class EscPosCashDrawer(EscPosReceiptPrinter):
    """A cash drawer plugged into an ESC/POS printer's drawer connector."""

    key = "escpos_drawer"
    kind = "cash_drawer"
    label = _l("Tiroir-caisse branché sur une imprimante ESC/POS")

    def test(self, port, settings, payload):
        return {"probe": self.probe(port, settings, payload), "drawer": self.open_drawer(port, settings, payload)}


ESCPOS_RECEIPT = EscPosReceiptPrinter()
ESCPOS_DRAWER = EscPosCashDrawer()
