"""Device errors: one small hierarchy, and the one place that maps the errors of pyserial, of sockets
and of the operating system to it (``mapped_errors``).

Every error says whether retrying the same job can succeed (``retryable``): a port that is missing,
refused or busy, a timeout, a lost connection, paper out or a cover open can all be fixed and the job
run again; a protocol error is retryable too (a glitch on the line). A declined payment is a final
answer. A payment whose outcome is unknown (the terminal took the request, then the line broke) is
**never** retried automatically: an operator checks the terminal's journal and resolves it.
"""
from __future__ import annotations

import contextlib
import errno
import socket

import serial

from coulisses import CoulissesError
from plugins.devices.i18n import _l


class DeviceError(CoulissesError):
    """A device could not do what was asked. ``code`` is stable (API, job records); ``message`` is for
    a person; ``detail`` is the technical cause."""

    code = "device_error"
    label = _l("Erreur du périphérique")
    retryable = True
    partial: dict | None = None  # what was done before the failure (tickets printed…)

    def __init__(self, detail: str = "", *, device: str = ""):
        self.detail = str(detail)
        self.device = device
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = str(self.label)
        if self.device:
            text = f"{self.device} : {text}"
        return f"{text} ({self.detail})" if self.detail else text

    def __str__(self) -> str:
        return self.message


class PortUnavailable(DeviceError):
    code = "port_unavailable"
    label = _l("Port indisponible (absent, refusé ou déjà utilisé)")


class DeviceBusy(PortUnavailable):
    """Another job holds the device's lock."""

    code = "device_busy"
    label = _l("Périphérique occupé par une autre impression")


class DeviceTimeout(DeviceError):
    code = "timeout"
    label = _l("Le périphérique ne répond pas (délai dépassé)")


class Disconnected(DeviceError):
    code = "disconnected"
    label = _l("Liaison interrompue avec le périphérique")


class PaperOut(DeviceError):
    code = "paper_out"
    label = _l("Papier épuisé")


class CoverOpen(DeviceError):
    code = "cover_open"
    label = _l("Capot ouvert")


class DeviceOffline(DeviceError):
    code = "offline"
    label = _l("Périphérique hors ligne")


class ProtocolError(DeviceError):
    code = "protocol_error"
    label = _l("Réponse incompréhensible du périphérique")


class PaymentDeclined(DeviceError):
    code = "payment_declined"
    label = _l("Paiement refusé par le terminal")
    retryable = False


class PaymentUnknown(DeviceError):
    """The terminal may have debited the card: never retried automatically."""

    code = "payment_unknown"
    label = _l("Issue du paiement inconnue : vérifier le journal du terminal")
    retryable = False


ERRORS = {cls.code: cls for cls in (DeviceError, PortUnavailable, DeviceBusy, DeviceTimeout, Disconnected,
                                    PaperOut, CoverOpen, DeviceOffline, ProtocolError, PaymentDeclined,
                                    PaymentUnknown)}


def from_code(code: str, detail: str = "") -> DeviceError:
    """The error of a code reported by the agent (an unknown code is a plain ``DeviceError``)."""
    return ERRORS.get(code, DeviceError)(detail)


_UNAVAILABLE_ERRNOS = {errno.ENOENT, errno.ECONNREFUSED, errno.EACCES, errno.EBUSY, errno.ENXIO,
                       errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENODEV, errno.EADDRNOTAVAIL}
_DISCONNECTED_ERRNOS = {errno.EPIPE, errno.ECONNRESET, errno.ECONNABORTED, errno.EIO, errno.EBADF,
                        errno.ENOTCONN, errno.ESHUTDOWN}


def classify(exc: BaseException, *, opening: bool = False) -> DeviceError:
    """The ``DeviceError`` for an exception raised by pyserial, a socket or the OS."""
    if isinstance(exc, DeviceError):
        return exc
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, (serial.SerialTimeoutException, socket.timeout, TimeoutError)):
        return DeviceTimeout(detail)
    err = getattr(exc, "errno", None)
    if err is None and isinstance(exc.__context__, OSError):
        err = exc.__context__.errno
    if opening or err in _UNAVAILABLE_ERRNOS or "could not open" in detail.lower() \
            or "could not exclusively lock" in detail.lower() or isinstance(exc, socket.gaierror):
        return PortUnavailable(detail)
    if err in _DISCONNECTED_ERRNOS or isinstance(exc, (ConnectionError, serial.PortNotOpenError)) \
            or "disconnected" in detail.lower() or "returned no data" in detail.lower():
        return Disconnected(detail)
    if isinstance(exc, (serial.SerialException, OSError)):
        return Disconnected(detail)
    return ProtocolError(detail)


@contextlib.contextmanager
def mapped_errors(*, opening: bool = False, device: str = ""):
    """``with mapped_errors():`` — pyserial, socket and OS errors leave the block as ``DeviceError``."""
    try:
        yield
    except DeviceError as exc:
        if device and not exc.device:
            exc.device = device
        raise
    except (serial.SerialException, OSError, ValueError) as exc:
        mapped = classify(exc, opening=opening)
        mapped.device = device
        raise mapped from exc
