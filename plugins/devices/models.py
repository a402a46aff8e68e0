"""The devices plugin's tables: devices per place of work, their jobs, the workstation agents and the
scans they forward.

A place of work is a ``location_code``: the code of a point of sale of the sales plugin when it is
enabled (``Guichet``), stored as a code — the devices plugin does not depend on sales.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import AuditMixin, Base, UTCDateTime, utcnow

JOB_STATES = ("pending", "leased", "done", "failed", "unknown", "cancelled")
FINISHED_STATES = ("done", "failed", "unknown", "cancelled")


class Device(AuditMixin, Base):
    """A device of a place of work: kind, role (two printers of one kind: "billets", "reçus"),
    driver, where it is (``via``: ``server`` for a network device the server's worker drives,
    ``agent`` for a device plugged into the workstation), its port URL and its settings."""

    __tablename__ = "devices_device"
    __table_args__ = (UniqueConstraint("location_code", "kind", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    role: Mapped[str] = mapped_column(String(40), default="principal")
    driver: Mapped[str] = mapped_column(String(60))
    via: Mapped[str] = mapped_column(String(10), default="agent")
    url: Mapped[str] = mapped_column(String(300))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_status: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    last_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # the cross-process lock the server's worker takes while it drives the device
    locked_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.location_code})"


class DeviceJob(Base):
    """Something asked of a device: printed, shown, paid… ``state``: pending → leased → done, failed
    (retryable by an operator, or automatically on a transient error) or unknown (a payment whose
    outcome an operator resolves). A job is leased (``lease_id``, ``lease_expires_at``) before it runs
    and its result is accepted once, for that lease: it never runs twice."""

    __tablename__ = "devices_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices_device.id", ondelete="CASCADE"), index=True)
    location_code: Mapped[str] = mapped_column(String(40), index=True)
    via: Mapped[str] = mapped_column(String(10))
    operation: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    reference: Mapped[str] = mapped_column(String(120), default="", index=True)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_id: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    leased_by: Mapped[str] = mapped_column(String(80), default="")
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error_code: Mapped[str] = mapped_column(String(40), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    retryable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution: Mapped[str] = mapped_column(String(20), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                       nullable=True)

    device: Mapped[Device] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"#{self.id} {self.operation}"


class DeviceAgent(Base):
    """A workstation's agent: bound to one place of work; it authenticates with a token of its own
    operator account (``operator_id``: no password, only the ``devices.agent`` permission), stored
    hashed by the host like every API token."""

    __tablename__ = "devices_agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_code: Mapped[str] = mapped_column(String(40), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    operator_id: Mapped[int] = mapped_column(ForeignKey("core_operator.id", ondelete="CASCADE"), unique=True)
    hostname: Mapped[str] = mapped_column(String(120), default="")
    version: Mapped[str] = mapped_column(String(40), default="")
    ports: Mapped[list | None] = mapped_column(JSON, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.label or f"agent {self.location_code}"


class DeviceScan(Base):
    """A code read by a scanner and forwarded by an agent. ``scan_id`` (the agent's) makes forwarding
    idempotent: a scan sent twice is recorded once."""

    __tablename__ = "devices_scan"
    __table_args__ = (UniqueConstraint("location_code", "scan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_code: Mapped[str] = mapped_column(String(40), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices_device.id", ondelete="SET NULL"), nullable=True)
    scan_id: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(200))
    symbology: Mapped[str] = mapped_column(String(30), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    consumed_by: Mapped[str] = mapped_column(String(40), default="")

    device: Mapped[Device | None] = relationship(lazy="joined")
