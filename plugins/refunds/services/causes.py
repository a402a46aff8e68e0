"""The configurable causes of cancellation ("Cause : Échange") and their cancellation fees."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.i18n import _

from plugins.refunds.models import BUILTIN_CAUSE_LABELS, FEE_KINDS, RefundCause
from plugins.sales.services.common import money

DEFAULT_CAUSES = (
    # code, label (lazy: the current language when installed; shown in the reader's while unchanged:
    # RefundCause.display_label), fee kind, fee value, exchange
    ("EXCHANGE", BUILTIN_CAUSE_LABELS["EXCHANGE"], "none", "0", True),
    ("CUSTOMER", BUILTIN_CAUSE_LABELS["CUSTOMER"], "per_ticket", "2.00", False),
    ("CANCELLED", BUILTIN_CAUSE_LABELS["CANCELLED"], "none", "0", False),
    ("POSTPONED", BUILTIN_CAUSE_LABELS["POSTPONED"], "none", "0", False),
    ("GESTURE", BUILTIN_CAUSE_LABELS["GESTURE"], "none", "0", False),
)


def install_defaults(session: Session) -> None:
    """Idempotent: the default causes, labelled in the current language (data afterwards)."""
    existing = set(session.scalars(select(RefundCause.code)))
    for position, (code, label, kind, value, exchange) in enumerate(DEFAULT_CAUSES):
        if code not in existing:
            session.add(RefundCause(code=code, label=str(label), fee_kind=kind, fee_value=Decimal(value),
                                    exchange=exchange, position=position * 10))
    session.flush()


def create_cause(session: Session, code: str, label: str, *, fee_kind: str = "none", fee_value: Any = "0",
                 exchange: bool = False, position: int = 0) -> RefundCause:
    errors = {}
    if not (code or "").strip():
        errors["code"] = _("Code requis")
    if not (label or "").strip():
        errors["label"] = _("Libellé requis")
    if fee_kind not in FEE_KINDS:
        errors["fee_kind"] = _("Frais : %(kinds)s", kinds=", ".join(FEE_KINDS))
    value = money(fee_value, "fee_value")
    if value < 0 or (fee_kind == "percent" and value > 100):
        errors["fee_value"] = _("Entre 0 et 100 pour un pourcentage, positif sinon")
    if errors:
        raise InvalidError(_("La cause n'est pas valide"), errors)
    if session.scalar(select(RefundCause.id).where(RefundCause.code == code)) is not None:
        raise ConflictError(_("Le code %(code)s est déjà pris", code=code))
    cause = RefundCause(code=code, label=label, fee_kind=fee_kind, fee_value=value, exchange=exchange,
                        position=position)
    session.add(cause)
    session.flush()
    return cause


def causes(session: Session, *, active_only: bool = True) -> list[RefundCause]:
    stmt = select(RefundCause).order_by(RefundCause.position, RefundCause.id)
    if active_only:
        stmt = stmt.where(RefundCause.active.is_(True))
    return list(session.scalars(stmt))
