"""The built-in drivers (``BUILTIN_DRIVERS``), registered through ``devices_drivers`` like anyone's."""
from plugins.devices.drivers.base import Driver, PortSettingsSchema  # noqa: F401
from plugins.devices.drivers.display import CD5220_DISPLAY
from plugins.devices.drivers.escpos import ESCPOS_DRAWER, ESCPOS_RECEIPT
from plugins.devices.drivers.fgl import BOCA_FGL
from plugins.devices.drivers.payment import CAISSE_AP, CONCERT
from plugins.devices.drivers.scanner import SERIAL_SCANNER

BUILTIN_DRIVERS = [BOCA_FGL, ESCPOS_RECEIPT, ESCPOS_DRAWER, SERIAL_SCANNER, CD5220_DISPLAY, CONCERT, CAISSE_AP]
