"""The payment terminal as a payment mode type of the sales plugin (registered through
``sales_payment_mode_types`` when sales is enabled).

Paying with it writes a pending payment (``completes_later``); ``on_pending`` submits a ``pay`` (or
``refund``) job to the payment terminal of the point of sale, run after commit by the workstation's
agent or the server's worker. The job's outcome (``devices_job_finished``, ``job_finished`` below)
completes the pending payment (accepted: the authorisation becomes the payment's reference), fails it
(declined) or marks it unknown (no answer): an unknown outcome is **never retried automatically**; an
operator resolves it ("Règlements en attente" in sales, or the device job's "Résoudre").
"""
from __future__ import annotations

from marshmallow import fields, validate

from coulisses import NotFoundError
from plugins.devices.i18n import _, _l
from plugins.sales.payment_types import AmountLimits, PaymentModeType, PaymentOutcome, TrimmedString

REFERENCE_PREFIX = "sales.pending:"
TERMINAL_KIND = "payment_terminal"


class TerminalSettings(AmountLimits):
    role = TrimmedString(load_default="", metadata={
        "label": _l("Rôle du terminal"),
        "description": _l("Vide : le terminal principal du point de vente.")})
    card_mode = fields.String(load_default="card", validate=validate.OneOf(["card", "cheque"]), metadata={
        "label": _l("Mode du terminal"),
        "choices": {"card": _l("Carte bancaire"), "cheque": _l("Chèque (lecteur de chèques du terminal)")}})


class PaymentTerminal(PaymentModeType):
    code = "payment_terminal"
    label = _l("Terminal de paiement")
    description = _l("Le montant est envoyé au terminal de paiement du point de vente ; le règlement est "
                     "enregistré quand le terminal l'accepte.")
    completes_later = True
    refund_in_person = True  # the customer's card on the terminal
    settings_schema = TerminalSettings

    def terminal(self, ctx):
        """The payment terminal of the point of sale, or None."""
        from plugins.devices.services.config import find_device

        if ctx.point_of_sale is None:
            return None
        try:
            return find_device(ctx.session, ctx.point_of_sale.code, TERMINAL_KIND, ctx.settings.get("role") or None)
        except NotFoundError:
            return None

    def _check(self, ctx) -> str | None:
        if self.terminal(ctx) is None:
            where = ctx.point_of_sale.code if ctx.point_of_sale is not None else "?"
            return _("Aucun terminal de paiement actif au point de vente %(pos)s", pos=where)
        return None

    def check_payment(self, ctx):
        return super().check_payment(ctx) or self._check(ctx)

    def check_refund(self, ctx):
        return super().check_refund(ctx) or self._check(ctx)

    def pay(self, ctx):
        return PaymentOutcome.pending()

    def refund(self, ctx):
        return PaymentOutcome.pending()

    def on_pending(self, ctx, pending):
        """Submit the terminal's job (run after commit; never talk to the terminal here)."""
        from plugins.devices.services.jobs import submit

        payload = {"amount": str(abs(pending.amount)), "currency": "EUR",
                   "mode": ctx.settings.get("card_mode") or "card", "reference": str(ctx.order.number)}
        submit(ctx.session, self.terminal(ctx), "refund" if pending.amount < 0 else "pay", payload,
               reference=f"{REFERENCE_PREFIX}{pending.id}")


def job_finished(session, job) -> None:
    """A terminal's job finished: complete, fail or mark unknown the pending payment it was for.
    A pending payment an operator already resolved is left as it is (the report is still recorded)."""
    from plugins.sales.models import PENDING_OPEN_STATES, PendingPayment
    from plugins.sales.services import pending as pend

    if not (job.reference or "").startswith(REFERENCE_PREFIX) or job.operation not in ("pay", "refund"):
        return
    row = session.get(PendingPayment, int(job.reference[len(REFERENCE_PREFIX):]))
    if row is None or row.state not in PENDING_OPEN_STATES:
        return
    result = job.result or {}
    if job.state == "done":
        by_operator = bool(result.get("resolved_by_operator"))
        pend.complete_pending(session, row, reference=str(result.get("authorisation") or ""),
                              details={"terminal_job": job.id},
                              message=_("Accepté par le terminal") if not by_operator else
                              _("Accepté (journal du terminal vérifié)"), _by_operator=by_operator)
    elif job.state == "failed":
        pend.fail_pending(session, row, message=job.error_message or _("Refusé par le terminal"))
    elif job.state == "unknown" and row.state == "pending":
        pend.mark_unknown(session, row, message=job.error_message or _("Pas de réponse du terminal"))
