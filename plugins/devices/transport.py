"""Ports: every device is reached through ``serial.serial_for_url`` (pyserial).

- a native port (``/dev/ttyUSB0``, ``COM3``, a pseudo-terminal) is opened **exclusively**;
- ``socket://host:9100`` (a network printer), ``rfc2217://host:port`` (a serial port server) and
  ``loop://`` (tests) are the same to the drivers;
- read and write timeouts are always set; reads wait for bytes (``read_until``, ``read_exact``),
  never sleep;
- the port is always closed: ``with open_port(url) as port: ...``;
- errors leave as ``plugins.devices.errors.DeviceError`` (``mapped_errors``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import serial

from plugins.devices.errors import DeviceTimeout, Disconnected, PortUnavailable, mapped_errors

NETWORK_SCHEMES = ("socket://", "rfc2217://")
SUPPORTED_SCHEMES = ("socket://", "rfc2217://", "loop://")
DEFAULT_TIMEOUT = 3.0


def is_native(url: str) -> bool:
    """A port of this machine (``/dev/ttyUSB0``, ``COM3``), not a URL."""
    return "://" not in url


def is_network(url: str) -> bool:
    """Reached over the network: driven by the server's worker, not by a workstation's agent."""
    return url.startswith(NETWORK_SCHEMES)


def check_url(url: str) -> str | None:
    """None when pyserial can open this kind of URL, else why not (for the configuration form)."""
    url = (url or "").strip()
    if not url:
        return "empty"
    if is_native(url) or url.startswith(SUPPORTED_SCHEMES):
        if url.startswith("socket://") or url.startswith("rfc2217://"):
            rest = url.split("://", 1)[1].split("?", 1)[0]
            host, _, port = rest.rpartition(":")
            if not host or not port.isdigit():
                return "host:port"
        return None
    return "scheme"


@dataclass(frozen=True)
class PortSettings:
    """How to open a port; the serial line settings matter only to native and rfc2217 ports."""

    baudrate: int = 9600
    timeout: float = DEFAULT_TIMEOUT
    write_timeout: float = DEFAULT_TIMEOUT
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    rtscts: bool = False
    xonxoff: bool = False


class Port:
    """An open port with reads that wait for what the protocol expects."""

    def __init__(self, raw: serial.SerialBase, url: str):
        self.raw = raw
        self.url = url

    def write(self, data: bytes) -> None:
        with mapped_errors(device=self.url):
            sent = self.raw.write(data)
            if sent is not None and sent != len(data):
                raise DeviceTimeout(f"{sent}/{len(data)} bytes written")
            self.raw.flush()

    def read_exact(self, size: int, *, what: str = "") -> bytes:
        """Exactly ``size`` bytes, or ``DeviceTimeout`` naming what was awaited."""
        with mapped_errors(device=self.url):
            data = self.raw.read(size)
        if len(data) < size:
            raise DeviceTimeout(f"{what or 'answer'}: {len(data)}/{size} bytes", device=self.url)
        return data

    def read_until(self, terminator: bytes, *, size: int | None = None, what: str = "") -> bytes:
        """Bytes up to and including ``terminator``; ``DeviceTimeout`` if it does not come in time."""
        with mapped_errors(device=self.url):
            data = self.raw.read_until(terminator, size)
        if not data.endswith(terminator) and (size is None or len(data) < size):
            raise DeviceTimeout(f"{what or 'answer'}: no {terminator!r} in {data!r}", device=self.url)
        return data

    def read_some(self, size: int = 4096) -> bytes:
        """What arrives within the timeout (b'' if nothing did); a closed peer is ``Disconnected``."""
        with mapped_errors(device=self.url):
            first = self.raw.read(1)
            if not first:
                return b""
            waiting = self.raw.in_waiting
            return first + (self.raw.read(min(waiting, size - 1)) if waiting else b"")

    def discard_input(self) -> None:
        with mapped_errors(device=self.url):
            self.raw.reset_input_buffer()

    def set_timeout(self, seconds: float) -> None:
        self.raw.timeout = seconds


@contextlib.contextmanager
def open_port(url: str, settings: PortSettings | None = None):
    """``with open_port("socket://127.0.0.1:9100") as port:`` — opened, then always closed."""
    settings = settings or PortSettings()
    url = (url or "").strip()
    problem = check_url(url)
    if problem is not None:
        raise PortUnavailable(f"unsupported port {url!r}", device=url)
    with mapped_errors(opening=True, device=url):
        raw = serial.serial_for_url(url, do_not_open=True, baudrate=settings.baudrate,
                                    bytesize=settings.bytesize, parity=settings.parity,
                                    stopbits=settings.stopbits, rtscts=settings.rtscts,
                                    xonxoff=settings.xonxoff, timeout=settings.timeout,
                                    write_timeout=settings.write_timeout)
        if is_native(url):
            raw.exclusive = True
        raw.open()
    try:
        yield Port(raw, url)
    finally:
        try:
            raw.close()
        except (serial.SerialException, OSError):  # closing a port whose peer vanished
            pass


def discover_ports() -> list[dict]:
    """The serial ports of this machine (the agent reports them: the configuration screen offers them)."""
    from serial.tools import list_ports

    return [{"device": p.device, "description": p.description or "", "hwid": p.hwid or ""}
            for p in sorted(list_ports.comports(), key=lambda p: p.device)]


__all__ = ["Port", "PortSettings", "open_port", "is_native", "is_network", "check_url", "discover_ports",
           "Disconnected"]
