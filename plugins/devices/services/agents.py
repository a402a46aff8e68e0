"""Workstation agents: one per workstation, bound to a place of work, authenticated by a device token.

The token is a host API token (``coulisses.security.issue_token``: only its SHA-256 is stored,
revoked like any other) of an operator account made for the agent: no password (it cannot log in to
the screens), one role holding only ``devices.agent``. The agent's requests are therefore checked by
the host's REST layer like every client's, and this module maps the account to its place of work.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError, security
from coulisses.db import utcnow
from plugins.devices.i18n import _
from plugins.devices.models import Device, DeviceAgent, DeviceScan
from plugins.devices.registry import get_registry
from plugins.devices.services import waiting

AGENT_ROLE = "devices_agent"


def _agent_role(session: Session) -> security.Role:
    role = session.scalar(select(security.Role).where(security.Role.code == AGENT_ROLE))
    if role is None:
        role = security.Role(code=AGENT_ROLE, name="Agent de poste (matériel de caisse)")
        role.permissions = [security.RolePermission(permission="devices.agent")]
        session.add(role)
        session.flush()
    return role


def create_agent(session: Session, location_code: str, label: str = "") -> tuple[DeviceAgent, str]:
    """A new agent for a place of work and its token (shown once, never stored)."""
    location_code = (location_code or "").strip()
    if not location_code:
        raise InvalidError(_("Le lieu de travail est obligatoire."),
                           {"location_code": _("Le lieu de travail est obligatoire.")})
    count = len(session.scalars(select(DeviceAgent.id)).all()) + 1
    slug = re.sub(r"[^a-z0-9]+", "-", location_code.lower()).strip("-") or "poste"
    login = f"agent-{slug}-{count}"
    while security.get_operator(session, login) is not None:
        count += 1
        login = f"agent-{slug}-{count}"
    operator = security.Operator(login=login, full_name=label or f"Agent {location_code}", password_hash="",
                                 roles=[_agent_role(session)])
    session.add(operator)
    session.flush()
    agent = DeviceAgent(location_code=location_code, label=label or login, operator_id=operator.id)
    session.add(agent)
    session.flush()
    token = security.issue_token(session, operator, f"devices agent {location_code}")
    return agent, token


def new_token(session: Session, agent: DeviceAgent) -> str:
    """Revoke the agent's tokens and give it a new one (a workstation replaced, a token leaked)."""
    operator = session.get(security.Operator, agent.operator_id)
    security.revoke_tokens(session, operator)
    return security.issue_token(session, operator, f"devices agent {agent.location_code}")


def revoke(session: Session, agent: DeviceAgent) -> None:
    operator = session.get(security.Operator, agent.operator_id)
    operator.active = False
    security.revoke_tokens(session, operator)


def agent_of(session: Session, operator_id: int) -> DeviceAgent:
    """The agent an authenticated request comes from; ``ConflictError`` for an operator's own token."""
    agent = session.scalar(select(DeviceAgent).where(DeviceAgent.operator_id == operator_id))
    if agent is None:
        raise ConflictError(_("Ce jeton n'est pas celui d'un agent de poste : créez-en un dans Matériel de caisse › "
                              "Postes."))
    return agent


def seen(session: Session, agent: DeviceAgent, *, hostname: str = "", version: str = "", ports=None) -> None:
    agent.last_seen_at = utcnow()
    if hostname:
        agent.hostname = hostname[:120]
    if version:
        agent.version = version[:40]
    if ports is not None:
        agent.ports = list(ports)


def record_statuses(session: Session, agent: DeviceAgent, statuses: list[dict]) -> int:
    """Each device's status as the agent last saw it (``{"device_id", "status" or "error"}``)."""
    count = 0
    for item in statuses:
        device = session.get(Device, int(item["device_id"]))
        if device is None or device.location_code != agent.location_code:
            continue
        device.last_status = item.get("status")
        device.last_error = item.get("error") or ""
        device.last_status_at = utcnow()
        count += 1
    return count


def record_scan(session: Session, location_code: str, scan_id: str, code: str, symbology: str = "",
                device_id: int | None = None) -> DeviceScan:
    """Record a forwarded scan once (``scan_id`` is the agent's), then tell the plugins
    (``devices_scan_received``)."""
    existing = session.scalar(select(DeviceScan).where(DeviceScan.location_code == location_code,
                                                       DeviceScan.scan_id == scan_id))
    if existing is not None:
        return existing
    if device_id is not None:
        device = session.get(Device, device_id)
        if device is None or device.location_code != location_code:
            raise NotFoundError(_("Périphérique %(id)s introuvable", id=device_id))
    scan = DeviceScan(location_code=location_code, scan_id=scan_id[:40], code=code[:200], symbology=symbology[:30],
                      device_id=device_id, received_at=utcnow())
    try:
        with session.begin_nested():
            session.add(scan)
            session.flush()
    except IntegrityError:  # the same scan sent twice at once
        return session.scalar(select(DeviceScan).where(DeviceScan.location_code == location_code,
                                                       DeviceScan.scan_id == scan_id))
    get_registry().hook("devices_scan_received", session=session, scan=scan)
    waiting.signal_after_commit(session)  # wake the screens waiting for this place of work's scans
    return scan


def claim_scan(session: Session, scan_id: int, consumer: str) -> DeviceScan:
    """An open screen takes a scan no basket took (the sales screen with no basket yet opens one for
    it): the scan is marked used by ``consumer`` only if it is still unused — one screen wins, another
    one open at the same place of work gets ``ConflictError`` (a conditional update: atomic on SQLite
    and on PostgreSQL)."""
    consumer = (consumer or "").strip()[:40]
    if not consumer:
        raise InvalidError(_("Indiquez qui reprend le scan"), {"consumer": _("Obligatoire")})
    scan = session.get(DeviceScan, scan_id)
    if scan is None:
        raise NotFoundError(_("Scan %(id)s introuvable", id=scan_id))
    taken = session.execute(update(DeviceScan).where(DeviceScan.id == scan_id, DeviceScan.consumed_by == "")
                            .values(consumed_by=consumer).execution_options(synchronize_session=False)).rowcount
    session.refresh(scan)
    if not taken:
        raise ConflictError(_("Code-barres %(code)s : déjà repris par un autre écran ou panier de ce point de vente.",
                              code=scan.code))
    waiting.signal_after_commit(session)  # the other screens learn that it is taken
    return scan


def last_scan_id(session: Session, location_code: str) -> int:
    """The newest scan of a place of work (0 when none): a screen waits for the scans after it."""
    return session.scalar(select(func.max(DeviceScan.id)).where(DeviceScan.location_code == location_code)) or 0


def scans_after(session: Session, location_code: str, after_id: int, limit: int = 20) -> list[DeviceScan]:
    """The scans of a place of work recorded after ``after_id``, oldest first (a screen's live feed)."""
    return list(session.scalars(select(DeviceScan).where(DeviceScan.location_code == location_code,
                                                         DeviceScan.id > after_id)
                                .order_by(DeviceScan.id).limit(limit)))


def recent_scans(session: Session, location_code: str, limit: int = 20) -> list[DeviceScan]:
    return list(session.scalars(select(DeviceScan).where(DeviceScan.location_code == location_code)
                                .order_by(DeviceScan.id.desc()).limit(limit)))
