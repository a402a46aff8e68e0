"""Barcode scanners on a serial port (or a serial-over-TCP bridge). A scanner is not given jobs: the
agent listens to it and forwards each scan to the server (``listen``)."""
from __future__ import annotations

import threading
from typing import Callable

from marshmallow import fields, validate

from plugins.devices.codecs import scanner
from plugins.devices.drivers.base import Driver, PortSettingsSchema
from plugins.devices.i18n import _l


class ScannerSettings(PortSettingsSchema):
    suffix = fields.String(load_default="cr", validate=validate.OneOf(sorted(scanner.SUFFIXES)),
                           metadata={"label": _l("Fin de lecture")})
    aim = fields.Boolean(load_default=False, metadata={"label": _l("Préfixe de symbologie AIM")})


class SerialScanner(Driver):
    key = "serial_scanner"
    kind = "scanner"
    label = _l("Douchette série (ou USB en mode série)")
    settings_schema = ScannerSettings

    def status(self, port, settings, payload):
        return {"online": True}

    def listen(self, port, settings, on_scan: Callable[[scanner.Scan], None], stop: threading.Event) -> None:
        """Read scans until ``stop`` is set (checked at each read timeout); ``on_scan`` gets each one.
        A lost port raises ``Disconnected``/``PortUnavailable`` to the caller, who reopens it."""
        decoder = scanner.Decoder()
        port.set_timeout(min(settings.get("timeout", 1.0), 0.5))
        while not stop.is_set():
            data = port.read_some()
            for scan in decoder.feed(data):
                on_scan(scan)

    def test(self, port, settings, payload):
        return {"opened": True}


SERIAL_SCANNER = SerialScanner()
