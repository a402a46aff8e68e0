"""What the screens and other plugins' screens show, as data (no Flask): the contact sheet's section,
the order detail's actions, the account screen; the defaults installed with the plugin."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses.i18n import _, _l, format_date, format_datetime, format_money

from plugins.waiting_account.models import Movement
from plugins.waiting_account.services import accounts, invoices, schedule

DEFAULT_MODES = [
    ("ATTENTE", _l("Compte d'attente"), {"follow_up": False}),
    ("ATTENTE_SUIVI", _l("Compte d'attente avec suivi"), {"follow_up": True, "count": 3, "day": 5, "months": 1}),
]

MOVEMENT_LABELS = {
    "sale": _l("Vente sur compte"), "refund": _l("Remboursement sur compte"), "settlement": _l("Règlement"),
    "debit_collected": _l("Prélèvement encaissé"), "debit_failed": _l("Prélèvement rejeté"),
    "transfer": _l("Transfert vers un autre contact"),
}
STATUS_LABELS = {"open": _l("Non soldé"), "partial": _l("Partiellement soldé"), "settled": _l("Soldé"),
                 "done": _l("Enregistré")}
INSTALMENT_LABELS = {"open": _l("À payer"), "sent": _l("Envoyée à la banque"), "paid": _l("Payée"),
                     "failed": _l("Rejetée")}


def install_defaults(session: Session) -> None:
    """Two payment modes of type "Compte d'attente": without and with follow-up (3 monthly
    instalments on the 5th). Idempotent; labels in the current language."""
    from plugins.sales.models import PaymentMode
    from plugins.sales.services.settings import create_payment_mode

    from plugins.waiting_account.payment_type import WAITING_ACCOUNT

    existing = {m.code: m for m in session.scalars(select(PaymentMode))}
    for i, (code, label, settings) in enumerate(DEFAULT_MODES):
        if code not in existing:
            create_payment_mode(session, code, str(label), "waiting_account", position=70 + i, settings=settings)
        elif existing[code].type_code == "waiting_account" and not existing[code].settings:
            # created while the type had no settings schema (its rules were dropped): the defaults again
            existing[code].settings = WAITING_ACCOUNT.load_settings(settings)
    session.flush()


def sheet_section(session: Session, contact) -> dict[str, Any]:
    """The contact sheet's "Compte d'attente" block (Gestion tab)."""
    state = accounts.state_of(session, contact)
    return {"authorised": state.authorised, "ceiling": str(state.ceiling), "ceiling_display": format_money(state.ceiling),
            "outstanding": str(state.outstanding), "outstanding_display": format_money(state.outstanding),
            "available_display": format_money(state.available), "has_account": state.account is not None,
            "url": f"/admin/waiting_account/?contact={contact.id}"}


def order_actions(session: Session, order) -> list:
    from plugins.sales.registry import OrderAction

    movement = session.scalar(select(Movement).where(Movement.order_id == order.id, Movement.kind == "sale")
                              .order_by(Movement.id))
    if movement is None:
        return []
    actions = [OrderAction("waiting_account_view", _("Compte d'attente (%(status)s)",
                                                     status=str(STATUS_LABELS[schedule.movement_status(session, movement)])),
                           url=f"/admin/waiting_account/?account={movement.account_id}",
                           permission="waiting_account.view", position=60)]
    invoice = invoices.live_invoice_of(session, order.id)
    if invoice is None:
        actions.append(OrderAction("waiting_account_invoice", _("Facturer"),
                                   url=f"/admin/waiting_account/invoice?account={movement.account_id}&order={order.number}",
                                   permission="waiting_account.invoice", position=61))
    else:
        actions.append(OrderAction("waiting_account_invoice_pdf", _("Facture %(number)s", number=invoice.number),
                                   url=f"/admin/reports_documents/object?type=waiting_account.invoice&ref={invoice.number}",
                                   permission="waiting_account.view", position=61))
    return actions


