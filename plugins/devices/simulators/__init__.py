"""Simulators that speak the devices' real protocols, so that everything runs without hardware.

Each serves on ``socket://127.0.0.1:<port>`` (``transport="tcp"``) or on a pseudo-terminal
(``transport="pty"``: its ``url`` is ``/dev/pts/N``, a native port), in one thread, and is a context
manager::

    with EscPosPrinterSimulator() as printer:
        ...  # print to printer.url
        printer.wait_for(lambda: printer.receipts)

``coulisses devices simulate`` starts one of each and prints their URLs.
"""
from plugins.devices.simulators.base import Simulator  # noqa: F401
from plugins.devices.simulators.devices import (  # noqa: F401
    CaisseApTerminalSimulator,
    ConcertTerminalSimulator,
    DisplaySimulator,
    EscPosPrinterSimulator,
    FglPrinterSimulator,
    ScannerSimulator,
)

ALL = (EscPosPrinterSimulator, FglPrinterSimulator, ScannerSimulator, DisplaySimulator,
       ConcertTerminalSimulator, CaisseApTerminalSimulator)
