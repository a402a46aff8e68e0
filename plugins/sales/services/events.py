"""After-commit events: what happened in a basket (an operation), told to other plugins once the
transaction has committed, so that they may print, display or send without being inside it.

The services call ``emit`` inside the business transaction; nothing is written unless some enabled
plugin implements the event's hook. Just before the commit the events of the transaction become
one outbox job (``sales.events``, the host's ``coulisses.outbox``): a rollback takes them away
with everything else, a commit makes the job run (at once in the web process, else by
``coulisses worker``), in its own transaction, calling each hook with fresh rows. A hook that
raises makes the job retried later (with every event of the job: implementations must tolerate a
second delivery), then parked, visible in Administration → Tâches de fond.

Events and their hooks (``plugins/sales/hookspecs.py``, ``docs/hooks.md``):

- ``order_created`` → ``sales_after_order_created(session, order, operation)``
- ``order_paid`` → ``sales_after_order_paid(session, order, operation)``
- ``tickets_cancelled`` → ``sales_after_tickets_cancelled(session, order, tickets, operation)``
- ``tickets_to_print`` → ``sales_after_tickets_to_print(session, order, tickets, operation)``
- ``payment_completed`` → ``sales_after_payment_completed(session, order, payment, operation)``
- ``payment_pending`` → ``sales_after_payment_pending(session, order, payment, operation)``
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coulisses.db import Base

from plugins.sales.registry import get_registry

JOB_TYPE = "sales.events"
HOOKS = {
    "order_created": "sales_after_order_created",
    "order_paid": "sales_after_order_paid",
    "tickets_cancelled": "sales_after_tickets_cancelled",
    "tickets_to_print": "sales_after_tickets_to_print",
    "payment_completed": "sales_after_payment_completed",
    "payment_pending": "sales_after_payment_pending",
}
_PENDING = "sales_after_commit_events"


def listened(name: str, registry=None) -> bool:
    """Whether some enabled plugin implements the hook of event ``name``."""
    registry = registry or get_registry()
    caller = getattr(registry.pm.hook, HOOKS[name], None)
    return bool(caller is not None and caller.get_hookimpls())


def emit(session: Session, name: str, *, order: Any, operation: Any = None, tickets: Iterable[Any] = (),
         payment: Any = None, registry=None) -> None:
    """Announce event ``name`` (a key of ``HOOKS``) about ``order`` for after the commit.
    ``payment``: a ``Payment``, or the row a payment mode keeps for a pending payment (any mapped
    row: it is found again by its table and id)."""
    if name not in HOOKS:
        raise ValueError(f"unknown sales event {name!r}")
    if not listened(name, registry):
        return
    record: dict[str, Any] = {"event": name, "order": order.id,
                              "operation": operation.id if operation is not None else None}
    tickets = [t.id for t in tickets]
    if tickets:
        record["tickets"] = tickets
    if payment is not None:
        record["payment"] = [payment.__table__.name, payment.id]
    session.info.setdefault(_PENDING, []).append(record)


@event.listens_for(Session, "before_commit")
def _enqueue(session: Session) -> None:
    records = session.info.pop(_PENDING, None)
    if records:
        from coulisses.outbox import enqueue

        enqueue(session, JOB_TYPE, {"events": records})


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _row_of_table(session: Session, table: str, row_id: int):
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return session.get(mapper.class_, row_id)
    return None


def run_events(session: Session, job) -> dict:
    """The outbox job ``sales.events``: call the hook of each event, in the order they happened."""
    from plugins.sales.models import Operation, Order, Ticket

    registry = get_registry()
    fired = 0
    for record in job.payload.get("events", []):
        order = session.get(Order, record["order"])
        if order is None:
            continue
        kwargs: dict[str, Any] = {"session": session, "order": order,
                                  "operation": session.get(Operation, record["operation"]) if record.get("operation") else None}
        name = record["event"]
        if name in ("tickets_cancelled", "tickets_to_print"):
            kwargs["tickets"] = list(session.scalars(select(Ticket).where(Ticket.id.in_(record.get("tickets", [])))
                                                     .order_by(Ticket.id)))
        if name in ("payment_completed", "payment_pending"):
            table, row_id = record["payment"]
            kwargs["payment"] = _row_of_table(session, table, row_id)
        registry.hook(HOOKS[name], **kwargs)
        fired += 1
    return {"fired": fired}
