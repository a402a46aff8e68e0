"""The "Compte d'attente" payment mode type (``plugins.sales.payment_types.PaymentModeType``).

Its settings (``WaitingAccountSettings``, edited as a form in Paramètres de vente → Modes de
règlement): ``follow_up`` ("avec suivi": instalments), ``count`` instalments every ``months``
month(s) on day ``day``, ``auto_invoice`` (an invoice issued with each sale). ``services.schedule``
reads them through ``settings_of``.

Paying: ``check_payment`` tells the operator beforehand why the contact may not pay this amount on
account (not authorised, or the maximum outstanding exceeded, with the amounts) — unless a
supervisor's override (``services.accounts.override``) is active. The vetting that counts is made
when the payment is recorded (``sales_payment_recorded`` → ``services.schedule.record_sale``), under
the account row's lock: N concurrent sales on account never exceed the ceiling. A supervisor
(permission ``waiting_account.override``) may type the reason of an override in the payment's field
``override_reason``: it is recorded on the movement like ``accounts.override``'s. Refunds are allowed:
they lower what is owed (beyond it, the contact's credit balance).
"""
from __future__ import annotations

import json

from marshmallow import Schema, ValidationError, fields, missing, pre_load, validate

from coulisses.i18n import _, _l

from plugins.sales.payment_types import PaymentModeType, SettingAmount, TrimmedString

TYPE_CODE = "waiting_account"


class WaitingAccountSettings(Schema):
    """The rules of a mode of type "Compte d'attente"; an empty field takes its default."""

    follow_up = fields.Boolean(load_default=False, metadata={
        "label": _l("Avec suivi (échéancier)"),
        "description": _l("Coché : la vente est payée en plusieurs échéances ; sinon une seule, au terme des "
                          "conditions de paiement de l'organisme.")})
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=36), metadata={
        "label": _l("Nombre d'échéances"), "description": _l("De 1 à 36.")})
    day = fields.Integer(load_default=5, validate=validate.Range(min=1, max=28), metadata={
        "label": _l("Jour du mois des échéances"), "description": _l("De 1 à 28.")})
    months = fields.Integer(load_default=1, validate=validate.Range(min=1, max=12), metadata={
        "label": _l("Mois entre deux échéances"), "description": _l("De 1 à 12.")})
    auto_invoice = fields.Boolean(load_default=False, metadata={
        "label": _l("Facturer à chaque vente"),
        "description": _l("Une facture est émise pour chaque dossier payé par ce mode.")})

    @pre_load
    def _empty_is_default(self, data, **kwargs):
        """A field left empty in the form (``None`` or ``""``) takes its default."""
        return {k: v for k, v in dict(data or {}).items() if v is not None and v != ""}


class InstalmentInput(Schema):
    """One instalment of a schedule the operator adjusted: its due date and amount."""

    due_date = fields.Date(required=True, metadata={"label": _l("Échéance")})
    amount = SettingAmount(required=True, allow_none=False, load_default=missing,
                           validate=validate.Range(min=0, min_inclusive=False), metadata={"label": _l("Montant")})


class ScheduleField(fields.List):
    """The adjusted schedule: a list of ``{"due_date": "2026-12-05", "amount": "110.00"}`` (REST: ISO
    dates), or the same as a JSON string: the screen's hidden input, filled by the payment panel's
    script, whose due dates are as the operator typed them in the date picker (``05.12.2026`` in
    French, ``05/12/2026`` in English and Spanish; ``coulisses.i18n.parse_date``)."""

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(InstalmentInput), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = json.loads(value)
            except ValueError:
                raise ValidationError(str(_("Échéancier illisible"))) from None
            value = _screen_dates(value)
        return super()._deserialize(value, attr, data, **kwargs)


def _screen_dates(rows):
    """The screen's schedule with its due dates (the operator's pattern) as ISO dates; a date that does
    not read is refused naming its row (``schedule.<i>.due_date``) and what was typed."""
    from coulisses.i18n import date_placeholder, parse_date

    if not isinstance(rows, list):
        return rows
    out, errors = [], {}
    for i, row in enumerate(rows):
        if isinstance(row, dict) and isinstance(row.get("due_date"), str) and row["due_date"].strip():
            typed = row["due_date"].strip()
            try:
                row = dict(row, due_date=parse_date(typed).isoformat())
            except ValueError:
                errors[i] = {"due_date": [str(_("Échéance %(n)s : « %(typed)s » n'est pas une date, attendue sous "
                                                "la forme %(pattern)s", n=i + 1, typed=typed,
                                                pattern=date_placeholder()))]}
        out.append(row)
    if errors:
        raise ValidationError(errors)
    return out


class WaitingAccountFields(Schema):
    """What the operator may fill for a payment on account: a supervisor's reason to let it through
    beyond the authorisation or the maximum outstanding (permission ``waiting_account.override``),
    and the schedule adjusted before confirming (``schedule``: the amounts add up to the payment,
    the dates in order; without it, the mode's proposed schedule)."""

    override_reason = TrimmedString(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "label": _l("Motif du dépassement (superviseur)"),
        "description": _l("Seulement pour dépasser l'encours maximum ou l'autorisation ; enregistré sur le "
                          "mouvement.")})
    schedule = ScheduleField(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36), metadata={
        "label": _l("Échéancier"), "hidden": True,
        "description": _l("Les échéances ajustées avant de confirmer : dates et montants, dont la somme fait le "
                          "montant payé.")})


class WaitingAccount(PaymentModeType):
    code = TYPE_CODE
    label = _l("Compte d'attente")
    description = _l("Paiement différé : le compte d'attente du contact payeur est débité, dans la limite de son "
                     "encours maximum ; « avec suivi », en échéances.")
    needs_contact = True
    can_refund = True
    settings_schema = WaitingAccountSettings
    fields_schema = WaitingAccountFields

    def check_payment(self, ctx):
        reason = super().check_payment(ctx)
        if reason is not None:
            return reason
        from coulisses import InvalidError

        from plugins.waiting_account.services import accounts

        if ctx.details.get("schedule"):  # the operator's adjusted schedule must add up to this payment
            from plugins.waiting_account.services.schedule import check_schedule

            check_schedule([(i["due_date"], i["amount"]) for i in ctx.details["schedule"]], ctx.amount,
                           prefix=f"{ctx.field_prefix}.schedule")
        if ctx.details.get("override_reason") and not accounts.may_override(ctx.session):
            raise InvalidError(_("Dépassement réservé aux superviseurs"), {
                f"{ctx.field_prefix}.override_reason": _("Vous n'avez pas le droit de dépasser l'encours maximum")})
        if ctx.session.info.get(accounts.OVERRIDE_KEY) or ctx.details.get("override_reason"):
            return None  # a supervisor lets it through: the reason is recorded on the movement
        return accounts.can_pay(ctx.session, ctx.contact, ctx.amount)


WAITING_ACCOUNT = WaitingAccount()