def order_blocks(session: Session, order) -> list:
    """The order's "Compte d'attente" block (``sales_order_blocks``: the order detail, the API and the
    order summary document): whose account, what it owed after this sale and owes today, the
    maximum, and the instalment schedule of the order (due date, amount, paid, left, state)."""
    from plugins.sales.registry import OrderBlock

    sales = list(session.scalars(select(Movement).where(Movement.order_id == order.id, Movement.kind == "sale")
                                 .order_by(Movement.id)))
    if not sales:
        return []
    last = sales[-1]
    account = accounts.get_account(session, last.account_id)
    owed = accounts.balance(session, account)
    status = schedule.movement_status(session, last)
    facts = ((_("Compte de"), f"{account.contact.display_name} [{account.contact.number}]"),
             (_("Payé sur le compte"), format_money(sum((m.amount for m in sales), accounts.ZERO))),
             (_("Encours après cette vente"), format_money(last.balance_after)),
             (_("Encours aujourd'hui"), format_money(owed)),
             (_("Encours maximum"), format_money(account.ceiling)),
             (_("État"), str(STATUS_LABELS[status])))
    rows = tuple((str(i["position"]), format_date(i["due_date"]), format_money(i["amount"]), format_money(i["paid"]),
                  format_money(i["left"]), str(INSTALMENT_LABELS[i["state"]]))
                 for i in schedule.schedule_of(session, order_id=order.id))
    return [OrderBlock("waiting_account", _("Compte d'attente : échéancier"), facts=facts,
                       columns=(_("N°"), _("Échéance"), _("Montant"), _("Payé"), _("Reste dû"), _("État")), rows=rows,
                       numeric=(2, 3, 4), caption=_("Échéancier du dossier %(number)s", number=order.number),
                       permission="waiting_account.view", position=40)]


def movement_rows(session: Session, account, limit: int = 500) -> list[dict]:
    from plugins.sales.models import Order, PaymentMode

    rows = []
    for m in accounts.movements(session, account, limit):
        order = session.get(Order, m.order_id) if m.order_id else None
        mode = session.get(PaymentMode, m.payment_mode_id) if m.payment_mode_id else None
        status = schedule.movement_status(session, m)
        rows.append({"id": m.id, "at": format_datetime(m.at), "kind": m.kind,
                     "kind_label": str(MOVEMENT_LABELS.get(m.kind, m.kind)), "amount": m.amount,
                     "amount_display": format_money(m.amount), "balance_after_display": format_money(m.balance_after),
                     "order": order.number if order else None, "mode": mode.label if mode else "",
                     "reference": m.reference, "status": status, "status_label": str(STATUS_LABELS[status]),
                     "override_reason": m.override_reason})
    return rows


def account_view(session: Session, account) -> dict[str, Any]:
    owed = accounts.balance(session, account)
    from plugins.sales.models import Order

    instalments = schedule.schedule_of(session, account_id=account.id)
    numbers = dict(session.execute(select(Order.id, Order.number).where(
        Order.id.in_({i["order_id"] for i in instalments if i["order_id"]}))).all())
    for i in instalments:
        i["order"] = numbers.get(i["order_id"])
        i["due_display"] = format_date(i["due_date"])
        i["amount_display"], i["left_display"] = format_money(i["amount"]), format_money(i["left"])
        i["state_label"] = str(INSTALMENT_LABELS[i["state"]])
    return {"account": account, "contact": account.contact, "outstanding": owed, "outstanding_display": format_money(owed),
            "ceiling_display": format_money(account.ceiling),
            "available_display": format_money(max(account.ceiling - owed, accounts.ZERO)),
            "movements": movement_rows(session, account), "instalments": instalments,
            "unpaid": [i for i in instalments if i["left"] > 0],
            "invoices": [{"number": inv.number, "date": format_date(inv.issue_date), "total": format_money(inv.total),
                          "state": invoices.state_label(session, inv), "kind": inv.kind}
                         for inv in invoices.invoices_of(session, account.contact_id)],
            "invoiceable": invoices.invoiceable_orders(session, account.contact_id)}
