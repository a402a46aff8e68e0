"""What a driver is: a key, a kind, a settings schema (marshmallow), a priority, and the operations
of its kind, each taking an open ``Port``, the validated settings and the job's payload and returning
a JSON-able result (or raising a ``DeviceError``).

``run(driver, url, settings, operation, payload)`` opens the port with the driver's line settings,
holds the device's lock, runs the operation and always closes the port.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from coulisses import InvalidError
from plugins.devices.errors import DeviceBusy, DeviceError
from plugins.devices.i18n import _l
from plugins.devices.transport import PortSettings, open_port


class PortSettingsSchema(Schema):
    """Settings every driver has; a driver's schema extends it. ``metadata["label"]`` labels the field
    in the settings form generated from the schema."""

    class Meta:
        unknown = EXCLUDE

    baudrate = fields.Integer(load_default=9600, validate=validate.OneOf([1200, 2400, 4800, 9600, 19200, 38400,
                                                                         57600, 115200]),
                              metadata={"label": _l("Vitesse (bauds)")})
    timeout = fields.Float(load_default=3.0, validate=validate.Range(min=0.1, max=60),
                           metadata={"label": _l("Délai de réponse (secondes)")})


class Driver:
    key = ""
    kind = ""
    label = ""
    description = ""
    priority = 100
    settings_schema: type[Schema] = PortSettingsSchema

    # ------------------------------------------------------------------ settings

    def load_settings(self, raw: dict | None) -> dict:
        """The settings validated and completed with their defaults; ``InvalidError`` naming the fields."""
        try:
            return self.settings_schema().load(dict(raw or {}))
        except ValidationError as exc:
            fields_ = {f"settings.{k}": " ".join(map(str, v)) if isinstance(v, list) else str(v)
                       for k, v in exc.messages.items()}
            raise InvalidError(str(_l("Réglages du périphérique invalides")), fields_) from None

    def default_settings(self) -> dict:
        return self.load_settings({})

    def port_settings(self, settings: dict) -> PortSettings:
        timeout = float(settings.get("timeout", 3.0))
        return PortSettings(baudrate=int(settings.get("baudrate", 9600)), timeout=timeout, write_timeout=timeout)

    def operations(self) -> tuple[str, ...]:
        from plugins.devices.registry import COMMON_OPERATIONS, OPERATIONS

        return COMMON_OPERATIONS + OPERATIONS[self.kind]

    # ------------------------------------------------------------------ every driver

    def probe(self, port, settings: dict, payload: dict) -> dict:
        """Is this the device the driver speaks to? Returns what it learnt; raises if not."""
        return {"driver": self.key, **self.status(port, settings, payload)}

    def status(self, port, settings: dict, payload: dict) -> dict:
        return {"online": True}

    def test(self, port, settings: dict, payload: dict) -> dict:
        return {"probe": self.probe(port, settings, payload)}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def device_lock(url: str, wait: float = 10.0):
    """One job at a time per device in this process (two jobs never interleave on one printer);
    ``DeviceBusy`` when the device stays busy for ``wait`` seconds."""
    with _locks_guard:
        lock = _locks.setdefault(url, threading.Lock())
    if not lock.acquire(timeout=wait):
        raise DeviceBusy(url, device=url)
    try:
        yield
    finally:
        lock.release()


def run(driver: Driver, url: str, settings: dict | None, operation: str, payload: dict | None = None,
        *, lock_wait: float = 10.0) -> dict:
    """Run ``operation`` on the device at ``url``: validated settings, the device's lock, the port
    opened and always closed. Raises ``DeviceError`` (or ``InvalidError`` for bad settings)."""
    if operation not in driver.operations() or operation == "listen":
        raise InvalidError(str(_l("Opération impossible pour ce périphérique")), {"operation": operation})
    loaded = driver.load_settings(settings)
    with device_lock(url, lock_wait):
        with open_port(url, driver.port_settings(loaded)) as port:
            try:
                return getattr(driver, operation)(port, loaded, dict(payload or {}))
            except DeviceError as exc:
                exc.device = exc.device or url
                raise
