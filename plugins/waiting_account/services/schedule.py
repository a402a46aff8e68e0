"""Instalment schedules ("échéancier") and the movements of sales and refunds on account.

A payment mode of type ``waiting_account`` keeps its rules in ``PaymentMode.settings``, validated by
the type's settings schema (``plugins.waiting_account.payment_type``):
``{"follow_up": true, "count": 3, "day": 5, "months": 1, "auto_invoice": false}`` — "Avec suivi":
``count`` instalments, every ``months`` month(s), on day ``day`` (the first one in the month after
the sale). Without follow-up, one instalment due after the organisation's payment terms.

The sales plugin records the payment (``sales_payment_recorded``); this module writes the debit
(or the credit of a refund) on the contact's account under its lock, and the schedule. An operator
may give the schedule (adjusted before confirming) with ``custom_schedule``.
"""
from __future__ import annotations

import calendar
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.db import Money
from coulisses.i18n import _, format_money, local_time

from plugins.waiting_account.models import Allocation, Instalment, Movement
from plugins.waiting_account.services import accounts
from plugins.waiting_account.services.accounts import ZERO

SCHEDULE_KEY = "waiting_account.schedule"
AUTO_INVOICE_KEY = "waiting_account.auto_invoice"
TYPE_CODE = "waiting_account"


def rules(mode) -> dict:
    """The mode's rules, loaded by the type's settings schema (defaults filled, bad values dropped)."""
    from plugins.waiting_account.payment_type import WAITING_ACCOUNT

    r = WAITING_ACCOUNT.settings_of(mode)
    return {"follow_up": bool(r["follow_up"]), "count": r["count"], "day": r["day"], "months": r["months"],
            "auto_invoice": bool(r["auto_invoice"])}


def _add_months(day: date, months: int, on: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(on, calendar.monthrange(year, month)[1]))


