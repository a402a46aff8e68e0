"""The till's day: a cash desk session ("caisse") per point of sale and operator.

- ``open_till``: opened with a float (the cash in the drawer at the start); one open session per point
  of sale and operator (a unique constraint: two openings at once cannot both succeed).
- The session's operations are the operations that operator made at that point of sale while it was
  open; its payments and refunds, by mode, likewise. ``expected`` per mode = payments − refunds (+ the
  float for cash: the cash that should be in the drawer).
- ``close_till``: the amount counted per mode; each difference (counted − expected) is recorded, and a
  reason is required when one is not zero. A closed session never changes again.
- When a point of sale ``requires_open_till``, an operation an operator writes there without an open
  session is refused (``ConflictError``) — checked on every new ``Operation`` before it is flushed
  (``models.lifecycle.check_new_operations``, a ``before_flush`` listener), so every sales service, and the other
  plugins' operations, follow the rule. Work without an operator (the periodic tasks) is not a till's.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import begin_write, current_actor, lock_rows, next_number, parse_money, utcnow
from coulisses.i18n import _

from plugins.sales.models import (
    Operation, OperationEntry, Order, Payment, PaymentMode, PointOfSale, TillCount, TillSession,
)
from plugins.sales.registry import get_registry
from plugins.sales.services.common import ZERO, money
from plugins.sales.services.settings import get_point_of_sale, resolve_point_of_sale

TILL_SEQUENCE = "sales.till"


@dataclass
class ModeTotal:
    mode_id: int
    code: str
    label: str
    is_cash: bool
    payments: Decimal
    refunds: Decimal  # positive: what went out
    expected: Decimal
    counted: Decimal | None = None
    difference: Decimal | None = None

    @property
    def net(self) -> Decimal:
        return self.payments - self.refunds


def _amount(raw: Any, field: str) -> Decimal:
    """An amount given to a till: a Decimal, an int, or text as a person types it ("365,00")."""
    if isinstance(raw, str):
        try:
            value = parse_money(raw)
        except (TypeError, ValueError, ArithmeticError):
            value = None
        if value is None:
            raise InvalidError(_("Montant invalide"), {field: _("Montant invalide : %(amount)s", amount=raw.strip())})
        return value
    return money(raw, field)


def _operator_id() -> int:
    actor = current_actor()
    if actor.operator_id is None:
        raise InvalidError(_("Une caisse appartient à un opérateur : connectez-vous"), {"operator": _("Opérateur requis")})
    return actor.operator_id


def current_till(session: Session, point_of_sale: Any = None, operator_id: int | None = None) -> TillSession | None:
    """The open session of ``operator_id`` (the actor's by default) at ``point_of_sale`` (resolved as
    the sales services do), or None."""
    pos = resolve_point_of_sale(session, point_of_sale)
    operator_id = operator_id if operator_id is not None else current_actor().operator_id
    if operator_id is None:
        return None
    return session.scalar(select(TillSession).where(TillSession.point_of_sale_id == pos.id,
                                                    TillSession.operator_id == operator_id,
                                                    TillSession.state == "open"))


def get_till(session: Session, till_id: Any) -> TillSession:
    till = session.get(TillSession, int(till_id)) if str(till_id).isdigit() else None
    if till is None:
        raise NotFoundError(_("Caisse introuvable : %(ref)s", ref=till_id))
    return till


def tills(session: Session, *, point_of_sale: Any = None, operator_id: int | None = None, limit: int = 50) -> list[TillSession]:
    """The sessions, newest first (of a point of sale, of an operator)."""
    stmt = select(TillSession).order_by(TillSession.opened_at.desc(), TillSession.id.desc())
    if point_of_sale is not None:
        stmt = stmt.where(TillSession.point_of_sale_id == get_point_of_sale(session, point_of_sale).id)
    if operator_id is not None:
        stmt = stmt.where(TillSession.operator_id == operator_id)
    return list(session.scalars(stmt.limit(max(1, min(int(limit), 500)))))


def set_requires_open_till(session: Session, point_of_sale: Any, required: bool) -> PointOfSale:
    pos = get_point_of_sale(session, point_of_sale)
    pos.requires_open_till = bool(required)
    session.flush()
    return pos


def open_till(session: Session, opening_float: Any = ZERO, *, point_of_sale: Any = None) -> TillSession:
    """Open the actor's session at the point of sale with ``opening_float`` in the drawer."""
    amount = _amount(opening_float if opening_float not in (None, "") else ZERO, "opening_float")
    if amount < 0:
        raise InvalidError(_("Le fond de caisse ne peut pas être négatif"), {"opening_float": _("Montant positif ou nul")})
    operator_id = _operator_id()
    pos = resolve_point_of_sale(session, point_of_sale)
    begin_write(session)
    lock_rows(session, select(PointOfSale).where(PointOfSale.id == pos.id))
    if current_till(session, pos, operator_id) is not None:
        raise ConflictError(_("Votre caisse est déjà ouverte au point de vente %(pos)s", pos=pos.label))
    till = TillSession(number=next_number(session, TILL_SEQUENCE), point_of_sale_id=pos.id, operator_id=operator_id,
                       operator_login=current_actor().login or "", state="open", open_marker=1,
                       opening_float=amount, opened_at=utcnow())
    session.add(till)
    session.flush()  # the point of sale row is locked: a second opening waits, then finds this one
    return till


