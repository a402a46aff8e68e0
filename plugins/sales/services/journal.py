"""The journal of operations ("Ordre 1271") and the immutability of money records.

An ``Operation`` is one gapless number (counter ``sales.operation``) with the operator
(``current_actor()``), the point of sale and the time it was taken. What it did is its entries
(``OperationEntry``): one per service call, with the registered kind, the order touched, the amount
moved and the details. A stand-alone call writes an operation and its first entry; a call given
``operation=`` (a basket's operation, see ``baskets``) joins it: it only adds an entry, so one
basket is exactly one number whatever it contains across several orders.

Operations, entries, payments and credit movements are immutable: the ORM refuses to update or
delete them (``before_flush`` guard in ``models/orders.py``, ``ImmutableRecordError``); corrections
are new records.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import current_actor, lock_rows, next_number, utcnow
from coulisses.i18n import _

from plugins.sales.models import (  # noqa: F401 - ImmutableRecordError is part of this module's interface
    Basket, ImmutableRecordError, Operation, OperationEntry, Order, PointOfSale,
)
from plugins.sales.registry import get_registry
from plugins.sales.services.settings import resolve_point_of_sale

OPERATION_SEQUENCE = "sales.operation"


def record_operation(session: Session, kind: str, *, order: Order | None = None, point_of_sale: Any = None,
                     amount: Decimal | None = None, details: dict[str, Any] | None = None,
                     registry=None, operation: Operation | None = None, at=None) -> Operation:
    """Record what a service did: ``kind`` (a registered ``sales_operation_kinds`` code) on
    ``order``, and return the operation it belongs to.

    Without ``operation``: a new operation (the next number) and its first entry. With
    ``operation``: one more entry of that operation (no new number); an operation of a basket that
    is not open (held, settled, abandoned) is refused (``ConflictError``), the basket row being
    locked first so a hold or an abandon cannot cross the call. ``point_of_sale``: a
    ``PointOfSale``, its id or its code (default: the joined operation's, else
    ``resolve_point_of_sale``'s rule); an unknown or closed one is refused (InvalidError naming
    ``point_of_sale``). ``at``: the time to record (default: now), for a service that already
    stamped the order with it."""
    registry = registry or get_registry()
    if kind not in registry.operation_kinds:
        raise InvalidError(_("Type d'opération inconnu : %(kind)s", kind=kind),
                           {"kind": _("Types : %(codes)s", codes=", ".join(registry.operation_kinds))})
    actor = current_actor()
    if operation is not None:
        check_joinable(session, operation)
        if point_of_sale is None and operation.point_of_sale_id is not None:
            point_of_sale = operation.point_of_sale_id
    point_of_sale = resolve_point_of_sale(session, point_of_sale)
    now = at or utcnow()
    if operation is None:
        operation = Operation(
            number=next_number(session, OPERATION_SEQUENCE), kind=kind, order_id=order.id if order else None,
            operator_id=actor.operator_id, operator_login=actor.login or "", point_of_sale_id=point_of_sale.id,
            channel_id=point_of_sale.channel_id, at=now, amount=amount, details=details or {})
        session.add(operation)
        entry = OperationEntry(operation=operation, order_id=order.id if order else None, kind=kind,
                               operator_id=actor.operator_id, operator_login=actor.login or "",
                               point_of_sale_id=point_of_sale.id, at=now, amount=amount, details=details or {})
        session.add(entry)
        session.flush()  # the operation and its first entry, in one flush
        _created_here(session)[operation.id] = True
    else:
        session.add(OperationEntry(operation_id=operation.id, order_id=order.id if order else None, kind=kind,
                                   operator_id=actor.operator_id, operator_login=actor.login or "",
                                   point_of_sale_id=point_of_sale.id, at=now, amount=amount,
                                   details=details or {}))
    if order is not None:  # only what changes: a value set again would still make the order dirty (a flush for nothing)
        for key, value in (("updated_point_of_sale_id", point_of_sale.id), ("updated_at", now),
                           ("updated_by_id", actor.operator_id)):
            if key not in order.__dict__ or order.__dict__[key] != value:
                setattr(order, key, value)
    return operation  # written by the next flush (the caller's next statement)


def transaction_cache(session: Session, name: str) -> dict:
    """A dict kept in ``session.info`` for the current transaction only (a new transaction finds it empty)."""
    tx = session.get_transaction()
    held = session.info.get(name)
    if held is None or held[0] is not tx:
        held = session.info[name] = (tx, {})
    return held[1]


def _created_here(session: Session) -> dict:
    return transaction_cache(session, "sales_standalone_operations")


def joined_by_basket(session: Session, operation: Operation) -> None:
    """``operation`` is now a basket's (``baskets.open``): joining it checks the basket again."""
    _created_here(session).pop(operation.id, None)


def _standalone_of_this_transaction(session: Session, operation: Operation) -> bool:
    """``operation`` was written by this very transaction as a stand-alone operation (no basket):
    nobody else can see it before the commit, so no basket can hold, settle or abandon it meanwhile."""
    return operation.id in _created_here(session) and inspect(operation).persistent


def pos_ref(point_of_sale: Any, operation: Operation | None) -> Any:
    """The point of sale a service works at: the one given, else the joined operation's, else None
    (``resolve_point_of_sale``'s rule)."""
    if point_of_sale is None and operation is not None:
        return operation.point_of_sale_id
    return point_of_sale


def basket_of(session: Session, operation: Operation | int, *, lock: bool = False) -> Basket | None:
    """The basket whose operation is ``operation`` (None: a stand-alone operation); ``lock``: the
    basket row locked until the transaction ends."""
    op_id = operation if isinstance(operation, int) else operation.id
    stmt = select(Basket).where(Basket.operation_id == op_id).execution_options(populate_existing=True)
    return lock_rows(session, stmt).scalar() if lock else session.scalar(stmt)


def check_joinable(session: Session, operation: Operation) -> Basket | None:
    """Refuse to add to the operation of a basket that is not open (``ConflictError``); returns the
    basket (locked), or None for a stand-alone operation (the refunds plugin writes its own
    operation, then has ``payments.refund`` join it)."""
    if operation.id is None:
        raise InvalidError(_("Opération non enregistrée"), {"operation": _("Opération inconnue")})
    if _standalone_of_this_transaction(session, operation):
        return None
    locked = transaction_cache(session, "sales_locked_baskets")  # a row locked stays locked until the end
    basket = locked.get(operation.id)
    if basket is None or not inspect(basket).persistent:
        basket = locked[operation.id] = basket_of(session, operation, lock=True)
    if basket is not None and basket.state != "open":
        raise ConflictError(_("L'ordre %(number)s est %(state)s : il ne reçoit plus d'opération",
                              number=operation.number, state=basket.state_label))
    return basket


def entries_of(session: Session, *, order: Order | None = None, operation: Operation | None = None) -> list[OperationEntry]:
    """The entries of an order's history, or of one operation, in the order they were written."""
    stmt = select(OperationEntry)
    if order is not None:
        stmt = stmt.where(OperationEntry.order_id == order.id)
    if operation is not None:
        stmt = stmt.where(OperationEntry.operation_id == operation.id)
    return list(session.scalars(stmt.order_by(OperationEntry.id)))


def operations_of(session: Session, order: Order) -> list[Operation]:
    """The operations that touched ``order`` (its own, and the baskets that worked on it), by number."""
    touched = select(OperationEntry.operation_id).where(OperationEntry.order_id == order.id)
    return list(session.scalars(select(Operation).where(or_(Operation.order_id == order.id, Operation.id.in_(touched)))
                                .order_by(Operation.number)))
