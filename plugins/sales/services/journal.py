"""The journal of operations ("Ordre 1271") and the immutability of money records.

Every change of an order is one ``Operation``: a gapless number (counter ``sales.operation``), a
registered kind, the operator (``current_actor()``), the point of sale, the time, the amount it
moved and its details. Operations, payments and credit movements are immutable: the ORM refuses to
update or delete them (``before_flush`` guard in ``models/orders.py``, ``ImmutableRecordError``);
corrections are new records.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.db import current_actor, next_number, utcnow
from coulisses.i18n import _

from plugins.sales.models import ImmutableRecordError, Operation, Order, PointOfSale  # noqa: F401
from plugins.sales.registry import get_registry
from plugins.sales.services.settings import resolve_point_of_sale

OPERATION_SEQUENCE = "sales.operation"


def record_operation(session: Session, kind: str, *, order: Order | None = None, point_of_sale: Any = None,
                     amount: Decimal | None = None, details: dict[str, Any] | None = None,
                     registry=None) -> Operation:
    """Write one operation of ``kind`` (a registered ``sales_operation_kinds`` code) and return it.

    ``point_of_sale``: a ``PointOfSale``, its id or its code (default: ``resolve_point_of_sale``'s
    rule); an unknown or closed one is refused (InvalidError naming ``point_of_sale``)."""
    registry = registry or get_registry()
    if kind not in registry.operation_kinds:
        raise InvalidError(_("Type d'opération inconnu : %(kind)s", kind=kind),
                           {"kind": _("Types : %(codes)s", codes=", ".join(registry.operation_kinds))})
    actor = current_actor()
    point_of_sale = resolve_point_of_sale(session, point_of_sale)
    operation = Operation(
        number=next_number(session, OPERATION_SEQUENCE), kind=kind, order_id=order.id if order else None,
        operator_id=actor.operator_id, operator_login=actor.login or "", point_of_sale_id=point_of_sale.id,
        channel_id=point_of_sale.channel_id, at=utcnow(), amount=amount, details=details or {})
    session.add(operation)
    if order is not None:
        order.updated_point_of_sale_id = point_of_sale.id
        order.updated_at = operation.at
        order.updated_by_id = actor.operator_id
    session.flush()
    return operation


def operations_of(session: Session, order: Order) -> list[Operation]:
    return list(session.scalars(select(Operation).where(Operation.order_id == order.id).order_by(Operation.number)))