def _within(column, till: TillSession):
    cond = [column >= till.opened_at]
    if till.closed_at is not None:
        cond.append(column <= till.closed_at)
    return cond


def till_entries(session: Session, till: TillSession) -> list[OperationEntry]:
    """What the operator did at the point of sale while the till was open: the operations' entries
    (a basket's operation has one per thing it did), in the order they were written."""
    return list(session.scalars(select(OperationEntry).where(
        OperationEntry.point_of_sale_id == till.point_of_sale_id, OperationEntry.operator_id == till.operator_id,
        *_within(OperationEntry.at, till)).order_by(OperationEntry.id)))


def till_payments(session: Session, till: TillSession) -> list[Payment]:
    return list(session.scalars(select(Payment).where(
        Payment.point_of_sale_id == till.point_of_sale_id, Payment.operator_id == till.operator_id,
        *_within(Payment.at, till)).order_by(Payment.id)))


def mode_totals(session: Session, till: TillSession) -> list[ModeTotal]:
    """Payments, refunds and what is expected per payment mode (cash always listed: the drawer)."""
    registry = get_registry()
    totals: OrderedDict[int, list] = OrderedDict()
    for p in till_payments(session, till):
        entry = totals.setdefault(p.payment_mode_id, [ZERO, ZERO])
        entry[0 if p.amount > 0 else 1] += abs(p.amount)
    modes = {m.id: m for m in session.scalars(select(PaymentMode).order_by(PaymentMode.position, PaymentMode.id))}
    counted = {c.payment_mode_id: c for c in till.counts} if till.state == "closed" else {}
    out = []
    for mode in modes.values():
        mtype = registry.payment_mode_types.get(mode.type_code)
        is_cash = bool(mtype and mtype.gives_change) or mode.type_code == "cash"
        if mode.id not in totals and mode.id not in counted and not (is_cash and mode.active):
            continue
        paid, refunded = totals.get(mode.id, [ZERO, ZERO])
        expected = paid - refunded + (till.opening_float if is_cash else ZERO)
        row = ModeTotal(mode.id, mode.code, mode.label, is_cash, paid, refunded, expected)
        if mode.id in counted:
            row.expected, row.counted, row.difference = (counted[mode.id].expected, counted[mode.id].counted,
                                                         counted[mode.id].difference)
        out.append(row)
    cash = [r for r in out if r.is_cash]
    if len(cash) > 1:  # the float is in the drawer once: on the first cash mode only
        for extra in cash[1:]:
            if extra.counted is None:
                extra.expected -= till.opening_float
    return out


