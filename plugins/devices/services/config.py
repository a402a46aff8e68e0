"""Devices configured per place of work: validation against the driver (kind, settings schema, URL)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from plugins.devices.i18n import _
from plugins.devices.models import Device
from plugins.devices.registry import KINDS, get_registry
from plugins.devices.transport import check_url, is_network

FIELDS = ("location_code", "name", "kind", "role", "driver", "via", "url", "settings", "active")


def validate(data: dict, registry=None) -> dict:
    """The device's fields checked and normalised (settings loaded through the driver's schema);
    ``InvalidError`` naming every wrong field."""
    registry = registry or get_registry()
    errors: dict[str, str] = {}
    data = dict(data)
    for key in ("location_code", "name", "role", "url"):
        data[key] = (data.get(key) or "").strip()
    if not data["location_code"]:
        errors["location_code"] = _("Le lieu de travail (code du point de vente) est obligatoire.")
    if not data["name"]:
        errors["name"] = _("Le nom est obligatoire.")
    data["role"] = data["role"] or "principal"
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = _("Type inconnu : %(kind)s", kind=kind or "")
    driver = registry.drivers.get(data.get("driver") or "")
    if driver is None:
        errors["driver"] = _("Pilote inconnu : %(driver)s", driver=data.get("driver") or "")
    elif kind in KINDS and driver.kind != kind:
        errors["driver"] = _("Le pilote %(driver)s ne pilote pas ce type de périphérique.", driver=driver.key)
    via = data.get("via") or "agent"
    if via not in ("agent", "server"):
        errors["via"] = _("« agent » (poste de travail) ou « server » (réseau).")
    data["via"] = via
    problem = check_url(data["url"])
    if problem is not None:
        errors["url"] = _("Adresse de port invalide : /dev/ttyUSB0, COM3, socket://hôte:9100 ou rfc2217://hôte:port.")
    elif via == "server" and not is_network(data["url"]):
        errors["url"] = _("Un périphérique piloté par le serveur est sur le réseau : socket://hôte:port ou "
                          "rfc2217://hôte:port.")
    if driver is not None and "driver" not in errors:
        try:
            data["settings"] = driver.load_settings(data.get("settings"))
        except InvalidError as exc:
            errors.update(exc.fields)
    data["active"] = bool(data.get("active", True))
    if errors:
        raise InvalidError(_("Le périphérique n'est pas valide."), errors)
    return {k: data[k] for k in FIELDS}


def create_device(session: Session, data: dict) -> Device:
    clean = validate(data)
    _refuse_duplicate(session, clean)
    device = Device(**clean)
    session.add(device)
    session.flush()
    return device


def update_device(session: Session, device: Device, data: dict) -> Device:
    merged = {k: getattr(device, k) for k in FIELDS}
    merged.update({k: v for k, v in data.items() if k in FIELDS})
    if "driver" in data and data["driver"] != device.driver and "settings" not in data:
        merged["settings"] = {}
    clean = validate(merged)
    _refuse_duplicate(session, clean, device.id)
    for key, value in clean.items():
        setattr(device, key, value)
    session.flush()
    return device


def _refuse_duplicate(session: Session, clean: dict, own_id: int | None = None) -> None:
    other = session.scalar(select(Device).where(Device.location_code == clean["location_code"],
                                                Device.kind == clean["kind"], Device.role == clean["role"]))
    if other is not None and other.id != own_id:
        raise InvalidError(_("Le périphérique n'est pas valide."),
                           {"role": _("%(location)s a déjà un périphérique de ce type avec le rôle %(role)s.",
                                      location=clean["location_code"], role=clean["role"])})


def get_device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFoundError(_("Périphérique %(id)s introuvable", id=device_id))
    return device


def find_device(session: Session, location_code: str, kind: str, role: str | None = None) -> Device:
    """The active device of ``kind`` at a place of work (the given role, else the first by role)."""
    stmt = select(Device).where(Device.location_code == location_code, Device.kind == kind, Device.active.is_(True))
    if role:
        stmt = stmt.where(Device.role == role)
    device = session.scalars(stmt.order_by(Device.role, Device.id)).first()
    if device is None:
        raise NotFoundError(_("Aucun périphérique « %(kind)s » actif à %(location)s",
                              kind=str(KINDS.get(kind, kind)), location=location_code))
    return device


def devices_at(session: Session, location_code: str, *, via: str | None = None) -> list[Device]:
    stmt = select(Device).where(Device.location_code == location_code, Device.active.is_(True))
    if via:
        stmt = stmt.where(Device.via == via)
    return list(session.scalars(stmt.order_by(Device.kind, Device.role)))


def locations(session: Session) -> list[str]:
    """Places of work that have devices, and the sales plugin's points of sale when it is enabled."""
    codes = set(session.scalars(select(Device.location_code).distinct()))
    codes |= set(point_of_sale_codes(session))
    return sorted(codes)


def point_of_sale_codes(session: Session) -> list[str]:
    """The sales plugin's point-of-sale codes, when sales is enabled (the devices plugin works without)."""
    from coulisses.registry import current_manager

    pm = current_manager()
    if pm is None or not pm.has_plugin("sales"):
        return []
    from plugins.sales.models import PointOfSale  # optional dependency, asked for only when enabled

    return list(session.scalars(select(PointOfSale.code)))