def proposed_schedule(mode, amount: Decimal, sold_on: date, payment_days: int = 30) -> list[tuple[date, Decimal]]:
    """The default schedule of ``amount`` sold on ``sold_on`` under ``mode``'s rules: equal
    instalments, the cents left over on the first one."""
    r = rules(mode)
    if not r["follow_up"]:
        return [(sold_on + timedelta(days=payment_days), amount)]
    count = r["count"]
    share = (amount / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    first = amount - share * (count - 1)
    return [(_add_months(sold_on, 1 + i * r["months"], r["day"]), first if i == 0 else share) for i in range(count)]


def check_schedule(items: Iterable[tuple[Any, Any]], amount: Decimal, *, prefix: str = "schedule") -> list[tuple[date, Decimal]]:
    """An operator's schedule: dates in order, positive amounts adding up to ``amount``.
    ``InvalidError`` naming ``<prefix>.<i>.due_date`` / ``<prefix>.<i>.amount`` / ``<prefix>``."""
    out, errors = [], {}
    for i, (when, value) in enumerate(items):
        if not isinstance(when, date):
            try:
                when = date.fromisoformat(str(when))
            except ValueError:
                errors[f"{prefix}.{i}.due_date"] = _("Date invalide")
                continue
        value = accounts.money(value, f"{prefix}.{i}.amount")
        if value <= 0:
            errors[f"{prefix}.{i}.amount"] = _("Montant positif requis")
        out.append((when, value))
    total = sum((v for _, v in out), ZERO)
    if not errors and total != amount:
        errors[prefix] = _("Les échéances font %(sum)s, le montant payé est %(amount)s : écart de %(gap)s",
                           sum=format_money(total), amount=format_money(amount), gap=format_money(amount - total))
    if not errors and [d for d, _ in out] != sorted(d for d, _ in out):
        errors[prefix] = _("Les dates des échéances doivent se suivre")
    if errors or not out:
        raise InvalidError(_("Échéancier invalide"), errors or {prefix: _("Au moins une échéance")})
    return out


def preview(session: Session, mode, amount: Decimal, contact=None, *, sold_on: date | None = None) -> dict[str, Any]:
    """What the operator reviews before confirming a payment of ``amount`` on account by ``mode``: the
    proposed schedule (``[{"due_date", "amount"}]``) and, for ``contact`` (the payment's contact), the
    account's outstanding now and after this sale, the maximum, and why it would be refused (None when
    it would not; the sale checks again under the lock)."""
    from plugins.waiting_account.services.accounts import can_pay, state_of

    sold_on = sold_on or local_time(datetime.now(timezone.utc)).date()
    settings = accounts.organisation_settings(session)
    plan = proposed_schedule(mode, amount, sold_on, settings.payment_days)
    out: dict[str, Any] = {"mode": mode.code, "follow_up": rules(mode)["follow_up"], "amount": amount,
                           "schedule": [{"due_date": d, "amount": v} for d, v in plan], "contact": None}
    if contact is not None:
        state = state_of(session, contact)
        out.update(contact={"number": contact.number, "name": contact.display_name}, authorised=state.authorised,
                   outstanding=state.outstanding, outstanding_after=state.outstanding + amount, ceiling=state.ceiling,
                   refusal=can_pay(session, contact, amount))
    return out


@contextmanager
def sale_options(session: Session, *, schedule: Iterable | None = None, auto_invoice: bool | None = None):
    """Options of the next sales on account made inside the block (the sell basket): the adjusted
    schedule, the automatic invoice switch."""
    if schedule is not None:
        session.info[SCHEDULE_KEY] = list(schedule)
    if auto_invoice is not None:
        session.info[AUTO_INVOICE_KEY] = bool(auto_invoice)
    try:
        yield
    finally:
        session.info.pop(SCHEDULE_KEY, None)
        session.info.pop(AUTO_INVOICE_KEY, None)


def on_payment_recorded(session: Session, order, payment) -> Movement | None:
    """The ``sales_payment_recorded`` hook: a payment by a ``waiting_account`` mode is a debit of the
    contact's account (refused beyond the ceiling: the veto), a refund by it a credit."""
    from plugins.sales.models import PaymentMode

    mode = session.get(PaymentMode, payment.payment_mode_id)
    if mode is None or mode.type_code != TYPE_CODE:
        return None
    if payment.amount > 0:
        return record_sale(session, order, payment, mode)
    return record_refund(session, order, payment, mode)


def record_sale(session: Session, order, payment, mode) -> Movement:
    account = accounts.lock_account(session, payment.contact_id)
    amount = payment.amount
    forced = accounts.check_sale(session, account, amount, (payment.details or {}).get("override_reason") or "")
    sold_on = local_time(payment.at).date()
    custom = session.info.get(SCHEDULE_KEY)
    if not custom and (payment.details or {}).get("schedule"):  # adjusted on the screen or given to the API
        custom = [(i["due_date"], i["amount"]) for i in payment.details["schedule"]]
    settings = accounts.organisation_settings(session)
    plan = check_schedule(custom, amount) if custom else proposed_schedule(mode, amount, sold_on, settings.payment_days)
    movement = accounts.add_movement(session, account, "sale", amount, order_id=order.id, payment_id=payment.id,
                                     operation_id=payment.operation_id, payment_mode_id=mode.id,
                                     reference=payment.reference or "", override_reason=forced)
    for i, (due, value) in enumerate(plan, start=1):
        session.add(Instalment(account_id=account.id, movement_id=movement.id, order_id=order.id, position=i,
                               due_date=due, amount=value, state="open"))
    session.flush()
    auto = session.info.get(AUTO_INVOICE_KEY)
    if auto if auto is not None else rules(mode)["auto_invoice"]:
        from plugins.waiting_account.services.invoices import invoice_orders

        invoice_orders(session, account.contact_id, [order])
    return movement


def record_refund(session: Session, order, payment, mode) -> Movement | None:
    """A refund by the waiting account: less is owed. What the account does not owe goes to the
    contact's credit balance. On an invoiced order, a credit note is issued."""
    from plugins.sales.services.credit import move_credit

    account = accounts.lock_account(session, payment.contact_id)
    wanted = -payment.amount
    owed = accounts.balance(session, account)
    on_account = min(wanted, owed)
    movement = None
    if on_account > 0:
        movement = accounts.add_movement(session, account, "refund", -on_account, order_id=order.id,
                                         payment_id=payment.id, operation_id=payment.operation_id,
                                         payment_mode_id=mode.id)
        allocate(session, account, movement, on_account, order_first=order.id)
    if wanted > on_account:
        move_credit(session, account.contact_id, wanted - on_account,
                    _("Remboursement du dossier %(number)s au-delà du compte d'attente", number=order.number),
                    order=order, operation=payment.operation)
    from plugins.waiting_account.services.invoices import credit_note_for_refund

    credit_note_for_refund(session, account, order, wanted)
    return movement


# --------------------------------------------------------------------------- allocations


def paid_of(session: Session, instalment_ids: list[int]) -> dict[int, Decimal]:
    if not instalment_ids:
        return {}
    rows = session.execute(select(Allocation.instalment_id, func.coalesce(func.sum(Allocation.amount), 0, type_=Money()))
                           .where(Allocation.instalment_id.in_(instalment_ids)).group_by(Allocation.instalment_id))
    return {i: a for i, a in rows}


def unpaid_instalments(session: Session, account, *, order_first: int | None = None) -> list[tuple[Instalment, Decimal]]:
    """The instalments not fully paid with what is left on each: oldest due first (those of order
    ``order_first`` first, newest first: a refund reduces what that order still owes)."""
    rows = list(session.scalars(select(Instalment).where(Instalment.account_id == account.id,
                                                         Instalment.state != "paid")
                                .order_by(Instalment.due_date, Instalment.id)))
    paid = paid_of(session, [i.id for i in rows])
    out = [(i, i.amount - paid.get(i.id, ZERO)) for i in rows]
    out = [(i, left) for i, left in out if left > 0]
    if order_first is not None:
        mine = [x for x in out if x[0].order_id == order_first][::-1]
        out = mine + [x for x in out if x[0].order_id != order_first]
    return out


def allocate(session: Session, account, movement: Movement, amount: Decimal, *, order_first: int | None = None,
             only: list[int] | None = None) -> list[Allocation]:
    """Spread ``amount`` of a credit movement over the unpaid instalments (oldest first); an
    instalment fully paid becomes ``paid``."""
    out = []
    for instalment, left in unpaid_instalments(session, account, order_first=order_first):
        if amount <= 0:
            break
        if only is not None and instalment.id not in only:
            continue
        part = min(left, amount)
        out.append(Allocation(movement_id=movement.id, instalment_id=instalment.id, amount=part))
        session.add(out[-1])
        if part == left:
            instalment.state = "paid"
        amount -= part
    session.flush()
    return out


def movement_status(session: Session, movement: Movement) -> str:
    """``open`` (nothing paid), ``partial``, ``settled`` for a sale; ``done`` for the others."""
    if movement.kind != "sale":
        return "done"
    ids = list(session.scalars(select(Instalment.id).where(Instalment.movement_id == movement.id)))
    paid = sum(paid_of(session, ids).values(), ZERO)
    if paid >= movement.amount:
        return "settled"
    return "partial" if paid > 0 else "open"


def schedule_of(session: Session, *, order_id: int | None = None, account_id: int | None = None) -> list[dict]:
    stmt = select(Instalment).order_by(Instalment.due_date, Instalment.id)
    if order_id is not None:
        stmt = stmt.where(Instalment.order_id == order_id)
    if account_id is not None:
        stmt = stmt.where(Instalment.account_id == account_id)
    rows = list(session.scalars(stmt))
    paid = paid_of(session, [i.id for i in rows])
    return [{"id": i.id, "order_id": i.order_id, "position": i.position, "due_date": i.due_date, "amount": i.amount,
             "paid": paid.get(i.id, ZERO), "left": i.amount - paid.get(i.id, ZERO), "state": i.state,
             "return_reason": i.return_reason} for i in rows]