def close_till(session: Session, till: Any, counted: dict[Any, Any], reason: str = "") -> TillSession:
    """Close ``till`` with ``counted`` (payment mode code or id → amount counted). Every listed mode
    (``mode_totals``) needs its count (InvalidError on ``count-<CODE>``); a difference needs a
    ``reason``. A closed session is refused (ConflictError)."""
    begin_write(session)
    till_id = till.id if isinstance(till, TillSession) else int(till)
    till = lock_rows(session, select(TillSession).where(TillSession.id == till_id)
                     .execution_options(populate_existing=True)).scalar()
    if till is None:
        raise NotFoundError(_("Caisse introuvable : %(ref)s", ref=till_id))
    if till.state != "open":
        raise ConflictError(_("La caisse n° %(number)s est déjà fermée", number=till.number))
    closing_at = utcnow()
    till.closed_at = closing_at  # the journal's bounds: what happened until now
    rows = mode_totals(session, till)
    given = {str(k).upper() if not isinstance(k, int) else k: v for k, v in (counted or {}).items()}
    errors: dict[str, str] = {}
    amounts: dict[int, Decimal] = {}
    for row in rows:
        raw = given.get(row.code.upper(), given.get(row.mode_id))
        if raw is None or str(raw).strip() == "":
            errors[f"count-{row.code}"] = _("Montant compté requis pour %(mode)s", mode=row.label)
            continue
        try:
            value = _amount(raw, f"count-{row.code}")
        except InvalidError as exc:
            errors.update(exc.fields or {f"count-{row.code}": str(exc)})
            continue
        if value < 0:
            errors[f"count-{row.code}"] = _("Montant positif ou nul")
            continue
        amounts[row.mode_id] = value
    if errors:
        till.closed_at = None
        raise InvalidError(_("Comptez chaque mode de règlement de la caisse"), errors)
    difference = sum((amounts[r.mode_id] - r.expected for r in rows), ZERO)
    reason = (reason or "").strip()
    if any(amounts[r.mode_id] != r.expected for r in rows) and not reason:
        till.closed_at = None
        raise InvalidError(_("Écart de caisse : indiquez-en la raison"), {"reason": _("Raison de l'écart requise")})
    for row in rows:
        session.add(TillCount(session_id=till.id, payment_mode_id=row.mode_id, expected=row.expected,
                              counted=amounts[row.mode_id], difference=amounts[row.mode_id] - row.expected))
    till.state, till.open_marker, till.difference, till.reason = "closed", None, difference, reason[:2000]
    till.closed_by_id = current_actor().operator_id
    session.flush()
    session.expire(till, ["counts"])
    return till


def journal(session: Session, till: TillSession) -> dict:
    """The session as data: header, every operation (with its payments), totals by mode, the float,
    the cash expected, and once closed what was counted, the differences and the reason."""
    registry = get_registry()
    kinds = registry.operation_kinds
    entries = till_entries(session, till)
    numbers = dict(session.execute(select(Operation.id, Operation.number).where(
        Operation.id.in_({e.operation_id for e in entries}))).all()) if entries else {}
    order_ids = {e.order_id for e in entries if e.order_id}
    orders = dict(session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))).all()) if order_ids else {}
    # each payment is shown with the entry that recorded it: the "pay" / "refund" entry of its operation
    # and order (else the operation's last entry in the session)
    waiting = {}
    for p in till_payments(session, till):
        waiting.setdefault(p.operation_id, []).append(p)
    rows = []
    for e in entries:
        row = {"number": numbers.get(e.operation_id), "at": e.at, "kind": e.kind,
               "kind_label": str(kinds[e.kind].label) if e.kind in kinds else e.kind,
               "order": orders.get(e.order_id), "amount": e.amount, "payments": [], "operation_id": e.operation_id}
        if e.kind in ("pay", "refund"):
            mine = [p for p in waiting.get(e.operation_id, []) if p.order_id == e.order_id]
            row["payments"] = [{"mode": p.payment_mode.label, "amount": p.amount} for p in mine]
            waiting[e.operation_id] = [p for p in waiting.get(e.operation_id, []) if p not in mine]
        rows.append(row)
    for op_id, left in waiting.items():
        last = next((r for r in reversed(rows) if r["operation_id"] == op_id), None)
        if last is not None:
            last["payments"] += [{"mode": p.payment_mode.label, "amount": p.amount} for p in left]
    operations = rows
    modes = mode_totals(session, till)
    cash = [m for m in modes if m.is_cash]
    return {"id": till.id, "number": till.number, "state": till.state, "state_label": till.state_label,
            "point_of_sale": till.point_of_sale.label, "point_of_sale_code": till.point_of_sale.code,
            "operator": till.operator_login, "opened_at": till.opened_at, "closed_at": till.closed_at,
            "opening_float": till.opening_float, "operations": operations, "modes": modes,
            "expected_cash": cash[0].expected if cash else till.opening_float,
            "payments": sum((m.payments for m in modes), ZERO), "refunds": sum((m.refunds for m in modes), ZERO),
            "difference": till.difference, "reason": till.reason}
