"""The waiting account's reports and documents (through the reports plugin).

Reports: "Suivi des comptes d'attente" (the accounts' current state, bounded by a minimum and a
maximum outstanding) and "Liste des mouvements du compte d'attente" (filters: movement kind and
status, performance, contact, dates). Documents: the invoice (French legal mentions, Factur-X
EN 16931 embedded) and the settlement receipt.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validates_schema
from sqlalchemy import func, select, type_coerce

from coulisses import NotFoundError
from coulisses.db import Money
from coulisses.i18n import _, _l

from plugins.contacts.models import Contact
from plugins.reports.params import Choice, LocalDate
from plugins.reports.registry import Column, DocumentType, Recipient, ReportDefinition
from plugins.reports.services.engine import stream
from plugins.waiting_account.models import Account, Invoice, Movement, Receipt

ZERO = Decimal("0.00")


def _amount_field(label):
    return fields.Decimal(load_default=None, places=2, as_string=False, metadata={"label": label})


# --------------------------------------------------------------------------- follow-up of the accounts


class FollowUpParams(Schema):
    minimum = _amount_field(_l("Encours minimum"))
    maximum = _amount_field(_l("Encours maximum"))
    authorised_only = fields.Boolean(load_default=False, metadata={"label": _l("Contacts autorisés seulement")})

    @validates_schema
    def _bounds(self, data, **kwargs):
        if data.get("minimum") is not None and data.get("maximum") is not None and data["maximum"] < data["minimum"]:
            raise ValidationError(_("Le maximum est inférieur au minimum."), "maximum")


def follow_up_rows(session, params):
    owed = type_coerce(func.coalesce(func.sum(Movement.amount), 0), Money)
    sums = select(Movement.account_id, owed.label("owed"), func.max(Movement.at).label("last")).group_by(
        Movement.account_id).subquery()
    stmt = (select(Contact.number, Contact, Account.authorised, Account.ceiling, sums.c.owed, sums.c.last)
            .join(Contact, Contact.id == Account.contact_id).outerjoin(sums, sums.c.account_id == Account.id)
            .order_by(Contact.search_name if hasattr(Contact, "search_name") else Contact.number, Contact.number))
    if params.get("authorised_only"):
        stmt = stmt.where(Account.authorised.is_(True))
    owed_col = type_coerce(func.coalesce(sums.c.owed, 0), Money)  # compared as money, in minor units
    if params.get("minimum") is not None:
        stmt = stmt.where(owed_col >= Decimal(params["minimum"]).quantize(Decimal("0.01")))
    if params.get("maximum") is not None:
        stmt = stmt.where(owed_col <= Decimal(params["maximum"]).quantize(Decimal("0.01")))
    for number, contact, authorised, ceiling, amount, last in stream(session, stmt):
        amount = amount if amount is not None else ZERO
        yield {"contact": (number, contact.display_name), "authorised": _("Oui") if authorised else _("Non"),
               "ceiling": ceiling, "outstanding": amount, "available": max(ceiling - amount, ZERO), "last": last}


FOLLOW_UP = ReportDefinition(
    code="waiting_account.follow_up", title=_l("Suivi des comptes d'attente"), permission="waiting_account.view",
    params=FollowUpParams, rows=follow_up_rows,
    description=_l("L'état courant des comptes d'attente, borné par un encours minimum et maximum."),
    columns=(Column("contact", _l("Contact"), "contact", width=2.2), Column("authorised", _l("Autorisé")),
             Column("ceiling", _l("Encours maximum"), "money"), Column("outstanding", _l("Encours"), "money", total=True),
             Column("available", _l("Disponible"), "money"), Column("last", _l("Dernier mouvement"), "datetime")))


# --------------------------------------------------------------------------- movements


def _kinds(session):
    from plugins.waiting_account.services.views import MOVEMENT_LABELS

    return [(k, str(v)) for k, v in MOVEMENT_LABELS.items()]


def _statuses(session):
    from plugins.waiting_account.services.views import STATUS_LABELS

    return [(k, str(v)) for k, v in STATUS_LABELS.items()]


def _events(session):
    from plugins.sales.models import Event

    return [(e.id, e.title) for e in session.scalars(select(Event).order_by(Event.title).limit(500))]


class MovementParams(Schema):
    start = LocalDate(load_default=None, metadata={"label": _l("Du")})
    end = LocalDate(load_default=None, metadata={"label": _l("Au")})
    kind = Choice(load_default=None, metadata={"label": _l("Type de mouvement"), "choices": _kinds})
    status = Choice(load_default=None, metadata={"label": _l("Statut"), "choices": _statuses})
    event = Choice(load_default=None, metadata={"label": _l("Produit (manifestation)"), "choices": _events})
    contact = fields.Integer(load_default=None, metadata={"label": _l("N° de contact")})


def movement_rows(session, params):
    from plugins.sales.models import Order, PaymentMode, Ticket
    from plugins.sales.reports import day_bounds
    from plugins.waiting_account.services.schedule import movement_status
    from plugins.waiting_account.services.views import MOVEMENT_LABELS, STATUS_LABELS

    stmt = (select(Movement, Contact.number, Contact, Order.number, PaymentMode.label)
            .join(Account, Account.id == Movement.account_id).join(Contact, Contact.id == Account.contact_id)
            .outerjoin(Order, Order.id == Movement.order_id)
            .outerjoin(PaymentMode, PaymentMode.id == Movement.payment_mode_id).order_by(Movement.id))
    if params.get("start") or params.get("end"):
        first, last = day_bounds(params.get("start") or date(1900, 1, 1), params.get("end") or date(2999, 12, 30))
        stmt = stmt.where(Movement.at >= first, Movement.at < last)
    if params.get("kind"):
        stmt = stmt.where(Movement.kind == params["kind"])
    if params.get("contact"):
        stmt = stmt.where(Contact.number == params["contact"])
    if params.get("event"):
        from plugins.sales.models import Performance

        stmt = stmt.where(Movement.order_id.in_(select(Ticket.order_id).join(Performance, Performance.id == Ticket.performance_id)
                                                .where(Performance.event_id == int(params["event"]))))
    for movement, number, contact, order_number, mode in stream(session, stmt):
        status = movement_status(session, movement)
        if params.get("status") and status != params["status"]:
            continue
        yield {"at": movement.at, "contact": (number, contact.display_name),
               "kind": str(MOVEMENT_LABELS.get(movement.kind, movement.kind)), "order": order_number or "",
               "mode": mode or "", "reference": movement.reference, "status": str(STATUS_LABELS[status]),
               "amount": movement.amount, "balance": movement.balance_after}


MOVEMENTS = ReportDefinition(
    code="waiting_account.movements", title=_l("Liste des mouvements du compte d'attente"),
    permission="waiting_account.view", params=MovementParams, rows=movement_rows,
    description=_l("Les mouvements des comptes d'attente, filtrés par statut, produit, contact et dates."),
    columns=(Column("at", _l("Date"), "datetime"), Column("contact", _l("Contact"), "contact", width=2),
             Column("kind", _l("Mouvement"), width=1.3), Column("order", _l("Dossier"), "number"),
             Column("mode", _l("Mode de règlement")), Column("reference", _l("Référence")),
             Column("status", _l("Statut")), Column("amount", _l("Montant"), "money", total=True),
             Column("balance", _l("Encours après"), "money")))


def definitions() -> list[ReportDefinition]:
    return [FOLLOW_UP, MOVEMENTS]


# --------------------------------------------------------------------------- documents


def _load_invoice(session, ref: str) -> Invoice:
    from plugins.waiting_account.services.invoices import get_invoice

    return get_invoice(session, str(ref))


def _invoice_recipient(session, invoice: Invoice) -> Recipient:
    contact = invoice.contact
    return Recipient(email=contact.email, contact_id=contact.id, locale=getattr(contact, "language", None),
                     name=contact.display_name)


def invoice_title(invoice: Invoice) -> str:
    return {"invoice": _("Facture %(number)s", number=invoice.number),
            "cancellation": _("Facture d'annulation %(number)s", number=invoice.number),
            "credit_note": _("Avoir %(number)s", number=invoice.number)}[invoice.kind]


def build_invoice(ctx, invoice: Invoice):
    from reportlab.platypus import Spacer
    from sqlalchemy.orm import object_session

    from plugins.waiting_account.services.facturx_xml import EXEMPTION, net_lines

    session = object_session(invoice)
    buyer = invoice.buyer or {}
    sign = -1 if invoice.kind != "invoice" else 1
    nets, basis, vat = net_lines(invoice)
    rate = Decimal(invoice.lines[0].vat_rate) if invoice.lines else ZERO
    story = [ctx.text(invoice_title(invoice), "h2"),
             ctx.text(_("Date d'émission : %(date)s — date d'échéance : %(due)s", date=ctx.date(invoice.issue_date),
                        due=ctx.date(invoice.due_date))),
             ctx.text(_("Client : %(name)s [%(number)s]", name=buyer.get("name", ""), number=buyer.get("number", ""))),
             ctx.text("\n".join([*buyer.get("address", []), f"{buyer.get('postal_code', '')} {buyer.get('city', '')}".strip()]))]
    if invoice.cancels_id:
        cancelled = session.get(Invoice, invoice.cancels_id)
        story.append(ctx.text(_("Se rapporte à la facture %(number)s du %(date)s", number=cancelled.number,
                                date=ctx.date(cancelled.issue_date))))
    rows = [[_("Désignation"), _("Qté"), _("PU TTC"), _("Montant HT"), _("TVA"), _("Montant TTC")]]
    for line, net in zip(invoice.lines, nets):
        rows.append([ctx.text(line.label, "cell"), str(line.quantity), ctx.money(line.unit_price * sign),
                     ctx.money(net), f"{line.vat_rate} %", ctx.money(line.amount * sign)])
    story += [Spacer(1, 8), ctx.table(rows, [0.44, 0.06, 0.12, 0.13, 0.09, 0.14], numeric=(1, 2, 3, 4, 5))]
    totals = [[_("Total HT"), ctx.money(basis)],
              [_("TVA %(rate)s %%", rate=str(rate.normalize())) if rate else _("TVA"), ctx.money(vat)],
              [_("Total TTC"), ctx.money(basis + vat)]]
    if invoice.prepaid:
        totals.append([_("Déjà réglé"), ctx.money(invoice.prepaid * sign)])
    totals.append([_("Net à payer"), ctx.money(basis + vat - invoice.prepaid * sign)])
    story += [Spacer(1, 6), ctx.table(totals, [0.3, 0.2], header=False, numeric=(1,), total_row=True), Spacer(1, 10)]
    if not rate:
        story.append(ctx.text(EXEMPTION, "small"))
    story += [ctx.text(_("Paiement à réception, au plus tard le %(due)s.", due=ctx.date(invoice.due_date)), "small"),
              ctx.text(_("Pénalités de retard : trois fois le taux d'intérêt légal."), "small"),
              ctx.text(_("Indemnité forfaitaire pour frais de recouvrement : 40 € (art. L441-10 et D441-5 du code de "
                         "commerce)."), "small"),
              ctx.text(_("Pas d'escompte pour paiement anticipé."), "small")]
    identity = ctx.identity
    if getattr(identity, "iban", ""):
        story.append(ctx.text(_("Virement : IBAN %(iban)s — BIC %(bic)s", iban=identity.iban, bic=identity.bic or ""),
                              "small"))
    story.append(ctx.text(_("Facture électronique Factur-X (EN 16931) : les données structurées sont jointes à ce PDF."),
                          "small"))
    return story


def _finish_invoice(session, invoice: Invoice, pdf: bytes) -> bytes:
    from plugins.waiting_account.services.facturx_xml import embed

    return embed(session, invoice, pdf)


def _load_receipt(session, ref: str) -> Receipt:
    from plugins.waiting_account.services.settlement import get_receipt

    try:
        return get_receipt(session, int(str(ref)))
    except ValueError:
        raise NotFoundError(_("Reçu %(number)s introuvable", number=ref)) from None


def build_receipt(ctx, receipt: Receipt):
    from reportlab.platypus import Spacer
    from sqlalchemy.orm import object_session

    from plugins.sales.models import PaymentMode

    session = object_session(receipt)
    account = session.get(Account, receipt.account_id)
    mode = session.get(PaymentMode, receipt.payment_mode_id)
    rows = [[_("Date"), _("Mode de règlement"), _("Référence"), _("Montant")],
            [ctx.datetime(receipt.at), mode.label, receipt.reference, ctx.money(receipt.amount)]]
    story = [ctx.text(_("Reçu de %(who)s", who=account.contact.display_name)), Spacer(1, 6),
             ctx.table(rows, [0.25, 0.25, 0.3, 0.2], numeric=(3,)), Spacer(1, 6),
             ctx.text(_("Porté au compte d'attente : %(amount)s", amount=ctx.money(receipt.to_account)))]
    if receipt.to_credit:
        story.append(ctx.text(_("Trop-perçu porté au solde avoir : %(amount)s", amount=ctx.money(receipt.to_credit))))
    from plugins.waiting_account.services.accounts import balance

    story.append(ctx.text(_("Encours restant : %(amount)s", amount=ctx.money(balance(session, account))), "h2"))
    return story


def _receipt_recipient(session, receipt: Receipt) -> Recipient:
    contact = session.get(Account, receipt.account_id).contact
    return Recipient(email=contact.email, contact_id=contact.id, name=contact.display_name)


def document_types() -> list[DocumentType]:
    return [
        DocumentType(code="waiting_account.invoice", title=_l("Facture"), permission="waiting_account.view",
                     load=_load_invoice, object_ref=lambda i: i.number, object_label=invoice_title,
                     build=build_invoice, recipient=_invoice_recipient, finish=_finish_invoice, pdfa=True),
        DocumentType(code="waiting_account.receipt", title=_l("Reçu de règlement"), permission="waiting_account.view",
                     load=_load_receipt, object_ref=lambda r: str(r.number),
                     object_label=lambda r: _("Reçu %(number)s", number=r.number), build=build_receipt,
                     recipient=_receipt_recipient),
    ]
